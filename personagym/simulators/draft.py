"""An utterance under construction: segments that remember what they express.

Renderers build a `Draft`; the noise model edits it; `finish` joins it into the
final text and gives every surviving PKI its exact evidence span.  Keeping
entities, slots and phrases as separate segments is what makes the noise
semantic-aware: a typo never lands inside an entity name, a dropped slot is a
whole phrase, and a vague value replaces exactly the entity it stands for.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field

from personagym.records import PKI

PLAIN, ENTITY, SLOT = 0, 1, 2
# The start of a sentence after the first (`finish` checks the first itself: a pattern that also
# matches at "^" cannot skip ahead to the punctuation, and is several times slower), unless its
# word keeps its own case ("iPhone", "eBay", "macOS").
_SENTENCE_START = re.compile(r"([.!?]\s+)([a-z])(?![a-z]*[A-Z])")
_OWN_CASE = re.compile(r"[a-z]+[A-Z]")
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.!?;:])")
_UNTIDY = re.compile(r"  | [,.?!]")  # what `_tidy` may have to fix (a cheap test first)
_PRONOUN_I = re.compile(r"\bi\b")
#: What follows an entity that is a modifier, not a noun ("Cold War-themed", "Raspberry Pi stuff"): the head nouns
#: templates put right after one with no determiner of their own before it ("shopping for {topic} stuff",
#: "tickets for {topic} events", "a list of {topic} recommendations"); it takes no "the" there.
_MODIFIES = re.compile(r"-| (?:stuff|events|recommendations|trivia)\b")
# Words starting with a vowel letter but a consonant sound ("a unique", "a European", "a one-day").
_VOWEL_LETTER_CONSONANT_SOUND = re.compile(r"(?:uni|use|usu|ute|uto|uk|eu|one\b|once\b)", re.IGNORECASE)


def fix_pronoun(phrase: str) -> str:
    """Capitalise the pronoun 'i' in a lowercase phrase."""
    return _PRONOUN_I.sub("I", phrase) if "i" in phrase else phrase


def article_for(word: str) -> str:
    """The indefinite article ("a" or "an") that `word` takes, by its first letter.

    Acronyms (two capitals first) are left alone by the caller: their article
    follows how the letters are spoken ("an SUV", "a NASA tour"), not spelt.
    """
    if word and word[0] in "AEIOUaeiou" and not _VOWEL_LETTER_CONSONANT_SOUND.match(word):
        return "an"
    return "a"


@dataclass(slots=True)
class Segment:
    """A piece of an utterance: plain words, an entity carrying a PKI, or a slot phrase.

    ``aside`` marks words after the request proper (an attached preference, a
    closer such as "Thanks!", a goodbye suffix, an emoji): clauses the noise
    adds to the request go before them, not after "Thanks!".
    """

    text: str
    kind: int = PLAIN
    pki: int = -1
    slot: str | None = None
    aside: bool = False


#: `tone_pref` values of a user who asks for a formal register: no slang from them, whatever their formality
FORMAL_TONES = frozenset({"formal", "professional"})


def casual_speaker(speaker: Mapping[str, object] | None) -> bool:
    """Whether a speaker with these attributes may say what only a casual user says: a `formality_level` of
    very_casual or casual, or none known, unless they want a formal tone ("Thx so much" from a user who asks
    for formal answers)."""
    if speaker is None:
        return True
    return speaker.get("formality_level") in (None, "very_casual", "casual") and \
        speaker.get("tone_pref") not in FORMAL_TONES


@dataclass(slots=True)
class Draft:
    """Segments plus the PKIs they express (a PKI survives only with its segment).

    ``intent`` is the kind of intent rendered and ``asks`` whether the
    utterance asks the assistant to do something (a task request, or a
    complaint asking for a better answer): noise that only makes sense in a
    request (delegating a choice, contradictory instructions, "like last
    time") leaves other utterances alone.  ``casual`` is set once the noise
    has lowercased the utterance, so that words it adds later match.
    ``mood`` is how the utterance feels, for the emoji noise may add;
    ``speaker`` who says it, so that noise adds no "walking the dog rn" for
    someone without a dog.  ``definite`` holds the lowercased entity names
    that take "the" as a noun (`Taxonomy.definite`): `finish` adds it to
    "about Cold War" but not to "a Cold War theme".  ``singular`` maps
    lowercased plural names to their singular form (`Taxonomy.singular`),
    which `finish` says after "a": "a salad theme", not "a salads theme".
    ``contrast`` marks an utterance that sets its entity against another (a
    change of taste: "more into bebop than swing"): noise swaps it for nothing
    vaguer or else, which could be the other one ("... than swing than swing").
    ``details`` holds, per slot, the details the speaker could have asked for in this request
    (`TemplateBank.request_slot_values`: places of their region and climate that fit the topic): what a mind
    change on a detail settles on ("in Lisbon, wait, around Manila" from someone in Warsaw was none of them);
    None: any of the bank's.  ``template`` is the request template rendered (its parsed (literal, field) pairs;
    None: no request), whose own limits a detail must keep (`TemplateBank.template_details`: no six-month plan
    "in the next hour").  ``history`` is what the conversation so far holds for words to point back at, as the
    noise lexicon's `history_needs` name it (`conversation_so_far`: "request" once the session has had one,
    "session" after an earlier session, ...); None: not known, anything.  No "Like I explained earlier." in a
    first-time user's first message.
    """

    segments: list[Segment] = field(default_factory=list)
    pkis: list[PKI] = field(default_factory=list)
    intent: str = ""
    asks: bool = False
    casual: bool = False
    mood: int = 0  # 1 pleased (praise, a happy goodbye, a like), -1 displeased, 0 neither (a request)
    speaker: Mapping[str, object] | None = None  # the speaker's attributes, when known
    definite: frozenset[str] = frozenset()
    singular: Mapping[str, str] = field(default_factory=dict)
    contrast: bool = False
    details: Mapping[str, tuple[str, ...]] | None = None
    template: tuple[tuple[str, str | None], ...] | None = None
    history: frozenset[str] | None = None

    @property
    def casual_speaker(self) -> bool:
        """Whether the speaker may say what only a casual user says ("Yo!", "thx", "so hyped"): unknown is."""
        return casual_speaker(self.speaker)

    def plain(self, text: str, aside: bool = False) -> None:
        """Append plain words (``aside``: after the request proper, see `Segment`)."""
        if text:
            self.segments.append(Segment(text, aside=aside))

    def cased(self, phrase: str) -> str:
        """A phrase to add, in the utterance's case: lowercase once casual, else with the pronoun "I"."""
        return phrase.lower() if self.casual else fix_pronoun(phrase)

    def entity(self, text: str, pki: PKI | None) -> None:
        """Append an entity (a taxonomy name or an attribute phrase), with its PKI if any."""
        idx = -1
        if pki is not None:
            idx = len(self.pkis)
            self.pkis.append(pki)
        self.segments.append(Segment(text, ENTITY, idx))

    def slot(self, name: str, text: str, pki: PKI | None = None) -> None:
        """Append a removable slot phrase (time, budget, ...), with the PKI of a fact it states ("for my kids")."""
        idx = -1
        if pki is not None:
            idx = len(self.pkis)
            self.pkis.append(pki)
        self.segments.append(Segment(text, SLOT, idx, slot=name))

    def text(self) -> str:
        """The current text, without the final clean-up."""
        return "".join(s.text for s in self.segments)

    def finish(self, capitalize: bool = True) -> tuple[str, list[PKI]]:
        """Join segments into tidy text and return it with the PKIs and their evidence spans.

        Sentences start with a capital, unless the noise made the utterance casual (all lowercase: capitals
        put back at sentence starts undid it, "What should i know?").
        """
        text, spans, stripped = self._joined(self.segments, capitalize)
        pkis = []
        for idx, pki in enumerate(self.pkis):
            span = spans.get(idx)
            if span is None:
                continue
            start, end = span[0] - stripped, span[1] - stripped
            pki.start, pki.end, pki.evidence = start, end, text[start:end]
            pkis.append(pki)
        return text, pkis

    def finished_text(self, segments: list[Segment]) -> str:
        """The tidy text `finish` makes of `segments`, some of the draft's (a request without its opener and
        asides), placing no PKI: their indices are into the whole draft's."""
        return self._joined(segments, True)[0]

    def _joined(self, segments: list[Segment], capitalize: bool) -> tuple[str, dict[int, tuple[int, int]], int]:
        """(tidy text, PKI index -> its span before stripping, the characters stripped off the front) of
        `segments` (`finish`)."""
        capitalize = capitalize and not self.casual
        parts: list[str] = []
        spans: dict[int, tuple[int, int]] = {}
        pos = 0
        space = False  # the text so far ends with a space
        after_plain = False  # the previous piece is plain words (which may end in an article)
        for k, seg in enumerate(segments):
            t = seg.text
            if not t:
                continue
            if space and t[0] == " ":
                t = t.lstrip(" ")
            the = False
            if seg.kind == ENTITY and (self.definite or self.singular):
                low = t.lower()
                if low in self.singular or low in self.definite:
                    words = _words_before(parts)
                    if low in self.singular and _after_a(words):  # "a salad theme", not "a salads theme"
                        t = self.singular[low].lower() if self.casual else self.singular[low]
                        low = t.lower()
                    # not where it modifies what follows: "Cold War-themed", "tickets for Super Bowl events"
                    the = low in self.definite and _takes_the(words) and not (
                        k + 1 < len(segments) and _MODIFIES.match(segments[k + 1].text))
            if seg.kind != PLAIN and after_plain and space:
                pos += _agree_article(parts, t)
            if the:
                parts.append("the ")
                pos += 4
            after_plain = seg.kind == PLAIN
            if seg.pki >= 0:  # an entity's, or a detail's that states a fact
                spans[seg.pki] = (pos, pos + len(t))
            parts.append(t)
            pos += len(t)
            space = t.endswith(" ")
        text = "".join(parts)
        if _UNTIDY.search(text):
            text, spans = _tidy(text, spans)
        stripped = len(text) - len(text.lstrip())
        text = text.strip()
        if capitalize:
            text = _SENTENCE_START.sub(_capitalize, capitalized(text))
        return text, spans, stripped


