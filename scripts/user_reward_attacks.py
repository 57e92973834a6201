"""The multi-agent user reward (profile fidelity) against learners that game it, as in docs/multi_agent.md.

    .venv/bin/python scripts/user_reward_attacks.py       # the documented run (docs/multi_agent.md)

A learner playing the simulated user is rewarded for stating who it is and
nothing it is not.  Each policy below plays the user for one session
(`max_turns=8`) against the `tracker` assistant on the same seeds; the
built-in simulator is the yardstick:

* ``simulator``: the template simulator itself;
* ``recital_once`` / ``recital_every``: the whole profile stated in the
  opening message / in every message;
* ``one_true_fact``: one profile item a message, in profile order;
* ``one_like_question``: one like a message, asked about;
* ``blind_questions``: profile-blind, a question about each of the 40 likes
  the population holds most often, every message;
* ``blind_statements``: the same 40, each stated as loved.

Prints the table and writes ``<out>/user_reward_attacks.json`` (per policy:
the mean session return with its 95% CI, and the mean final F1, precision,
recall and contradictions).
"""

from __future__ import annotations

from argparse import Namespace
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from personagym.envs.multi_agent import ASSISTANT, SIMULATED_USER, parallel_env
from personagym.eval.script_args import episodes_and_out, write_summary
from personagym.learn.reinforce import mean_ci
from personagym.policies import make_policy
from personagym.profile_format import parse_profile, split_profile
from personagym.simulators.persona import load_schema

MAX_TURNS = 8
POPULAR_SEED = 100_000  # the seeds the population's favourite likes are counted on: none is scored
UserPolicy = Callable[[dict[str, Any]], str | None]


def profile(observation: dict[str, Any]) -> list[tuple[str, str]]:
    """The (key, value) items of the hidden profile the learner is shown."""
    text, _ = split_profile(observation["profile"])
    return parse_profile(text or "")


def likes(observation: dict[str, Any]) -> list[str]:
    return [value for key, value in profile(observation) if key == "likes"]


def statements(observation: dict[str, Any]) -> list[str]:
    """The profile as sentences: likes and dislikes by name, attribute values in the schema's own words."""
    attributes = load_schema().attributes
    out = []
    for key, value in profile(observation):
        if key in ("likes", "dislikes"):
            out.append(f"I love {value}." if key == "likes" else f"I can't stand {value}.")
        elif (attr := attributes.get(key)) is not None and attr.phrases.get(value):
            out.append(attr.phrases[value][0].rstrip(".").capitalize() + ".")
    return out


def population_likes(k: int) -> list[str]:
    """The `k` likes the population holds most often (counted on 1,000 unscored seeds)."""
    env = parallel_env()
    counts: Counter[str] = Counter()
    for seed in range(POPULAR_SEED, POPULAR_SEED + 1000):
        observations, _ = env.reset(seed=seed)
        counts.update(likes(observations[SIMULATED_USER]))
    return [name for name, _ in counts.most_common(k)]


def user_policies() -> dict[str, UserPolicy | None]:
    """The learners by name (None: the built-in simulator speaks)."""
    popular = population_likes(40)

    def nth(items: list[str], observation: dict[str, Any]) -> str | None:
        return items[observation["turn"] % len(items)] if items else None

    return {
        "simulator": None,
        "recital_once": lambda o: " ".join(statements(o)) if o["turn"] == 0 else None,
        "recital_every": lambda o: " ".join(statements(o)),
        "one_true_fact": lambda o: nth(statements(o), o),
        "one_like_question": lambda o: (f"Can you recommend something about {like}?"
                                        if (like := nth(likes(o), o)) else None),
        "blind_questions": lambda o: " ".join(f"Any tips on {name}?" for name in popular),
        "blind_statements": lambda o: " ".join(f"I love {name}." for name in popular),
    }


def play(user: UserPolicy | None, episodes: int) -> dict[str, Any]:
    """Session returns and final fidelity of `user` over env seeds 0..episodes-1, the tracker assisting."""
    env = parallel_env(max_turns=MAX_TURNS)
    assistant = make_policy("tracker", env=env, seed=0)
    returns, finals = [], []
    for seed in range(episodes):
        observations, _ = env.reset(seed=seed)
        total, final = 0.0, None
        while env.agents:
            if observations[ASSISTANT]["your_turn"]:
                actions = {ASSISTANT: assistant.act(observations[ASSISTANT]), SIMULATED_USER: None}
            else:
                actions = {ASSISTANT: None, SIMULATED_USER: user(observations[SIMULATED_USER]) if user else None}
            observations, rewards, _, _, infos = env.step(actions)
            total += rewards.get(SIMULATED_USER, 0.0)
            final = infos.get(SIMULATED_USER, {}).get("fidelity", final)
        returns.append(total)
        finals.append([final[k] for k in ("f1", "precision", "recall", "contradictions")])
    means = np.mean(finals, axis=0)
    return {"return": mean_ci(returns), **dict(zip(("f1", "precision", "recall", "contradictions"),
                                                   means.tolist(), strict=True))}


def parse_args() -> Namespace:
    """Command-line options (the defaults are the documented run)."""
    return episodes_and_out(__doc__, __file__, 300, "sessions per policy (env seeds 0, 1, ...)")


def main() -> None:
    args = parse_args()
    summary: dict[str, Any] = {"assistant": "tracker", "max_turns": MAX_TURNS, "episodes": args.episodes,
                               "policies": {}}
    for name, user in user_policies().items():
        stats = summary["policies"][name] = play(user, args.episodes)
        mean, ci = stats["return"]
        print(f"{name:>17}: return {mean:.3f} ± {ci:.3f}; F1 {stats['f1']:.3f}, precision "
              f"{stats['precision']:.3f}, recall {stats['recall']:.3f}, contradictions {stats['contradictions']:.3f}")
    print(f"wrote {write_summary(args.out, 'user_reward_attacks.json', summary)}")


if __name__ == "__main__":
    main()
