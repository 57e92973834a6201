"""Run the LinUCB elicitation bandit (ask first vs recommend at once) on PersonaGym/Structured-v0.

    .venv/bin/python scripts/train_bandit.py               # the documented run (docs/training.md)

Every round is one episode; `personagym.learn.bandit.run_bandit` replays all
arms on the round's seed, so the regret against the best arm of each round is
exact.  Writes ``<out>/bandit_regret.csv`` (seed, round, policy, cumulative
regret; every 10th round), ``<out>/bandit_regret.png`` and ``<out>/bandit_summary.json``, and
prints each policy's final regret (mean ± 95% CI over seeds; with one seed there is no CI, and the
JSON has null in its place).
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import personagym  # noqa: F401 - registers the env ids
from personagym.checks import check_number
from personagym.eval.script_args import saved_figure, write_summary
from personagym.learn.bandit import run_bandit
from personagym.learn.reinforce import check_episodes, check_train_seed, mean_ci

ENV_ID = "PersonaGym/Structured-v0"
CSV_EVERY = 10  # the CSV keeps every 10th round (the plot uses all)


def parse_args() -> argparse.Namespace:
    """Command-line options (the defaults are the documented run)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="bandit seeds")
    p.add_argument("--rounds", type=int, default=1500, help="episodes per seed")
    p.add_argument("--alpha", type=float, default=1.0, help="LinUCB exploration (standard errors of optimism)")
    p.add_argument("--out", type=Path, default=Path("docs/figures"), help="where the CSV, PNG and JSON go")
    args = p.parse_args()
    try:  # what `run_bandit` would refuse, refused before the first seed has run
        for seed in args.seeds:
            check_train_seed("--seeds", seed)
        check_episodes("--rounds", args.rounds)
        check_number("--alpha", args.alpha, 0.0)
    except ValueError as exc:
        p.error(str(exc))
    return args


def defined(value: float) -> float | None:
    """`value`, or None (JSON null) where it is undefined: the spread over a single seed is NaN."""
    return None if math.isnan(value) else value


def plot(regrets: dict[str, list[np.ndarray]], path: Path) -> None:
    """Mean cumulative regret over seeds per policy, with the min-max band of the seeds."""
    with saved_figure(path, title=f"Elicitation bandit on {ENV_ID}", xlabel="round (episode)",
                      ylabel="cumulative regret vs the best arm of each round", fontsize=8, loc="upper left") as ax:
        for i, (name, runs) in enumerate(regrets.items()):
            arr = np.array(runs)
            x = np.arange(1, arr.shape[1] + 1)
            ax.plot(x, arr.mean(axis=0), lw=2.0 if name == "linucb" else 1.2, color=f"C{i}", label=name)
            ax.fill_between(x, arr.min(axis=0), arr.max(axis=0), color=f"C{i}", alpha=0.15)


def main() -> None:
    """Run every seed, save the regret curves and print the final regrets."""
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    env = gym.make(ENV_ID)
    regrets: dict[str, list[np.ndarray]] = {}
    arm_means, counts = [], []
    for seed in args.seeds:
        result = run_bandit(env, args.rounds, seed=seed, alpha=args.alpha)
        # the best fixed arm may differ between seeds: one curve name for all
        for name, curve in result.regret().items():
            regrets.setdefault(name.split(" (")[0], []).append(curve)
        arm_means.append(dict(zip(result.arms, result.arm_returns.mean(axis=0).round(3).tolist(), strict=True)))
        counts.append(result.counts)
        print(f"seed {seed}: arm picks {result.counts}")
    wall = time.perf_counter() - started
    with (args.out / "bandit_regret.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["seed", "round", "policy", "cumulative_regret"])
        for name, runs in regrets.items():
            for seed, curve in zip(args.seeds, runs, strict=True):
                writer.writerows([seed, t, name, round(float(curve[t - 1]), 4)]
                                 for t in range(CSV_EVERY, len(curve) + 1, CSV_EVERY))
    plot(regrets, args.out / "bandit_regret.png")
    final = {name: mean_ci([run[-1] for run in runs]) for name, runs in regrets.items()}
    summary = {"env_id": ENV_ID, "seeds": args.seeds, "rounds": args.rounds, "alpha": args.alpha,
               "final_regret": {name: [m, defined(ci)] for name, (m, ci) in final.items()},
               "arm_mean_returns": arm_means, "linucb_arm_picks": counts}  # no wall time: reruns write the same file
    write_summary(args.out, "bandit_summary.json", summary)
    for name, (m, ci) in final.items():
        spread = "" if math.isnan(ci) else f" ± {ci:.1f}"
        print(f"{name:>16}: cumulative regret after {args.rounds} rounds {m:8.1f}{spread} "
              f"({m / args.rounds:.2f} per round)")
    print(f"wall time {wall:.0f}s; wrote {args.out}/bandit_regret.csv, bandit_regret.png, bandit_summary.json")


if __name__ == "__main__":
    main()