def _agree_article(parts: list[str], word: str) -> int:
    """Make the article ending ``parts[-1]`` agree with the entity or slot `word` that follows it.

    A template writes "a {topic} theme" for any topic, and noise may swap the
    entity for its parent or an alias, so "a"/"an" is settled here, where the
    words meet.  Returns how many characters ``parts[-1]`` grew by (-1, 0 or 1).
    """
    last = parts[-1]
    if last.endswith(("a ", "A ")):
        article = last[-2:-1]
    elif last.endswith(("an ", "An ")):
        article = last[-3:-1]
    else:
        return 0
    before = len(last) - len(article) - 1
    if before > 0 and last[before - 1].isalnum():
        return 0  # the end of a longer word ("Panama ", "can ")
    if len(word) > 1 and word[0].isupper() and word[1].isupper():
        return 0  # an acronym: see `article_for`
    wanted = article_for(word)
    if wanted == article.lower() or word[:1] in "Hh":
        return 0  # agrees, or "an" before a silent h ("an hour") that spelling cannot tell
    wanted = wanted.capitalize() if article[0].isupper() else wanted
    parts[-1] = last[:before] + wanted + " "
    return len(wanted) - len(article)


#: Words after which a noun has its determiner already ("a", "my", "no") or is a modifier ("some Cold War trivia").
_DETERMINERS = frozenset(
    {"a", "an", "the", "some", "any", "no", "my", "your", "our", "their", "his", "her", "its", "more",
     "every", "each", "another", "whose", "which", "what"})  # fmt: skip


