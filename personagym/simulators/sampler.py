"""Persona sampling: partial observability, coherence by construction, batch diversity.

Following PPOpt's sampler, each attribute is present with probability
``availability`` (a persona is partially observed), some attributes are always
present, and a minimum number of style/constraint attributes is enforced.
Following FSPO/USP, a batch is kept diverse: a new persona must differ from
every earlier one of the batch in at least ``min_hamming`` attributes, with a
retry budget.  Values are drawn in schema order, each from the values that no
coherence rule forbids given what is already drawn, as often as the schema's
weights (a multi-valued attribute's values: each with its share of people)
and the weight rules of the values drawn before say (PPOpt draws every
value alike: a third of its personas who state their sight are blind;
``value_weights="uniform"`` does so too); interests (taxonomy
attributes) are drawn last, never from nodes the persona's constraints forbid.
The order matters: a value that rules out every value of another attribute
(a retiree has no job role or seniority) must come before that attribute in the
schema, or it is drawn only when that attribute happens to be absent (retirees
were 0.7% of personas while employment status came after role and seniority).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import warnings
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from personagym.records import AttributeValue, Interest, Persona
from personagym.rng import Draws, seed_sequence
from personagym.shared import SharedOnCopy
from personagym.simulators.persona import MAX_SHARE, PersonaSchema, load_schema
from personagym.simulators.taxonomy import (
    CONCERN_KINDS,
    ROOT,
    AnchorSampler,
    Taxonomy,
    TaxonomyError,
    TaxonomyNode,
)
from personagym.suggest import ConfigFloat, ConfigInt

_PRONOUN_I = re.compile(r"\bi\b")
#: What a summary says before the things a persona likes and dislikes, by the sort of thing (`_lead_sort`), in the
#: order its sentences come: a language, a script, a therapy, a religious observance or a belief is of interest,
#: not liked ("I like Tamil" read as a taste in food, "I like cognitive behavioral therapy", "I like Hajj", "I
#: dislike Reform Judaism"); a whole top-level category is a broad taste ("I like shopping & consumer goods" read
#: as one thing); a condition or a cause is cared about and a news story followed, not liked ("I like the war in
#: Ukraine", "I dislike grandparents").  Sorts with the same words share a sentence.
_LEADS: dict[str, tuple[str, str]] = {
    "taste": ("I like ", "I dislike "),
    "interest": ("I'm interested in ", "I'm not interested in "),
    "area": ("I'm into all things ", "I'd rather not talk about "),
    "concern": ("I care about ", "I'd rather not talk about "),
    "news": ("I follow ", "I'd rather not talk about "),
}
#: The sort (`_LEADS`) of each kind of node said otherwise than as a taste (the concerns, `CONCERN_KINDS`, aside).
_KIND_SORTS: dict[str | None, str] = {"language": "interest", "script": "interest", "therapy": "interest",
                                      "observance": "interest", "belief": "interest", "calamity": "interest",
                                      "news": "news"}


#: How the sampler draws attribute values: as common as the schema's weights say, or every value alike.
ValueWeights = Literal["population", "uniform"]


class SamplerConfig(BaseModel):
    """Knobs of the persona sampler (defaults follow PPOpt's sampling config)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    availability: ConfigFloat = Field(0.7, ge=0.0, le=1.0, description="P(attribute present)")
    min_attributes: ConfigInt = Field(15, ge=1)
    max_attributes: ConfigInt | None = Field(
        60, ge=1, description="cap (PPOpt keeps 15 of 33; 60 of 130 is that share)")
    min_constraints: ConfigInt = Field(5, ge=0, description="min style/constraint attributes")
    required: list[str] = Field(default_factory=lambda: ["query_length_pref"])
    min_hamming: ConfigInt = Field(3, ge=0)
    max_attempts: ConfigInt = Field(50, ge=1)
    latent_interests: ConfigInt = Field(3, ge=0, description="extra interests beyond favourites")
    stratified: ConfigFloat = Field(0.5, ge=0.0, le=1.0)
    specificity: ConfigFloat = Field(0.6, ge=0.0, le=1.0)
    min_intensity: ConfigFloat = Field(0.3, ge=0.0, le=1.0)
    value_weights: ValueWeights = Field(
        "population", description="population: values as common as the schema's weights and weight rules say "
        "(few personas are blind, more sixty-year-olds are retired); uniform: every value as likely as any other "
        "(PPOpt's sampling: the most varied, the least like a real population)")

    @field_validator("max_attributes")
    @classmethod
    def _max_not_below_min(cls, v: int | None, info: ValidationInfo) -> int | None:
        lo = info.data.get("min_attributes", 1)
        if v is not None and v < lo:
            raise ValueError(f"max_attributes ({v}) must be >= min_attributes ({lo})")
        return v

    @model_validator(mode="after")
    def _required_fit_under_the_cap(self) -> SamplerConfig:
        """Refuse more required attributes than `max_attributes`: the cap would silently drop some of them."""
        n = len(set(self.required))
        if self.max_attributes is not None and n > self.max_attributes:
            raise ValueError(f"required names {n} attributes, more than max_attributes ({self.max_attributes}) "
                             "lets a persona have; expected at most that many, or a larger max_attributes")
        return self


def first_person(phrase: str) -> str:
    """Capitalise a lowercase first-person phrase as a sentence ('i'm vegan' -> "I'm vegan")."""
    phrase = _PRONOUN_I.sub("I", phrase)
    return phrase[:1].upper() + phrase[1:]


def persona_id(attributes: dict[str, AttributeValue], interests: list[Interest]) -> str:
    """A content hash: the same persona always gets the same id."""
    return _content_id(attributes, [i.__dict__ for i in interests])


#: An interest as the sampler handles it before it becomes a record: its fields (node, polarity, intensity, ...).
_Fields = Mapping[str, Any]


def _content_id(attributes: dict[str, AttributeValue], interests: list[_Fields]) -> str:
    """`persona_id` of attributes and interests given by their fields."""
    names = sorted(attributes)
    values = map(attributes.__getitem__, names)
    parts = [f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in zip(names, values, strict=True)]
    parts += [f"{i['node']}:{i['polarity']}:{i['intensity']:.4f}" for i in interests]
    return "p_" + hashlib.sha1("\n".join(parts).encode()).hexdigest()[:12]


#: No excluded tags (shared rather than built for every draw).
_NO_TAGS: frozenset[str] = frozenset()
#: The top-level categories no one dislikes as a whole: the stuff of everyone's life, not a pursuit to opt out of
#: ("I can't stand sports" is a taste; "I despise parenting & family, no exceptions", "I can't stand food & cooking"
#: are not: 9 of 919 dislikes over 300 LongTerm personas were whole categories, most of these).
NO_WHOLE_DISLIKE = frozenset({
    "parenting_family", "health_medicine", "food_cooking", "drinks_beverages", "careers_work", "education_learning",
    "home_garden", "travel_places", "nature_environment", "languages_linguistics"})

#: First block of uniforms of a persona's `Draws`: one per schema attribute (which are present) and one
#: or a few per value; about 250 for the shipped schema, never more than about 300, so one block serves.
_UNIFORMS = 320


class _PlainSpec(NamedTuple):
    """What drawing one non-taxonomy attribute needs, precomputed from the schema."""

    name: str
    values: tuple[str, ...]
    multi: bool
    max_items: int
    position: dict[str, int]  # value -> its index in `values` (multi values keep schema order)
    bans: dict[str, tuple[tuple[str, frozenset[str]], ...]]  # value -> (other attribute, values it rules out)
    weights: tuple[float, ...] | None  # how common each value is: odds, or a multi attribute's shares (None: alike)
    cumulative: tuple[float, ...] | None  # the running sums of `weights`
    scales: dict[str, tuple[tuple[str, dict[str, float]], ...]]  # value -> (later attribute, value -> factor)


class _InterestSpec(NamedTuple):
    """What drawing one taxonomy attribute (an interest under a root) needs."""

    name: str
    polarity: int
    anchor: AnchorSampler


def _weighted_index(odds: list[float], u: float) -> int | None:
    """The index a uniform `u` in [0, 1) picks from `odds` (non-negative), None if all are zero.

    With odds of 0 and 1 only this is the `int(u * n)`-th of the n allowed values, so a uniform sampler draws
    as it did before weights existed.
    """
    total = sum(odds)
    if total <= 0.0:
        return None
    x, acc, last = u * total, 0.0, None
    for k, w in enumerate(odds):
        if w > 0.0:
            acc += w
            last = k
            if x < acc:
                return k
    return last  # x rounded up to the total


def _scale(scaled: dict[str, dict[str, float]], by: tuple[tuple[str, dict[str, float]], ...]) -> None:
    """Multiply into `scaled` (attribute -> value -> factor) the factors a drawn value's weight rules give."""
    for other, more in by:
        table = scaled.setdefault(other, {})
        for v, f in more.items():
            table[v] = table.get(v, 1.0) * f


class PersonaSampler(SharedOnCopy):
    """Draws coherent, diverse, partially observed personas from a schema.

    Everything a draw reads from the schema and taxonomy (value domains, rule
    bans per value, anchor samplers per interest root, summary sentences) is
    tabulated once here, so that a draw is table look-ups and uniforms.
    """

    def __init__(self, schema: PersonaSchema | None = None, config: SamplerConfig | None = None) -> None:
        self.schema = schema or load_schema()
        self.config = config or SamplerConfig()
        cfg = self.config
        for name in cfg.required:
            self.schema.attribute(name)
        attrs = list(self.schema.attributes.values())
        if cfg.min_hamming > len(attrs):
            raise ValueError(f"min_hamming={cfg.min_hamming} exceeds the schema's {len(attrs)} attributes: no two "
                             f"personas could differ in that many; expected at most {len(attrs)}")
        self._plain = [a for a in attrs if a.type != "taxonomy"]
        self._interest = [a for a in attrs if a.type == "taxonomy"]
        self._order = self._plain + self._interest
        styleish = {a.name for a in attrs if a.role in ("style", "constraint")}
        self._required = [i for i, a in enumerate(self._order) if a.name in cfg.required]
        self._is_required = [a.name in cfg.required for a in self._order]
        self._is_style = [a.name in styleish for a in self._order]
        self._value_index = {
            a.name: {v: i for i, v in enumerate(a.values)} for a in self._plain
        }
        self._taxonomy = tax = self.schema.taxonomy
        self._paths = tax.paths
        sorts = {nid: _lead_sort(tax, nid) for nid in tax.nodes}
        #: node -> the words before it in the summary, when liked and when disliked (`_LEADS`)
        self._leads = {nid: _LEADS[sort] for nid, sort in sorts.items()}
        #: the names the summary says, with "the" where a name takes it as a noun ("I care about the housing market",
        #: not "I care about housing market"), but for a whole category ("all things performing arts"), and in the
        #: plural for a drink had one at a time ("I like mojitos")
        self._names = {nid: _plural(node) if tax.kinds[nid] == "serving"
                       else f"the {node.name}" if node.name.lower() in tax.definite and sorts[nid] != "area"
                       else node.name for nid, node in tax.nodes.items()}
        incompatible = self.schema.incompatible
        weighted = cfg.value_weights == "population"
        scales = self.schema.scales if weighted else {}
        self._plain_specs = [
            _PlainSpec(a.name, a.values, a.type == "multi", a.max_items, self._value_index[a.name], {
                v: tuple((other, frozenset(vals)) for other, vals in incompatible[a.name, v].items())
                for v in a.values if incompatible.get((a.name, v))
            }, (a.weights or a.shares or None) if weighted else None,
                tuple(itertools.accumulate(a.weights)) if weighted and a.weights else None,
                {v: tuple(scales[a.name, v].items()) for v in a.values if (a.name, v) in scales})
            for a in self._plain
        ]
        self._interest_specs = [
            _InterestSpec(a.name, a.polarity, tax.anchor_sampler(
                a.root, stratified=cfg.stratified, specificity=cfg.specificity))
            for a in self._interest
        ]
        self._ruled = frozenset(self.schema.like_rules)  # the nodes with a rule on liking them
        self._latent_anchor = tax.anchor_sampler(stratified=cfg.stratified, specificity=cfg.specificity)
        roles = {"constraint": 0, "profile": 1, "style": 2}
        self._summary_phrases: dict[str, tuple[int, dict[str, str]] | None] = {
            a.name: (roles[a.role], {v: first_person(p[0]) for v, p in a.phrases.items() if p})
            if a.role in roles and a.type != "taxonomy" else None
            for a in attrs
        }

    # -- one persona -----------------------------------------------------------------------
    def _choose_present(self, d: Draws) -> list[int]:
        """Which attributes this persona has, as sorted indices into the schema order.

        Each attribute gets a uniform draw and is present if it falls below
        `availability` (required ones always are).  Taking the attributes in
        order of their draws makes every cut uniform: the `max_attributes`
        kept, the extras up to `min_attributes`, and the style/constraint
        attributes swapped in to reach `min_constraints`.
        """
        cfg = self.config
        n = len(self._order)
        u = d.randoms(n)
        for i in self._required:
            u[i] = -1.0  # ranks first and always counts as available
        ordered = sorted(u)
        m = max(bisect_left(ordered, cfg.availability), cfg.min_attributes)
        if cfg.max_attributes is not None:
            m = min(m, cfg.max_attributes)
        # The m smallest draws, found by value; ranking indices (slower) is needed only
        # to break ties at the cut and to swap in style attributes.
        if m >= n:
            chosen = list(range(n))
        else:
            cut = ordered[m - 1]
            chosen = [i for i, x in enumerate(u) if x <= cut]
        style = self._is_style
        deficit = cfg.min_constraints - sum(map(style.__getitem__, chosen))
        if len(chosen) != m or deficit > 0:
            ranked = sorted(range(n), key=u.__getitem__)
            chosen, rest = ranked[:m], ranked[m:]
            deficit = cfg.min_constraints - sum(map(style.__getitem__, chosen))
            if deficit > 0:
                extra = [i for i in rest if style[i]][:deficit]
                droppable = [i for i in reversed(chosen) if not style[i] and not self._is_required[i]]
                capped = cfg.max_attributes is not None and m == cfg.max_attributes
                drop = set(droppable[: len(extra)]) if capped else set()
                chosen = [i for i in chosen if i not in drop] + extra
            chosen.sort()
        return chosen

    @staticmethod
    def _draw_multi(spec: _PlainSpec, bad: set[str] | None, factors: dict[str, float] | None,
                    d: Draws) -> list[str]:
        """Up to `max_items` distinct allowed values, in schema order: each value with its share (times the
        weight rules' `factors`, up to `MAX_SHARE`), a random few dropped past `max_items`; without shares, a
        count (each one more with probability 0.4), then that many values alike."""
        shares = spec.weights
        if shares is not None:
            rand = d.random
            items = []
            for k, value in enumerate(spec.values):
                share = shares[k]
                if factors and value in factors:
                    share = min(share * factors[value], MAX_SHARE)
                if rand() < share and not (bad and value in bad):
                    items.append(value)
            while len(items) > spec.max_items:
                items.pop(d.index(len(items)))
            return items
        k = 0
        while k < spec.max_items and d.random() < 0.4:
            k += 1
        pool = [v for v in spec.values if v not in bad] if bad else list(spec.values)
        items = [pool.pop(d.index(len(pool))) for _ in range(min(k, len(pool)))]
        return sorted(items, key=spec.position.__getitem__)

    def _draw(self, d: Draws) -> tuple[dict[str, AttributeValue], list[dict[str, Any]]]:
        """Attributes and interests (record fields, as dicts) of one persona.

        Plain attributes come first, each from the values the rules leave; then
        the forbidden tags they imply; then interests, each redrawn (up to 8
        times) while it clashes with one taken (an equal node, or an ancestor or
        descendant of opposite polarity: liking jazz and disliking bebop) or,
        liked, breaks a rule on interests (`PersonaSchema.unfit_interests`).  A
        latent interest that clashes is left out, not redrawn.
        """
        attributes: dict[str, AttributeValue] = {}
        banned: dict[str, set[str]] = {}
        scaled: dict[str, dict[str, float]] = {}  # attribute -> value -> factor, from the weight rules so far
        rand = d.random
        chosen = self._choose_present(d)
        plain_specs = self._plain_specs
        cut = bisect_left(chosen, len(plain_specs))
        for i in chosen[:cut]:
            spec = plain_specs[i]
            name, values, multi, _, position, bans, weights, cumulative, scales = spec
            bad = banned.get(name)
            if multi:
                items = self._draw_multi(spec, bad, scaled.get(name), d)
                attributes[name] = items
                rules = [rule for v in items for rule in bans.get(v, ())]
                for value in items:
                    if value in scales:
                        _scale(scaled, scales[value])
            else:
                factors = scaled.get(name)
                if bad or factors:
                    odds = list(weights) if weights else [1.0] * len(values)
                    for v, f in (factors or {}).items():
                        odds[position[v]] *= f
                    for v in bad or ():
                        odds[position[v]] = 0.0
                    k = _weighted_index(odds, rand())
                    if k is None:
                        continue
                    value = values[k]
                elif cumulative is not None:
                    value = values[min(bisect_right(cumulative, rand() * cumulative[-1]), len(values) - 1)]
                else:
                    value = values[int(rand() * len(values))]
                attributes[name] = value
                rules = bans.get(value)
                if value in scales:
                    _scale(scaled, scales[value])
            if rules:
                for other, vals in rules:
                    if other in banned:
                        banned[other].update(vals)
                    else:
                        banned[other] = set(vals)
        forbidden = self.schema.forbidden_tags(attributes)
        paths = self._paths
        taken: set[str] = set()
        by_polarity: dict[int, set[str]] = {1: set(), -1: set()}  # taken nodes
        above: dict[int, set[str]] = {1: set(), -1: set()}  # taken nodes and their ancestors
        interests: list[dict[str, Any]] = []
        # intensities are uniform in [lo, 1], to 3 decimals (int(x * 1000 + 0.5) / 1000: round(x, 3) up to
        # exact ties, and faster)
        lo = self.config.min_intensity
        span = 1.0 - lo
        interest_specs = self._interest_specs
        for i in chosen[cut:]:
            name, polarity, anchor = interest_specs[i - len(plain_specs)]
            exclude = forbidden if polarity > 0 else _NO_TAGS
            opposite, opposite_above = by_polarity[-polarity], above[-polarity]
            for _ in range(8):
                node = anchor(d, exclude)
                if node is None:
                    break
                path = paths[node]
                if node in taken or node in opposite_above or not opposite.isdisjoint(path) \
                        or (polarity > 0 and self._ruled_out(path, attributes)) \
                        or (polarity < 0 and node in NO_WHOLE_DISLIKE):
                    continue
                attributes[name] = node
                taken.add(node)
                by_polarity[polarity].add(node)
                above[polarity].update(path)
                interests.append({"node": node, "polarity": polarity,
                                  "intensity": int((lo + span * rand()) * 1000 + 0.5) / 1000, "source": name})
                break
        for _ in range(self.config.latent_interests):  # latent: unrelated to every taken interest
            polarity = 1 if rand() < 0.7 else -1
            node = self._latent_anchor(d, forbidden if polarity > 0 else _NO_TAGS)
            if node is None or node in above[1] or node in above[-1] or not taken.isdisjoint(paths[node]) \
                    or (polarity > 0 and self._ruled_out(paths[node], attributes)) \
                    or (polarity < 0 and node in NO_WHOLE_DISLIKE):
                continue
            taken.add(node)
            by_polarity[polarity].add(node)
            above[polarity].update(paths[node])
            interests.append({"node": node, "polarity": polarity,
                              "intensity": int((lo + span * rand()) * 1000 + 0.5) / 1000})
        return attributes, interests

    def _ruled_out(self, path: tuple[str, ...], attributes: dict[str, AttributeValue]) -> bool:
        """Whether liking the node at the end of `path` breaks a rule on interests, given the attributes.

        The rules are checked only for the few nodes under one (most draws are not), keeping a draw fast.
        """
        return not self._ruled.isdisjoint(path) and not self.schema.unfit_interests(attributes).isdisjoint(path)

    def _encode(self, attributes: dict[str, AttributeValue]) -> np.ndarray:
        """Vector of value codes per attribute (-1 absent) for Hamming distances."""
        code = np.full(len(self._order), -1, dtype=np.int32)
        for i, attr in enumerate(self._order):
            value = attributes.get(attr.name)
            if value is None:
                continue
            if attr.type == "taxonomy":
                code[i] = self._taxonomy.index[value]  # type: ignore[index]
            elif attr.type == "multi":
                idx = self._value_index[attr.name]
                code[i] = sum(1 << idx[v] for v in value) + 1
            else:
                code[i] = self._value_index[attr.name][value]  # type: ignore[index]
        return code

    def build(self, attributes: dict[str, AttributeValue], interests: list[Interest],
              seed: int | None = None, source: str = "sampled") -> Persona:
        """Wrap drawn attributes into a Persona record with id and summary."""
        return self._record(attributes, [i.__dict__ for i in interests], interests, seed, source)

    def _record(self, attributes: dict[str, AttributeValue], fields: list[_Fields],
                interests: list[Interest] | list[dict[str, Any]], seed: int | None, source: str) -> Persona:
        """The Persona record; `fields` are those of the `interests`."""
        return Persona(
            persona_id=_content_id(attributes, fields),
            attributes=attributes,
            interests=interests,
            summary=self._summary(attributes, fields),
            seed=seed,
            source=source,
        )

    def _drawn(self, attributes: dict[str, AttributeValue], interests: list[dict[str, Any]],
               seed: int | None = None) -> Persona:
        """The Persona record of what `_draw` returned."""
        return self._record(attributes, interests, interests, seed, "sampled")

    # -- public API ------------------------------------------------------------------------
    def sample(self, seed: int | np.random.SeedSequence | None = None) -> Persona:
        """One persona; the same seed always gives the same persona."""
        ss = seed_sequence(seed)
        d = Draws(np.random.Generator(np.random.PCG64(ss)), block=512, first=_UNIFORMS)
        attributes, interests = self._draw(d)
        return self._drawn(attributes, interests, seed=seed if isinstance(seed, int) else None)

    def sample_batch(self, n: int, seed: int | None = None, *, strict: bool = False,
                     progress: Callable[[int], None] | None = None) -> list[Persona]:
        """`n` personas, each differing from all earlier ones in >= min_hamming attributes.

        A candidate too close to an earlier persona is redrawn, up to
        ``max_attempts`` times; after that the farthest candidate seen is kept,
        and a warning says how many fell short (the batch is still returned), or,
        `strict`, a `DiversityError` is raised at the first that falls short
        (personas that far apart have run out: later ones only fall short more
        often, each after ``max_attempts`` draws).  `progress` is called with the
        number of personas done after each one.
        Persona i is drawn from child seed i of `seed`, so batches are reproducible.

        A candidate is compared only with the earlier personas it could be too
        close to (`_Neighbours`), so a batch takes about linear time when
        ``min_hamming`` is small beside the attribute count; the batch is the
        same as comparing with every earlier persona.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        root = seed_sequence(seed)
        h = self.config.min_hamming
        near = _Neighbours(n, len(self._order), h)
        out: list[Persona] = []
        short, closest = 0, len(self._order)
        for i, child in enumerate(root.spawn(n)):
            d = Draws(np.random.Generator(np.random.PCG64(child)), block=512, first=_UNIFORMS)
            best, best_dist = None, -1
            for _ in range(self.config.max_attempts):
                attributes, interests = self._draw(d)
                code = self._encode(attributes)
                dist = near.closest(code)
                if dist > best_dist:
                    best, best_dist = (attributes, interests, code), dist
                if dist >= h:
                    break
            attributes, interests, code = best  # type: ignore[misc]
            if best_dist < h:
                if strict:
                    raise DiversityError(
                        f"persona {i + 1:,} of {n:,} differs from an earlier one in only {best_dist} attributes "
                        f"after {self.config.max_attempts} draws, fewer than min_hamming={h}: personas that far "
                        "apart have run out; expected a lower min_hamming")
                short, closest = short + 1, min(closest, best_dist)
            near.add(code)
            out.append(self._drawn(attributes, interests))
            if progress is not None:
                progress(i + 1)
        if short:  # --min-hamming 100 was silently not met (pairs differed in 89 to 97 attributes)
            warnings.warn(f"{short} of {n} personas differ from an earlier one in fewer than min_hamming="
                          f"{self.config.min_hamming} attributes (the closest in {closest}), after "
                          f"{self.config.max_attempts} draws each; a lower min_hamming can be met", stacklevel=2)
        return out

    # -- language --------------------------------------------------------------------------
    def summary(self, attributes: dict[str, AttributeValue], interests: list[Interest]) -> str:
        """A first-person description of the persona's salient facts.

        Constraints first (what must never be offered), then background, the
        strongest likes and dislikes, then how they want to be answered.
        """
        return self._summary(attributes, [i.__dict__ for i in interests])

    def _summary(self, attributes: dict[str, AttributeValue], interests: list[_Fields]) -> str:
        """`summary` of attributes and interests given by their fields, from the tabulated sentences."""
        by_role: tuple[list[str], list[str], list[str]] = ([], [], [])  # constraint, profile, style
        phrases = self._summary_phrases
        for name, value in attributes.items():
            entry = phrases[name]
            if entry is not None:
                role, sentences = entry
                if isinstance(value, list):
                    by_role[role].extend(sentences[v] for v in value if v in sentences)
                elif value in sentences:
                    by_role[role].append(sentences[value])
        parts = by_role[0] + by_role[1]
        names, leads = self._names, self._leads
        likes = sorted((i for i in interests if i["polarity"] > 0), key=lambda i: -i["intensity"])
        dislikes = sorted((i for i in interests if i["polarity"] < 0), key=lambda i: -i["intensity"])
        for side, chosen in ((0, likes[:4]), (1, dislikes[:3])):
            said: dict[str, list[str]] = {lead[side]: [] for lead in _LEADS.values()}  # in `_LEADS` order
            for i in chosen:
                said[leads[i["node"]][side]].append(names[i["node"]])
            parts += [lead + _join(nodes) for lead, nodes in said.items() if nodes]
        parts += by_role[2]
        return ". ".join(parts) + ("." if parts else "")


class DiversityError(ValueError):
    """A strict `PersonaSampler.sample_batch` could not keep a persona `min_hamming` attributes from the others."""


class _Neighbours:
    """The codes of a batch's personas so far, and the distance from a new code to the closest of them.

    `closest` is exact when below `h` (the one case the batch needs exactly: a candidate too close, kept if the
    farthest of its draws) and otherwise some value >= h.  By the pigeonhole principle, with the attributes split
    into `h` blocks, two codes fewer than `h` attributes apart agree exactly on at least one block; so each block's
    values index the personas that have them, and a candidate is compared only with those sharing a block with it
    (for the default h=3, blocks of 43 attributes: about none).  When the blocks are too small to be selective
    (h above about 25 of 130 attributes: most pairs share some block), the candidate is compared with every
    earlier code an attribute at a time, and a code is dropped once it differs in `h` (it cannot be too close):
    most are after half the attributes.  Once that is the rule the index is no longer kept.
    """

    def __init__(self, n: int, width: int, h: int) -> None:
        self.columns = np.empty((width, n), dtype=np.int32)  # attribute-major: a scan reads one attribute's codes
        self.size = 0
        self.h = h
        self.blocks = [(int(b[0]), int(b[-1]) + 1) for b in np.array_split(np.arange(width), h)] if h else []
        self.index: list[dict[bytes, list[int]]] | None = [{} for _ in self.blocks]
        self.scans = 0  # candidates compared with every earlier code

    def closest(self, code: np.ndarray) -> int:
        """Attributes `code` differs in from the closest code so far (exact below `h`; `width` if none)."""
        size, h = self.size, self.h
        if not size or not h:
            return len(code)
        if self.index is not None:
            raw = code.tobytes()
            found = [hit for (lo, hi), table in zip(self.blocks, self.index, strict=True)
                     if (hit := table.get(raw[4 * lo:4 * hi])) is not None]
            total = sum(map(len, found))
            if total * 4 <= size:
                if not total:
                    return len(code)
                rows = np.fromiter(itertools.chain.from_iterable(found), dtype=np.intp, count=total)
                return int((self.columns[:, rows] != code[:, None]).sum(axis=0).min())
            self.scans += 1
            if size >= 1000 and self.scans * 2 > size:  # the blocks do not narrow it down: stop indexing
                self.index = None
        return self._scan(code)

    def _scan(self, code: np.ndarray) -> int:
        """`closest` by comparing with every code so far, an attribute at a time, dropping those `h` apart."""
        size, h = self.size, self.h
        columns = self.columns
        if size < 4096:  # few codes: one numpy pass beats a loop over the attributes
            return int((columns[:, :size] != code[:, None]).sum(axis=0).min())
        apart = np.zeros(size, dtype=np.uint8)  # attributes compared so far in which each code differs
        rows: np.ndarray | None = None  # the codes still compared (None: all)
        for j, value in enumerate(code.tolist()):
            if rows is None:
                apart += columns[j, :size] != value
            else:
                apart += columns[j, rows] != value
            if j % 8 == 7:
                near = apart < h
                kept = int(np.count_nonzero(near))
                if not kept:
                    return h
                if kept * 4 <= len(apart):
                    rows = near.nonzero()[0] if rows is None else rows[near]
                    apart = apart[near]
        return int(apart.min())

    def add(self, code: np.ndarray) -> None:
        """Keep `code` as the next persona's."""
        i = self.size
        self.columns[:, i] = code
        self.size = i + 1
        if self.index is not None:
            raw = code.tobytes()
            for (lo, hi), table in zip(self.blocks, self.index, strict=True):
                key = raw[4 * lo:4 * hi]
                hit = table.get(key)
                if hit is None:
                    table[key] = [i]
                else:
                    hit.append(i)


def _lead_sort(taxonomy: Taxonomy, node: str) -> str:
    """Which of `_LEADS` a summary says before `node`: by its kind, and "area" for a top-level category."""
    if taxonomy.nodes[node].parent == ROOT:
        return "area"
    kind = taxonomy.kinds[node]
    if kind in CONCERN_KINDS:
        return "concern"
    return _KIND_SORTS.get(kind, "taste")


def _plural(node: TaxonomyNode) -> str:
    """The plural a summary says a drink had one at a time by ("I like mojitos", not "I like mojito"): the first of
    its aliases, not a loose one, that ends in "s" (the taxonomy lists a drink's plural among them: "old
    fashioneds" for the old fashioned cocktail), so the summary makes up no plural of its own."""
    for alias in node.aliases:
        if alias.endswith("s") and alias not in node.loose:
            return alias
    raise TaxonomyError(f"taxonomy node {node.id!r} ({node.name!r}) is of the kind serving but lists no plural "
                        f"among its aliases {list(node.aliases)}; expected one ending in 's' ('mojitos')")


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
