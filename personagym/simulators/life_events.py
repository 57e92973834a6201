"""Life events: reasons a user's constraints or interests change between sessions.

Each event proposes one change to a `PreferenceState` (set an attribute, add an
item to a multi-valued one, take up or drop an interest) with a human reason.
An event happens only to a persona it fits (`requires`, `excludes`: no
promotion for a retiree, no new diet that drops a religious one), and a
`step` event moves a value one step (a raise from "budget" to "moderate", not
to "comfortable"). The preference process applies a proposal only if the
persona stays coherent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

from personagym.records import AttributeValue, Interest, PreferenceState
from personagym.rng import Draws
from personagym.simulators.persona import PersonaSchema, SchemaError
from personagym.simulators.taxonomy import Taxonomy

Kind = Literal["set", "add_item", "new_interest", "lose_interest"]

#: The kinds of taxonomy node (`Taxonomy.kind`) a new interest is drawn from: pastimes someone takes up (a sport, a
#: genre, a cuisine, a subject, a board game or a book series).  Not a news topic, a person, a place, an event or a
#: product: 32 of 57 new interests in 600 LongTerm episodes were none ("took up a new interest: presidential
#: elections", then "I've recently gotten into Marie Curie", "... into Hawaii", "... into health insurance").
PASTIME_KINDS = frozenset({"activity", "genre", "food_drink", "field", "work"})


def pastime_kinds(taxonomy: Taxonomy) -> frozenset[str] | None:
    """`PASTIME_KINDS`, or None (any node) for a taxonomy without kinds data."""
    return PASTIME_KINDS if any(taxonomy.kinds.values()) else None


@dataclass(frozen=True, slots=True)
class LifeEvent:
    """A kind of life event and the change it makes."""

    id: str
    kind: Kind
    reason: str
    attribute: str | None = None
    values: tuple[str, ...] = ()
    #: +1: a "set" moves the value up the attribute's value order (a raise, a promotion), -1 down, 0 either way
    direction: Literal[-1, 0, 1] = 0
    #: a "set" with a direction moves to the nearest of `values` that way, not any of them: entry level to
    #: senior in a week, or a budget to comfortable with one raise, read false
    step: bool = False
    #: attribute -> the values it must have for the event to happen (a persona without it does not qualify):
    #: a raise or a promotion needs a job
    requires: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: attribute -> values that rule the event out (a persona without the attribute qualifies): a new diet
    #: does not replace a halal, kosher or gluten-free one
    excludes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def validate(self, schema: PersonaSchema) -> None:
        """Raise SchemaError if the event names an attribute or value the schema lacks."""
        named = [(self.attribute, v) for v in self.values] if self.attribute is not None else []
        named += [(a, v) for rule in (self.requires, self.excludes) for a, vs in rule.items() for v in sorted(vs)]
        for name, v in named:
            if v not in schema.attribute(name).values:  # type: ignore[arg-type]
                raise SchemaError(f"life event {self.id!r}: {name!r} has no value {v!r}")

    def fits(self, state: PreferenceState) -> bool:
        """Whether the event can happen to this user (`requires`, `excludes`)."""
        attrs = state.attributes
        return all(attrs.get(a) in vs for a, vs in self.requires.items()) and \
            not any(attrs.get(a) in vs for a, vs in self.excludes.items())

    def propose(
        self, state: PreferenceState, schema: PersonaSchema, d: Draws
    ) -> tuple[str, AttributeValue, str] | None:
        """An attribute change (name, new value, reason), or None if it does not apply."""
        if self.attribute is None or not self.fits(state):
            return None
        current = state.attributes.get(self.attribute)
        if self.kind == "set":
            options = [v for v in self.values if v != current]
            order = schema.attribute(self.attribute).values
            if self.direction and current in order:  # a raise never lowers the budget
                at = order.index(current)
                options = [v for v in options if (order.index(v) - at) * self.direction > 0]
                if self.step:
                    options = sorted(options, key=lambda v: abs(order.index(v) - at))[:1]
            if not options:
                return None
            value = d.choice(options)
            return self.attribute, value, self.reason.format(value=value.replace("_", " "))
        items = list(current) if isinstance(current, list) else []
        attr = schema.attribute(self.attribute)
        # an item that rules out nothing the user's constraints did not already rule out is no news: a vegan
        # "diagnosed with a dairy allergy" or a gluten-free one "with a gluten allergy" changes nothing they eat
        ruled_out = set(state.forbidden_tags)
        options = [v for v in self.values if v not in items
                   and (not attr.forbids or not attr.forbidden_tags(v) <= ruled_out)]
        if not options or len(items) >= attr.max_items:
            return None
        value = d.choice(options)
        new = sorted([*items, value], key=attr.values.index)
        return self.attribute, new, self.reason.format(value=value.replace("_", " "))

    def propose_interest(
        self, state: PreferenceState, schema: PersonaSchema, d: Draws,
        left: Collection[str] = (), entered: Collection[str] = (),
    ) -> tuple[str, Interest | None, str] | None:
        """An interest change (node, new interest or None to drop, reason), or None.

        `left` are interests the user recently moved away from or lost, `entered` those they recently moved to
        or took up: no new interest is one just left, and no lost one is one just found ("more into rum than
        gin" and "lost interest in rum" in one gap read as noise).  A new interest is one the persona can like
        by the schema's rules on interests (`PersonaSchema.unfit_interests`): no college planning for a parent
        of toddlers.  It is a pastime (`PASTIME_KINDS`), and not a whole category.
        """
        if not self.fits(state):
            return None
        tax = schema.taxonomy
        if self.kind == "lose_interest":
            liked = [n for n, i in state.interests.items() if i.polarity > 0 and n not in entered]
            if not liked:
                return None
            node = d.choice(liked)
            return node, None, self.reason.format(value=tax.nodes[node].name)
        node = tax.sample_anchor(d, exclude_tags=frozenset(state.forbidden_tags), specificity=0.7,
                                 kinds=pastime_kinds(tax))
        # a whole category is no pastime: no "I've picked up beauty & personal care"
        if node is None or len(tax.paths[node]) < 2 or node in left \
                or any(tax.is_ancestor(n, node) or tax.is_ancestor(node, n) for n in state.interests) \
                or not schema.unfit_interests(state.attributes).isdisjoint(tax.paths[node]):
            return None
        interest = Interest(node=node, polarity=1, intensity=round(0.6 + 0.4 * d.random(), 3),
                            source="life_event")
        return node, interest, self.reason.format(value=tax.nodes[node].name)


#: Who has a job a raise, a promotion or a job change can happen in.
_WORKING = {"employment_status": frozenset({"employed_full_time", "part_time", "self_employed", "freelancer"})}
_EMPLOYED = {"employment_status": frozenset({"employed_full_time", "part_time"})}

LIFE_EVENTS: tuple[LifeEvent, ...] = (
    LifeEvent("changed_diet", "set", "changed diet: now {value}", "diet",
              ("vegetarian", "vegan", "pescatarian"),
              excludes={"diet": frozenset({"halal", "kosher", "gluten_free"})}),  # kept for faith or health
    LifeEvent("new_allergy", "add_item", "was diagnosed with a food allergy: {value}", "food_allergies",
              ("peanut", "tree_nut", "shellfish", "dairy", "gluten", "egg")),
    LifeEvent("money_tight", "set", "money got tight after a job change: budget now {value}",
              "budget_level", ("tight", "budget", "moderate", "comfortable"), direction=-1, step=True,
              requires=_WORKING),
    LifeEvent("got_a_raise", "set", "got a raise: budget now {value}", "budget_level",
              ("budget", "moderate", "comfortable", "luxury"), direction=1, step=True, requires=_EMPLOYED),
    # only one who drinks can stop: not a persona who never said so (a minor, say)
    LifeEvent("quit_drinking", "set", "decided to stop drinking", "alcohol_stance", ("abstains",), direction=1,
              requires={"alcohol_stance": frozenset({"drinks", "occasional"})}),
    LifeEvent("injury", "set", "injured a knee: mobility now {value}", "mobility",
              ("limited_mobility",), direction=1),
    LifeEvent("promotion", "set", "got promoted to {value}", "seniority",
              ("senior", "lead", "manager"), direction=1, step=True,
              requires={**_EMPLOYED, "seniority": frozenset({"mid", "senior", "staff", "lead"})}),
    LifeEvent("new_hobby", "new_interest", "took up a new interest: {value}"),
    LifeEvent("lost_interest", "lose_interest", "lost interest in {value}"),
)
