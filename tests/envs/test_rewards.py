"""Adversarial text policies: answers a person would call useless must not out-score the tracker."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from personagym.policies import make_policy
from personagym.rollout import make_env, reset_policy, rollout, run_episode, summarize
from personagym.simulators.analyzer import _EMOJI
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.sampler import PersonaSampler

ENV_ID = "PersonaGym/Chat-v0"
EPISODES = 200
SEED = 1000


def _below_beyond_ci(lo: dict, hi: dict) -> bool:
    """`lo`'s mean reward is below `hi`'s by more than the 95% CI of the difference."""
    return hi["mean"] - lo["mean"] > math.hypot(hi["ci95"], lo["ci95"])


@pytest.fixture(scope="module")
def tracker() -> dict:
    return summarize(rollout(ENV_ID, "tracker", EPISODES, seed=SEED))["reward"]


class KeywordStuffer:
    """Names as many safe taxonomy entities as the action allows, the population's favourites first.

    No entity carries a constraint tag (so nothing is a violation) and no cue
    word is used (so a disliked one is not "recommended"): before answers were
    weighed by how many entities they put forward, this scored about twice the
    tracker's reward while telling the user nothing.
    """

    name = "keyword_stuffer"

    def __init__(self, schema: PersonaSchema, chars: int = 7_900) -> None:
        taxonomy = schema.taxonomy
        sampler = PersonaSampler(schema)
        popular = Counter(i.node for s in range(300) for i in sampler.sample(10**6 + s).interests if i.polarity > 0)
        untagged = [n for n in taxonomy.ids if not taxonomy.nodes[n].tags]
        order = sorted(untagged, key=lambda n: (-popular[n], len(taxonomy.nodes[n].name)))
        names, size = [], 0
        for node in order:
            size += len(taxonomy.nodes[node].name) + 2
            if size > chars:
                break
            names.append(taxonomy.nodes[node].name)
        self.text = "Some topics: " + ", ".join(names) + "."

    def act(self, observation: dict) -> str:
        """The same list of names, whatever the user said."""
        return self.text


def test_keyword_stuffing_scores_below_the_tracker(schema: PersonaSchema, tracker: dict) -> None:
    stuffer = KeywordStuffer(schema)
    env = make_env(ENV_ID)
    env.reset(seed=0)
    assert len(env.unwrapped.analyzer.mentions(stuffer.text)) > 300  # it really names hundreds of entities
    env.close()
    stuffed = summarize(rollout(ENV_ID, stuffer, EPISODES, seed=SEED))
    assert stuffed["components"]["constraint"]["mean"] == 0.0
    assert _below_beyond_ci(stuffed["reward"], tracker), (stuffed["reward"], tracker)
    # its few liked hits drown in the list: less preference per turn than the tracker's handful of picks
    assert stuffed["components"]["preference"]["mean"] < 1.0


class TrailingQuestion:
    """The tracker's answer with "Anything else you'd like?" after it, every turn.

    The simulated user answered any question before considering leaving, so
    the question kept every user to the turn limit and the summed reward grew
    with the episode: this scored about 6.3 against the tracker's 3.8.
    """

    name = "trailing_question"

    def __init__(self) -> None:
        env = make_env(ENV_ID)
        self.tracker = make_policy("tracker", env=env, seed=SEED)
        env.close()

    def reset(self, seed: int | None = None) -> None:
        """Start the wrapped tracker's episode."""
        reset_policy(self.tracker, seed)

    def act(self, observation: dict) -> str:
        """The tracker's answer and a question that asks for nothing in particular."""
        return self.tracker.act(observation) + " Anything else you'd like?"


def test_a_trailing_question_does_not_keep_the_user_talking(tracker: dict) -> None:
    asking = summarize(rollout(ENV_ID, TrailingQuestion(), EPISODES, seed=SEED))
    assert asking["reward"]["mean"] < tracker["mean"], (asking["reward"], tracker)
    assert asking["terminated_fraction"] > 0.5  # users still say goodbye before the turn limit


class EmojiMisser:
    """The oracle's answer with the user's emoji preference missed on purpose, every turn.

    The simulated user complained about a missed style preference before
    considering leaving, so the miss held users for more turns, and the summed
    reward paid for them: this scored 9.4 against the oracle's own 8.6.
    """

    name = "emoji_misser"

    def __init__(self, env) -> None:
        self.oracle = make_policy("oracle", env=env, seed=SEED)
        self.view = env.unwrapped.oracle_view

    def reset(self, seed: int | None = None) -> None:
        """Start the wrapped oracle's episode."""
        reset_policy(self.oracle, seed)

    def act(self, observation: dict) -> str:
        """The oracle's answer, with emoji for a user who wants none and without them otherwise."""
        answer = self.oracle.act(observation)
        if self.view()["state"].attributes.get("emoji_use") in ("never", "none", "no_emoji"):
            return answer + " 🙂"
        return _EMOJI.sub("", answer)


def test_missing_a_style_preference_on_purpose_does_not_pay() -> None:
    env = make_env(ENV_ID)
    oracle, misser = make_policy("oracle", env=env, seed=SEED), EmojiMisser(env)
    gaps, turns = [], [0, 0]
    for seed in range(SEED, SEED + EPISODES):
        honest, missing = (run_episode(env, agent, seed) for agent in (oracle, misser))
        gaps.append(honest.total_reward - missing.total_reward)
        turns[0] += len(honest.turns)
        turns[1] += len(missing.turns)
    env.close()
    mean = sum(gaps) / len(gaps)
    sd = math.sqrt(sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1))
    assert mean > 1.96 * sd / math.sqrt(len(gaps)), (mean, sd)  # paired on the same users and seeds
    assert turns[1] <= turns[0] * 1.05, turns  # the missed preference does not keep users talking
