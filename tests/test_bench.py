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


def test_run_all_says_each_stage_before_it_runs(monkeypatch) -> None:
    """`personagym bench` printed nothing for minutes; each stage is now named as it starts, and all figures
    still come back (the stages are shortened here: their own figures are tested above and by `make bench`)."""
    import personagym.bench as bench

    said: list[str] = []
    for name in ("bench_import", "bench_taxonomy_load", "bench_personas", "bench_user_turns", "bench_env_steps",
                 "bench_env_breakdown"):
        monkeypatch.setattr(bench, name, lambda name=name: (said.append(f"ran {name}"), {name: 1.0})[1])
    results = bench.run_all(progress=said.append)
    assert said[:2] == ["import (1 of 6)", "ran bench_import"] and said[-2:] == [
        "env step breakdown (6 of 6)", "ran bench_env_breakdown"] and len(said) == 12
    assert {"python", "machine", "bench_personas", "bench_env_steps"} <= set(results)
