"""The persona schema: 7 tiers -> categories -> 130 attributes, and coherence rules.

The schema is data (`data/persona_schema.json`).  Each attribute is
categorical, multi-valued, or a taxonomy node (an interest with a polarity).
Attributes of role ``constraint`` name the taxonomy tags a value forbids (a
vegan must never be offered anything tagged ``animal_product``).  Coherence
rules ("no 16-year-old director") compile into a table of incompatible
(attribute, value) pairs, used both by the sampler, which never draws an
incompatible value, and by `PersonaSchema.violations`, which checks any persona.
Rules on interests (``if_likes``: college planning is a parent of teenagers'
interest) name the attribute values liking a node needs; a persona that does
not state the attribute must be able to have one of them by that same table
(`PersonaSchema.unfit_interests`), which the sampler and the preference process
both obey.  How common each value is comes from `weights` (per attribute:
most people can see and eat meat; equal odds made 15% of personas blind), from
`shares` for multi-valued attributes (the share of people with each value:
few have a peanut allergy, a third have a dog) and from weight rules (``if`` one
value, ``scale`` the odds or shares of attributes drawn after it: sixty-year-olds
are more often retired, Hindus in South Asia often eat no beef); only the
sampler reads them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from personagym.records import AttributeValue, Interest
from personagym.shared import SharedOnCopy
from personagym.simulators.taxonomy import TAGS, Taxonomy, load_taxonomy
from personagym.suggest import did_you_mean

SCHEMA_PATH = Path(__file__).parent / "data" / "persona_schema.json"
TIER_IDS = (
    "demographics",
    "background",
    "interests",
    "lifestyle_constraints",
    "communication_style",
    "cognition_learning",
    "behavior",
)
AttributeType = Literal["categorical", "multi", "taxonomy"]
Role = Literal["profile", "style", "constraint", "behavior"]


class SchemaError(ValueError):
    """The persona schema, or a persona checked against it, is invalid."""


@dataclass(frozen=True, slots=True)
class Attribute:
    """One persona attribute and its value domain."""

    name: str
    description: str
    type: AttributeType
    role: Role
    tier: str
    category: str
    values: tuple[str, ...] = ()
    max_items: int = 1
    root: str | None = None
    polarity: Literal[1, -1] = 1
    ppopt: str | None = None
    forbids: Mapping[str, frozenset[str]] = field(default_factory=dict)
    phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: value -> phrases that tell it as news, said when a life event has just set it ("we just had a baby",
    #: not "i have little kids at home"); a value without them is told with its `phrases`
    news: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    vague: tuple[str, ...] = ()
    #: the values the vague phrases are true of (empty: all): "not too long, not too short" is no terse user's
    vague_for: frozenset[str] = frozenset()
    #: value -> the value it becomes once a session has passed ("first_time" with AI assistants: "occasional")
    outgrown: Mapping[str, str] = field(default_factory=dict)
    #: how common each value is, relative to the others, in the population the sampler draws from (schema
    #: order; empty: all equally common)
    weights: tuple[float, ...] = ()
    #: a multi-valued attribute's share of people who have each value, in (0, 1) (schema order; empty: the
    #: number of values drawn first, then that many alike)
    shares: tuple[float, ...] = ()

    def vague_phrases(self, value: str | None) -> tuple[str, ...]:
        """Vague ways to state `value` ("i have to watch what i spend"), none where they would misstate it."""
        return self.vague if not self.vague_for or value in self.vague_for else ()

    def check(self, value: AttributeValue, taxonomy: Taxonomy | None = None) -> None:
        """Raise SchemaError unless `value` is in this attribute's domain."""
        if self.type == "multi":
            if not isinstance(value, list):
                raise SchemaError(
                    f"attribute {self.name!r}: expected a list of values, got {value!r}"
                )
            if len(value) > self.max_items:
                raise SchemaError(
                    f"attribute {self.name!r}: at most {self.max_items} values, got {len(value)}"
                )
            for item in value:
                self._check_one(item)
        elif self.type == "taxonomy":
            if not isinstance(value, str) or (taxonomy is not None and value not in taxonomy):
                hint = did_you_mean(str(value), taxonomy.ids) if taxonomy else ""
                raise SchemaError(
                    f"attribute {self.name!r}: value {value!r} is not a taxonomy node id{hint}"
                )
            if taxonomy is not None and self.root and not taxonomy.is_ancestor(self.root, value):
                raise SchemaError(
                    f"attribute {self.name!r}: node {value!r} is not under {self.root!r}"
                )
        else:
            if not isinstance(value, str):
                raise SchemaError(f"attribute {self.name!r}: expected one value, got {value!r}")
            self._check_one(value)

    def _check_one(self, value: str) -> None:
        if value not in self.values:
            raise SchemaError(
                f"attribute {self.name!r}: unknown value {value!r}"
                f"{did_you_mean(value, self.values)}; expected one of {', '.join(self.values)}"
            )

    def forbidden_tags(self, value: AttributeValue) -> frozenset[str]:
        """Taxonomy tags this attribute's value forbids."""
        if not self.forbids:
            return frozenset()
        items = value if isinstance(value, list) else [value]
        out: frozenset[str] = frozenset()
        for item in items:
            out |= self.forbids.get(item, frozenset())
        return out


