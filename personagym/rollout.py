"""Policy rollouts: run a policy on an env for N episodes, or several policies on the same episodes.

The summaries (`summarize`, `compare`) read the trajectories only and live in
`personagym.eval`; they are importable from here too.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import gymnasium as gym

from personagym.checks import check_int
from personagym.envs.chat import check_positive
from personagym.eval.summary import COMPONENT_NAMES, compare, summarize
from personagym.llm.types import LLMError
from personagym.policies import Policy, make_policy
from personagym.records import Trajectory
from personagym.rng import MAX_SEED
from personagym.suggest import did_you_mean

__all__ = ["COMPONENT_NAMES", "MAX_SEED", "PolicyError", "check_env_id", "compare", "compare_policies", "make_env",
           "policy_act", "reset_policy", "rollout", "run_episode", "summarize"]


def check_env_id(env_id: str) -> None:
    """Raise a ValueError with a "did you mean" unless ``env_id`` is a registered PersonaGym id.

    Other Gymnasium envs (CartPole-v1) are refused here: PersonaGym's policies,
    trajectories and datasets need a PersonaGym env.
    """
    ours = sorted(k for k in gym.registry if k.startswith("PersonaGym/"))
    if env_id not in ours:
        hint = f" (did you mean {'PersonaGym/' + env_id!r}?)" if f"PersonaGym/{env_id}" in ours \
            else did_you_mean(env_id, ours)
        kind = "not a PersonaGym env id" if env_id in gym.registry else "unknown env id"
        raise ValueError(f"{kind} {env_id!r}{hint}; expected one of {', '.join(ours)}")


def make_env(env_id: str, **kwargs: Any) -> gym.Env:
    """`gym.make` with a "did you mean" for unknown PersonaGym ids."""
    check_env_id(env_id)
    return gym.make(env_id, **kwargs)


def reset_policy(policy: object, seed: int | None) -> None:
    """Start a policy's episode: `reset(seed=seed)` if it takes a seed (then its actions follow from the
    episode's seed alone, as the built-in policies' do), else `reset()` if it has one."""
    reset = getattr(policy, "reset", None)
    if reset is None:
        return
    if "seed" in inspect.signature(reset).parameters:
        reset(seed=seed)
    else:
        reset()


def run_episode(env: gym.Env, policy: Policy, seed: int | None, policy_name: str | None = None,
                options: dict[str, Any] | None = None) -> Trajectory:
    """One episode of `policy` on `env` (reset with `seed` and `options`), returned as a trajectory record."""
    reset_policy(policy, seed)
    obs, _ = env.reset(seed=seed, options=options)
    text = isinstance(env.action_space, gym.spaces.Text)
    done = False
    while not done:
        obs, _, terminated, truncated, _ = env.step(policy_act(policy, obs, seed, policy_name, text=text))
        done = terminated or truncated
    return env.unwrapped.trajectory(policy=policy_name)


def policy_act(policy: Policy, observation: Any, seed: int | None, policy_name: str | None = None,
               text: bool = False) -> Any:
    """`policy.act(observation)`.  What the policy raises is a bug in it, not bad input of the caller's: a
    `PolicyError` naming the policy and the episode's seed, reported with its traceback; except an `LLMError` (a
    backend that failed, a server down), said in one line as everywhere.  With `text` (an env whose actions are
    messages), an answer that is no str is a `TypeError` naming the policy: the env's own "action must be a str"
    read as if the caller had passed a bad value."""
    try:
        action = policy.act(observation)
    except LLMError:
        raise
    except Exception as exc:
        raise PolicyError(f"the policy {_name(policy, policy_name)!r} raised {type(exc).__name__}: {exc} "
                          f"(episode seed {seed})") from exc
    if text and not isinstance(action, str):
        raise TypeError(f"the policy {_name(policy, policy_name)!r} returned {type(action).__name__}, not the str "
                        f"an answer is (episode seed {seed})")
    return action


def _name(policy: object, policy_name: str | None) -> str:
    """What an error calls a policy: its given name, else its ``name`` attribute, else its class (worked out only
    for an error: `policy_act` runs at every step)."""
    return policy_name or getattr(policy, "name", None) or type(policy).__name__


class PolicyError(RuntimeError):
    """A policy's `act` raised: a bug in the policy, reported with its traceback (not as bad input)."""


def rollout(env_id: str, policy: str | Policy = "generic", episodes: int = 10, seed: int = 0,
            **env_kwargs: Any) -> Iterator[Trajectory]:
    """Yield `episodes` trajectories; episode i is reset with seed `seed + i`.

    `policy` is a registered name, ``module:Class``, or a policy object (recorded
    under its ``name`` attribute, else its class name).
    """
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a registered id such as 'PersonaGym/Chat-v0' (rollout makes its own "
                        f"env), got {type(env_id).__name__}")
    check_positive("episodes", episodes)
    seed = check_int("seed", seed, 0, MAX_SEED - episodes + 1,
                     why=" (episode seeds seed..seed+episodes-1 are stored as int64)")
    if not isinstance(policy, str) and not callable(getattr(policy, "act", None)):
        raise TypeError(f"policy must be a name, 'module:Class' or an object with act(observation), "
                        f"got {type(policy).__name__}")
    env = make_env(env_id, **env_kwargs)
    try:
        if isinstance(policy, str):
            agent, name = make_policy(policy, env=env, seed=seed), policy
        else:
            agent, name = policy, getattr(policy, "name", None) or type(policy).__name__
        for i in range(episodes):
            yield run_episode(env, agent, seed + i, name)
    finally:
        env.close()


def compare_policies(env_id: str, policies: Sequence[str | Policy], episodes: int = 10, seed: int = 0,
                     **env_kwargs: Any) -> dict[str, Any]:
    """Run each policy on the same `episodes` (seeds `seed`..) and `compare` them; the first is the baseline.

    A policy is a name, ``module:Class`` or an object, as for `rollout`; two
    policies recorded under the same name are refused (their runs would
    share a row).  At least two episodes, as on the command line: one gave a
    comparison whose 95% intervals were NaN.
    """
    check_int("episodes", episodes, 2, why=" (a 95% CI needs two episodes)")
    names = [p if isinstance(p, str) else getattr(p, "name", None) or type(p).__name__ for p in policies]
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        raise ValueError(f"policy {twice!r} is given twice; compare each policy once")
    runs = {name: list(rollout(env_id, policy, episodes, seed, **env_kwargs))
            for name, policy in zip(names, policies, strict=True)}
    return compare(runs)
