"""A GRPO-style data loop for an LLM policy: groups of sampled answers, exact env rewards, group advantages.

One iteration, for a batch of template-mode `PersonaChatEnv`s (one per prompt, each somewhere in its episode):

1. the policy prompt of each env is built from its observation and the conversation so far (chat messages);
2. ``group_size`` answers per prompt are sampled in ONE `LLMBackend.generate` call (temperature > 0, every
   request with its own seed derived from the loop seed, so the same seed gives the same batch);
3. each answer is scored by stepping a copy of its env (`fork_env`): the reward is exactly the step's scalar
   reward, its components are kept;
4. advantages are normalised within each group, as TRL's `GRPOTrainer` does (``scale_rewards=True`` /
   ``"group"``): ``(reward - group mean) / (group sample std + 1e-4)``, and 0 when the group's rewards are equal;
5. every answer becomes one row in TRL's conversational prompt-completion format (`trl_row`);
6. each env is stepped with its group's best answer (or a uniformly sampled one: the policy's own
   continuation), so the next iteration sees a later turn; finished episodes restart with the next seed.

No gradient step is taken here: the rows are what a GRPO trainer consumes.  `grpo_torch.GRPOTrainer` takes
the steps on a ``transformers`` model it samples from (on a CPU, the embedded SmolLM2); TRL's `GRPOTrainer`
recomputes rewards itself through `env_reward_function`.  See docs/training.md.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from personagym.checks import as_config, check_int, check_number
from personagym.data.trajectories import write_lines
from personagym.envs.chat import PersonaChatEnv
from personagym.envs.rewards import COMPONENTS
from personagym.learn.reinforce import TRAIN_SEED_STRIDE, check_train_seed
from personagym.llm.runner import LoopRunner
from personagym.llm.types import ChatMessage, ChatRequest, Completion, LLMBackend, Sampling
from personagym.policies.llm_policy import DEFAULT_SYSTEM_PROMPT
from personagym.rollout import make_env

ADVANCE_MODES = ("best", "sample")
#: TRL's `GRPOTrainer` divides by ``std + 1e-4``; the same epsilon makes the advantages identical.
TRL_EPSILON = 1e-4
#: The longest answer `Sampling` allows: checked with the config, not when the first request is built.
MAX_TOKENS: int = next(m.le for m in Sampling.model_fields["max_tokens"].metadata if hasattr(m, "le"))
#: Request seeds are below 2**31 (what every backend's seed field accepts).
_SEED_LIMIT = 2**31
#: `SeedSequence` spawn keys of the loop's two random streams.
_REQUEST_KEY, _ADVANCE_KEY = 0, 1

Message = dict[str, str]


@dataclass(frozen=True)
class GRPOConfig:
    """Sampling and bookkeeping of the loop.

    ``group_size`` answers per prompt; ``temperature``/``top_p``/``max_tokens`` their sampling;
    ``history_turns`` past exchanges in each prompt; ``advance`` which answer moves an env on ("best":
    the highest reward, first on ties; "sample": a uniformly drawn one); ``epsilon`` of the advantage
    normalisation; ``system_prompt`` (None: the LLM policy's); ``seed`` of the env and request seeds
    (episode ``n`` of the run is reset with ``seed * TRAIN_SEED_STRIDE + n``, as in `reinforce`).
    """

    group_size: int = 4
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 96
    history_turns: int = 4
    advance: str = "best"
    epsilon: float = TRL_EPSILON
    system_prompt: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        """Check every field, and keep numpy numbers as Python's (request seeds and rows are JSON)."""
        if self.advance not in ADVANCE_MODES:
            raise ValueError(f"advance must be one of {', '.join(ADVANCE_MODES)}, got {self.advance!r}")
        if self.system_prompt is not None and not isinstance(self.system_prompt, str):
            raise ValueError(f"system_prompt must be a str or None, got {self.system_prompt!r:.80}")
        checked = {
            "group_size": check_int("group_size", self.group_size, 2),
            "temperature": check_number("temperature", self.temperature, 0.0, 2.0, low_open=True,
                                        why=" (a group needs distinct samples)"),
            "top_p": check_number("top_p", self.top_p, 0.0, 1.0, low_open=True),
            "max_tokens": check_int("max_tokens", self.max_tokens, 1, MAX_TOKENS),
            "history_turns": check_int("history_turns", self.history_turns, 0),
            "epsilon": check_number("epsilon", self.epsilon, 0.0, low_open=True),
            "seed": check_train_seed("seed", self.seed),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @property
    def sampling(self) -> Sampling:
        """The answers' sampling (without a seed: each request gets its own)."""
        return Sampling(temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens)


# -- exact rewards ---------------------------------------------------------------------------
@dataclass(frozen=True)
class StepScore:
    """What one step with an answer gives: the scalar reward, its components and whether the episode ends."""

    reward: float
    components: dict[str, float]
    terminated: bool
    truncated: bool


def make_text_env(env_id: str, name: str = "env_id") -> PersonaChatEnv:
    """A new template-mode env of `env_id`, unwrapped (GRPO copies it to score answers); a ValueError naming the id
    as `name` (a script's ``--env-id``) for an unknown id or one that is not a text env, which GRPO cannot prompt."""
    try:
        env = make_env(env_id).unwrapped
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if not isinstance(env, PersonaChatEnv):
        raise ValueError(f"{name} {env_id!r} is not a text env (PersonaChatEnv); try PersonaGym/Chat-v0")
    return env


def fork_env(env: PersonaChatEnv) -> PersonaChatEnv:
    """An independent copy of a template-mode env in its current state (``copy.deepcopy``, ~1 ms: the world
    data, schema, taxonomy, analyzer, renderer and sampler, is shared by every copy, `SharedOnCopy`).

    An env in LLM mode (a backend, an event loop) is refused: its reply words come from a model, not from
    the copied state.
    """
    if not isinstance(env, PersonaChatEnv):
        raise TypeError(f"env must be a PersonaChatEnv (use env.unwrapped), got {type(env).__name__}")
    if env.llm is not None:
        raise ValueError(f"env {env.env_id!r} is in LLM mode (backend {env.llm.backend.name!r}); GRPO scoring "
                         f"copies the env, which needs template mode (backend=None)")
    return copy.deepcopy(env)


def score_action(env: PersonaChatEnv, action: str) -> StepScore:
    """The exact reward of ``action`` in ``env``'s current state, from a copy (``env`` is left as it was)."""
    return _step_score(fork_env(env), action)


def _step_score(env: PersonaChatEnv, action: str) -> StepScore:
    """Step ``env`` with ``action`` and keep what the step gave."""
    _, reward, terminated, truncated, info = env.step(action)
    return StepScore(float(reward), dict(info["reward_components"]), terminated, truncated)


def replay_reward(env: PersonaChatEnv, seed: int, previous_actions: Sequence[str], action: str) -> StepScore:
    """Score ``action`` after replaying an episode: reset ``env`` with ``seed``, step ``previous_actions``.

    Template mode is deterministic given the seed and the actions, so this rebuilds the state a row was
    sampled in from the row alone (its ``seed`` and ``previous_actions``); ``env`` must be configured like
    the env that produced the row (same id and options).
    """
    env.reset(seed=seed)
    for i, previous in enumerate(previous_actions):
        _, _, terminated, truncated, _ = env.step(previous)
        if terminated or truncated:
            raise ValueError(f"previous_actions[{i}] ends the episode of seed {seed}; "
                             f"{len(previous_actions) - i - 1} actions were left to replay")
    return _step_score(env, action)


def env_reward_function(env: PersonaChatEnv) -> Callable[..., list[float]]:
    """A reward function with TRL's signature, scoring completions by replaying ``env`` (see `replay_reward`).

    TRL calls it as ``f(prompts=..., completions=..., seed=[...], previous_actions=[...], **other_columns)``:
    dataset columns reach reward functions as keyword lists.  Completions may be strings or TRL's
    conversational ``[{"role": "assistant", "content": ...}]``.
    """
    fork_env(env)  # refuses a non-template env now, not at the trainer's first step

    def persona_env_reward(prompts: Sequence[Any], completions: Sequence[Any], seed: Sequence[int],
                           previous_actions: Sequence[Sequence[str]], **_: Any) -> list[float]:
        """Each completion's exact reward as the answer at its row's point of its episode."""
        return [replay_reward(env, s, actions, completion_text(c)).reward
                for c, s, actions in zip(completions, seed, previous_actions, strict=True)]

    return persona_env_reward


def completion_text(completion: str | Sequence[Message]) -> str:
    """The text of a completion given as a string or as TRL's one-assistant-message list."""
    if isinstance(completion, str):
        return completion
    if len(completion) == 1 and isinstance(completion[0], dict) and completion[0].get("role") == "assistant":
        return str(completion[0]["content"])
    raise TypeError(f"completion must be a str or [{{'role': 'assistant', 'content': ...}}], got {completion!r:.80}")


# -- advantages, prompts, requests, rows -----------------------------------------------------
def group_advantages(rewards: Sequence[float], epsilon: float = TRL_EPSILON) -> np.ndarray:
    """``(reward - mean) / (sample std + epsilon)`` over one group; all zeros when the rewards are equal.

    The sample std (``ddof=1``) and ``epsilon`` = 1e-4 are TRL's; a group of one has advantage 0.
    """
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 1 or len(r) == 0 or not np.isfinite(r).all():
        raise ValueError(f"rewards must be a non-empty list of finite numbers, got {list(rewards)!r}")
    if (r == r[0]).all():
        return np.zeros_like(r)  # no signal in this group (and no 0/eps noise from the mean's rounding)
    return (r - r.mean()) / (r.std(ddof=1) + epsilon)


def prompt_messages(message: str, history: Sequence[tuple[str, str]], *, system_prompt: str = DEFAULT_SYSTEM_PROMPT,
                    history_turns: int = 4) -> list[Message]:
    """The policy's chat prompt in TRL's conversational format: system, the last exchanges, the user's message."""
    messages = [{"role": "system", "content": system_prompt}]
    for user_text, answer in (history[-history_turns:] if history_turns else ()):
        messages += [{"role": "user", "content": user_text}, {"role": "assistant", "content": answer}]
    messages.append({"role": "user", "content": message})
    return messages


def request_seeds(seed: int, iteration: int, slot: int, group_size: int) -> list[int]:
    """Distinct sampling seeds of one group, a function of (loop seed, iteration, slot) only."""
    state = np.random.SeedSequence(seed, spawn_key=(_REQUEST_KEY, iteration, slot)).generate_state(1)[0]
    base = int(state) % _SEED_LIMIT
    return [(base + g) % _SEED_LIMIT for g in range(group_size)]


def group_requests(prompt: Sequence[Message], sampling: Sampling, seeds: Sequence[int], tag: str) -> list[ChatRequest]:
    """One request per seed, all with the same prompt: the group of one prompt."""
    messages = tuple(ChatMessage(role=m["role"], content=m["content"]) for m in prompt)  # type: ignore[arg-type]
    return [ChatRequest(messages=messages, sampling=sampling.model_copy(update={"seed": s}), tag=f"{tag} g{g}")
            for g, s in enumerate(seeds)]


def trl_row(*, prompt: Sequence[Message], completion: str, score: StepScore, advantage: float, group_id: int,
            iteration: int, env_id: str, seed: int, session: int, turn: int,
            previous_actions: Sequence[str]) -> dict[str, Any]:
    """One sampled answer as a JSON-ready row: TRL's ``prompt``/``completion`` plus reward, advantage, provenance."""
    return {
        "prompt": [dict(m) for m in prompt],
        "completion": [{"role": "assistant", "content": completion}],
        "reward": float(score.reward), "advantage": float(advantage),
        "group_id": group_id, "iteration": iteration, "env_id": env_id, "seed": seed,
        "session": session, "turn": turn,
        "reward_components": {name: float(score.components[name]) for name in COMPONENTS},
        "previous_actions": list(previous_actions),
    }


def grpo_features() -> Any:
    """The `datasets.Features` of the rows, for ``load_dataset("json", ..., features=grpo_features())``."""
    from datasets import Features, List, Value

    message = {"role": Value("string"), "content": Value("string")}
    return Features({
        "prompt": List(message), "completion": List(message),
        "reward": Value("float64"), "advantage": Value("float64"),
        "group_id": Value("int64"), "iteration": Value("int64"), "env_id": Value("string"), "seed": Value("int64"),
        "session": Value("int64"), "turn": Value("int64"),
        "reward_components": {name: Value("float64") for name in COMPONENTS},
        "previous_actions": List(Value("string")),
    })


def write_jsonl(rows: Sequence[dict[str, Any]], path: str | Path, *, append: bool = False) -> Path:
    """Write rows as JSON lines: atomically (a new file replaces `path` whole), or appended with ``append``."""
    path = Path(path)
    lines = (json.dumps(row, ensure_ascii=False) for row in rows)
    if not append:
        write_lines(lines, path)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)
    return path


# -- the loop --------------------------------------------------------------------------------
@dataclass
class _Slot:
    """One env of the batch and the policy's memory of its episode."""

    env: PersonaChatEnv
    seed: int
    observation: dict[str, Any]
    history: list[tuple[str, str]] = field(default_factory=list)  # (user message, answer) exchanges
    actions: list[str] = field(default_factory=list)  # every action of the episode so far, for replay


@dataclass
class GRPOBatch:
    """One iteration's rows and figures."""

    iteration: int
    rows: list[dict[str, Any]]
    completion_tokens: int
    generate_seconds: float
    seconds: float
    failed: int  # requests that failed after the backend's retries (no row)
    truncated: int  # answers cut at max_tokens (scored as they are)
    flat_groups: int  # groups whose rewards were all equal (advantage 0: no learning signal)

    @property
    def tokens_per_second(self) -> float:
        """Completion tokens per second of the `generate` call."""
        return self.completion_tokens / self.generate_seconds if self.generate_seconds > 0 else float("nan")

    def summary(self) -> dict[str, float]:
        """Mean/std of rewards, mean/std of advantages and the throughput, for a progress line."""
        rewards = np.array([r["reward"] for r in self.rows]) if self.rows else np.array([np.nan])
        advantages = np.array([r["advantage"] for r in self.rows]) if self.rows else np.array([np.nan])
        return {"reward_mean": float(rewards.mean()), "reward_std": float(rewards.std()),
                "advantage_mean": float(advantages.mean()), "advantage_std": float(advantages.std()),
                "tokens_per_second": self.tokens_per_second, "seconds": self.seconds}


class GRPOLoop:
    """Sample, score, normalise and advance a batch of envs, one iteration per `step` (see the module doc).

    ``envs`` are distinct template-mode `PersonaChatEnv`s (one prompt each); the loop resets them with its
    own seeds.  ``backend`` is any `LLMBackend` (not owned: the caller closes it); ``config`` a `GRPOConfig`,
    a dict of its fields or None (the defaults); ``runner`` is the event loop of the sync `step` (pass the
    one the backend is used on; by default the loop has its own).
    """

    def __init__(self, backend: LLMBackend, envs: Sequence[PersonaChatEnv],
                 config: GRPOConfig | Mapping[str, Any] | None = None, *, runner: LoopRunner | None = None) -> None:
        self.config = as_config(GRPOConfig, config)
        envs = list(envs)
        if not envs:
            raise ValueError("envs must hold at least one PersonaChatEnv, got none")
        for i, env in enumerate(envs):
            if not isinstance(env, PersonaChatEnv):
                raise TypeError(f"envs[{i}] must be a PersonaChatEnv (use env.unwrapped), got {type(env).__name__}")
            fork_env(env)  # refuses an env in LLM mode
        if len({id(env) for env in envs}) != len(envs):
            raise ValueError("envs must be distinct objects (each is one prompt's episode)")
        if not callable(getattr(backend, "generate", None)):
            raise TypeError(f"backend must be an LLMBackend (with async generate), got {type(backend).__name__}")
        self.backend = backend
        self.iteration = 0
        self._episodes = 0
        self._own_runner = runner is None
        self.runner = runner or LoopRunner()
        self.slots = [self._start_episode(env) for env in envs]

    def step(self) -> GRPOBatch:
        """Run one iteration (sync)."""
        return self.runner.run(self.astep(), async_alternative="GRPOLoop.astep()")

    async def astep(self) -> GRPOBatch:
        """Run one iteration: one `generate` call for every group, then scoring, rows and advancing."""
        started = time.perf_counter()
        cfg, g = self.config, self.config.group_size
        prompts = [prompt_messages(s.observation["message"], s.history, history_turns=cfg.history_turns,
                                   system_prompt=cfg.system_prompt or DEFAULT_SYSTEM_PROMPT) for s in self.slots]
        requests = [request
                    for i, prompt in enumerate(prompts)
                    for request in group_requests(prompt, cfg.sampling, request_seeds(cfg.seed, self.iteration, i, g),
                                                  f"grpo it{self.iteration} p{i}")]
        t0 = time.perf_counter()
        completions = await self.backend.generate(requests)
        generate_seconds = time.perf_counter() - t0
        rows: list[dict[str, Any]] = []
        flat = 0
        for i, (slot, prompt) in enumerate(zip(self.slots, prompts, strict=True)):
            group_rows = self._group_rows(i, slot, prompt, completions[i * g:(i + 1) * g])
            flat += bool(group_rows) and all(row["advantage"] == 0.0 for row in group_rows)
            rows += group_rows
            if group_rows:
                self._advance(i, slot, group_rows)
        batch = GRPOBatch(
            iteration=self.iteration, rows=rows, completion_tokens=sum(c.completion_tokens for c in completions),
            generate_seconds=generate_seconds, seconds=time.perf_counter() - started,
            failed=sum(not c.ok for c in completions), truncated=sum(c.ok and c.truncated for c in completions),
            flat_groups=flat,
        )
        self.iteration += 1
        return batch

    def close(self) -> None:
        """Close the loop's own event loop, if it has one (envs and backend belong to the caller)."""
        if self._own_runner:
            self.runner.close()

    # -- helpers ---------------------------------------------------------------------------
    def _start_episode(self, env: PersonaChatEnv) -> _Slot:
        seed = self.config.seed * TRAIN_SEED_STRIDE + self._episodes
        self._episodes += 1
        observation, _ = env.reset(seed=seed)
        return _Slot(env=env, seed=seed, observation=observation)

    def _group_rows(self, index: int, slot: _Slot, prompt: list[Message],
                    completions: Sequence[Completion]) -> list[dict[str, Any]]:
        """Rows of one group: every answer that was written, scored on a copy of the slot's env."""
        texts = [c.text for c in completions if c.ok]
        scores = [score_action(slot.env, text) for text in texts]
        advantages = group_advantages([s.reward for s in scores], self.config.epsilon) if scores else []
        obs = slot.observation
        return [trl_row(prompt=prompt, completion=text, score=score, advantage=adv,
                        group_id=self.iteration * len(self.slots) + index, iteration=self.iteration,
                        env_id=slot.env.env_id, seed=slot.seed, session=int(obs["session"]), turn=int(obs["turn"]),
                        previous_actions=slot.actions)
                for text, score, adv in zip(texts, scores, advantages, strict=True)]

    def _advance(self, index: int, slot: _Slot, group_rows: list[dict[str, Any]]) -> None:
        """Step the slot's env with the chosen answer; restart its episode with the next seed when it ends."""
        if self.config.advance == "best":
            pick = int(np.argmax([row["reward"] for row in group_rows]))
        else:
            rng = np.random.default_rng(np.random.SeedSequence(self.config.seed,
                                                               spawn_key=(_ADVANCE_KEY, self.iteration, index)))
            pick = int(rng.integers(len(group_rows)))
        row = group_rows[pick]
        action = row["completion"][0]["content"]
        observation, reward, terminated, truncated, _ = slot.env.step(action)
        if float(reward) != row["reward"]:  # a copy that diverges from its original would corrupt every reward
            raise RuntimeError(f"env {slot.env.env_id!r} (seed {slot.seed}) gave reward {reward} for the answer its "
                               f"copy scored {row['reward']}: the env copy is not faithful")
        if terminated or truncated:
            self.slots[index] = self._start_episode(slot.env)
            return
        slot.history.append((slot.observation["message"], action))
        slot.actions.append(action)
        slot.observation = observation
