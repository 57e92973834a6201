"""A contextual bandit that learns, per user, whether to ask first or recommend right away.

Each round is one episode of `StructuredChatEnv`.  Before the first answer
the learner sees the features of the user's opening message (the context)
and picks an elicitation strategy (an arm, `ELICITATION_ARMS`): recommend at
once, or first ask about style, constraints or the topic's category, then
recommend.  It is rewarded with the episode return; disjoint linear UCB
(LinUCB, Li et al. 2010) picks the arms.

Regret is exact, because the env is deterministic given the seed and the
actions: every round, every arm (the generic baseline is one of them) is
replayed on the same seed, for bookkeeping only — the learner sees just its own
arm's return.  The regret of a policy after T rounds is the sum over rounds
of (return of the round's best arm) - (return of the policy), against an
oracle that knows which strategy works best with each user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from personagym.checks import check_int, check_number, env_name
from personagym.envs.dialogue_state import LAYOUTS, LENGTHS, DialogueState
from personagym.envs.structured import StructuredChatEnv
from personagym.learn.reinforce import TRAIN_SEED_STRIDE, check_episodes, check_train_seed, run_episode

#: Arm name -> the clarifying questions asked (one per turn) before recommending.  The
#: ``generic`` arm is the generic baseline itself (`generic_policy`), so the learner must
#: also learn not to behave like it.
ELICITATION_ARMS: dict[str, tuple[str, ...]] = {
    "generic": (),
    "recommend": (),
    "ask_style": ("ask:style",),
    "ask_constraints": ("ask:constraints",),
    "ask_focus": ("ask:focus",),
    "ask_focus_then_style": ("ask:focus", "ask:style"),
}
GENERIC_ARM = "generic"
#: What every arm recommends once it has asked: the stated likes on the request, then things near it (the stated
#: likes of any category, ``recommend:liked``, answer nothing asked: as the hand rule they scored 0.60 against
#: `generic`'s 0.71 once the reward paid only what is on the request).
RECOMMEND = "recommend:personal"
#: `generic`'s style, used until the user states their own.
DEFAULT_STYLE = ("standard", "narrative", "neutral")
_FORMALITY = {"very_casual": "casual", "casual": "casual", "business_casual": "neutral",
              "professional": "formal", "highly_formal": "formal"}
_LIST_FORMATS = frozenset({"bullets", "numbered_steps", "outline", "checklist", "pros_cons", "qa"})


def matched_style(state: DialogueState, default: tuple[str, str, str] = DEFAULT_STYLE) -> tuple[str, str, str]:
    """(length, layout, formality) the user has stated, `default` where they have not."""
    length = state.stated("length_pref")
    fmt = state.stated("format_pref_primary")
    layout = "bullets" if fmt in _LIST_FORMATS else fmt
    return (length if length in LENGTHS else default[0],
            layout if layout in LAYOUTS else default[1],
            _FORMALITY.get(state.stated("formality_level") or "", default[2]))


def arm_policy(env: Any, questions: tuple[str, ...],
               default: tuple[str, str, str] = DEFAULT_STYLE) -> Callable[[dict[str, Any]], int]:
    """The scripted policy of an arm: ask `questions` one per turn, then recommend; style as stated, `default`
    where it is not (with no questions, the "hand rule" of docs/training.md)."""
    structured = env.unwrapped

    def act(_obs: dict[str, Any]) -> int:
        state = structured.state
        asks = state.asks
        content = questions[asks] if asks < len(questions) else RECOMMEND
        return structured.menu.encode(content, *matched_style(state, default))

    return act


def generic_policy(env: Any) -> Callable[[dict[str, Any]], int]:
    """`generic`'s structured analogue: ``recommend:request`` in generic's style at every turn."""
    action = env.unwrapped.menu.encode("recommend:request", *DEFAULT_STYLE)
    return lambda _obs: action


class LinUCB:
    """Disjoint LinUCB: a ridge regression of the reward per arm, optimism of `alpha` standard errors."""

    def __init__(self, n_arms: int, n_features: int, alpha: float = 1.0, ridge: float = 1.0) -> None:
        n_arms, n_features = check_int("n_arms", n_arms, 1), check_int("n_features", n_features, 1)
        ridge = check_number("ridge", ridge, 0.0, low_open=True)
        self.alpha = check_number("alpha", alpha, 0.0)
        self.inverse = np.stack([np.eye(n_features) / ridge for _ in range(n_arms)])  # (X'X + ridge I)^-1
        self.b = np.zeros((n_arms, n_features))

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Upper confidence bound of every arm's reward at context `x`."""
        theta = np.einsum("aij,aj->ai", self.inverse, self.b)
        width = np.sqrt(np.einsum("i,aij,j->a", x, self.inverse, x))
        return theta @ x + self.alpha * width

    def select(self, x: np.ndarray) -> int:
        """The arm with the highest upper bound (lowest index on ties)."""
        return int(np.argmax(self.scores(x)))

    def update(self, arm: int, x: np.ndarray, reward: float) -> None:
        """Add one observation to the arm's regression (Sherman-Morrison update of the inverse)."""
        a_inv = self.inverse[arm]
        ax = a_inv @ x
        a_inv -= np.outer(ax, ax) / (1.0 + x @ ax)
        self.b[arm] += reward * x


