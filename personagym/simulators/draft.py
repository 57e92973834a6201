"""An utterance under construction: segments that remember what they express.

Renderers build a `Draft`; the noise model edits it; `finish` joins it into the
final text and gives every surviving PKI its exact evidence span.  Keeping
entities, slots and phrases as separate segments is what makes the noise
semantic-aware: a typo never lands inside an entity name, a dropped slot is a
whole phrase, and a vague value replaces exactly the entity it stands for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from personagym.records import PKI

PLAIN, ENTITY, SLOT = 0, 1, 2
_SENTENCE_START = re.compile(r"(^|[.!?]\s+)([a-z])")
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.!?;:])")


@dataclass(slots=True)
class Segment:
    """A piece of an utterance: plain words, an entity carrying a PKI, or a slot phrase."""

    text: str
    kind: int = PLAIN
    pki: int = -1
    slot: str | None = None


@dataclass(slots=True)
class Draft:
    """Segments plus the PKIs they express (a PKI survives only with its segment)."""

    segments: list[Segment] = field(default_factory=list)
    pkis: list[PKI] = field(default_factory=list)

    def plain(self, text: str) -> None:
        """Append plain words."""
        if text:
            self.segments.append(Segment(text))

    def entity(self, text: str, pki: PKI | None) -> None:
        """Append an entity (a taxonomy name or an attribute phrase), with its PKI if any."""
        idx = -1
        if pki is not None:
            idx = len(self.pkis)
            self.pkis.append(pki)
        self.segments.append(Segment(text, ENTITY, idx))

    def slot(self, name: str, text: str) -> None:
        """Append a removable slot phrase (time, budget, ...)."""
        self.segments.append(Segment(text, SLOT, slot=name))

    def text(self) -> str:
        """The current text, without the final clean-up."""
        return "".join(s.text for s in self.segments)

    def finish(self, capitalize: bool = True) -> tuple[str, list[PKI]]:
        """Join segments into tidy text and return it with the PKIs and their evidence spans."""
        parts: list[str] = []
        spans: dict[int, tuple[int, int]] = {}
        pos = 0
        for seg in self.segments:
            t = seg.text
            if not t:
                continue
            if parts and parts[-1].endswith(" ") and t.startswith(" "):
                t = t.lstrip(" ")
            if seg.kind == ENTITY and seg.pki >= 0:
                spans[seg.pki] = (pos, pos + len(t))
            parts.append(t)
            pos += len(t)
        text = "".join(parts)
        if "  " in text or " ," in text or " ." in text or " ?" in text or " !" in text:
            text, spans = _tidy(text, spans)
        stripped = len(text) - len(text.lstrip())
        text = text.strip()
        if capitalize:
            text = _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)
        pkis = []
        for idx, pki in enumerate(self.pkis):
            span = spans.get(idx)
            if span is None:
                continue
            start, end = span[0] - stripped, span[1] - stripped
            pki.start, pki.end, pki.evidence = start, end, text[start:end]
            pkis.append(pki)
        return text, pkis


def _tidy(text: str, spans: dict[int, tuple[int, int]]) -> tuple[str, dict[int, tuple[int, int]]]:
    """Collapse double spaces and spaces before punctuation, moving spans along."""
    keep = [True] * len(text)
    for m in _SPACES.finditer(text):
        for i in range(m.start() + 1, m.end()):
            keep[i] = False
    for m in _SPACE_BEFORE_PUNCT.finditer(text):
        for i in range(m.start(), m.start(1)):
            keep[i] = False
    shift = [0] * (len(text) + 1)
    removed = 0
    for i, k in enumerate(keep):
        shift[i] = removed
        if not k:
            removed += 1
    shift[len(text)] = removed
    new_text = "".join(c for c, k in zip(text, keep, strict=True) if k)
    return new_text, {i: (a - shift[a], b - shift[b]) for i, (a, b) in spans.items()}
