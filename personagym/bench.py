"""Speed figures of PersonaGym (`personagym bench`): measured, never asserted in tests.

Each benchmark runs in this process on one core and reports a rate; the
README quotes the figures measured on the project's 2-core CI-class machine.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from collections.abc import Callable

from personagym.simulators.persona import load_schema
from personagym.simulators.sampler import PersonaSampler
from personagym.simulators.simulate import simulate_turns
from personagym.simulators.taxonomy import DATA_DIR, Taxonomy


def _best_of(repeats: int, fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    """Best time of `repeats` calls (the least disturbed run): wall time, or `clock`'s."""
    best = float("inf")
    for _ in range(repeats):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best


def bench_taxonomy_load() -> dict[str, float]:
    """Cold parse of the taxonomy files plus building the networkx graph, in ms."""
    files = sorted(DATA_DIR.glob("*.txt"))

    def load() -> None:
        Taxonomy.from_files(files).graph  # noqa: B018 - building the graph is the point

    return {"taxonomy_load_ms": round(_best_of(5, load) * 1000, 1)}


def bench_personas(n: int = 5000) -> dict[str, float]:
    """Personas sampled per second (single draws, with ids and summaries).

    Streamed (each persona used and dropped, as generation does) and kept (all
    `n` held in a list, where Python's garbage collector adds about a third).
    """
    sampler = PersonaSampler(load_schema())
    sampler.sample(0)

    def streamed() -> None:
        for i in range(n):
            sampler.sample(i)

    elapsed = _best_of(3, streamed)
    kept = _best_of(3, lambda: [sampler.sample(i) for i in range(n)])
    batch = _best_of(1, lambda: sampler.sample_batch(n // 5, seed=1))
    return {
        "personas_per_s": round(n / elapsed),
        "personas_per_s_kept_in_memory": round(n / kept),
        "personas_per_s_diverse_batch": round((n // 5) / batch),
    }


def bench_user_turns(n: int = 40_000) -> dict[str, float]:
    """Simulated user turns per second, template mode, default noise, PKIs included.

    Two figures: with a new persona sampled every ~15 turns (as `personagym
    simulate` runs), and the user turns alone over personas sampled beforehand.
    """
    schema = load_schema()
    for _ in simulate_turns(200, seed=99):
        pass
    with_sampling = _best_of(3, lambda: sum(1 for _ in simulate_turns(n, seed=1)))
    personas = PersonaSampler(schema).sample_batch(n // 10, seed=2)
    turns_only = _best_of(3, lambda: sum(1 for _ in simulate_turns(n, seed=1, personas=personas)))
    return {"user_turns_per_s": round(n / turns_only),
            "user_turns_per_s_with_persona_sampling": round(n / with_sampling)}


def bench_env_steps(n: int = 20_000, env_id: str = "PersonaGym/Chat-v0", policy: str = "generic") -> dict[str, float]:
    """Env steps per second through `gym.make`, policy time included, resets included."""
    import gymnasium as gym

    from personagym.policies import make_policy

    env = gym.make(env_id)
    agent = make_policy(policy, env=env, seed=0)

    def run() -> None:
        episode, obs = 0, env.reset(seed=0)[0]
        for _ in range(n):
            obs, _, terminated, truncated, _ = env.step(agent.act(obs))
            if terminated or truncated:
                episode += 1
                obs = env.reset(seed=episode)[0]

    run()
    return {"env_steps_per_s": round(n / _best_of(3, run))}


def bench_env_breakdown(n: int = 10_000, env_id: str = "PersonaGym/Chat-v0",
                        policy: str = "generic") -> dict[str, float]:
    """Where an env step's time goes, in µs per step (resets amortised over the steps).

    One run records the observations, actions and reset seeds; the policy
    (acting on the recorded observations), the response analyzer (on the
    recorded actions) and the resets are then timed alone, and the rest of a
    step (the user's reaction and reply, rewards, records, Gymnasium's
    wrappers) is what remains of the whole.  Each figure is the best of 3, in
    this process's CPU time: parts timed at different moments must not be
    skewed by other load on the machine.
    """
    import gymnasium as gym

    from personagym.policies import make_policy

    env = gym.make(env_id)
    agent = make_policy(policy, env=env, seed=0)
    observations: list[dict] = []
    actions: list[str] = []
    seeds: list[int] = []

    def run(record: bool) -> None:
        episode, obs = 0, env.reset(seed=0)[0]
        for _ in range(n):
            action = agent.act(obs)
            if record:
                observations.append(obs)
                actions.append(action)
            obs, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                episode += 1
                obs = env.reset(seed=episode)[0]
        if record:
            seeds.extend(range(episode + 1))

    run(record=True)
    analyze, act, reset = env.unwrapped.analyzer.analyze, agent.act, env.reset

    def analyzer() -> None:
        for action in actions:
            analyze(action)

    def policy_only() -> None:
        for obs in observations:
            act(obs)

    def resets() -> None:
        for seed in seeds:
            reset(seed=seed)

    us = {name: _best_of(3, fn, time.process_time) / n * 1e6 for name, fn in (
        ("step", lambda: run(record=False)), ("policy", policy_only), ("analyzer", analyzer), ("reset", resets))}
    return {
        "env_step_us": round(us["step"], 1),
        "env_step_us_policy": round(us["policy"], 1),
        "env_step_us_analyzer": round(us["analyzer"], 1),
        "env_step_us_resets": round(us["reset"], 1),
        "env_step_us_user_rewards_records": round(us["step"] - us["policy"] - us["analyzer"] - us["reset"], 1),
    }


def bench_import() -> dict[str, float]:
    """Cumulative `import personagym` time in a fresh interpreter (`python -X importtime`), in ms."""
    best = float("inf")
    for _ in range(5):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import personagym"],
                              capture_output=True, text=True, check=True)
        for line in proc.stderr.splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 3 and parts[2] == "personagym":
                best = min(best, int(parts[1]) / 1000)
    return {"import_ms": round(best, 1)}


def run_all(progress: Callable[[str], None] | None = None) -> dict[str, object]:
    """Every benchmark, with the machine it ran on; `progress`, if given, is told the name of each before it runs
    (the whole takes a minute or more, several on a loaded machine, and printed nothing until the end)."""
    out: dict[str, object] = {"python": platform.python_version(), "machine": platform.machine()}
    stages: tuple[tuple[str, Callable[[], dict[str, float]]], ...] = (
        ("import", bench_import), ("taxonomy load", bench_taxonomy_load), ("personas", bench_personas),
        ("user turns", bench_user_turns), ("env steps", bench_env_steps), ("env step breakdown", bench_env_breakdown))
    for i, (name, stage) in enumerate(stages, 1):
        if progress is not None:
            progress(f"{name} ({i} of {len(stages)})")
        out |= stage()
    return out
