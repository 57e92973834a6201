"""The scripted baselines of docs/training.md on PersonaGym/Structured-v0, on the learners' held-out seeds.

    .venv/bin/python scripts/structured_baselines.py       # the documented run (docs/training.md)

What the REINFORCE learner is measured against, each policy not learned:

* ``generic``: `generic`'s structured analogue, ``recommend:request`` in
  generic's style at every turn (`personagym.learn.bandit.generic_policy`);
* ``hand_rule``: ``recommend:liked`` in the style the user has stated,
  narrative where none is stated (the bandit's arm that asks nothing);
* ``hand_rule_bulleted``: the same with bulleted lists where no layout is stated;
* ``random``: a uniformly random menu action each turn
  (``numpy.random.default_rng(0)``, one draw per step).

Prints the table and writes ``<out>/structured_baselines.json`` (per policy:
mean episode reward and 95% CI over the held-out seeds).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import personagym  # noqa: F401 - registers the env ids
from personagym.checks import check_int
from personagym.eval import rounded
from personagym.learn.bandit import DEFAULT_STYLE, arm_policy, generic_policy
from personagym.learn.reinforce import EVAL_SEED0, evaluate, mean_ci

ENV_ID = "PersonaGym/Structured-v0"
BULLETED = (DEFAULT_STYLE[0], "bullets", DEFAULT_STYLE[2])


def parse_args() -> argparse.Namespace:
    """Command-line options (the defaults are the documented run)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--episodes", type=int, default=1000, help="held-out episodes per policy")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "figures")
    args = p.parse_args()
    try:
        check_int("--episodes", args.episodes, 2, 1_000_000, why=" (a 95% CI needs two episodes)")
    except (TypeError, ValueError) as err:
        p.error(str(err))
    return args


def policies(env: Any) -> dict[str, Callable[[dict[str, Any]], int]]:
    """The baselines by name, each acting on `env`."""
    rng = np.random.default_rng(0)
    size = env.unwrapped.menu.size
    return {"generic": generic_policy(env), "hand_rule": arm_policy(env, ()),
            "hand_rule_bulleted": arm_policy(env, (), default=BULLETED),
            "random": lambda _obs: int(rng.integers(size))}


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
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "structured_baselines.json").write_text(json.dumps(rounded(summary), indent=2) + "\n",
                                                        encoding="utf-8")
    print(f"wrote {args.out / 'structured_baselines.json'}")


if __name__ == "__main__":
    main()
