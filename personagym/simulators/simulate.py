"""Stand-alone user simulation: a stream of user turns with no assistant.

Used by `personagym simulate` and the benchmark.  Persona k of a run and its
user draw from child k of the run's seed, so a run is reproducible and a
longer run starts with the turns of a shorter one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

import numpy as np

from personagym.llm.types import LLMBackend
from personagym.records import Persona, UserTurn
from personagym.rng import seed_sequence
from personagym.simulators.noise import NoiseConfig
from personagym.simulators.persona import PersonaSchema, load_schema
from personagym.simulators.renderers import TemplateRenderer
from personagym.simulators.sampler import PersonaSampler
from personagym.simulators.user import UserFactory


def simulate_turns(
    n: int,
    seed: int | None = 0,
    *,
    noise: NoiseConfig | None = None,
    sessions_per_persona: int = 3,
    max_turns: int = 8,
    schema: PersonaSchema | None = None,
    personas: Sequence[Persona] | None = None,
) -> Iterator[tuple[Persona, UserTurn]]:
    """Yield `n` (persona, user turn) pairs: sessions of user turns, personas in sequence.

    Each session opens with a task request and runs until the user says
    goodbye or `max_turns` turns; between sessions preferences evolve.
    Persona k is sampled from child k of the seed, or is ``personas[k % len(personas)]``
    when personas are given (its user still draws from child k).
    """
    if personas is not None and not personas:
        raise ValueError("personas must not be empty when given")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    schema = schema or load_schema()
    sampler = PersonaSampler(schema)
    users = UserFactory(schema, TemplateRenderer(schema))
    root = seed_sequence(seed)
    produced = 0
    k = 0
    while produced < n:
        # the two children `SeedSequence(root.entropy, spawn_key=(k,)).spawn(2)` gives, built directly (faster)
        persona_ss, user_ss = (np.random.SeedSequence(root.entropy, spawn_key=(k, j)) for j in range(2))
        k += 1
        persona = sampler.sample(persona_ss) if personas is None else personas[(k - 1) % len(personas)]
        user = users(persona, seed=np.random.Generator(np.random.PCG64(user_ss)), noise=noise,
                     preferences=None, config=None)
        for session in range(sessions_per_persona):
            if session:
                user.next_session()
            turn = user.open_session()
            for said in range(1, max_turns + 1):
                yield persona, turn
                produced += 1
                if produced >= n or user.ended or said == max_turns:
                    break  # no reply past the session's last turn: the user would remember saying it
                turn = user.respond()
            if produced >= n:
                return


def realize_turns(
    stream: Iterable[tuple[Persona, UserTurn]],
    *,
    backend: str | LLMBackend,
    model: str | None = None,
    base_url: str | None = None,
    batch_size: int = 16,
) -> Iterator[tuple[Persona, UserTurn]]:
    """The turns of ``stream`` in an LLM's words (LLM renderer and distractor), ``batch_size`` turns per batch.

    ``backend`` is a kind for `make_backend` ("local", "vllm", "openai"), which
    this function then owns and closes, or an `LLMBackend` the caller owns.
    """
    from personagym.llm.registry import make_backend
    from personagym.llm.runner import LoopRunner
    from personagym.simulators.analyzer import shared_analyzer
    from personagym.simulators.llm_renderer import LanguageSurface, SurfaceItem

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    owned = isinstance(backend, str)
    llm = make_backend(backend, model=model, base_url=base_url) if isinstance(backend, str) else backend
    if llm is None:
        yield from stream
        return
    surface = LanguageSurface(llm, shared_analyzer(load_schema().taxonomy))
    loop = LoopRunner()
    try:
        turns_in = iter(stream)
        while chunk := list(islice(turns_in, batch_size)):
            items = [SurfaceItem(turn=turn,  # not the hidden profile (persona.summary): the LLM would leak it
                                 key=f"{persona.persona_id}/s{turn.session}t{turn.turn}") for persona, turn in chunk]
            turns = loop.run(surface.realize(items), async_alternative="LanguageSurface.realize")
            yield from ((persona, turn) for (persona, _), turn in zip(chunk, turns, strict=True))
    finally:
        if owned:
            loop.run(llm.aclose())
        loop.close()
