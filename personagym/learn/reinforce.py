"""REINFORCE with a learned baseline and a factored linear-softmax policy, in numpy only.

The policy reads the numeric ``features`` of an observation (as
`StructuredChatEnv` gives them) and picks one option per factor of the action
(`ActionMenu.factors`: content, length, layout, formality), each from its own
softmax over a linear function of the features; the env action is the
ravelled index of the choices.  Factoring keeps the policy small (a few
thousand weights for 1665 actions) and lets what is learned about, say, the
length carry over to every content.  A plain ``Discrete(n)`` env is the
one-factor case.

Training uses returns-to-go, a linear value baseline fitted alongside, batch
advantage normalisation, an entropy bonus and Adam.  Everything random comes
from generators derived from ``ReinforceConfig.seed``, so a run is repeatable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces

from personagym.checks import as_config, check_int, check_number, env_name
from personagym.eval import summary as eval_summary

#: Env seeds of the training episodes of training seed ``s`` are ``s * TRAIN_SEED_STRIDE + i``.
TRAIN_SEED_STRIDE = 1_000_000
#: Evaluation episodes use env seeds from here on, apart from every training seed below 1000.
EVAL_SEED0 = 1_000_000_000


def check_train_seed(name: str, value: object) -> int:
    """`value` as an int if it is a training seed: below 1000, so its env seeds stay below `EVAL_SEED0`."""
    return check_int(name, value, 0, EVAL_SEED0 // TRAIN_SEED_STRIDE - 1,
                     why=" so training seeds stay apart from evaluation seeds")


def check_episodes(name: str, value: object) -> int:
    """`value` as an int if it is a count of one seed's episodes: at most `TRAIN_SEED_STRIDE`.

    More would reach the env seeds of the next training seed (or, from seed 999, the evaluation seeds).
    """
    return check_int(name, value, 1, TRAIN_SEED_STRIDE)


@dataclass(frozen=True)
class ReinforceConfig:
    """Budget and hyper-parameters of one REINFORCE run."""

    episodes: int = 8_000
    batch_episodes: int = 48
    lr: float = 0.05  # Adam step of the policy
    value_lr: float = 0.02  # Adam step of the linear value baseline
    entropy: float = 0.03  # weight of the entropy bonus (keeps exploring)
    gamma: float = 1.0  # discount of the returns-to-go (episodes are short)
    start_logit: float = 1.0  # bias of the warm-start choices (with `train_reinforce(start_action=...)`)
    seed: int = 0

    def __post_init__(self) -> None:
        """Check every field, and keep numpy numbers as Python's (gymnasium's seeds must be ints)."""
        checked = {
            "episodes": check_episodes("episodes", self.episodes),
            "batch_episodes": check_episodes("batch_episodes", self.batch_episodes),
            "seed": check_train_seed("seed", self.seed),
            **{name: check_number(name, getattr(self, name), 0.0) for name in ("lr", "value_lr", "entropy")},
            "gamma": check_number("gamma", self.gamma, 0.0, 1.0),
            "start_logit": check_number("start_logit", self.start_logit),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)


class Adam:
    """Adam on a list of arrays (ascent: `step` adds the update)."""

    def __init__(self, params: Sequence[np.ndarray], lr: float, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.params, self.lr, self.beta1, self.beta2 = list(params), lr, beta1, beta2
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Move every parameter along its gradient (in place)."""
        self.t += 1
        correction = np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m += (1 - self.beta1) * (g - m)
            v += (1 - self.beta2) * (g * g - v)
            p += self.lr * correction * m / (np.sqrt(v) + 1e-8)


