"""Does remembering earlier sessions pay on PersonaGym/LongTerm-v0? The tracker against itself without memory.

    .venv/bin/python scripts/longterm_memory.py            # the documented run (docs/training.md)

`tracker` keeps its profile of the user across the four sessions; the
`forgetful` tracker starts every session with an empty one (it is the same
policy, reset at each session's first message). Both, with the blind
`generic` and `popular` and the `oracle` for scale, play the same
held-out seeds, so the memory's worth is a paired difference. Prints the
table and writes ``<out>/longterm_memory.json`` (per policy: mean episode
reward and 95% CI, in total and per session; the paired difference, in
total and for sessions 2 to 4).
"""

from __future__ import annotations

import time
from argparse import Namespace
from typing import Any

import gymnasium as gym
import numpy as np

import personagym  # noqa: F401 - registers the env ids
from personagym.eval.script_args import episodes_and_out, write_summary
from personagym.learn.reinforce import mean_ci
from personagym.policies import Observation, make_policy
from personagym.records import Trajectory
from personagym.rollout import reset_policy, run_episode

ENV_ID = "PersonaGym/LongTerm-v0"
EVAL_SEED = 1_000_000_000  # the held-out seeds of docs/training.md
POLICIES = ("generic", "popular", "forgetful", "tracker", "oracle")


class ForgetfulTracker:
    """The tracker without memory across sessions: its profile is cleared at each session's first message."""

    def __init__(self, env: Any, seed: int) -> None:
        self.inner = make_policy("tracker", env=env, seed=seed)

    def reset(self, seed: int | None = None) -> None:
        """Start an episode (as the tracker does)."""
        reset_policy(self.inner, seed)

    def act(self, observation: Observation) -> str:
        """Forget the user at a session's start, then answer as the tracker."""
        if observation["turn"] == 0:
            self.inner.reset()  # no seed: the profiles go, the random stream stays
        return self.inner.act(observation)


def play(name: str, episodes: int) -> list[Trajectory]:
    """`episodes` trajectories of a policy on the held-out seeds."""
    env = gym.make(ENV_ID)
    agent = ForgetfulTracker(env, 0) if name == "forgetful" else make_policy(name, env=env, seed=0)
    try:
        return [run_episode(env, agent, EVAL_SEED + i, name) for i in range(episodes)]
    finally:
        env.close()


def session_rewards(t: Trajectory, sessions: int = 4) -> list[float]:
    """The episode's reward summed per session."""
    out = [0.0] * sessions
    for turn in t.turns:
        out[turn.session] += turn.reward
    return out


def parse_args() -> Namespace:
    """Command-line options (the defaults are the documented run)."""
    return episodes_and_out(__doc__, __file__, 1000, "held-out episodes per policy")


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    runs = {name: play(name, args.episodes) for name in POLICIES}
    summary: dict[str, Any] = {"env_id": ENV_ID, "episodes": args.episodes,
                               "eval_seeds": [EVAL_SEED, EVAL_SEED + args.episodes], "policies": {}}
    for name, trajectories in runs.items():
        per_session = np.array([session_rewards(t) for t in trajectories])
        summary["policies"][name] = {"total": mean_ci(per_session.sum(axis=1)),
                                     "per_session": [mean_ci(column) for column in per_session.T]}
    memory = np.array([session_rewards(a) for a in runs["tracker"]]) - np.array(
        [session_rewards(b) for b in runs["forgetful"]])
    summary["memory_gain"] = {"total": mean_ci(memory.sum(axis=1)),
                              "sessions_2_to_4": mean_ci(memory[:, 1:].sum(axis=1)), "session_1": mean_ci(memory[:, 0])}
    wall = time.perf_counter() - start  # printed, not written: a rerun writes the very same file
    written = write_summary(args.out, "longterm_memory.json", summary)
    for name, stats in summary["policies"].items():
        sessions = " / ".join(f"{m:.2f}" for m, _ in stats["per_session"])
        print(f"{name:>9}: {stats['total'][0]:.2f} ± {stats['total'][1]:.2f} per episode; per session {sessions}")
    gain = summary["memory_gain"]
    print(f"memory (tracker - forgetful, paired): {gain['total'][0]:+.2f} ± {gain['total'][1]:.2f} per episode, "
          f"{gain['sessions_2_to_4'][0]:+.2f} ± {gain['sessions_2_to_4'][1]:.2f} in sessions 2-4, "
          f"{gain['session_1'][0]:+.2f} in session 1; wall time {wall:.0f}s; "
          f"wrote {written}")


if __name__ == "__main__":
    main()
