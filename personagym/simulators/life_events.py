"""Life events: reasons a user's constraints or interests change between sessions.

Each event proposes one change to a `PreferenceState` (set an attribute, add an
item to a multi-valued one, take up or drop an interest) with a human reason.
An event happens only to a persona it fits (`requires`, `excludes`: no
promotion for a retiree, no new diet that drops a religious one), and a
`step` event moves a value one step (a raise from "budget" to "moderate", not
to "comfortable"). The preference process applies a proposal only if the
persona stays coherent.

Besides constraints, a life changes in its circumstances, as PersonaMem's
users' do: a baby on the way and then born, children growing up, a move, a
pet, a wedding, retirement, working from home. Such an event can bring an
interest with it (`brings`: a parent-to-be takes up pregnancy, a new dog owner
dogs) and end what no longer fits (`clears`: a retiree has no team; interests
the schema's rules now rule out are dropped by the preference process).
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
PASTIME_KINDS = frozenset({"activity", "genre", "food_drink", "serving", "field", "language", "work"})


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
    #: value set -> the taxonomy path of an interest the user takes up with it (a baby on the way: pregnancy)
    brings: Mapping[str, str] = field(default_factory=dict)
    #: attributes the change unsets: what no longer holds of the user (a retiree's rank, team and commute)
    clears: tuple[str, ...] = ()
    #: days after which the event happens for sure, counted from the last change of its attribute (or from the
    #: episode's start): a baby is born within 280 days of the news, not a year on "still expecting"
    due_days: float | None = None

    def validate(self, schema: PersonaSchema) -> None:
        """Raise SchemaError if the event names an attribute, value or taxonomy path the schema lacks."""
        named = [(self.attribute, v) for v in (*self.values, *self.brings)] if self.attribute is not None else []
        named += [(a, v) for rule in (self.requires, self.excludes) for a, vs in rule.items() for v in sorted(vs)]
        for name, v in named:
            if v not in schema.attribute(name).values:  # type: ignore[arg-type]
                raise SchemaError(f"life event {self.id!r}: {name!r} has no value {v!r}")
        for name in self.clears:
            schema.attribute(name)
        for path in self.brings.values():
            schema.taxonomy.resolve_path(path)

    def brought(self, value: str, taxonomy: Taxonomy) -> str | None:
        """The node of the interest the event brings with `value` (set, or added to a multi-valued
        attribute), if any."""
        path = self.brings.get(value)
        return taxonomy.resolve_path(path) if path else None

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
            elif self.direction:  # from an unknown value, one on the event's side of its values: money got
                half = len(options) // 2  # tight to "budget", not to "comfortable"
                options = options[half:] if self.direction > 0 else options[:len(options) - half]
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
        left: Collection[str] = (), entered: Collection[str] = (), held: Collection[str] = (),
    ) -> tuple[str, Interest | None, str] | None:
        """An interest change (node, new interest or None to drop, reason), or None.

        `left` are interests the user recently moved away from or lost, `entered` those they recently moved to
        or took up: no new interest is one just left or above one, and no lost one is one just found ("more into
        rum than gin" and "lost interest in rum" in one gap read as noise).  `held` are the interests the user's
        circumstances hold in place (`held_interests`): no lost one is one of them or above one (a dog owner
        does not lose interest in dogs, nor in pets).  A new interest is one the persona can like
        by the schema's rules on interests (`PersonaSchema.unfit_interests`): no college planning for a parent
        of toddlers.  It is a pastime (`PASTIME_KINDS`), and not a whole category.
        """
        if not self.fits(state):
            return None
        tax = schema.taxonomy
        if self.kind == "lose_interest":
            liked = [n for n, i in state.interests.items() if i.polarity > 0 and n not in entered
                     and not any(n in tax.paths[h] for h in held)]
            if not liked:
                return None
            node = d.choice(liked)
            return node, None, self.reason.format(value=tax.nodes[node].name)
        node = tax.sample_anchor(d, exclude_tags=frozenset(state.forbidden_tags), specificity=0.7,
                                 kinds=pastime_kinds(tax))
        # a whole category is no pastime: no "I've picked up beauty & personal care"
        if node is None or len(tax.paths[node]) < 2 or any(node in tax.paths[n] for n in left) \
                or any(tax.is_ancestor(n, node) or tax.is_ancestor(node, n) for n in state.interests) \
                or not schema.unfit_interests(state.attributes).isdisjoint(tax.paths[node]):
            return None
        interest = Interest(node=node, polarity=1, intensity=round(0.6 + 0.4 * d.random(), 3),
                            source="life_event")
        return node, interest, self.reason.format(value=tax.nodes[node].name)


def held_interests(events: Collection[LifeEvent], attributes: Mapping[str, AttributeValue],
                   taxonomy: Taxonomy) -> frozenset[str]:
    """The interests a user's circumstances hold in place: the one each event `brings` with a value the user has
    now (a dog owner's dogs, a parent-to-be's pregnancy), whether an event brought it or the user had it from the
    start.  A drift does not move a liked interest away from one, and no life event takes one away: a taste
    changes, not a life ("moved on from dogs to cats" while the dog is still at home)."""
    held = set()
    for event in events:
        if not event.brings:
            continue
        value = attributes.get(str(event.attribute))
        for v in value if isinstance(value, list) else (value,):
            node = event.brought(v, taxonomy) if isinstance(v, str) else None
            if node is not None:
                held.add(node)
    return frozenset(held)


#: Who has a job a raise, a promotion or a job change can happen in.
_WORKING = {"employment_status": frozenset({"employed_full_time", "part_time", "self_employed", "freelancer"})}
_EMPLOYED = {"employment_status": frozenset({"employed_full_time", "part_time"})}

_STAGES = "Parenting & Family/Parenting Stages/"

LIFE_EVENTS: tuple[LifeEvent, ...] = (
    LifeEvent("changed_diet", "set", "changed diet: now {value}", "diet",
              ("vegetarian", "vegan", "pescatarian"),
              excludes={"diet": frozenset({"halal", "kosher", "gluten_free"})}),  # kept for faith or health
    LifeEvent("new_allergy", "add_item", "was diagnosed with a food allergy: {value}", "food_allergies",
              ("peanut", "tree_nut", "shellfish", "dairy", "gluten", "egg")),
    # a change of budget lands on a value whose words say the way it went, as its news is told in them: a raise
    # from "tight" to "budget" was told "Since last time, I need to keep costs down." (5 of 24 raises in 1,500
    # LongTerm episodes), and money got tight from "luxury" to "money isn't a big concern for me"
    LifeEvent("money_tight", "set", "money got tight after a job change: budget now {value}",
              "budget_level", ("tight", "budget", "moderate"), direction=-1, step=True, requires=_WORKING),
    LifeEvent("got_a_raise", "set", "got a raise: budget now {value}", "budget_level",
              ("moderate", "comfortable", "luxury"), direction=1, step=True, requires=_EMPLOYED),
    # only one who drinks can stop: not a persona who never said so (a minor, say)
    LifeEvent("quit_drinking", "set", "decided to stop drinking", "alcohol_stance", ("abstains",), direction=1,
              requires={"alcohol_stance": frozenset({"drinks", "occasional"})}),
    LifeEvent("injury", "set", "injured a knee: mobility now {value}", "mobility",
              ("limited_mobility",), direction=1),
    LifeEvent("promotion", "set", "got promoted to {value}", "seniority",
              ("senior", "lead", "manager"), direction=1, step=True,
              requires={**_EMPLOYED, "seniority": frozenset({"mid", "senior", "staff", "lead"})}),
    # circumstances: the schema's rules keep each coherent (no baby for someone living alone, no retirement
    # with small children), and `REVISIT_DAYS` keeps a baby from arriving weeks after the news of it.
    # `children` holds one stage, so a baby on the way is a first one: set over school-age, teenage or grown
    # children it erased them, and dropped the interests they go with as no longer fitting
    LifeEvent("expecting", "set", "found out a baby is on the way", "children", ("expecting",),
              requires={"relationship_status": frozenset({"partnered", "married"})},
              excludes={"children": frozenset({"expecting", "young_children", "school_age", "teenagers",
                                               "adult_children"}),
                        "age_band": frozenset({"u18", "4560", "60p"})},
              brings={"expecting": _STAGES + "Pregnancy"}),
    LifeEvent("baby_born", "set", "had a baby", "children", ("young_children",),
              requires={"children": frozenset({"expecting"})}, brings={"young_children": _STAGES + "Newborn Care"},
              due_days=280.0),
    LifeEvent("kids_growing", "set", "the children grew: now {value}", "children",
              ("school_age", "teenagers", "adult_children"), direction=1, step=True,
              requires={"children": frozenset({"young_children", "school_age", "teenagers"})},
              brings={"school_age": _STAGES + "School-age Kids", "teenagers": _STAGES + "Teenagers",
                      "adult_children": _STAGES + "Empty Nest"}),
    LifeEvent("got_married", "set", "got married", "relationship_status", ("married",),
              requires={"relationship_status": frozenset({"partnered"})}),
    LifeEvent("moved", "set", "moved house: settlement now {value}", "settlement_type",
              ("big_city", "small_town", "rural")),
    LifeEvent("adopted_pet", "add_item", "adopted a {value}", "pets_owned", ("dog", "cat"),
              brings={"dog": "Pets & Animals/Pets/Dogs", "cat": "Pets & Animals/Pets/Cats"}),
    LifeEvent("went_remote", "set", "started working from home", "work_arrangement", ("remote",),
              requires={"work_arrangement": frozenset({"onsite", "hybrid"})}),
    LifeEvent("retired", "set", "retired", "employment_status", ("retired",),
              requires={"age_band": frozenset({"4560", "60p"})},
              excludes={"employment_status": frozenset({"student", "unemployed", "retired", "caregiver"})},
              # and what a user says of a job they have ("I work as a designer", "I work shifts")
              clears=("work_arrangement", "company_size", "seniority", "team_role", "role",
                      "availability_schedule")),
    LifeEvent("new_hobby", "new_interest", "took up a new interest: {value}"),
    LifeEvent("lost_interest", "lose_interest", "lost interest in {value}"),
)
