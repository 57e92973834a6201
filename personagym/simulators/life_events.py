"""Life events: reasons a user's constraints or interests change between sessions.

Each event proposes one change to a `PreferenceState` (set an attribute, add an
item to a multi-valued one, take up or drop an interest) with a human reason.
The preference process applies a proposal only if the persona stays coherent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from personagym.records import AttributeValue, Interest, PreferenceState
from personagym.rng import Draws
from personagym.simulators.persona import PersonaSchema, SchemaError

Kind = Literal["set", "add_item", "new_interest", "lose_interest"]


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

    def validate(self, schema: PersonaSchema) -> None:
        """Raise SchemaError if the event names an attribute or value the schema lacks."""
        if self.attribute is None:
            return
        attr = schema.attribute(self.attribute)
        for v in self.values:
            if v not in attr.values:
                raise SchemaError(f"life event {self.id!r}: {self.attribute!r} has no value {v!r}")

    def propose(
        self, state: PreferenceState, schema: PersonaSchema, d: Draws
    ) -> tuple[str, AttributeValue, str] | None:
        """An attribute change (name, new value, reason), or None if it does not apply."""
        if self.attribute is None:
            return None
        current = state.attributes.get(self.attribute)
        if self.kind == "set":
            options = [v for v in self.values if v != current]
            order = schema.attribute(self.attribute).values
            if self.direction and current in order:  # a raise never lowers the budget
                at = order.index(current)
                options = [v for v in options if (order.index(v) - at) * self.direction > 0]
            if not options:
                return None
            value = d.choice(options)
            return self.attribute, value, self.reason.format(value=value.replace("_", " "))
        items = list(current) if isinstance(current, list) else []
        options = [v for v in self.values if v not in items]
        if not options or len(items) >= schema.attribute(self.attribute).max_items:
            return None
        value = d.choice(options)
        attr = schema.attribute(self.attribute)
        new = sorted([*items, value], key=attr.values.index)
        return self.attribute, new, self.reason.format(value=value.replace("_", " "))

    def propose_interest(
        self, state: PreferenceState, schema: PersonaSchema, d: Draws
    ) -> tuple[str, Interest | None, str] | None:
        """An interest change (node, new interest or None to drop, reason), or None."""
        tax = schema.taxonomy
        if self.kind == "lose_interest":
            liked = [n for n, i in state.interests.items() if i.polarity > 0]
            if not liked:
                return None
            node = d.choice(liked)
            return node, None, self.reason.format(value=tax.nodes[node].name)
        node = tax.sample_anchor(d, exclude_tags=frozenset(state.forbidden_tags), specificity=0.7)
        if node is None or any(tax.is_ancestor(n, node) or tax.is_ancestor(node, n)
                               for n in state.interests):
            return None
        interest = Interest(node=node, polarity=1, intensity=round(0.6 + 0.4 * d.random(), 3),
                            source="life_event")
        return node, interest, self.reason.format(value=tax.nodes[node].name)


LIFE_EVENTS: tuple[LifeEvent, ...] = (
    LifeEvent("changed_diet", "set", "changed diet: now {value}", "diet",
              ("vegetarian", "vegan", "pescatarian")),
    LifeEvent("new_allergy", "add_item", "was diagnosed with a {value} allergy", "food_allergies",
              ("peanut", "tree_nut", "shellfish", "dairy", "gluten", "egg")),
    LifeEvent("money_tight", "set", "money got tight after a job change: budget now {value}",
              "budget_level", ("tight", "budget"), direction=-1),
    LifeEvent("got_a_raise", "set", "got a raise: budget now {value}", "budget_level",
              ("moderate", "comfortable"), direction=1),
    LifeEvent("quit_drinking", "set", "decided to stop drinking", "alcohol_stance", ("abstains",), direction=1),
    LifeEvent("injury", "set", "injured a knee: mobility now {value}", "mobility",
              ("limited_mobility",), direction=1),
    LifeEvent("promotion", "set", "got promoted to {value}", "seniority",
              ("senior", "lead", "manager"), direction=1),
    LifeEvent("new_hobby", "new_interest", "took up a new interest: {value}"),
    LifeEvent("lost_interest", "lose_interest", "lost interest in {value}"),
)