class FactoredSoftmaxPolicy:
    """One linear softmax head per action factor: logits ``W_h @ x + b_h``.

    Weights start at zero and biases at zero (uniform over the menu), or, with
    ``start`` (per-factor choices) and ``start_logit``, with those choices
    favoured by ``start_logit`` — a warm start at a known behaviour.

    Args:
        n_features: length of the feature vector.
        factors: options per factor; the env action is ``np.ravel_multi_index(choices, factors)``.
        start: per-factor choices to favour at the start (None: uniform).
        start_logit: the bias given to the ``start`` choices.
    """

    def __init__(self, n_features: int, factors: Sequence[int], start: Sequence[int] | None = None,
                 start_logit: float = 0.0) -> None:
        if n_features < 1 or not factors or any(n < 1 for n in factors):
            raise ValueError(f"need n_features >= 1 and factors >= 1, got {n_features} and {tuple(factors)}")
        self.factors = tuple(int(n) for n in factors)
        self.weights = [np.zeros((n, n_features)) for n in self.factors]
        self.biases = [np.zeros(n) for n in self.factors]
        if start is not None:
            if len(start) != len(self.factors) or any(not 0 <= c < n for c, n in zip(start, self.factors, strict=True)):
                raise ValueError(f"start must hold one valid choice per factor {self.factors}, got {tuple(start)}")
            for b, c in zip(self.biases, start, strict=True):
                b[c] = start_logit

    @property
    def parameters(self) -> list[np.ndarray]:
        """Every weight matrix, then every bias vector (the order of `gradients`)."""
        return [*self.weights, *self.biases]

    def probabilities(self, x: np.ndarray) -> list[np.ndarray]:
        """The softmax of every head at features `x`."""
        out = []
        for w, b in zip(self.weights, self.biases, strict=True):
            z = w @ x + b
            e = np.exp(z - z.max())
            out.append(e / e.sum())
        return out

    def sample(self, x: np.ndarray, rng: np.random.Generator) -> tuple[int, tuple[int, ...]]:
        """(env action, per-factor choices) drawn from the policy."""
        choices = tuple(int(rng.choice(len(p), p=p)) for p in self.probabilities(x))
        return self.action(choices), choices

    def greedy(self, x: np.ndarray) -> int:
        """The env action of the most likely option of every factor."""
        return self.action(tuple(int(np.argmax(w @ x + b)) for w, b in zip(self.weights, self.biases, strict=True)))

    def action(self, choices: tuple[int, ...]) -> int:
        """The env action of per-factor choices."""
        return int(np.ravel_multi_index(choices, self.factors))

    def gradients(self, xs: np.ndarray, choices: np.ndarray, advantages: np.ndarray,
                  entropy: float) -> list[np.ndarray]:
        """Mean over samples of advantage * grad log pi plus `entropy` * grad of the heads' entropy.

        ``xs`` is (n, features), ``choices`` (n, factors) and ``advantages`` (n,); the
        gradients come in the order of `parameters`.
        """
        weight_grads, bias_grads = [], []
        for h, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = xs @ w.T + b
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            onehot = np.zeros_like(p)
            onehot[np.arange(len(p)), choices[:, h]] = 1.0
            logp = np.log(p + 1e-12)
            # d(-sum p log p)/dz_k = -p_k (log p_k + H)
            ent = -p * (logp - (p * logp).sum(axis=1, keepdims=True))
            g = (onehot - p) * advantages[:, None] + entropy * ent
            weight_grads.append(g.T @ xs / len(xs))
            bias_grads.append(g.mean(axis=0))
        return [*weight_grads, *bias_grads]


@dataclass
class TrainResult:
    """What a training run produced: the policy and its learning curve."""

    policy: FactoredSoftmaxPolicy
    value: np.ndarray
    curve: list[tuple[int, float]] = field(default_factory=list)  # (episodes so far, mean return of the batch)
    steps: int = 0  # env steps taken


def _features(obs: dict[str, Any]) -> np.ndarray:
    return np.asarray(obs["features"], dtype=np.float64)


def _check_env(env: Any) -> None:
    """Refuse an env without a ``features`` vector in its observations or without a Discrete action space."""
    observations = getattr(env, "observation_space", None)
    features = observations.spaces.get("features") if isinstance(observations, spaces.Dict) else None
    if (not isinstance(features, spaces.Box) or len(features.shape) != 1
            or not isinstance(getattr(env, "action_space", None), spaces.Discrete)):
        raise TypeError(f"train_reinforce needs a PersonaGym/Structured-v0 env (a 'features' vector in its "
                        f"observations, a Discrete action menu), got {env_name(env)}")


