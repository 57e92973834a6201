"""The ``popular`` policy: the best an assistant blind to who the user is can do.

``generic`` answers every user in one fixed style and suggests whatever is near
the topic. ``popular`` is as blind, yet answers every user the way most users
want to be answered: the length, layout, register and emoji use that meet the
most users' style preferences, and only suggestions that no user's diet,
allergy or other constraint forbids. Like ``generic``, it reads nothing from the
conversation but its topic, and it emits no profile. It is the floor a
personalising policy should be measured against: a policy that beats
``generic`` may only have found the population's favourite style.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from personagym.envs.knowledge import WorldKnowledge
from personagym.policies.base import Observation, register_policy
from personagym.policies.builtin import GenericPolicy, style_plan
from personagym.policies.compose import LENGTH_ITEMS, AnswerPlan, compose
from personagym.rng import Draws
from personagym.simulators.analyzer import ResponseAnalyzer
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.preferences import STYLE_CHECKED, style_checks

#: Answers composed for each candidate style to measure which users' preferences it meets (answers of one
#: style differ in words and items, so their lengths and registers vary a little).
SURVEY_ANSWERS = 16
#: Seed of the survey's answers: the style is a fixed function of the world, whatever the episode.
SURVEY_SEED = 0


def population_style(knowledge: WorldKnowledge) -> dict[str, Any]:
    """The answer style (an `AnswerPlan`'s length, layout, formality and emoji) that meets the most users
    (`_population_style`)."""
    return dict(_population_style(knowledge.schema, knowledge.analyzer))


@functools.lru_cache(maxsize=8)
def _population_style(schema: PersonaSchema, analyzer: ResponseAnalyzer) -> tuple[tuple[str, Any], ...]:
    """The population's answer style, as (field, value) pairs; worked out once per world in a process (~0.1 s: a
    generation worker makes a policy for each shard).

    Users hold each style attribute's values in equal shares (the persona
    sampler draws them uniformly), and a value's users are met by the answers
    that `style_checks` passes for it.  For each attribute in turn, the
    candidates are the styles `style_plan` writes for each of its values, each
    scored by the share of the attribute's values its composed answers meet,
    the other attributes held at the best found so far.  Of styles that meet
    as many, the one that offers more suggestions wins (no length meets more
    than two of the five lengths users want: 300 words meet "detailed" and
    "exhaustive" as 30 meet "terse" and "brief"), then the earlier value in
    the schema's order.  Two passes, so a choice can follow a later one.
    """
    knowledge = WorldKnowledge(schema, analyzer)
    values = {key: list(schema.attributes[key].values) for key in STYLE_CHECKED}
    style = style_plan({})
    for _ in range(2):
        for key in STYLE_CHECKED:
            field = _FIELD[key]
            options = list(dict.fromkeys(style_plan({key: value})[field] for value in values[key]))
            scored = [(_met(knowledge, {**style, field: option}, key, values[key]), option) for option in options]
            style[field] = max(scored, key=lambda pair: (pair[0], _items({**style, field: pair[1]})))[1]
    return tuple(style.items())


#: The `AnswerPlan` field each style attribute decides.
_FIELD = {"length_pref": "length", "format_pref_primary": "layout", "formality_level": "formality",
          "emoji_use": "emoji"}


def _items(style: Mapping[str, Any]) -> int:
    """How many suggestions an answer of `style` holds."""
    return LENGTH_ITEMS[style["length"]]


def _met(knowledge: WorldKnowledge, style: Mapping[str, Any], key: str, values: list[str]) -> float:
    """Share of (value, answer) pairs where an answer of `style` meets a user holding `key=value`."""
    draw = Draws(np.random.default_rng(SURVEY_SEED)).index
    met = 0
    for _ in range(SURVEY_ANSWERS):
        nodes = knowledge.random_nodes(draw, _items(style) + 1)
        plan = AnswerPlan(topic=knowledge.noun(nodes[0]), recommend=[knowledge.noun(n) for n in nodes[1:]],
                          followed=knowledge.followed, **style)
        features = knowledge.analyzer.analyze(compose(plan, draw))
        met += sum(style_checks({key: value}, features).get(key, True) for value in values)
    return met / (SURVEY_ANSWERS * len(values))


def constraint_tags(knowledge: WorldKnowledge) -> frozenset[str]:
    """Every taxonomy tag some value of some attribute forbids (meat, alcohol, peanuts, ...): what some user
    may not have."""
    out: frozenset[str] = frozenset()
    for attribute in knowledge.schema.attributes.values():
        for tags in (attribute.forbids or {}).values():
            out |= tags
    return out


class PopularPolicy(GenericPolicy):
    """`generic`'s answers in the population's favourite style, without what any user may be forbidden.

    The style is worked out when the first such policy of a world is made
    (`population_style`, about 0.1 s); the suggestions are drawn as `generic` draws them, from the
    topic's neighbours that carry no constraint tag (or, when none is free of
    them, its nearest ancestor's: `_safe_near`), and a topic that carries
    one is not named.
    """

    name = "popular"

    def __init__(self, env: Any = None, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.style = population_style(self.knowledge)
        self._risky = constraint_tags(self.knowledge)

    def _act(self, slot: int, observation: Observation) -> str:
        """Suggest safe things related to the conversation's topic, in the population's style."""
        k = self.knowledge
        topic = self._topic(slot, observation)
        recommend: list[str] = []
        if topic is not None and not self._alone[slot]:  # nothing beside a leaf asked about itself, as `generic`
            safe = self._safe_near(topic)
            picks = {safe[self._draw(len(safe))] for _ in range(_items(self.style))} if safe else ()
            recommend = [k.noun(n) for n in sorted(picks, key=lambda n: k.name(n).lower())]
        # a topic some user may not have goes unnamed: "Not sure yet what fits eggs best" to "I'm allergic to eggs"
        named = topic if topic is not None and not k.tags(topic) & self._risky else None
        plan = AnswerPlan(topic=k.noun(named) if named else None, recommend=recommend,
                          itself=named is not None and k.leaf(named), followed=k.followed, **self.style)
        return compose(plan, self._draw)

    def _safe_near(self, topic: str) -> list[str]:
        """The topic's related entities that carry no constraint tag; when all of them do, the safe things
        further under the topic (a request about a thing itself is answered by what is under it, not by the
        things beside it: printmaking's kinds, not sculpture); when nothing under it is safe (cocktails for a
        question about cocktails), those of its nearest ancestor that has some (coffee, tea): something on the
        request beats nothing, which answers no question (a red team's blind policy that named one safe entity
        of the topic's category where `popular` had none earned 0.28 an episode more)."""
        k = self.knowledge
        lineage = k.lineage(topic)
        for node in reversed(lineage):
            safe = [n for n in k.related(node) if not k.tags(n) & self._risky and n not in lineage]
            if safe:
                return safe
            if node == topic:  # looked for only when none of its related is safe (rare)
                below = [n for n in k.taxonomy.descendants(topic) if k.suggestible(n) and not k.tags(n) & self._risky]
                if below:
                    return below
        return []


register_policy("popular", PopularPolicy)
