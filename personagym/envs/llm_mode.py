"""LLM mode of the envs: which backend writes the user's words, and an optional judge.

Template mode (``backend=None`` or ``"template"``) is the default and needs
nothing from here at run time.  With a backend, the env keeps its structured
core and adds a `LanguageSurface` (LLM renderer and distractor over the
template turns) and, if asked, an LLM judge as one extra reward term.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from personagym.checks import as_config
from personagym.llm.registry import ENV_KEYWORD_NAMES, check_backend_args, make_backend
from personagym.llm.types import LLMBackend, Sampling
from personagym.records import JudgeRecord, UserTurn
from personagym.simulators.analyzer import ResponseAnalyzer
from personagym.simulators.llm_renderer import LanguageSurface, SurfaceItem
from personagym.suggest import ConfigFloat, ConfigInt


class LLMOptions(BaseModel):
    """What the LLM does in an env with a backend."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    render: bool = Field(True, description="the LLM renderer writes the user's clean utterance")
    distract: bool = Field(True, description="the LLM distractor writes the noisy message of noised turns")
    judge: bool = Field(False, description="add an LLM judge's rubric score as an extra reward term")
    judge_weight: ConfigFloat = Field(1.0, ge=0.0, le=10.0, description="the judge term lies in [0, judge_weight]")
    attempts: ConfigInt = Field(2, ge=1, le=10, description="tries per stage before the template fallback")
    temperature: ConfigFloat = Field(0.7, ge=0.0, le=2.0)
    max_tokens: ConfigInt = Field(160, ge=8, le=4096, description="per user utterance")
    history_turns: ConfigInt = Field(4, ge=0, le=64, description="recent messages the renderer sees")
    cache: str | None = Field(None, description="path of an on-disk response cache (sqlite)")


class LLMMode:
    """The backend of one env (or one vector env), its language surface and judge."""

    def __init__(self, backend: LLMBackend, options: LLMOptions, analyzer: ResponseAnalyzer, *, owned: bool) -> None:
        self.backend = backend
        self.options = options
        self.owned = owned
        self.surface = LanguageSurface(
            backend, analyzer, render=options.render, distract=options.distract, attempts=options.attempts,
            sampling=Sampling(temperature=options.temperature, top_p=0.95, max_tokens=options.max_tokens,
                              stop=("\n\n",)),
            history_turns=options.history_turns,
        ) if (options.render or options.distract) else None
        self.judge = None
        if options.judge:
            from personagym.simulators.judge import LLMJudge

            self.judge = LLMJudge(backend, weight=options.judge_weight)

    def describe(self) -> dict[str, Any]:
        """What is recorded in trajectories' config."""
        return {"backend": self.backend.name, "model": self.backend.model, **self.options.model_dump(exclude={"cache"})}


def build_llm_mode(
    backend: str | LLMBackend | None,
    *,
    model: str | None,
    base_url: str | None,
    options: LLMOptions | dict | None,
    analyzer: ResponseAnalyzer,
) -> LLMMode | None:
    """The env's LLM mode from its arguments, or None for template mode.

    A backend named by kind is checked by `check_backend_args` (the rules `make_backend` keeps), in the env's
    keywords, before anything is built: no model or base_url in template mode, a model where the kind needs one.
    """
    opts = as_config(LLMOptions, options, "llm")  # None: the defaults; 0, False or "" are no options
    if backend is None or isinstance(backend, str):
        check_backend_args("template" if backend is None else backend, model=model, base_url=base_url,
                           names=ENV_KEYWORD_NAMES)
    if backend is None or backend == "template":
        if opts != LLMOptions():
            raise ValueError(f"llm={options!r} sets LLM mode options, but template mode has no LLM; "
                             "pass backend='local', 'vllm' or 'openai'")
        return None
    if isinstance(backend, str):
        cache = Path(opts.cache) if opts.cache else None
        made = make_backend(backend, model=model, base_url=base_url, cache_path=cache)
        if made is None:  # pragma: no cover - make_backend returns None only for "template"
            return None
        return LLMMode(made, opts, analyzer, owned=True)
    if not isinstance(backend, LLMBackend):
        raise TypeError(f"backend must be 'template', 'local', 'vllm', 'openai' or an LLMBackend, "
                        f"got {type(backend).__name__}")
    return LLMMode(backend, opts, analyzer, owned=False)


@dataclass(slots=True)
class PendingStep:
    """A step whose structured part is done; the reply's words (and a judge term) may still change."""

    reply: UserTurn
    reward: float
    components: dict[str, float]
    terminated: bool
    truncated: bool
    truncated_action: bool
    new_session: bool
    #: the goodbye that closed the session before `reply` opened the next one (None: none, or cut at its limit)
    closing: UserTurn | None = None


def surface_item(env: Any, turn: UserTurn, *, new_session: bool) -> SurfaceItem:
    """What the language surface needs to write ``turn`` of ``env``'s episode."""
    history: list[tuple[str, str]] = []
    if not new_session:
        for past in env._turns[-env.llm.options.history_turns:]:
            if past.session == turn.session:
                history += [("user", past.user.text), ("assistant", past.assistant)]
    return SurfaceItem(turn=turn, history=history,  # not the hidden profile: the LLM would leak it
                       key=f"{env._trajectory_id}/s{turn.session}t{turn.turn}")


async def speak_first(mode: LLMMode, envs: list[Any]) -> list[UserTurn]:
    """The opening turns of freshly reset envs, in the LLM's words (one batch)."""
    if mode.surface is None:
        return [env._last_user for env in envs]
    return await mode.surface.realize([surface_item(env, env._last_user, new_session=True) for env in envs])


async def speak(mode: LLMMode, steps: list[tuple[Any, PendingStep]]) -> None:
    """The LLM part of a batch of steps: the replies in the LLM's words and the judge terms, concurrently."""
    await asyncio.gather(write_replies(mode, steps), judge_steps(mode, steps))


async def write_replies(mode: LLMMode, steps: list[tuple[Any, PendingStep]]) -> None:
    """Replace each pending reply by the language surface's version (one batch per stage)."""
    if mode.surface is None:
        return
    items = [surface_item(env, p.reply, new_session=p.new_session) for env, p in steps]
    for (_, pending), turn in zip(steps, await mode.surface.realize(items), strict=True):
        pending.reply = turn


async def judge_steps(mode: LLMMode, steps: list[tuple[Any, PendingStep]]) -> None:
    """Score each step's answer with the LLM judge (one batch) and add the term to the step's reward.

    The term is recorded in the turn (``Turn.judge``, component ``judge``); a
    failed judgement adds 0 and is recorded as invalid with its error.
    """
    if mode.judge is None:
        return
    from personagym.simulators.judge import JudgeItem

    scores = await mode.judge.score([JudgeItem(
        truth=env.user.persona.summary, user_message=env._turns[-1].user.text,
        response=env._turns[-1].assistant, tag=f"judge {env._trajectory_id}/{len(env._turns) - 1}",
    ) for env, _ in steps])
    for (env, pending), score in zip(steps, scores, strict=True):
        record = JudgeRecord(personalization=score.personalization, quality=score.quality, term=score.term,
                             valid=score.valid, error=score.error)
        pending.components = {**pending.components, "judge": float(score.term)}
        pending.reward = round(pending.reward + score.term, 6)
        env._turns[-1] = env._turns[-1].model_copy(update={
            "judge": record, "reward": pending.reward, "reward_components": pending.components})
