"""Words that presuppose facts about the speaker, and who may say them.

"For my kids" needs children, "walking the dog rn" a dog, "under $5,000" a
budget that allows it.  Data files give each such phrase the attribute
values it needs (``{"for my kids": {"children": ["young_children", ...]}}``);
a speaker who has none of them does not say it, and a speaker without the
attribute at all may (nothing they have said contradicts it) unless the
phrase states the fact (`states`: "for my kids" tells the listener the
speaker has children, which a profile without children cannot back; "I'm over
50" states an age, whatever else it needs).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from personagym.shared import LRUCache

#: attribute -> the values that allow a phrase
Needs = dict[str, frozenset[str]]
#: How many filtered pools each set of phrases keeps (`LRUCache`): kept whole, the 19 sets of the shipped data held
#: 16,876 after 20,000 Chat-v0 episodes (~23 MiB) and grew with every user; replaying 10,000 episodes' pools, this
#: size misses 80% of them (53% kept whole).
FITTING_CACHED = 1024


class Presuppositions:
    """The needs of a set of phrases, and which of them a speaker may say.

    Pools are filtered by the set of phrases a speaker may not say.  Many
    speakers share it (most have everything a phrase needs, or lack it in the
    same few ways), so the filtered pools used last are cached; the rest make
    a long tail that grows with every user met, which the cache lets go.
    """

    def __init__(self, raw: Mapping[str, Mapping[str, list[str]]],
                 states: Mapping[str, str | Collection[str]] | None = None, where: str = "needs") -> None:
        """`raw`: phrase -> attribute -> the values that allow it; `states`: phrase -> the attribute or attributes
        it states, among those it needs (a speaker without one of them may not say it); `where` names `states` in
        errors."""
        self.needs: dict[str, Needs] = {
            phrase: {a: frozenset(allowed) for a, allowed in needs.items()} for phrase, needs in raw.items()}
        stated: dict[str, frozenset[str]] = {}
        for phrase, said in (states or {}).items():
            stated[phrase] = frozenset((said,) if isinstance(said, str) else said)
            stray = sorted(stated[phrase] - set(self.needs.get(phrase, {})))
            if stray:
                raise ValueError(f"{where}: {phrase!r} states {stray[0]!r}; expected an attribute its needs name "
                                 f"({', '.join(self.needs.get(phrase, {})) or 'none'})")
        # per attribute a phrase needs: the phrases each of its values rules out, those a value no phrase allows
        # rules out (all that need the attribute), and those a speaker without the attribute may not say (stated).
        # `excluded` runs per request and reads each attribute once: checked phrase by phrase, 60 places that
        # each need the speaker's region made it 4% of a user turn.
        by_attribute: dict[str, dict[str, Needs]] = {}
        for phrase, needs in self.needs.items():
            for attribute, allowed in needs.items():
                by_attribute.setdefault(attribute, {})[phrase] = allowed
        self._by_attribute: dict[str, tuple[dict[str, frozenset[str]], frozenset[str], frozenset[str]]] = {}
        for attribute, allowing in by_attribute.items():
            values = set().union(*allowing.values())
            self._by_attribute[attribute] = (
                {v: frozenset(p for p, allowed in allowing.items() if v not in allowed) for v in values},
                frozenset(allowing), frozenset(p for p in allowing if attribute in stated.get(p, ())))
        self._fitting = LRUCache(FITTING_CACHED)  # (phrases, excluded) -> those left

    def check(self, attributes: Mapping[str, Sequence[str]], where: str) -> None:
        """Raise ValueError, naming `where`, unless every need names an attribute and values it has.

        `attributes` maps each attribute name to its values (the persona schema's).
        """
        for phrase, needs in self.needs.items():
            for attribute, allowed in needs.items():
                known = attributes.get(attribute)
                if known is None or not allowed <= set(known):
                    raise ValueError(f"{where}[{phrase!r}] needs {attribute}={sorted(allowed)}, "
                                     "which the persona schema does not have")

    def excluded(self, attributes: Mapping[str, object]) -> frozenset[str]:
        """The phrases a speaker with these attributes may not say ("for my kids" without children, or with no
        `children` attribute at all: a phrase that states it)."""
        get = attributes.get
        out: list[frozenset[str]] = []  # joined once at the end: a union per attribute copied the phrases so far
        for attribute, (ruled_out, needing, stated) in self._by_attribute.items():
            value = get(attribute)
            if value is None:
                gone = stated
            elif isinstance(value, list | tuple):  # multi-valued: out only if no value is one a phrase allows
                gone = needing
                for v in value:
                    gone = gone & ruled_out.get(v, needing)
            else:
                gone = ruled_out.get(value, needing)  # type: ignore[arg-type]
            if gone:
                out.append(gone)
        return _NOTHING.union(*out)

    def fitting(self, phrases: tuple[str, ...], excluded: frozenset[str]) -> tuple[str, ...]:
        """Those of `phrases` not `excluded`; all of them if none is left (a pool never runs dry)."""
        if excluded.isdisjoint(phrases):
            return phrases
        key = (phrases, excluded)
        fits = self._fitting.get(key)
        if fits is None:
            fits = self._fitting[key] = tuple(p for p in phrases if p not in excluded) or phrases
        return fits


_NOTHING: frozenset[str] = frozenset()
