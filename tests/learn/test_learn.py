"""The numpy learners: policy gradients, Adam, LinUCB, config checks, and a bandit smoke run."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import personagym  # noqa: F401 - registers the ids
from personagym.envs.dialogue_state import DialogueState
from personagym.learn.bandit import ELICITATION_ARMS, LinUCB, matched_style, run_bandit
from personagym.learn.reinforce import Adam, FactoredSoftmaxPolicy, ReinforceConfig, mean_ci, train_reinforce


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
     ({"seed": 1000}, r"seed must be an int in \[0, 1000\)"),
     ({"gamma": 1.5}, r"gamma must be in \[0, 1\], got 1.5"),
     ({"lr": -1.0}, "lr must be >= 0, got -1.0")],
)
def test_bad_reinforce_config(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ReinforceConfig(**kwargs)


def test_bad_start_action() -> None:
    env = gym.make("PersonaGym/Structured-v0")
    with pytest.raises(ValueError, match="start_action 99999 is not an action of this env"):
        train_reinforce(env, ReinforceConfig(episodes=1), start_action=99999)


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


def test_bandit_smoke_run() -> None:
    env = gym.make("PersonaGym/Structured-v0")
    result = run_bandit(env, rounds=4, seed=0)
    assert result.arm_returns.shape == (4, len(ELICITATION_ARMS))
    assert sum(result.counts.values()) == 4
    for curve in result.regret().values():
        assert curve.shape == (4,) and np.all(np.isfinite(curve)) and np.all(np.diff(curve) >= 0)
    with pytest.raises(ValueError, match="rounds must be >= 1, got 0"):
        run_bandit(env, rounds=0)


def test_mean_ci() -> None:
    mean, ci = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and ci == pytest.approx(1.96 / np.sqrt(3))
    assert np.isnan(mean_ci([1.0])[1])
