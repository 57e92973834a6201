"""Stand-alone user simulation: a stream of user turns with no assistant.

Used by `personagym simulate` and the benchmark.  Persona k of a run and its
user draw from child k of the run's seed, so a run is reproducible and a
longer run starts with the turns of a shorter one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from personagym.records import Persona, UserTurn
from personagym.rng import seed_sequence
from personagym.simulators.noise import NoiseConfig
from personagym.simulators.persona import PersonaSchema, load_schema
from personagym.simulators.renderers import TemplateRenderer
from personagym.simulators.sampler import PersonaSampler
from personagym.simulators.user import UserSimulator


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
    renderer = TemplateRenderer(schema)
    root = seed_sequence(seed)
    produced = 0
    k = 0
    while produced < n:
        # the two children `SeedSequence(root.entropy, spawn_key=(k,)).spawn(2)` gives, built directly (faster)
        persona_ss, user_ss = (np.random.SeedSequence(root.entropy, spawn_key=(k, j)) for j in range(2))
        k += 1
        persona = sampler.sample(persona_ss) if personas is None else personas[(k - 1) % len(personas)]
        user = UserSimulator(persona, seed=np.random.Generator(np.random.PCG64(user_ss)),
                             noise=noise, schema=schema, renderer=renderer)
        for session in range(sessions_per_persona):
            if session:
                user.next_session()
            turn = user.open_session()
            for _ in range(max_turns):
                yield persona, turn
                produced += 1
                if produced >= n or user.ended:
                    break
                turn = user.respond()
            if produced >= n:
                return
