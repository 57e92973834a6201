"""Profile fidelity: the simulated user's reward in the multi-agent env.

A cycle-consistency reward in the spirit of USP: recover the profile from what
the user said, with the extractor an assistant would use
(`WorldKnowledge.statements`), and compare it with the hidden truth.  A user
that expresses who it is, and nothing it is not, scores high, whatever words
it uses, as long as the extractor can hear them.

* **Recovered items.**  Each statement becomes a profile item.  An interest is
  credited to the nearest ancestor-or-self of the named node that the profile
  holds an interest in ("I love bebop" is true of someone who likes jazz), the
  rule `assess` applies to assistant mentions; a node with no profile interest
  on its path stays as named (an unsupported claim).  Attribute statements
  count for style and constraint attributes only, the ones `target_profile`
  covers; the rest (age, pets, ...) neither help nor hurt.  An interest named
  in a sentence whose constraint forbids it ("I'm allergic to eggs") is that
  constraint's object, not a liked thing, and is skipped.
* **Asking is no claim.**  The extractor reads a request's topic as liked
  (people ask about what they care for), but people ask about what they do
  not care for too: "Can you help me plan a hiking trip?" comes from people
  who never hiked.  So what a message only asks about
  (`WorldKnowledge.asked`) claims nothing: it is neither credited nor a
  contradiction, except that the request's topic (the first thing it asks
  about) expresses a liking the profile holds, as the simulator's implicit
  PKI does.  Words that say the user likes a thing ("if I like X", "as a
  jazz fan") claim it in a request too (`WorldKnowledge.claims`).  Requests'
  topics outside the profile were 76% of the built-in simulator's false
  positives: its credited items were 69% true over 300 sessions, 99.1% now.
  Only the topic implies: else a message asking about everything would be
  credited for whatever the profile holds, without claiming any of it.
* **Target.**  `target_profile` restricted to what words can express:
  interests, and the attribute values the schema has phrases for.  The
  extractor cannot hear the others from anyone; counting them would only cap
  recall.
* **A user's pace.**  One message credits at most `PER_UTTERANCE` new items,
  everything said since `clear` at most one more per message after the first
  (a burst is not repeated every message) and at most `per_session` (the env:
  one per message the session can hold, ``max_turns + 1``); what a message
  states beyond that earns nothing, though its contradictions still count.
  The built-in simulator states one fact a message, now and then two or three
  (more in 1 of ~4,600 messages); reciting the whole profile, in one message
  or in every one, is no user, and scored F1 0.98 against the simulator's 0.16
  (now 0.21 and 0.46 against its 0.16).
* **fidelity** = F1(credited, target).
* **contradictions**: distinct recovered items that deny the truth: liking what
  the profile dislikes or the reverse, liking something one's own constraints
  forbid, or stating a value of an attribute other than its true value(s).

Noise is not forgiven: a vague parent, a negated phrase or a retracted entity
earns no credit and a mind change can count as a contradiction, so the built-in
simulator's score includes what the configured noise level costs (its
remaining false positives are mostly that: vague parents, self-contradicting
style asks).  Noise in a request costs no more than any request about a topic
outside the profile: a vague parent or a distractor's question asks, and
claims nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from personagym.envs.knowledge import Statement, WorldKnowledge, sentences
from personagym.envs.rewards import (
    TARGET_ROLES,
    ProfileItem,
    check_component_names,
    interest_node,
    target_profile,
)
from personagym.records import PreferenceState
from personagym.simulators.persona import PersonaSchema

USER_COMPONENTS = ("fidelity", "contradiction")
INTEREST_KEYS = ("likes", "dislikes")
#: The most new profile items one message is credited for (the built-in simulator states at most 3 in all but
#: ~1 of 4,600 messages): an info dump is no more faithful than the first items it states.
PER_UTTERANCE = 3


class UserRewardWeights(BaseModel):
    """Weights of the simulated user's reward components."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    fidelity: float = Field(1.0, ge=0.0, description="weight of the change in profile F1")
    contradiction: float = Field(0.5, ge=0.0, description="penalty per new contradiction of the truth")

    @model_validator(mode="before")
    @classmethod
    def _known_names(cls, data: object) -> object:
        return check_component_names(data, USER_COMPONENTS, "user reward component")


@dataclass(frozen=True, slots=True)
class FidelityScore:
    """How faithfully the user's words so far express its profile."""

    f1: float = 0.0
    precision: float = 0.0
    recall: float = 0.0
    contradictions: int = 0

    def components(self, before: FidelityScore) -> dict[str, float]:
        """The reward components of going from `before` to this score (a potential difference)."""
        return {
            "fidelity": round(self.f1 - before.f1, 6),
            "contradiction": float(before.contradictions - self.contradictions),
        }


def user_reward(components: dict[str, float], weights: UserRewardWeights) -> float:
    """Weighted sum of the user's reward components."""
    return round(sum(getattr(weights, k) * v for k, v in components.items()), 6)


