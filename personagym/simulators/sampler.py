"""Persona sampling: partial observability, coherence by construction, batch diversity.

Following PPOpt's sampler, each attribute is present with probability
``availability`` (a persona is partially observed), some attributes are always
present, and a minimum number of style/constraint attributes is enforced.
Following FSPO/USP, a batch is kept diverse: a new persona must differ from
every earlier one of the batch in at least ``min_hamming`` attributes, with a
retry budget.  Values are drawn in schema order, each from the values that no
coherence rule forbids given what is already drawn; interests (taxonomy
attributes) are drawn last, never from nodes the persona's constraints forbid.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from personagym.records import AttributeValue, Interest, Persona
from personagym.rng import Draws, seed_sequence
from personagym.simulators.persona import Attribute, PersonaSchema, load_schema
from personagym.simulators.taxonomy import Taxonomy

_PRONOUN_I = re.compile(r"\bi\b")


class SamplerConfig(BaseModel):
    """Knobs of the persona sampler (defaults follow PPOpt's sampling config)."""

    model_config = ConfigDict(extra="forbid")

    availability: float = Field(0.7, ge=0.0, le=1.0, description="P(attribute present)")
    min_attributes: int = Field(15, ge=1)
    max_attributes: int | None = Field(60, ge=1, description="cap (PPOpt keeps 15 of 33; 60 of 130 is that share)")
    min_constraints: int = Field(5, ge=0, description="min style/constraint attributes")
    required: list[str] = Field(default_factory=lambda: ["query_length_pref"])
    min_hamming: int = Field(3, ge=0)
    max_attempts: int = Field(50, ge=1)
    latent_interests: int = Field(3, ge=0, description="extra interests beyond favourites")
    stratified: float = Field(0.5, ge=0.0, le=1.0)
    specificity: float = Field(0.6, ge=0.0, le=1.0)
    min_intensity: float = Field(0.3, ge=0.0, le=1.0)

    @field_validator("max_attributes")
    @classmethod
    def _max_not_below_min(cls, v: int | None, info) -> int | None:
        lo = info.data.get("min_attributes", 1)
        if v is not None and v < lo:
            raise ValueError(f"max_attributes ({v}) must be >= min_attributes ({lo})")
        return v


def first_person(phrase: str) -> str:
    """Capitalise a lowercase first-person phrase as a sentence ('i'm vegan' -> "I'm vegan")."""
    phrase = _PRONOUN_I.sub("I", phrase)
    return phrase[:1].upper() + phrase[1:]


def persona_id(attributes: dict[str, AttributeValue], interests: list[Interest]) -> str:
    """A content hash: the same persona always gets the same id."""
    parts = [f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in sorted(attributes.items())]
    parts += [f"{i.node}:{i.polarity}:{i.intensity:.4f}" for i in interests]
    return "p_" + hashlib.sha1("\n".join(parts).encode()).hexdigest()[:12]


class _Taken:
    """The interests drawn so far, indexed for O(depth) clash checks.

    A new interest clashes with an equal node, and with an ancestor or
    descendant of opposite polarity (liking jazz and disliking bebop).
    """

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._paths = taxonomy.paths
        self.nodes: set[str] = set()
        self.by_polarity: dict[int, set[str]] = {1: set(), -1: set()}
        self.on_paths: dict[int, set[str]] = {1: set(), -1: set()}  # nodes and their ancestors

    def add(self, node: str, polarity: int) -> None:
        self.nodes.add(node)
        self.by_polarity[polarity].add(node)
        self.on_paths[polarity].update(self._paths[node])

    def clashes(self, node: str, polarity: int) -> bool:
        other = self.by_polarity[-polarity]
        return (node in self.nodes or node in self.on_paths[-polarity]
                or any(a in other for a in self._paths[node]))

    def related(self, node: str) -> bool:
        """True if the node is, or is an ancestor or descendant of, any taken interest."""
        return (node in self.on_paths[1] or node in self.on_paths[-1]
                or any(a in self.nodes for a in self._paths[node]))


class PersonaSampler:
    """Draws coherent, diverse, partially observed personas from a schema."""

    def __init__(self, schema: PersonaSchema | None = None, config: SamplerConfig | None = None) -> None:
        self.schema = schema or load_schema()
        self.config = config or SamplerConfig()
        for name in self.config.required:
            self.schema.attribute(name)
        attrs = list(self.schema.attributes.values())
        self._plain = [a for a in attrs if a.type != "taxonomy"]
        self._interest = [a for a in attrs if a.type == "taxonomy"]
        self._order = self._plain + self._interest
        self._styleish = {a.name for a in attrs if a.role in ("style", "constraint")}
        self._is_required = [a.name in self.config.required for a in self._order]
        self._is_style = [a.name in self._styleish for a in self._order]
        self._value_index = {
            a.name: {v: i for i, v in enumerate(a.values)} for a in self._plain
        }
        self._taxonomy = self.schema.taxonomy

    # -- one persona -----------------------------------------------------------------------
    def _choose_present(self, d: Draws) -> list[Attribute]:
        """Which attributes this persona has, in schema order.

        Each attribute gets a uniform draw and is present if it falls below
        `availability` (required ones always are).  Taking the attributes in
        order of their draws makes every cut uniform: the `max_attributes`
        kept, the extras up to `min_attributes`, and the style/constraint
        attributes swapped in to reach `min_constraints`.
        """
        cfg, order = self.config, self._order
        u = d.randoms(len(order))
        ranked = sorted(range(len(order)), key=lambda i: -1.0 if self._is_required[i] else u[i])
        available = sum(1 for i in ranked if self._is_required[i] or u[i] < cfg.availability)
        m = max(available, cfg.min_attributes)
        if cfg.max_attributes is not None:
            m = min(m, cfg.max_attributes)
        chosen, rest = ranked[:m], ranked[m:]
        style = self._is_style
        deficit = cfg.min_constraints - sum(style[i] for i in chosen)
        if deficit > 0:
            extra = [i for i in rest if style[i]][:deficit]
            droppable = [i for i in reversed(chosen) if not style[i] and not self._is_required[i]]
            drop = set(droppable[: len(extra)]) if cfg.max_attributes is not None and m == cfg.max_attributes else set()
            chosen = [i for i in chosen if i not in drop] + extra
        return [order[i] for i in sorted(chosen)]

    def _draw_plain(self, attr: Attribute, banned: dict[str, set[str]], d: Draws) -> AttributeValue | None:
        bad = banned.get(attr.name)
        allowed = [v for v in attr.values if v not in bad] if bad else attr.values
        if attr.type == "multi":
            k = 0
            while k < attr.max_items and d.random() < 0.4:
                k += 1
            pool = list(allowed)
            items = []
            for _ in range(min(k, len(pool))):
                items.append(pool.pop(d.index(len(pool))))
            return sorted(items, key=attr.values.index)
        if not allowed:
            return None
        return d.choice(allowed)

    def _draw_interest(self, attr: Attribute, forbidden: frozenset[str], taken: _Taken, d: Draws) -> str | None:
        exclude = forbidden if attr.polarity > 0 else frozenset()
        for _ in range(8):
            node = self._taxonomy.sample_anchor(
                d, under=attr.root, stratified=self.config.stratified,
                specificity=self.config.specificity, exclude_tags=exclude,
            )
            if node is None:
                return None
            if not taken.clashes(node, attr.polarity):
                return node
        return None

    def _intensity(self, d: Draws) -> float:
        lo = self.config.min_intensity
        return round(lo + (1.0 - lo) * d.random(), 3)

    def _draw(self, d: Draws) -> tuple[dict[str, AttributeValue], list[Interest]]:
        schema = self.schema
        attributes: dict[str, AttributeValue] = {}
        banned: dict[str, set[str]] = {}
        interests: list[Interest] = []
        taken = _Taken(self._taxonomy)
        forbidden: frozenset[str] | None = None
        for attr in self._choose_present(d):
            if attr.type == "taxonomy":
                if forbidden is None:
                    forbidden = schema.forbidden_tags(attributes)
                node = self._draw_interest(attr, forbidden, taken, d)
                if node is not None:
                    attributes[attr.name] = node
                    taken.add(node, attr.polarity)
                    interests.append(Interest(
                        node=node, polarity=attr.polarity, intensity=self._intensity(d), source=attr.name))
                continue
            value = self._draw_plain(attr, banned, d)
            if value is None:
                continue
            attributes[attr.name] = value
            for v in value if isinstance(value, list) else (value,):
                for other, vals in schema.incompatible.get((attr.name, v), {}).items():
                    banned.setdefault(other, set()).update(vals)
        if forbidden is None:
            forbidden = schema.forbidden_tags(attributes)
        for _ in range(self.config.latent_interests):
            polarity = 1 if d.random() < 0.7 else -1
            node = self._taxonomy.sample_anchor(
                d, stratified=self.config.stratified, specificity=self.config.specificity,
                exclude_tags=forbidden if polarity > 0 else frozenset(),
            )
            if node is None or taken.related(node):
                continue
            taken.add(node, polarity)
            interests.append(Interest(node=node, polarity=polarity, intensity=self._intensity(d)))
        return attributes, interests

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
        return Persona(
            persona_id=persona_id(attributes, interests),
            attributes=attributes,
            interests=interests,
            summary=self.summary(attributes, interests),
            seed=seed,
            source=source,
        )

    # -- public API ------------------------------------------------------------------------
    def sample(self, seed: int | np.random.SeedSequence | None = None) -> Persona:
        """One persona; the same seed always gives the same persona."""
        ss = seed_sequence(seed)
        d = Draws(np.random.Generator(np.random.PCG64(ss)), block=512)
        attributes, interests = self._draw(d)
        return self.build(attributes, interests, seed=seed if isinstance(seed, int) else None)

    def sample_batch(self, n: int, seed: int | None = None) -> list[Persona]:
        """`n` personas, each differing from all earlier ones in >= min_hamming attributes.

        A candidate too close to an earlier persona is redrawn, up to
        ``max_attempts`` times; after that the farthest candidate seen is kept.
        Persona i is drawn from child seed i of `seed`, so batches are reproducible.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        root = seed_sequence(seed)
        codes = np.empty((n, len(self._order)), dtype=np.int32)
        out: list[Persona] = []
        for i, child in enumerate(root.spawn(n)):
            d = Draws(np.random.Generator(np.random.PCG64(child)), block=512)
            best, best_dist = None, -1
            for _ in range(self.config.max_attempts):
                attributes, interests = self._draw(d)
                code = self._encode(attributes)
                dist = int((codes[:i] != code).sum(axis=1).min()) if i else len(code)
                if dist > best_dist:
                    best, best_dist = (attributes, interests, code), dist
                if dist >= self.config.min_hamming:
                    break
            attributes, interests, code = best  # type: ignore[misc]
            codes[i] = code
            out.append(self.build(attributes, interests))
        return out

    # -- language --------------------------------------------------------------------------
    def summary(self, attributes: dict[str, AttributeValue], interests: list[Interest]) -> str:
        """A first-person description of the persona's salient facts.

        Constraints first (what must never be offered), then background, the
        strongest likes and dislikes, then how they want to be answered.
        """
        schema, tax = self.schema, self._taxonomy
        parts: list[str] = []
        for role in ("constraint", "profile", "style"):
            for name, value in attributes.items():
                attr = schema.attributes[name]
                if attr.role != role or attr.type == "taxonomy":
                    continue
                values = value if isinstance(value, list) else [value]
                for v in values:
                    phrases = attr.phrases.get(v)
                    if phrases:
                        parts.append(first_person(phrases[0]))
            if role == "profile":
                likes = sorted((i for i in interests if i.polarity > 0), key=lambda i: -i.intensity)
                dislikes = sorted((i for i in interests if i.polarity < 0), key=lambda i: -i.intensity)
                if likes:
                    parts.append("I like " + _join([tax.nodes[i.node].name for i in likes[:4]]))
                if dislikes:
                    parts.append("I dislike " + _join([tax.nodes[i.node].name for i in dislikes[:3]]))
        return ". ".join(parts) + ("." if parts else "")


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