def _factors(env: Any) -> tuple[int, ...]:
    """The options per factor of the env's action menu (a plain Discrete(n) env: one factor of n)."""
    menu = getattr(env.unwrapped, "menu", None)
    return tuple(menu.factors) if menu is not None else (int(env.action_space.n),)


def mean_ci(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and half-width of its 95% confidence interval (Student's t; nan for fewer than two values), as a pair."""
    summary = eval_summary.mean_ci(values)
    return summary["mean"], summary["ci95"]


def run_episode(env: Any, act: Callable[[dict[str, Any]], int], seed: int) -> float:
    """Total reward of one episode of `act` on `env`, reset with `seed`."""
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(act(obs))
        total += float(reward)
        done = terminated or truncated
    return total


def evaluate(env: Any, act: Callable[[dict[str, Any]], int], seeds: Iterable[int]) -> np.ndarray:
    """Episode returns of `act` over the given env seeds."""
    return np.array([run_episode(env, act, s) for s in seeds])


def train_reinforce(env: Any, config: ReinforceConfig | Mapping[str, Any] = ReinforceConfig(),
                    start_action: int | None = None,
                    progress: Callable[[int, float], None] | None = None) -> TrainResult:
    """Train a factored linear-softmax policy on `env` (observations with ``features``) by REINFORCE.

    ``config`` is a `ReinforceConfig` or a dict of its fields.  With
    ``start_action`` the policy starts leaning towards that action (its
    options get ``config.start_logit``), e.g. the generic analogue; a large
    ``start_logit`` (4) starts the curve at that behaviour's level but can
    keep a seed there, the default (1) only leans.  Episode ``i`` is reset with env seed
    ``config.seed * TRAIN_SEED_STRIDE + i``.  ``progress(episodes,
    batch_mean_return)`` is called after every update.
    """
    config = as_config(ReinforceConfig, config)
    _check_env(env)
    n_features, factors = env.observation_space["features"].shape[0], _factors(env)
    start = None
    if start_action is not None:
        action = check_int("start_action", start_action, 0, int(np.prod(factors)) - 1, why=" (an action of this env)")
        start = [int(c) for c in np.unravel_index(action, factors)]
    policy = FactoredSoftmaxPolicy(n_features, factors, start, config.start_logit)
    result = TrainResult(policy=policy, value=np.zeros(n_features))
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(1,)))
    optimizer, value_optimizer = Adam(policy.parameters, config.lr), Adam([result.value], config.value_lr)
    done = 0
    while done < config.episodes:
        first = config.seed * TRAIN_SEED_STRIDE + done
        seeds = range(first, first + min(config.batch_episodes, config.episodes - done))
        xs, choices, returns, totals = _collect(env, policy, rng, seeds, config.gamma)
        residual = returns - xs @ result.value
        advantages = (residual - residual.mean()) / (residual.std() + 1e-8)
        optimizer.step(policy.gradients(xs, choices, advantages, config.entropy))
        value_optimizer.step([xs.T @ residual / len(returns)])
        done += len(seeds)
        result.steps += len(xs)
        result.curve.append((done, float(np.mean(totals))))
        if progress is not None:
            progress(*result.curve[-1])
    return result


def _collect(env: Any, policy: FactoredSoftmaxPolicy, rng: np.random.Generator, seeds: range,
             gamma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """One batch of episodes: features, choices and returns-to-go per step, and each episode's total."""
    xs, choices, returns, totals = [], [], [], []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        rewards, done = [], False
        while not done:
            x = _features(obs)
            action, picked = policy.sample(x, rng)
            obs, reward, terminated, truncated, _ = env.step(action)
            xs.append(x)
            choices.append(picked)
            rewards.append(float(reward))
            done = terminated or truncated
        go, to_go = 0.0, []
        for r in reversed(rewards):
            go = r + gamma * go
            to_go.append(go)
        returns.extend(reversed(to_go))
        totals.append(sum(rewards))
    return np.array(xs), np.array(choices), np.array(returns), totals
