"""Words that presuppose facts about the speaker, and who may say them.

"For my kids" needs children, "walking the dog rn" a dog, "under $5,000" a
budget that allows it.  Data files give each such phrase the attribute
values it needs (``{"for my kids": {"children": ["young_children", ...]}}``);
a speaker who has none of them does not say it, and a speaker without the
attribute at all may (nothing they have said contradicts it).
"""

from __future__ import annotations

from collections.abc import Mapping

#: attribute -> the values that allow a phrase
Needs = dict[str, frozenset[str]]


class Presuppositions:
    """The needs of a set of phrases, and the phrases a speaker may use (computed once per kind of speaker)."""

    def __init__(self, raw: Mapping[str, Mapping[str, list[str]]]) -> None:
        self.needs: dict[str, Needs] = {
            phrase: {a: frozenset(allowed) for a, allowed in needs.items()} for phrase, needs in raw.items()}
        #: the attributes any phrase needs: a speaker is known by their values of these alone
        self.attributes = tuple(sorted({a for needs in self.needs.values() for a in needs}))
        self._fitting: dict[tuple[tuple[str, ...], tuple], tuple[str, ...]] = {}

    def speaker(self, attributes: Mapping[str, object]) -> tuple:
        """The key of a speaker: their values of the attributes that matter (a multi-valued one as a tuple)."""
        return tuple(_hashable(attributes.get(a)) for a in self.attributes)

    def fitting(self, phrases: tuple[str, ...], attributes: Mapping[str, object]) -> tuple[str, ...]:
        """Those of `phrases` the speaker may say; all of them if none fits (a pool never runs dry)."""
        if not self.needs:
            return phrases
        key = (phrases, self.speaker(attributes))
        fits = self._fitting.get(key)
        if fits is None:
            has = dict(zip(self.attributes, key[1], strict=True))
            fits = tuple(p for p in phrases if all(
                _meets(has[a], allowed) for a, allowed in self.needs.get(p, {}).items()))
            fits = self._fitting[key] = fits or phrases
        return fits


def _hashable(value: object) -> object:
    """An attribute value as a cache key part (a multi-valued one is a list)."""
    return tuple(value) if isinstance(value, list) else value


def _meets(value: object, allowed: frozenset[str]) -> bool:
    """Whether an attribute value (None: unknown; a tuple: multi-valued) is one a phrase needs."""
    if value is None:
        return True
    if isinstance(value, tuple):
        return not allowed.isdisjoint(value)
    return value in allowed
