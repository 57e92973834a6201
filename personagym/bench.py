"""Speed figures of PersonaGym (`personagym bench`): measured, never asserted in tests.

Each benchmark runs in this process on one core and reports a rate; the
README quotes the figures measured on the project's 2-core CI-class machine.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable

from personagym.simulators.persona import load_schema
from personagym.simulators.sampler import PersonaSampler
from personagym.simulators.simulate import simulate_turns
from personagym.simulators.taxonomy import DATA_DIR, Taxonomy


def _best_of(repeats: int, fn: Callable[[], object]) -> float:
    """Best wall time of `repeats` calls (the least disturbed run)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_taxonomy_load() -> dict[str, float]:
    """Cold parse of the taxonomy files plus building the networkx graph, in ms."""
    files = sorted(DATA_DIR.glob("*.txt"))

    def load() -> None:
        Taxonomy.from_files(files).graph  # noqa: B018 - building the graph is the point

    return {"taxonomy_load_ms": round(_best_of(5, load) * 1000, 1)}


def bench_personas(n: int = 5000) -> dict[str, float]:
    """Personas sampled per second (single draws, with ids and summaries)."""
    sampler = PersonaSampler(load_schema())
    sampler.sample(0)
    elapsed = _best_of(3, lambda: [sampler.sample(i) for i in range(n)])
    batch = _best_of(1, lambda: sampler.sample_batch(n // 5, seed=1))
    return {
        "personas_per_s": round(n / elapsed),
        "personas_per_s_diverse_batch": round((n // 5) / batch),
    }


def bench_user_turns(n: int = 40_000) -> dict[str, float]:
    """Simulated user turns per second, template mode, default noise, PKIs included."""
    load_schema()
    for _ in simulate_turns(200, seed=99):
        pass
    elapsed = _best_of(3, lambda: sum(1 for _ in simulate_turns(n, seed=1)))
    return {"user_turns_per_s": round(n / elapsed)}


def run_all() -> dict[str, object]:
    """Every benchmark, with the machine it ran on."""
    out: dict[str, object] = {"python": platform.python_version(), "machine": platform.machine()}
    out |= bench_taxonomy_load()
    out |= bench_personas()
    out |= bench_user_turns()
    return out
