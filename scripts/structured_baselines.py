"""The scripted baselines of docs/training.md on PersonaGym/Structured-v0, on the learners' held-out seeds.

    .venv/bin/python scripts/structured_baselines.py       # the documented run (docs/training.md)

What the REINFORCE learner is measured against, each policy not learned:

* ``generic``: `generic`'s structured analogue, ``recommend:request`` in
  generic's style at every turn (`personagym.learn.bandit.generic_policy`);
* ``hand_rule``: ``recommend:personal`` in the style the user has stated,
  narrative where none is stated (the bandit's arm that asks nothing);
* ``hand_rule_bulleted``: the same with bulleted lists where no layout is stated;
* ``random``: a uniformly random menu action each turn
  (``numpy.random.default_rng(0)``, one draw per step).

Prints the table and writes ``<out>/structured_baselines.json`` (per policy:
mean episode reward and 95% CI over the held-out seeds).
"""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

import personagym  # noqa: F401 - registers the env ids
from personagym.eval.script_args import episodes_and_out, write_summary
from personagym.learn.bandit import DEFAULT_STYLE, arm_policy, generic_policy
from personagym.learn.reinforce import EVAL_SEED0, evaluate, mean_ci

ENV_ID = "PersonaGym/Structured-v0"
BULLETED = (DEFAULT_STYLE[0], "bullets", DEFAULT_STYLE[2])


def policies(env: Any) -> dict[str, Callable[[dict[str, Any]], int]]:
    """The baselines by name, each acting on `env`."""
    rng = np.random.default_rng(0)
    size = env.unwrapped.menu.size
    return {"generic": generic_policy(env), "hand_rule": arm_policy(env, ()),
            "hand_rule_bulleted": arm_policy(env, (), default=BULLETED),
            "random": lambda _obs: int(rng.integers(size))}


def parse_args() -> Namespace:
    """Command-line options (the defaults are the documented run)."""
    return episodes_and_out(__doc__, __file__, 1000, "held-out episodes per policy")


def main() -> None:
    args = parse_args()
    env = gym.make(ENV_ID)
    seeds = range(EVAL_SEED0, EVAL_SEED0 + args.episodes)
    summary: dict[str, Any] = {"env_id": ENV_ID, "episodes": args.episodes,
                               "eval_seeds": [EVAL_SEED0, EVAL_SEED0 + args.episodes], "policies": {}}
    for name, act in policies(env).items():
        summary["policies"][name] = mean_ci(evaluate(env, act, seeds))
        mean, ci = summary["policies"][name]
        print(f"{name:>18}: {mean:.2f} ± {ci:.2f} per episode")
    env.close()
    print(f"wrote {write_summary(args.out, 'structured_baselines.json', summary)}")


if __name__ == "__main__":
    main()