def _words_before(parts: list[str]) -> list[str] | None:
    """The last two words of `parts`, lowercased: [] at the start or after punctuation ("Honestly? ..."), None
    when what follows is glued to a word ("non-")."""
    if not parts:
        return []
    tail = parts[-1] if len(parts) == 1 or len(parts[-1]) > 24 else parts[-2] + parts[-1]
    if tail[-1:] not in " \t\n":
        return None
    words = tail.lower().split()[-2:]
    return words if words and words[-1][-1:].isalpha() else []


def _after_a(words: list[str] | None) -> bool:
    """Whether an entity after `words` follows "a" or "a" and one word: a modifier ("a Cold War theme",
    "a massive Cold War nerd")."""
    if not words:
        return False
    return words[-1] in ("a", "an") or (len(words) == 2 and words[0] in ("a", "an"))


def _takes_the(words: list[str] | None) -> bool:
    """Whether an entity that takes "the" as a noun gets it after `words` (see `_words_before`).

    Not after a determiner ("a Cold War theme", "no Cold War, please") nor
    after "a" and one more word ("a massive Cold War nerd"), nor glued to a
    word; elsewhere it stands as a noun: at the start, after punctuation, a
    verb or a preposition ("about the Cold War").
    """
    if words is None:
        return False
    return not words or (words[-1] not in _DETERMINERS and not _after_a(words))


def capitalized(text: str) -> str:
    """Text with its first letter capitalised, unless its first word keeps its own case ("iPhone", "eBay")."""
    if "a" <= text[:1] <= "z" and not _OWN_CASE.match(text):
        return text[0].upper() + text[1:]
    return text


def _capitalize(m: re.Match[str]) -> str:
    """The `_SENTENCE_START` match with its letter uppercased."""
    return m.group(1) + m.group(2).upper()


def _tidy(text: str, spans: dict[int, tuple[int, int]]) -> tuple[str, dict[int, tuple[int, int]]]:
    """Collapse double spaces and spaces before punctuation, moving spans along."""
    removed: set[int] = set()
    for m in _SPACES.finditer(text):
        removed.update(range(m.start() + 1, m.end()))
    for m in _SPACE_BEFORE_PUNCT.finditer(text):
        removed.update(range(m.start(), m.start(1)))
    cut = sorted(removed)
    pieces, prev = [], 0
    for i in cut:
        pieces.append(text[prev:i])
        prev = i + 1
    pieces.append(text[prev:])
    # a position moves left by the number of removed characters before it
    return "".join(pieces), {k: (a - bisect_left(cut, a), b - bisect_left(cut, b)) for k, (a, b) in spans.items()}
