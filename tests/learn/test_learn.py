"""The numpy learners: policy gradients, Adam, LinUCB, config and env checks, and a bandit smoke run."""

from __future__ import annotations

import math
from types import MappingProxyType

import gymnasium as gym
import numpy as np
import pytest

import personagym  # noqa: F401 - registers the ids
from personagym.checks import as_config, check_int, check_number
from personagym.envs.chat import check_positive
from personagym.envs.dialogue_state import DialogueState
from personagym.envs.rewards import RewardWeights
from personagym.envs.structured import StructuredChatEnv
from personagym.learn.bandit import ELICITATION_ARMS, LinUCB, matched_style, run_bandit
from personagym.learn.reinforce import Adam, FactoredSoftmaxPolicy, ReinforceConfig, mean_ci, train_reinforce

NAN, INF = float("nan"), float("inf")
SEED_RANGE = r"seed must be an int in \[0, 999\] so training seeds stay apart from evaluation seeds"


@pytest.fixture(scope="module")
def structured() -> gym.Env:
    return gym.make("PersonaGym/Structured-v0")


@pytest.fixture(scope="module")
def chat() -> gym.Env:
    return gym.make("PersonaGym/Chat-v0")


def _objective(policy: FactoredSoftmaxPolicy, xs: np.ndarray, choices: np.ndarray, adv: np.ndarray,
               entropy: float) -> float:
    """Mean of adv * log pi(choices) + entropy * (sum of the heads' entropies)."""
    total = 0.0
    for x, c, a in zip(xs, choices, adv, strict=True):
        for h, p in enumerate(policy.probabilities(x)):
            total += a * np.log(p[c[h]]) - entropy * float((p * np.log(p)).sum())
    return total / len(xs)


def test_policy_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(0)
    policy = FactoredSoftmaxPolicy(4, (3, 2), start=(1, 0), start_logit=0.5)
    for p in policy.parameters:
        p += rng.normal(scale=0.3, size=p.shape)
    xs, choices, adv = rng.random((5, 4)), rng.integers(0, 2, size=(5, 2)), rng.normal(size=5)
    grads = policy.gradients(xs, choices, adv, entropy=0.1)
    eps = 1e-6
    for param, grad in zip(policy.parameters, grads, strict=True):
        for idx in np.ndindex(param.shape):
            old = param[idx]
            param[idx] = old + eps
            up = _objective(policy, xs, choices, adv, 0.1)
            param[idx] = old - eps
            down = _objective(policy, xs, choices, adv, 0.1)
            param[idx] = old
            assert grad[idx] == pytest.approx((up - down) / (2 * eps), abs=1e-6)


def test_policy_warm_start_and_actions() -> None:
    policy = FactoredSoftmaxPolicy(3, (4, 5), start=(2, 3), start_logit=4.0)
    x = np.ones(3)
    assert policy.greedy(x) == np.ravel_multi_index((2, 3), (4, 5))
    action, choices = policy.sample(x, np.random.default_rng(0))
    assert action == policy.action(choices)
    with pytest.raises(ValueError, match=r"start must hold one valid choice per factor \(4, 5\)"):
        FactoredSoftmaxPolicy(3, (4, 5), start=(4, 0))


