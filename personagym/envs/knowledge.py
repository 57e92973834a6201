"""World knowledge for policies, built from the taxonomy, schema and analyzer.

This is what a well-informed assistant may know about the world: entity names
and their relations, which tags a diet or allergy forbids, which phrases state
a preference.  It never holds a user's profile.  Policies receive it through
`PersonaChatEnv.knowledge()` and use it through the `Knowledge` protocol.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property

from personagym.simulators.analyzer import ResponseAnalyzer
from personagym.simulators.persona import PersonaSchema

_SENTENCE = re.compile(r"[^.!?\n]+")
_DISLIKE = re.compile(
    r"\b(?:hate|can't stand|cannot stand|dislike|not (?:a )?(?:big )?fan|not into|not really into|"
    r"don't like|do not like|not my thing|avoid|sick of|tired of|no more|ugh|never again|meh)\b"
)


class WorldKnowledge:
    """Implements `personagym.policies.base.Knowledge` over the shipped data."""

    def __init__(self, schema: PersonaSchema, analyzer: ResponseAnalyzer) -> None:
        self.schema = schema
        self.taxonomy = schema.taxonomy
        self.analyzer = analyzer
        self._related: dict[str, tuple[str, ...]] = {}  # node -> `related(node)`, filled as policies ask

    @cached_property
    def _phrases(self) -> list[tuple[str, str, str]]:
        """(lowercase phrase, attribute, value), longest first so specific phrases win."""
        out = []
        for attr in self.schema.attributes.values():
            for value, phrases in attr.phrases.items():
                out.extend((p.lower(), attr.name, value) for p in phrases)
        return sorted(out, key=lambda x: -len(x[0]))

    def mentions(self, text: str) -> list[tuple[str, str]]:
        """(node id, stance) of taxonomy entities a text mentions."""
        return self.analyzer.mentions(text)

    def name(self, node: str) -> str:
        """Display name of a node."""
        return self.taxonomy.nodes[node].name

    def related(self, node: str) -> list[str]:
        """Children of the node, or its siblings for a leaf (a fresh list: callers may change it)."""
        related = self._related.get(node)
        if related is None:  # the taxonomy never changes, so each node's answer is worked out once
            related = self._related[node] = tuple(self.taxonomy.children[node]) or tuple(self.taxonomy.siblings(node))
        return list(related)

    def category(self, node: str) -> str:
        """Top-level category id."""
        return self.taxonomy.top_category(node)

    def tags(self, node: str) -> frozenset[str]:
        """Constraint tags of a node."""
        return self.taxonomy.nodes[node].tags

    def forbidden_tags(self, attribute: str, value: str) -> frozenset[str]:
        """Tags an attribute value forbids."""
        attr = self.schema.attributes.get(attribute)
        return attr.forbidden_tags(value) if attr is not None else frozenset()

    def statements(self, text: str) -> list[tuple[str, str, int]]:
        """Preferences a user message states, as (key, value, polarity).

        Attribute phrases are matched verbatim (case-insensitive); entities
        take the polarity of the sentiment cue in their sentence (like by
        default: people ask about what they care for).
        """
        lower = text.lower()
        out: list[tuple[str, str, int]] = []
        taken: list[tuple[int, int]] = []
        for phrase, attribute, value in self._phrases:
            pos = lower.find(phrase)
            if pos >= 0 and not any(a <= pos < b for a, b in taken):
                taken.append((pos, pos + len(phrase)))
                out.append((attribute, value, 1))
        for sentence in _SENTENCE.finditer(lower):
            chunk = sentence.group(0)
            found = self.analyzer.find_mentions(chunk)
            if "make that" in chunk:  # a mind change: "X, actually wait, make that Y"
                cut = chunk.index("make that")
                found = [f for f in found if f[1] > cut] or found
            # "I meant Y, not X": X is rejected, not liked or disliked
            found = [f for f in found if not chunk[: f[1]].rstrip().endswith(" not")]
            if not found:
                continue
            polarity = -1 if _DISLIKE.search(chunk) else 1
            key = "likes" if polarity > 0 else "dislikes"
            out.extend((key, node, polarity) for node, *_ in found)
        return out

    def random_nodes(self, draw: Callable[[int], int], k: int) -> list[str]:
        """`k` nodes drawn with `draw(n)`."""
        ids = self.taxonomy.ids
        return [ids[draw(len(ids))] for _ in range(k)]
