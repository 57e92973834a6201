"""The benchmark helpers run and report every figure (timings are never asserted)."""

from __future__ import annotations

import math

from personagym.bench import bench_env_breakdown


def test_env_breakdown_reports_every_part() -> None:
    figures = bench_env_breakdown(n=60)
    assert set(figures) == {"env_step_us", "env_step_us_policy", "env_step_us_analyzer", "env_step_us_resets",
                            "env_step_us_user_rewards_records"}
    assert all(math.isfinite(v) for v in figures.values())
    assert figures["env_step_us"] > 0 and figures["env_step_us_analyzer"] > 0 and figures["env_step_us_resets"] > 0