def test_adam_climbs() -> None:
    x = np.array([3.0, -2.0])
    opt = Adam([x], lr=0.1)
    for _ in range(300):
        opt.step([-2 * x])  # ascent on -|x|^2
    assert np.abs(x).max() < 0.05


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"episodes": 0}, r"episodes must be an int in \[1, 1000000\], got 0"),
     ({"episodes": True}, r"episodes must be an int in \[1, 1000000\], got True"),
     ({"batch_episodes": 4.0}, r"batch_episodes must be an int in \[1, 1000000\], got 4.0"),
     ({"seed": 1000}, f"{SEED_RANGE}, got 1000"),
     ({"seed": True}, f"{SEED_RANGE}, got True"),
     ({"seed": "1"}, f"{SEED_RANGE}, got '1'"),
     ({"gamma": 1.5}, r"gamma must be a number in \[0, 1\], got 1.5"),
     ({"lr": -1.0}, "lr must be a finite number >= 0, got -1.0"),
     ({"lr": "a"}, "lr must be a finite number >= 0, got 'a'"),
     ({"lr": NAN}, "lr must be a finite number >= 0, got nan"),
     ({"value_lr": INF}, "value_lr must be a finite number >= 0, got inf"),
     ({"entropy": NAN}, "entropy must be a finite number >= 0, got nan"),
     ({"start_logit": NAN}, "start_logit must be a finite number, got nan"),
     ({"start_logit": None}, "start_logit must be a finite number, got None")],
)
def test_bad_reinforce_config(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ReinforceConfig(**kwargs)


def test_config_takes_numpy_numbers_as_pythons(structured: gym.Env) -> None:
    config = ReinforceConfig(episodes=np.int64(2), seed=np.int64(1), lr=np.float32(0.5), gamma=1)
    assert config == ReinforceConfig(episodes=2, seed=1, lr=0.5, gamma=1.0)
    assert type(config.seed) is int and type(config.lr) is float
    assert train_reinforce(structured, config).curve[-1][0] == 2  # gymnasium takes only Python ints as seeds


def test_train_reinforce_builds_its_config_from_a_dict(structured: gym.Env) -> None:
    result = train_reinforce(structured, {"episodes": 2, "batch_episodes": 1})
    assert [episodes for episodes, _ in result.curve] == [1, 2]
    with pytest.raises(ValueError, match=r"unknown ReinforceConfig field 'episode' \(did you mean 'episodes'\?\)"):
        train_reinforce(structured, {"episode": 2})
    with pytest.raises(ValueError, match="lr must be a finite number >= 0, got nan"):
        train_reinforce(structured, {"lr": NAN})
    with pytest.raises(TypeError, match="config must be a dict or ReinforceConfig, got list"):
        train_reinforce(structured, [("episodes", 2)])  # type: ignore[arg-type]


@pytest.mark.parametrize("start_action", [99999, -1, "3", True])
def test_bad_start_action(structured: gym.Env, start_action: object) -> None:
    with pytest.raises(ValueError, match=r"start_action must be an int in \[0, 1664\] \(an action of this env\)"):
        train_reinforce(structured, ReinforceConfig(episodes=1), start_action=start_action)  # type: ignore[arg-type]


def test_learners_refuse_the_text_env(chat: gym.Env) -> None:
    with pytest.raises(TypeError, match="train_reinforce needs a PersonaGym/Structured-v0 env .*, "
                                        "got PersonaGym/Chat-v0"):
        train_reinforce(chat, ReinforceConfig(episodes=1))
    with pytest.raises(TypeError, match="run_bandit needs a PersonaGym/Structured-v0 env .*, got PersonaGym/Chat-v0"):
        run_bandit(chat, 1)
    with pytest.raises(TypeError, match="train_reinforce needs a PersonaGym/Structured-v0 env .*, got str"):
        train_reinforce("PersonaGym/Structured-v0", ReinforceConfig(episodes=1))  # type: ignore[arg-type]


def test_learners_take_a_plain_structured_env() -> None:
    env = StructuredChatEnv()  # not made by gym.make: no spec, no wrappers
    assert len(train_reinforce(env, {"episodes": 1}).curve) == 1
    assert len(run_bandit(env, 1).chosen) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"rounds": 0}, r"rounds must be an int in \[1, 1000000\], got 0"),
     ({"rounds": 1.5}, r"rounds must be an int in \[1, 1000000\], got 1.5"),
     ({"seed": 1000}, f"{SEED_RANGE}, got 1000"),
     ({"seed": -1}, f"{SEED_RANGE}, got -1"),
     ({"seed": True}, f"{SEED_RANGE}, got True"),
     ({"alpha": NAN}, "alpha must be a finite number >= 0, got nan"),
     ({"alpha": "1"}, "alpha must be a finite number >= 0, got '1'")],
)
def test_bad_bandit_arguments(structured: gym.Env, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        run_bandit(structured, **{"rounds": 1, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_arms": 0}, "n_arms must be a positive int, got 0"),
     ({"n_features": 2.0}, "n_features must be a positive int, got 2.0"),
     ({"alpha": -1.0}, "alpha must be a finite number >= 0, got -1.0"),
     ({"ridge": 0.0}, "ridge must be a finite number > 0, got 0.0")],
)
def test_bad_linucb(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LinUCB(**{"n_arms": 2, "n_features": 2, **kwargs})


def test_checks_name_the_field_and_the_range() -> None:
    assert check_int("n", np.int16(3), 1) == 3 and type(check_int("n", np.int16(3), 1)) is int
    assert check_number("x", np.float32(0.5), 0.0, 1.0) == 0.5 and check_number("x", 2, 0.0) == 2.0
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 5\] \(why\), got "):
        check_int("n", np.True_, 1, 5, why=" (why)")
    # one rule, worded by its range: a lower bound of 1 is "positive", as in the envs' check_positive
    with pytest.raises(ValueError, match=r"^n must be a positive int, got 0$"):
        check_int("n", 0, 1)
    with pytest.raises(ValueError, match=r"^n must be an int >= 0, got -1$"):
        check_int("n", -1, 0)
    with pytest.raises(ValueError, match=r"^max_turns must be a positive int, got '2'$"):
        check_positive("max_turns", "2")
    assert check_positive("max_turns", np.int64(3)) == 3 and type(check_positive("max_turns", np.int64(3))) is int
    with pytest.raises(ValueError, match=r"x must be a number in \(0, 1\], got 0"):
        check_number("x", 0, 0.0, 1.0, low_open=True)
    with pytest.raises(ValueError, match=r"x must be a finite number, got -inf"):
        check_number("x", -math.inf)


def test_as_config_serves_dataclasses_and_pydantic_models() -> None:
    assert as_config(ReinforceConfig, MappingProxyType({"episodes": 3})) == ReinforceConfig(episodes=3)
    weights = as_config(RewardWeights, MappingProxyType({"style": 0.5}), "reward_weights")
    assert weights == RewardWeights(style=0.5)
    with pytest.raises(ValueError, match=r"^reward_weights: unknown RewardWeights field 'stile' "
                                         r"\(did you mean 'style'\?\); expected one of preference, "):
        as_config(RewardWeights, {"stile": 0.5}, "reward_weights")
    with pytest.raises(ValueError, match=r"^invalid reward_weights: style: Input should be greater than or equal "
                                         r"to 0 \(got -1\)$"):
        as_config(RewardWeights, {"style": -1}, "reward_weights")
    with pytest.raises(TypeError, match="^reward_weights must be a dict or RewardWeights, got list$"):
        as_config(RewardWeights, [("style", 0.5)], "reward_weights")


def test_linucb_learns_the_better_arm_per_context() -> None:
    rng = np.random.default_rng(0)
    bandit = LinUCB(n_arms=2, n_features=2, alpha=0.5)
    for _ in range(400):
        x = np.array([1.0, float(rng.integers(2))])
        arm = bandit.select(x)
        best = int(x[1])  # arm 1 pays when the second feature is on, arm 0 otherwise
        bandit.update(arm, x, float(arm == best) + rng.normal(scale=0.1))
    assert bandit.select(np.array([1.0, 1.0])) == 1
    assert bandit.select(np.array([1.0, 0.0])) == 0


def test_matched_style_follows_what_the_user_stated() -> None:
    env = gym.make("PersonaGym/Structured-v0").unwrapped
    env.reset(seed=0)
    state = DialogueState(env.knowledge(), env.categories)
    assert matched_style(state) == ("standard", "narrative", "neutral")
    state.observe("Keep it short. Give me numbered steps. Please write formally.")
    assert matched_style(state) == ("brief", "bullets", "formal")


def test_bandit_smoke_run(structured: gym.Env) -> None:
    result = run_bandit(structured, rounds=4, seed=np.int64(0))
    assert result.arm_returns.shape == (4, len(ELICITATION_ARMS))
    assert sum(result.counts.values()) == 4
    for curve in result.regret().values():
        assert curve.shape == (4,) and np.all(np.isfinite(curve)) and np.all(np.diff(curve) >= 0)


def test_mean_ci() -> None:
    mean, ci = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and ci == pytest.approx(4.303 / np.sqrt(3))  # t(2): three values are few
    assert np.isnan(mean_ci([1.0])[1])


def test_the_t_quantile_meets_the_normal_one() -> None:
    from personagym.eval.summary import t975

    assert t975(2) == 4.303 and t975(30) == 2.042
    assert t975(31) == pytest.approx(2.040, abs=1e-3) and t975(120) == pytest.approx(1.980, abs=1e-3)
    assert t975(10**6) == pytest.approx(1.960, abs=1e-3)
    assert t975(np.int64(2)) == 4.303  # a count from numpy is a count
    with pytest.raises(ValueError, match="df must be a positive int, got 0"):
        t975(0)
    with pytest.raises(ValueError, match="df must be a positive int, got 2.0"):
        t975(2.0)  # type: ignore[arg-type]
