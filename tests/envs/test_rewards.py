"""Adversarial text policies: answers a person would call useless must not out-score the tracker."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from personagym.policies import make_policy
from personagym.rollout import make_env, reset_policy, rollout, summarize
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