class ProfileFidelity:
    """Accumulates the profile items a user has stated and scores them against the truth.

    One instance follows one conversation; `clear` starts over (a new session,
    where the truth may have changed).
    """

    def __init__(self, knowledge: WorldKnowledge, schema: PersonaSchema, *, per_utterance: int = PER_UTTERANCE,
                 per_session: int | None = None) -> None:
        self.knowledge = knowledge
        self.schema = schema
        self.taxonomy = schema.taxonomy
        #: the most new items one message, and everything said since `clear` (None: no limit), is credited for
        self.per_utterance, self.per_session = per_utterance, per_session
        self._stated: set[ProfileItem] = set()
        self._credited: set[ProfileItem] = set()
        self._contradicted: set[ProfileItem] = set()
        self._messages = 0  # messages heard since `clear`

    def clear(self) -> None:
        """Forget what was said."""
        self._stated.clear()
        self._credited.clear()
        self._contradicted.clear()
        self._messages = 0

    def hear(self, utterance: str, state: PreferenceState) -> FidelityScore:
        """Add the items one utterance states; the score of everything said since `clear`."""
        statements = self.knowledge.statements(utterance)
        objects = self._constraint_objects(utterance) if any(k not in INTEREST_KEYS for k, _, _ in statements) \
            else set()
        self._stated.update(self._items(statements, objects, state))  # all an assistant hears, requests' too
        self._messages += 1
        # one new item a message on average, `per_utterance` at once: a burst is not repeated every message
        budget = self._messages + self.per_utterance - 1
        if self.per_session is not None:
            budget = min(budget, self.per_session)
        new = 0
        for item in self._claimed(utterance, objects, state):
            if self._contradicts(item, state):  # a contradiction counts however much else the message says
                self._contradicted.add(item)
            if item not in self._credited and new < self.per_utterance and len(self._credited) < budget:
                self._credited.add(item)
                new += 1
        return self.score(state)

    def _claimed(self, utterance: str, objects: set[str], state: PreferenceState) -> list[ProfileItem]:
        """The profile items an utterance claims (`WorldKnowledge.claims`), then the like its request's topic
        implies if the profile holds it.

        Asking about a topic claims nothing ("Can you help me plan a hiking
        trip?" comes from people who never hiked), so a topic outside the
        profile is neither credited nor a contradiction; but people ask about
        what they care for, so a request about a liked topic expresses the
        liking, as the simulator's implicit PKI says.  Only the request's
        topic (the first thing it asks about) implies it: else a message
        asking about everything would be credited for whatever the profile
        holds, without a word of it ever being claimed.
        """
        items = self._items(self.knowledge.claims(utterance), objects, state)
        asked = self.knowledge.asked(utterance)
        if asked and asked[0] not in objects:
            implied = self._item("likes", asked[0], state)
            if implied in self.expressible(state):
                items.append(implied)
        return items

    def _items(self, statements: list[Statement], objects: set[str], state: PreferenceState) -> list[ProfileItem]:
        """The profile items of statements, less the interests named as a constraint's `objects`."""
        return [item for key, value, _ in statements if not (key in INTEREST_KEYS and value in objects)
                and (item := self._item(key, value, state)) is not None]

    def _constraint_objects(self, utterance: str) -> set[str]:
        """The nodes named as the object of a constraint stated in the same sentence ("I'm allergic to eggs"
        names eggs, and likes nothing).  Only in its sentence: "I have limited mobility. I love cycling." likes
        cycling, a contradiction the constraint must not hide."""
        objects: set[str] = set()
        for sentence in sentences(utterance):
            statements = self.knowledge.statements(sentence)
            constrained: frozenset[str] = frozenset().union(*(
                self.knowledge.forbidden_tags(key, value) for key, value, _ in statements if key not in INTEREST_KEYS))
            if constrained:
                objects.update(value for key, value, _ in statements
                               if key in INTEREST_KEYS and self.taxonomy.nodes[value].tags & constrained)
        return objects

    @property
    def stated(self) -> frozenset[ProfileItem]:
        """The profile items heard since `clear` (all of them: what the user has told)."""
        return frozenset(self._stated)

    @property
    def credited(self) -> frozenset[ProfileItem]:
        """The stated items the score counts: at most `per_utterance` new ones a message, `per_session` in all."""
        return frozenset(self._credited)

    def score(self, state: PreferenceState) -> FidelityScore:
        """F1 of the credited items against the expressible truth, and the contradiction count."""
        target = self.expressible(state)
        hits = len(self._credited & target)
        if not hits:
            return FidelityScore(contradictions=len(self._contradicted))
        precision, recall = hits / len(self._credited), hits / len(target)
        return FidelityScore(
            f1=round(2 * precision * recall / (precision + recall), 6), precision=round(precision, 6),
            recall=round(recall, 6), contradictions=len(self._contradicted),
        )

    def expressible(self, state: PreferenceState) -> set[ProfileItem]:
        """The profile items words can express: interests and phrased attribute values."""
        attributes = self.schema.attributes
        return {(key, value) for key, value in target_profile(state, self.schema)
                if key in INTEREST_KEYS or attributes[key].phrases.get(value)}

    def _item(self, key: str, value: str, state: PreferenceState) -> ProfileItem | None:
        """The profile item a statement makes, or None when the profile does not cover it."""
        if key in INTEREST_KEYS:
            return key, interest_node(value, state, self.taxonomy)
        attribute = self.schema.attributes.get(key)
        return (key, value) if attribute is not None and attribute.role in TARGET_ROLES else None

    def _contradicts(self, item: ProfileItem, state: PreferenceState) -> bool:
        key, value = item
        if key in INTEREST_KEYS:
            interest = state.interests.get(value)
            if interest is not None:
                return (interest.polarity > 0) != (key == "likes")
            return key == "likes" and bool(self.taxonomy.nodes[value].tags.intersection(state.forbidden_tags))
        truth = state.attributes.get(key)
        if truth is None:
            return False
        return value not in (truth if isinstance(truth, list) else [truth])
