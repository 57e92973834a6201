"""Summaries of rollouts: per-episode means with 95% confidence intervals, and paired comparisons of policies.

Everything here reads trajectory records only (no env, no policy), so it
serves trajectories from a rollout, a generated dataset or an import alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from personagym.checks import check_int
from personagym.records import Trajectory

COMPONENT_NAMES = ("preference", "constraint", "style", "profile", "efficiency")


#: Student's t at 0.975 for 1..30 degrees of freedom: the 95% interval of a mean of few values (three training
#: seeds) is t(2) = 4.30 standard errors wide each way, not 1.96.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(df: int) -> float:
    """Student's t quantile at 0.975 for `df` >= 1 degrees of freedom (a table to 30, then the Cornish-Fisher
    expansion about the normal 1.96, within 1e-3)."""
    df = check_int("df", df, 1)
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def mean_ci(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Mean and half-width of its 95% confidence interval, Student's t (NaN for fewer than two values)."""
    arr = np.asarray(values, dtype=float)
    if len(arr) < 2:
        return {"mean": float(arr.mean()) if len(arr) else math.nan, "ci95": math.nan}
    return {"mean": float(arr.mean()), "ci95": float(t975(len(arr) - 1) * arr.std(ddof=1) / math.sqrt(len(arr)))}


def rounded(value: Any, digits: int = 6) -> Any:
    """`value` (JSON data) with every float to `digits` significant digits: means of float rewards carry binary
    noise (0.8900085999999998) that no reader wants and no figure has."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    return value


def summarize(trajectories: Iterable[Trajectory]) -> dict[str, Any]:
    """Per-episode totals: mean and 95% CI of the reward, each component (an LLM judge's too), and turns."""
    trajectories = list(trajectories)
    extra = sorted({c for t in trajectories for turn in t.turns for c in turn.reward_components} - set(COMPONENT_NAMES))
    rewards, turns, components = [], [], {c: [] for c in (*COMPONENT_NAMES, *extra)}
    terminated = 0
    for t in trajectories:
        rewards.append(t.total_reward)
        turns.append(len(t.turns))
        terminated += t.terminated
        for c, values in components.items():
            values.append(sum(turn.reward_components.get(c, 0.0) for turn in t.turns))
    return {
        "episodes": len(rewards),
        "reward": mean_ci(rewards),
        "components": {c: mean_ci(v) for c, v in components.items()},
        "turns": mean_ci(turns),
        "terminated_fraction": terminated / len(rewards) if rewards else math.nan,
    }


def paired_difference(runs: Sequence[Trajectory], baseline: Sequence[Trajectory]) -> dict[str, Any]:
    """Mean and 95% CI of the per-episode reward difference `runs` minus `baseline`, episode by episode.

    Pairing the same seeds takes out what the users themselves contribute, so
    the interval is far narrower than that of two independent means.  The runs
    must be of the same env and seeds, in the same order; ``beyond_ci`` says
    whether the interval excludes 0.
    """
    if len(runs) != len(baseline):
        raise ValueError(f"paired runs need the same episodes: {len(runs)} against {len(baseline)}")
    for i, (a, b) in enumerate(zip(runs, baseline, strict=True)):
        if (a.env_id, a.seed) != (b.env_id, b.seed):
            raise ValueError(f"paired runs need the same episodes: episode {i} is {a.env_id} seed {a.seed} "
                             f"against {b.env_id} seed {b.seed}")
    diff = mean_ci([a.total_reward - b.total_reward for a, b in zip(runs, baseline, strict=True)])
    return {**diff, "beyond_ci": bool(abs(diff["mean"]) > diff["ci95"])}


def compare(runs: Mapping[str, Sequence[Trajectory]]) -> dict[str, Any]:
    """Each policy's summary and, but for the first (the baseline), its paired difference from the baseline.

    `runs` maps a policy's name to its trajectories, all over the same seeds.
    """
    if len(runs) < 2:
        raise ValueError(f"a comparison needs two or more runs, got {len(runs)}")
    names = list(runs)
    baseline = runs[names[0]]
    return {
        "baseline": names[0],
        "policies": {name: {**summarize(ts), **({"difference": paired_difference(ts, baseline)} if i else {})}
                     for i, (name, ts) in enumerate(runs.items())},
    }
