"""`PersonaChatVectorEnv`: N chat envs stepped together, their LLM calls sent as one batch.

Gymnasium's `SyncVectorEnv` would step N LLM-mode envs one after another, N
round trips per step.  Here the structured part of every sub-env's step runs
first (fast, sync), then the language surface writes all N replies in one
`generate` call per stage, and the optional judge scores all N answers in one
more.  Episodes that end are reset in the same step (`AutoresetMode.SAME_STEP`):
the returned observation is the new episode's first message, ``info`` that
episode's reset info, ``info["final_obs"]`` / ``info["final_info"]`` hold the
finished episode's last ones (as Gymnasium's `SyncVectorEnv` in that mode),
and `trajectories` collects the finished episodes' records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv
from gymnasium.vector.utils import batch_space
from gymnasium.vector.vector_env import AutoresetMode

from personagym.checks import check_int
from personagym.envs.chat import PersonaChatEnv
from personagym.envs.llm_mode import LLMOptions, build_llm_mode, speak, speak_first
from personagym.envs.registration import ENV_SPECS
from personagym.llm.runner import LoopRunner
from personagym.llm.types import LLMBackend
from personagym.records import Trajectory
from personagym.suggest import did_you_mean


class PersonaChatVectorEnv(VectorEnv):
    """``num_envs`` `PersonaChatEnv`s sharing one LLM backend; see the module docstring.

    Args:
        num_envs: how many envs.
        env_id: a registered chat env id whose settings the sub-envs take.
        backend, model, base_url, llm: LLM mode, as for `PersonaChatEnv` (one backend for all sub-envs).
        **env_kwargs: further `PersonaChatEnv` arguments (override the id's settings).
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.SAME_STEP}  # noqa: RUF012

    def __init__(
        self,
        num_envs: int,
        *,
        env_id: str = "PersonaGym/Chat-v0",
        backend: str | LLMBackend | None = None,
        model: str | None = None,
        base_url: str | None = None,
        llm: LLMOptions | dict | None = None,
        **env_kwargs: Any,
    ) -> None:
        num_envs = check_int("num_envs", num_envs, 1)
        chat_ids = [k for k in ENV_SPECS if k != "PersonaGym/Structured-v0"]
        if env_id not in chat_ids:
            raise ValueError(f"env_id: unknown chat env {env_id!r}{did_you_mean(env_id, chat_ids)}; "
                             f"expected one of {', '.join(chat_ids)}")
        kwargs = {**ENV_SPECS[env_id][1], "env_id": env_id, **env_kwargs}
        first = PersonaChatEnv(**kwargs)
        self._mode = build_llm_mode(backend, model=model, base_url=base_url, options=llm, analyzer=first.analyzer)
        shared = {} if self._mode is None else {"backend": self._mode.backend, "llm": self._mode.options}
        self.envs = [PersonaChatEnv(**kwargs, **shared) for _ in range(num_envs)]
        first.close()
        self.num_envs = num_envs
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.trajectories: list[Trajectory] = []
        self._loop = LoopRunner()

    @property
    def backend(self) -> LLMBackend | None:
        """The shared LLM backend (None in template mode)."""
        return self._mode.backend if self._mode is not None else None

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None):
        """Reset every sub-env (sub-env i gets ``seed + i``); the opening messages are written in one batch."""
        return self._loop.run(self.areset(seed=seed, options=options), async_alternative="vector_env.areset()")

    def step(self, actions: Sequence[str]):
        """Step every sub-env with its action; all LLM calls of the step go out as one batch per stage."""
        return self._loop.run(self.astep(actions), async_alternative="vector_env.astep(actions)")

    async def areset(self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None):
        """`reset` for callers inside an event loop."""
        seeds = self._seeds(seed)
        for env, s in zip(self.envs, seeds, strict=True):
            env._reset_core(s, options)
        await self._open(list(range(self.num_envs)))
        infos: dict[str, Any] = {}
        for i, env in enumerate(self.envs):
            infos = self._add_info(infos, env._info(reward_components=None), i)
        return self._observations(), infos

    async def astep(self, actions: Sequence[str]):
        """`step` for callers inside an event loop."""
        if isinstance(actions, str) or len(actions) != self.num_envs:
            raise ValueError(f"actions must be a sequence of {self.num_envs} strings (one per env), "
                             f"got {actions!r:.80}")
        for i, (env, action) in enumerate(zip(self.envs, actions, strict=True)):  # all, before any env moves
            try:
                env.check_step(action)
            except (TypeError, ValueError, RuntimeError) as exc:
                raise type(exc)(f"actions[{i}]: {exc}") from None
        pendings = [env.advance(action) for env, action in zip(self.envs, actions, strict=True)]
        if self._mode is not None:
            await speak(self._mode, list(zip(self.envs, pendings, strict=True)))
        rewards = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        step_infos: list[dict[str, Any]] = []
        done: list[int] = []
        for i, (env, pending) in enumerate(zip(self.envs, pendings, strict=True)):
            obs, rewards[i], terminated[i], truncated[i], info = env.finish(pending)
            if terminated[i] or truncated[i]:
                self.trajectories.append(env.trajectory())
                info = {"final_obs": obs, "final_info": info}
                env._reset_core(None, None)
                done.append(i)
            step_infos.append(info)
        await self._open(done)
        infos: dict[str, Any] = {}
        for i, info in enumerate(step_infos):
            if i in done:  # as Gymnasium's SAME_STEP: the new episode's reset info beside the finished one's
                info = {**info, **self.envs[i]._info(reward_components=None)}
            infos = self._add_info(infos, info, i)
        return self._observations(), rewards, terminated, truncated, infos

    def close_extras(self, **kwargs: Any) -> None:
        """Close the sub-envs and the shared backend."""
        if self._mode is not None and self._mode.owned:
            self._loop.run(self._mode.backend.aclose())
        for env in self.envs:
            env.close()
        self._loop.close()

    # -- helpers ---------------------------------------------------------------------------
    async def _open(self, indices: list[int]) -> None:
        """Write the opening messages of freshly reset sub-envs in one batch."""
        if self._mode is None or not indices:
            return
        envs = [self.envs[i] for i in indices]
        for env, turn in zip(envs, await speak_first(self._mode, envs), strict=True):
            env._last_user = turn

    def _seeds(self, seed: int | Sequence[int] | None) -> list[int | None]:
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
            return [int(seed) + i for i in range(self.num_envs)]
        seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"seed: expected an int or {self.num_envs} seeds, got {len(seeds)}")
        return seeds

    def _observations(self) -> dict[str, Any]:
        obs = [env._observation() for env in self.envs]
        return {
            "message": tuple(o["message"] for o in obs),
            "turn": np.array([o["turn"] for o in obs], dtype=np.int64),
            "session": np.array([o["session"] for o in obs], dtype=np.int64),
        }