@dataclass
class BanditResult:
    """Per-round returns of every arm, the learner's choices, and the derived regrets."""

    arms: list[str]
    arm_returns: np.ndarray  # (rounds, arms)
    chosen: np.ndarray  # (rounds,) arm index picked by LinUCB
    uniform_choice: np.ndarray  # (rounds,) arm index of the uniform-random reference
    counts: dict[str, int] = field(default_factory=dict)

    def regret(self) -> dict[str, np.ndarray]:
        """Cumulative regret per round of LinUCB, the generic baseline, uniform arms and the best fixed arm."""
        rounds = np.arange(len(self.chosen))
        best = self.arm_returns.max(axis=1)
        best_fixed = int(np.argmax(self.arm_returns.sum(axis=0)))
        return {
            "linucb": np.cumsum(best - self.arm_returns[rounds, self.chosen]),
            "generic": np.cumsum(best - self.arm_returns[:, self.arms.index(GENERIC_ARM)]),
            "uniform_arm": np.cumsum(best - self.arm_returns[rounds, self.uniform_choice]),
            f"best_fixed_arm ({self.arms[best_fixed]})": np.cumsum(best - self.arm_returns[:, best_fixed]),
        }


def run_bandit(env: Any, rounds: int, seed: int = 0, alpha: float = 1.0,
               progress: Callable[[int], None] | None = None) -> BanditResult:
    """Run LinUCB over `ELICITATION_ARMS` for `rounds` episodes, replaying every arm for the regret.

    `env` is a ``PersonaGym/Structured-v0`` env (the arms are scripted on its
    action menu).  Round t uses env seed ``seed * TRAIN_SEED_STRIDE + t``, as
    training episodes do in `reinforce` (so `seed` is below 1000 and `rounds`
    at most `TRAIN_SEED_STRIDE`); the context is the features of the opening
    observation.  ``progress(rounds_done)`` is called after every round.
    """
    if not isinstance(getattr(env, "unwrapped", None), StructuredChatEnv):
        raise TypeError(f"run_bandit needs a PersonaGym/Structured-v0 env (a Discrete action menu), "
                        f"got {env_name(env)}")
    rounds, seed = check_episodes("rounds", rounds), check_train_seed("seed", seed)
    names = list(ELICITATION_ARMS)
    learner = LinUCB(len(names), env.observation_space["features"].shape[0], alpha=alpha)
    policies = [generic_policy(env) if n == GENERIC_ARM else arm_policy(env, ELICITATION_ARMS[n]) for n in names]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))
    arm_returns, chosen = np.zeros((rounds, len(names))), np.zeros(rounds, dtype=int)
    uniform = rng.integers(len(names), size=rounds)
    for t in range(rounds):
        env_seed = seed * TRAIN_SEED_STRIDE + t
        obs, _ = env.reset(seed=env_seed)
        x = np.asarray(obs["features"], dtype=np.float64)
        chosen[t] = learner.select(x)
        arm_returns[t] = [run_episode(env, act, env_seed) for act in policies]
        learner.update(int(chosen[t]), x, float(arm_returns[t, chosen[t]]))
        if progress is not None:
            progress(t + 1)
    counts = {n: int((chosen == i).sum()) for i, n in enumerate(names)}
    return BanditResult(names, arm_returns, chosen, uniform, counts)