@dataclass(frozen=True, slots=True)
class Rule:
    """A coherence rule: if `when` has one of `values`, `forbid`/`require` restrict others."""

    id: str
    why: str
    when: str
    values: frozenset[str]
    forbid: Mapping[str, frozenset[str]]
    require: Mapping[str, frozenset[str]]


@dataclass(frozen=True, slots=True)
class LikeRule:
    """A coherence rule on an interest: liking `node` (or anything under it) says the persona's attributes
    have one of the `require`d values ("college planning" is a parent of teenagers' interest)."""

    id: str
    why: str
    node: str
    require: Mapping[str, frozenset[str]]


@dataclass(frozen=True, slots=True)
class WeightRule:
    """How one attribute's value changes how common the values of attributes drawn after it are: a sixty-year-old
    is more often retired, an eighteen-year-old more often a student.  `scale`: attribute -> value -> factor."""

    id: str
    why: str
    when: str
    values: frozenset[str]
    scale: Mapping[str, Mapping[str, float]]


class PersonaSchema(SharedOnCopy):
    """Tiers, categories and attributes, with compiled coherence rules and population weights."""

    def __init__(self, raw: dict, taxonomy: Taxonomy) -> None:
        self.raw = raw
        self.taxonomy = taxonomy
        self.attributes: dict[str, Attribute] = {}
        self.tiers: list[dict] = []
        tiers = raw.get("tiers", [])
        ids = tuple(t.get("id") for t in tiers)
        if ids != TIER_IDS:
            raise SchemaError(f"schema tiers must be {list(TIER_IDS)}, got {list(ids)}")
        for tier in tiers:
            cats = []
            for cat in tier["categories"]:
                names = []
                for spec in cat["attributes"]:
                    attr = self._build_attribute(spec, tier["id"], cat["id"])
                    if attr.name in self.attributes:
                        raise SchemaError(f"duplicate attribute {attr.name!r}")
                    self.attributes[attr.name] = attr
                    names.append(attr.name)
                cats.append({"id": cat["id"], "name": cat["name"], "attributes": names})
            self.tiers.append({"id": tier["id"], "name": tier["name"], "categories": cats})
        specs = raw.get("rules", [])
        self.rules = [self._build_rule(r) for r in specs if "if_likes" not in r]
        self.incompatible = self._compile_rules()
        #: node -> the rule on liking it (and everything under it)
        self.like_rules: dict[str, LikeRule] = {}
        for spec in specs:
            if "if_likes" in spec:
                rule = self._build_like_rule(spec)
                self.like_rules[rule.node] = rule
        #: attribute -> every value some like rule requires of it: the values `unfit_interests` asks `could_have` of
        self._like_values: dict[str, frozenset[str]] = {}
        for rule in self.like_rules.values():
            for name, allowed in rule.require.items():
                self._like_values[name] = self._like_values.get(name, frozenset()) | allowed
        self.weight_rules = [self._build_weight_rule(r) for r in raw.get("weight_rules", [])]
        #: (attribute, value) -> {attribute drawn later: {value: factor}}, the weight rules compiled
        self.scales: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
        for wrule in self.weight_rules:
            for value in wrule.values:
                for other, factors in wrule.scale.items():
                    table = self.scales.setdefault((wrule.when, value), {}).setdefault(other, {})
                    for v, f in factors.items():
                        table[v] = table.get(v, 1.0) * f
        self.by_ppopt = {a.ppopt: a for a in self.attributes.values() if a.ppopt}
        self._forbidding = [(a.name, a) for a in self.attributes.values() if a.forbids]
        #: Non-taxonomy attribute -> its values that have phrases (what a user can state in words).
        self.phrased: dict[str, frozenset[str]] = {
            a.name: frozenset(v for v, p in a.phrases.items() if p)
            for a in self.attributes.values() if a.type != "taxonomy"
        }

    # -- construction ----------------------------------------------------------------------
    def _build_attribute(self, spec: dict, tier: str, category: str) -> Attribute:
        name = spec.get("name", "?")
        kind = spec.get("type")
        if kind not in ("categorical", "multi", "taxonomy"):
            raise SchemaError(f"attribute {name!r}: unknown type {kind!r}")
        root = None
        if kind == "taxonomy":
            root = self.taxonomy.resolve_path(spec["root"])
        forbids = {v: frozenset(tags) for v, tags in spec.get("forbids", {}).items()}
        for value, tags in forbids.items():
            if kind != "taxonomy" and value not in spec.get("values", []):
                raise SchemaError(f"attribute {name!r}: forbids names unknown value {value!r}")
            if tags - TAGS:
                raise SchemaError(f"attribute {name!r}: unknown tags {sorted(tags - TAGS)}")
        return Attribute(
            name=name,
            description=spec.get("description", ""),
            type=kind,
            role=spec.get("role", "profile"),
            tier=tier,
            category=category,
            values=tuple(spec.get("values", ())),
            max_items=int(spec.get("max_items", 1)),
            root=root,
            polarity=int(spec.get("polarity", 1)),  # type: ignore[arg-type]
            ppopt=spec.get("ppopt"),
            forbids=forbids,
            phrases={v: tuple(p) for v, p in spec.get("phrases", {}).items()},
            news=self._news(name, spec),
            vague=tuple(spec.get("vague", ())),
            vague_for=self._vague_for(name, spec),
            outgrown=self._outgrown(name, spec),
            weights=self._per_value(name, spec, "weights"),
            shares=self._per_value(name, spec, "shares"),
        )

    @staticmethod
    def _per_value(name: str, spec: dict, key: Literal["weights", "shares"]) -> tuple[float, ...]:
        """An attribute's `weights` or `shares` in the order of its values, every value named once.

        Weights (categorical attributes) say how common each value is relative to the others: each a positive
        finite number (a value nobody has is no value of the attribute; a rule forbids what cannot go
        together).  Shares (multi-valued ones) are the share of people with each value, strictly between 0 and
        1: the values are drawn one by one, and a share of 1 would give everyone it.
        """
        numbers = spec.get(key)
        if numbers is None:
            return ()
        kind, are_for, one, expected = _PER_VALUE[key]
        values = list(spec.get("values", ()))
        if spec.get("type") != kind:
            raise SchemaError(f"attribute {name!r}: {key} are for {are_for}, got type {spec.get('type')!r}")
        if not isinstance(numbers, dict) or set(numbers) != set(values):
            named = sorted(numbers) if isinstance(numbers, dict) else numbers
            raise SchemaError(f"attribute {name!r}: {key} must give each of {values} {one}, got {named!r}")
        for value, number in numbers.items():
            if not _positive(number) or (key == "shares" and number >= 1):
                raise SchemaError(f"attribute {name!r}: {key}[{value!r}] = {number!r}; expected {expected}")
        return tuple(float(numbers[v]) for v in values)

    @staticmethod
    def _outgrown(name: str, spec: dict) -> dict[str, str]:
        """An attribute's `outgrown`, both sides of each entry checked against its domain."""
        outgrown = dict(spec.get("outgrown", {}))
        values = list(spec.get("values", ()))
        for value in (*outgrown, *outgrown.values()):
            if value not in values:
                raise SchemaError(
                    f"attribute {name!r}: outgrown names unknown value {value!r}; expected one of {values}")
        return outgrown

    @staticmethod
    def _news(name: str, spec: dict) -> dict[str, tuple[str, ...]]:
        """An attribute's `news`, each value checked against its domain and phrased plainly too (news is told
        of a value the user can also state)."""
        news = {v: tuple(p) for v, p in spec.get("news", {}).items()}
        for value in news:
            if value not in spec.get("values", ()):
                raise SchemaError(f"attribute {name!r}: news names unknown value {value!r}; "
                                  f"expected one of {list(spec.get('values', ()))}")
            if not spec.get("phrases", {}).get(value):
                raise SchemaError(f"attribute {name!r}: news for {value!r}, which has no phrases")
        return news

    @staticmethod
    def _vague_for(name: str, spec: dict) -> frozenset[str]:
        """An attribute's `vague_for`, each value checked against its domain."""
        values = frozenset(spec.get("vague_for", ()))
        unknown = sorted(values - set(spec.get("values", ())))
        if unknown:
            raise SchemaError(f"attribute {name!r}: vague_for names unknown value {unknown[0]!r}; "
                              f"expected one of {list(spec.get('values', ()))}")
        return values

    def _build_rule(self, spec: dict) -> Rule:
        rid = spec.get("id", "?")
        (when, values), *extra = spec["if"].items()
        if extra:
            raise SchemaError(f"rule {rid!r}: 'if' must name exactly one attribute")
        rule = Rule(
            id=rid,
            why=spec.get("why", ""),
            when=when,
            values=frozenset(values),
            forbid={k: frozenset(v) for k, v in spec.get("forbid", {}).items()},
            require={k: frozenset(v) for k, v in spec.get("require", {}).items()},
        )
        for attr_name, vals in ((when, rule.values), *rule.forbid.items(), *rule.require.items()):
            attr = self.attribute(attr_name)
            for v in vals:
                if attr.type != "taxonomy" and v not in attr.values:
                    raise SchemaError(f"rule {rid!r}: {attr_name!r} has no value {v!r}")
        return rule

    def _build_like_rule(self, spec: dict) -> LikeRule:
        """A rule on an interest (``if_likes``: a taxonomy display path; ``require``: attribute -> values)."""
        rid = spec.get("id", "?")
        node = self.taxonomy.resolve_path(spec["if_likes"])
        if node in self.like_rules:
            raise SchemaError(f"rule {rid!r}: {node!r} already has the rule {self.like_rules[node].id!r}")
        require = {k: frozenset(v) for k, v in spec.get("require", {}).items()}
        if not require:
            raise SchemaError(f"rule {rid!r}: 'if_likes' needs a 'require'")
        for attr_name, vals in require.items():
            attr = self.attribute(attr_name)
            if attr.type == "taxonomy":
                raise SchemaError(f"rule {rid!r}: 'require' names the interest attribute {attr_name!r}; "
                                  "expected an attribute with a list of values")
            unknown = sorted(vals - set(attr.values))
            if unknown:
                raise SchemaError(f"rule {rid!r}: {attr_name!r} has no value {unknown[0]!r}"
                                  f"{did_you_mean(unknown[0], attr.values)}")
        return LikeRule(id=rid, why=spec.get("why", ""), node=node, require=require)

    def _build_weight_rule(self, spec: dict) -> WeightRule:
        """A weight rule (``if``: one attribute -> values; ``scale``: attribute -> value -> factor), each attribute
        it scales drawn after the one it reads (the sampler draws in schema order), and categorical or with
        shares (a factor multiplies a share, up to `MAX_SHARE`)."""
        rid = spec.get("id", "?")
        (when, values), *extra = spec["if"].items()
        if extra:
            raise SchemaError(f"weight rule {rid!r}: 'if' must name exactly one attribute")
        order = list(self.attributes)
        attr = self.attribute(when)
        unknown = sorted(set(values) - set(attr.values))
        if attr.type == "taxonomy" or unknown:
            raise SchemaError(f"weight rule {rid!r}: {when!r} has no value {unknown[0] if unknown else values!r}")
        scale: dict[str, dict[str, float]] = {}
        for other, factors in spec.get("scale", {}).items():
            target = self.attribute(other)
            scalable = target.type == "categorical" or target.shares
            if not scalable or order.index(other) <= order.index(when):
                raise SchemaError(f"weight rule {rid!r}: scales {other!r}; expected a categorical attribute, or a "
                                  f"multi-valued one with shares, that the schema lists after {when!r}")
            for value, factor in factors.items():
                if value not in target.values:
                    raise SchemaError(f"weight rule {rid!r}: {other!r} has no value {value!r}"
                                      f"{did_you_mean(value, target.values)}")
                if not _positive(factor):
                    raise SchemaError(f"weight rule {rid!r}: scale[{other!r}][{value!r}] = {factor!r}; expected a "
                                      "positive finite number (a rule's 'forbid' rules a value out)")
            scale[other] = {v: float(f) for v, f in factors.items()}
        if not scale:
            raise SchemaError(f"weight rule {rid!r}: expected a 'scale'")
        return WeightRule(id=rid, why=spec.get("why", ""), when=when, values=frozenset(values), scale=scale)

    def _compile_rules(self) -> dict[tuple[str, str], dict[str, set[str]]]:
        """(attr, value) -> {other attr: values incompatible with it}, both directions."""
        table: dict[tuple[str, str], dict[str, set[str]]] = {}

        def ban(a: str, va: str, b: str, vb: str) -> None:
            table.setdefault((a, va), {}).setdefault(b, set()).add(vb)
            table.setdefault((b, vb), {}).setdefault(a, set()).add(va)

        for rule in self.rules:
            for va in rule.values:
                for b, vbs in rule.forbid.items():
                    for vb in vbs:
                        ban(rule.when, va, b, vb)
                for b, allowed in rule.require.items():
                    for vb in self.attributes[b].values:
                        if vb not in allowed:
                            ban(rule.when, va, b, vb)
        return table

    # -- queries ---------------------------------------------------------------------------
    def attribute(self, name: str) -> Attribute:
        """The attribute with this name; a clear error with a suggestion otherwise."""
        try:
            return self.attributes[name]
        except KeyError:
            raise SchemaError(
                f"unknown persona attribute {name!r}{did_you_mean(name, self.attributes)}"
            ) from None

    def forbidden_tags(self, attributes: Mapping[str, AttributeValue]) -> frozenset[str]:
        """Union of the taxonomy tags the given attribute values forbid."""
        out: frozenset[str] = frozenset()
        for name, attr in self._forbidding:  # the few attributes that forbid anything
            value = attributes.get(name)
            if value is not None:
                out |= attr.forbidden_tags(value)
        return out

    def could_have(self, attributes: Mapping[str, AttributeValue], name: str, value: str) -> bool:
        """Whether a persona with these attributes could have ``name=value``: no coherence rule bans it given the
        others (the sampler's rule table: with no children stated, a 60-year-old could not be expecting)."""
        for other, bad in self.incompatible.get((name, value), {}).items():
            current = attributes.get(other)
            if current is not None and not bad.isdisjoint(current if isinstance(current, list) else (current,)):
                return False
        return True

    def unfit_interests(self, attributes: Mapping[str, AttributeValue]) -> frozenset[str]:
        """The nodes a persona with these attributes cannot like, each with everything under it.

        A like rule's requirement is met by an attribute's value, or, for an
        attribute the persona does not state, by a value it could have
        (`could_have`): interests are then drawn, and changed, by the same
        rules as the attributes.  What an attribute has or could have is worked out once per call, not once
        per rule that requires it (several rules require children of some age).
        """
        unfit = set()
        held: dict[str, Collection[str]] = {}  # attribute -> the values it has, or could have when not stated
        for node, rule in self.like_rules.items():
            for name, allowed in rule.require.items():
                values = held.get(name)
                if values is None:
                    current = attributes.get(name)
                    if current is None:
                        values = [v for v in self._like_values[name] if self.could_have(attributes, name, v)]
                    else:
                        values = current if isinstance(current, list) else (current,)
                    held[name] = values
                if allowed.isdisjoint(values):
                    unfit.add(node)
                    break
        return frozenset(unfit)

    def rule_against(self, node: str, unfit: frozenset[str]) -> LikeRule | None:
        """The rule on interests that rules out liking `node`, given `unfit` (`unfit_interests`), or None."""
        return next((self.like_rules[a] for a in self.taxonomy.paths[node] if a in unfit), None)

    def like_rules_over(self, node: str) -> tuple[str, ...]:
        """The nodes at or above `node` that have a like rule: what liking it says about a persona."""
        return tuple(a for a in self.taxonomy.paths[node] if a in self.like_rules)

    def violations(
        self, attributes: Mapping[str, AttributeValue], interests: Iterable[Interest] = ()
    ) -> list[str]:
        """Every coherence problem of a persona (empty when coherent)."""
        problems: list[str] = []
        items = [
            (name, v)
            for name, value in attributes.items()
            for v in (value if isinstance(value, list) else [value])
        ]
        for name, v in items:
            for other, bad in self.incompatible.get((name, v), {}).items():
                ov = attributes.get(other)
                hits = set(ov if isinstance(ov, list) else [ov]) & bad if ov is not None else set()
                if hits and name < other:
                    problems.append(f"{name}={v} is incompatible with {other}={sorted(hits)[0]}")
        forbidden = self.forbidden_tags(attributes)
        interests = list(interests)
        for it in interests:
            tags = self.taxonomy.nodes[it.node].tags & forbidden
            if it.polarity > 0 and tags:
                problems.append(f"likes {it.node} tagged {sorted(tags)} that the persona forbids")
        unfit = self.unfit_interests(attributes) if interests else frozenset()
        for it in interests:
            rule = self.rule_against(it.node, unfit) if it.polarity > 0 else None
            if rule is not None:
                problems.append(f"likes {it.node}, which the rule {rule.id!r} does not let the persona like "
                                f"({rule.why})")
        liked = [i.node for i in interests if i.polarity > 0]
        for it in interests:
            if it.polarity < 0:
                for node in liked:
                    if self.taxonomy.is_ancestor(it.node, node) or self.taxonomy.is_ancestor(node, it.node):
                        problems.append(f"both likes {node} and dislikes {it.node}")
        return problems

    def validate_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Raise SchemaError on an unknown attribute or a value outside its domain."""
        for name, value in attributes.items():
            self.attribute(name).check(value, self.taxonomy)

    def validate_interests(self, nodes: Iterable[str]) -> None:
        """Raise SchemaError, naming the interest, unless every node is a taxonomy node id."""
        for i, node in enumerate(nodes):
            if node not in self.taxonomy:
                raise SchemaError(f"interests[{i}].node: {node!r} is not a taxonomy node id"
                                  f"{did_you_mean(node, self.taxonomy.ids)}")

    def as_data(self) -> dict:
        """The whole schema as plain data: tiers, categories, attributes and domains."""
        tiers = []
        for tier in self.tiers:
            cats = []
            for cat in tier["categories"]:
                attrs = []
                for name in cat["attributes"]:
                    a = self.attributes[name]
                    entry: dict = {"name": a.name, "type": a.type, "role": a.role,
                                   "description": a.description}
                    if a.type == "taxonomy":
                        entry |= {"root": a.root, "polarity": a.polarity,
                                  "domain_size": len(self.taxonomy.descendants(a.root or ""))}
                    else:
                        entry["values"] = list(a.values)
                    if a.type == "multi":
                        entry["max_items"] = a.max_items
                    if a.ppopt:
                        entry["ppopt"] = a.ppopt
                    if a.forbids:
                        entry["forbids"] = {k: sorted(v) for k, v in a.forbids.items()}
                    if a.weights:
                        entry["weights"] = dict(zip(a.values, a.weights, strict=True))
                    if a.shares:
                        entry["shares"] = dict(zip(a.values, a.shares, strict=True))
                    attrs.append(entry)
                cats.append({"id": cat["id"], "name": cat["name"], "attributes": attrs})
            tiers.append({"id": tier["id"], "name": tier["name"], "categories": cats})
        rules = [{"id": r.id, "why": r.why} for r in (*self.rules, *self.like_rules.values())]
        weight_rules = [{"id": r.id, "why": r.why} for r in self.weight_rules]
        return {"attribute_count": len(self.attributes), "tiers": tiers, "rules": rules, "weight_rules": weight_rules}


#: The numbers per value an attribute may give: key -> (the attribute type they are for, as the error says it,
#: one of them, what each must be).
_PER_VALUE = {
    "weights": ("categorical", "categorical attributes", "a weight", "a positive finite number"),
    "shares": ("multi", "multi-valued attributes (categorical ones take weights)", "a share",
               "a number between 0 and 1 (the share of people with the value)"),
}
#: The most a weight rule can raise a share to: nobody's values are certain.
MAX_SHARE = 0.95


def _positive(number: object) -> bool:
    """Whether a weight or factor read from the schema is a positive finite number (not a bool)."""
    return isinstance(number, int | float) and not isinstance(number, bool) and 0 < number < math.inf


@cache
def load_schema(path: Path | None = None, taxonomy: Taxonomy | None = None) -> PersonaSchema:
    """Load (once) the shipped persona schema against the shipped taxonomy."""
    raw = json.loads(Path(path or SCHEMA_PATH).read_text(encoding="utf-8"))
    return PersonaSchema(raw, taxonomy or load_taxonomy())
