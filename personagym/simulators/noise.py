"""Semantic-aware noise: the distractor's three layers, applied to a `Draft`.

With probability ``rate`` an utterance is noised; one layer is chosen by
``layer_weights`` and each of its strategies fires with its own probability
(at least one always fires).  Layers (PersonaGym/PPOpt):

* surface: colloquial speech, incomplete sentence, typo, word segmentation,
  punctuation, synonym rewrite, emotional tone, negation, real-life fragment;
* incomplete: missing slot, vague value (a slot goes vague, an entity becomes
  its taxonomy parent), context dependency, unclear priority;
* ambiguity: multiple intents, unclear intent, self-contradiction, mind change.

Semantic awareness: edits work on segments, so typos never corrupt an entity
name; a vague entity is its taxonomy parent ("certain cuisines" for a
grouping node); a mind change says a neighbour of an entity, drawn with
probability decreasing in taxonomy distance, before it ("X, oops, make that
Y", Y the truth) or in its place (a slip the user may correct in their next
message), or swaps a detail for another the user could have asked for
and the request's template takes (`Draft.details`: a place of their region and
climate that fits the topic, a time in the template's span).  A request's topic
is never what a mind change settles on: "the best place to shop for hardscaping,
let me change that, make that patio & deck building" asked about the new topic
while the request the user's answers are judged by stayed the old one.  The
ground truth never changes; the PKIs record what the text now expresses.

Noise fits the utterance: strategies that only make sense in a request
(urgency, "like last time", contradictory instructions, an ambiguous
"sort this out") apply to task requests and complaints, words that point back
at the conversation ("like I explained earlier", "the one from the other day",
"can you do that thing again") only where what they point at happened
(`Draft.history`, the lexicon's `history_needs`), delegating a choice
("any length is fine") to task requests only, and only in place of a style
preference the request states, saying which (an allergy is not "whatever you'd
go with", and "How do I network? Whatever you'd go with." leaves nothing to
choose).  A goodbye
or a disclosure gets typos, casual wording, fragments, side questions, mind
changes and vague values instead; when the chosen layer has nothing that
fits, the utterance stays clean.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from personagym.records import PKI, NoiseLayer
from personagym.rng import Draws
from personagym.shared import SharedOnCopy
from personagym.simulators.draft import ENTITY, PLAIN, SLOT, Draft, Segment
from personagym.simulators.needs import Presuppositions
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.taxonomy import Taxonomy
from personagym.suggest import ConfigFloat, did_you_mean

LEXICON_PATH = Path(__file__).parent / "data" / "noise_lexicon.json"
LAYERS: tuple[str, ...] = ("surface", "incomplete", "ambiguity")

#: Strategy -> default probability, per layer (in the order they are applied).
DEFAULT_STRATEGIES: dict[str, dict[str, float]] = {
    "surface": {  # in the order applied: words are chosen (synonyms) before fingers slip on them (typos)
        "colloquial_speech": 0.4, "incomplete_sentence": 0.3, "synonym_rewrite": 0.5, "typo": 0.25,
        "word_segmentation": 0.15, "punctuation": 0.4,
        "emotional_tone": 0.3, "negation": 0.4, "real_life_fragment": 0.2,
    },
    "incomplete": {
        "missing_slot": 0.5, "vague_value": 0.6, "context_dependency": 0.6,
        "unclear_priority": 0.7,
    },
    "ambiguity": {
        "multiple_intents": 0.6, "unclear_intent": 0.5, "self_contradiction": 0.7,
        "mind_change": 0.4,
    },
}  # fmt: skip

_WORD = re.compile(r"[A-Za-z][A-Za-z']+")
#: Compounds people split: "something" -> "some thing", "anyone" -> "any one", "overall" -> "over all"; not
#: "up date", "under stand", "out line", "to night", "no thing" or "no body" (38 of 207 audited splits): no one's
#: typing, and the last two name something else.
_COMPOUND = re.compile(r"\b(?!(?:nothing|nobody|overtime)\b)(some|any|every|no|with|over|out|in)(thing|one|body|"
                       r"where|time|times|day|all|out|in|self|how|way|ways|side|night)\b", re.IGNORECASE)
#: The end of a sentence inside plain words ("Ideas?", not the dot of "Node.js").
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
#: Two short words a missed space joins ("a lot" -> "alot", "of the" -> "ofthe"), within a clause.
_SHORT_PAIR = re.compile(r"(?<![\w'-])([a-z]{1,3}) ([a-z]{2,4})(?![\w'-])")
_PRONOUN_START = re.compile(r"I\b")  # "I", "I'm", "I'd": stays capitalised mid-sentence
_KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
_FRAME = re.compile(
    r"^(?:(?:hi|hello|hey)[,!.]?\s+)?(?:(?:can|could|would) you\s+(?:please\s+)?|please\s+|"
    r"i(?:'d| would) like to\s+|i want to\s+)",
    re.IGNORECASE,
)


class NoiseConfig(BaseModel):
    """How often and how an utterance is noised."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    rate: ConfigFloat = Field(0.25, description="fraction of utterances noised, in [0, 1]")
    layer_weights: dict[str, ConfigFloat] = Field(
        default_factory=lambda: {"surface": 0.5, "incomplete": 0.3, "ambiguity": 0.2}
    )
    strategies: dict[str, dict[str, ConfigFloat]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_STRATEGIES.items()}
    )
    confusion_decay: ConfigFloat = Field(1.0, gt=0.0, description="larger: confusions stay closer")

    @field_validator("rate")
    @classmethod
    def _check_rate(cls, rate: float) -> float:
        """A field check (not a model one), so that the error names the field: `rate`, or the option it came from."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"noise rate must be in [0, 1], got {rate}")
        return rate

    @model_validator(mode="after")
    def _check(self) -> NoiseConfig:
        for name in self.layer_weights:
            if name not in LAYERS:
                raise ValueError(
                    f"layer_weights: unknown layer {name!r}{did_you_mean(name, LAYERS)}; "
                    f"expected {', '.join(LAYERS)}"
                )
        for name, w in self.layer_weights.items():
            if not 0.0 <= w <= 1.0:
                raise ValueError(f"layer_weights[{name!r}] must be in [0, 1], got {w}")
        total = sum(self.layer_weights.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"layer_weights must sum to 1, got {total:g} "
                f"({', '.join(f'{k}={v:g}' for k, v in self.layer_weights.items())})"
            )
        for layer, probs in self.strategies.items():
            if layer not in LAYERS:
                raise ValueError(f"strategies: unknown layer {layer!r}{did_you_mean(layer, LAYERS)}")
            known = DEFAULT_STRATEGIES[layer]
            for name, p in probs.items():
                if name not in known:
                    raise ValueError(
                        f"strategies[{layer!r}]: unknown strategy {name!r}"
                        f"{did_you_mean(name, list(known))}; expected one of {', '.join(known)}"
                    )
                if not 0.0 <= p <= 1.0:
                    raise ValueError(f"strategies[{layer!r}][{name!r}] must be in [0, 1], got {p}")
        return self


@cache
def load_lexicon(path: Path | None = None) -> dict:
    """The noise lexicon (synonyms, misspellings, markers, ...), loaded once."""
    return json.loads(Path(path or LEXICON_PATH).read_text(encoding="utf-8"))


def _word_regex(words: list[str]) -> re.Pattern[str]:
    """Whole-word, case-insensitive matcher of lowercase `words`; at each position the longest word wins.

    The words are compiled as a character trie (``help(?:ful|s)?``) rather than
    one alternative per word: `re` tries alternatives one by one, so a flat
    list of a few hundred words costs tens of microseconds per sentence, while
    the trie follows the text and backtracks only to the nearest shorter word.
    At most one branch of a trie node fits the next character, so the first
    match found is the longest word that ends on a word boundary, as with the
    words listed longest first.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here
    return re.compile(rf"\b(?:{_trie_pattern(trie)})\b", re.IGNORECASE)


def _trie_pattern(node: dict[str, dict]) -> str:
    """The regex of a trie node: its branches, optional as a whole where a word ends at the node."""
    branches = [re.escape(ch) + _trie_pattern(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


@dataclass(frozen=True)
class _LexiconTables:
    """Look-up tables and compiled patterns of one lexicon (built once, shared)."""

    lexicon: dict
    synonym_re: re.Pattern[str]
    contraction_re: re.Pattern[str]
    misspellings: dict[str, list[str]]
    negations: dict[str, str]
    pools: dict[bool, _Pools]


_TABLES: dict[int, _LexiconTables] = {}


def _lexicon_tables(lex: dict) -> _LexiconTables:
    """The tables of a lexicon, cached by identity (the entry keeps the lexicon alive)."""
    cached = _TABLES.get(id(lex))
    if cached is None or cached.lexicon is not lex:
        synonyms = {k.lower(): v for k, v in lex["synonyms"].items()}
        contractions = {k.lower(): v for k, v in lex["contractions"].items()}
        cached = _TABLES[id(lex)] = _LexiconTables(
            lexicon=lex,
            synonym_re=_word_regex(list(synonyms)),
            contraction_re=_word_regex(list(contractions)),
            misspellings={k.lower(): v for k, v in lex["misspellings"].items()},
            negations={k.lower(): v for k, v in lex["negations"].items()},
            pools=_register_pools(lex, synonyms, contractions),
        )
    return cached


@dataclass(frozen=True, slots=True)
class _Pools:
    """What noise draws the words it adds from, for one register (`casual_only` words or not)."""

    synonyms: dict[str, tuple[str, ...]]
    contractions: dict[str, str]
    starters: tuple[str, ...]
    asking_starters: tuple[str, ...]
    emotions: tuple[str, ...]  # polite, frustrated, excited: a request's, with `urgent`
    complaint_emotions: tuple[str, ...]  # frustrated, fed up (with the answers so far): a complaint's, with `urgent`
    urgent: tuple[str, ...]
    fragments: tuple[str, ...]
    connectors: tuple[str, ...]
    mind_change: tuple[str, ...]
    contradictions: tuple[str, ...]


def _register_pools(lex: dict, synonyms: dict[str, list[str]], contractions: dict[str, str]) -> dict[bool, _Pools]:
    """Casual speaker or not -> the pools: a formal user's leave out the lexicon's `casual_only` words.

    `synonyms` and `contractions` are the lexicon's, keyed in lowercase.  A
    `casual_only` word that is in no pool is refused by name: it would keep
    nothing from a formal user.
    """
    starters, markers = lex["casual_starters"], lex["emotional_markers"]
    emotions = [m for tone, pool in markers.items() if tone not in ("urgent", "fed_up") for m in pool]
    complaint_emotions = [*markers["frustrated"], *markers.get("fed_up", ())]
    casual = _Pools(
        synonyms={k: tuple(v) for k, v in synonyms.items()}, contractions=contractions, starters=tuple(starters),
        asking_starters=(*starters, *lex.get("asking_starters", ())), emotions=tuple(emotions),
        complaint_emotions=tuple(complaint_emotions), urgent=tuple(markers["urgent"]),
        fragments=tuple(lex["real_life_fragments"]),
        connectors=tuple(lex["multi_intent_connectors"]), mind_change=tuple(lex["mind_change_markers"]),
        contradictions=tuple(c for cs in lex["contradictions"].values() for c in cs))
    only = frozenset(lex.get("casual_only", ()))
    said = {w for options in casual.synonyms.values() for w in options} | set(contractions.values())
    for name in ("asking_starters", "emotions", "complaint_emotions", "urgent", "fragments", "connectors",
                 "mind_change", "contradictions"):
        said.update(getattr(casual, name))
    stray = sorted(only - said)
    if stray:
        raise ValueError(f"noise lexicon: casual_only names {stray[0]!r}, which is no synonym, contraction, "
                         "starter, emotional marker, real-life fragment, multi-intent connector, mind-change marker "
                         "or contradiction")

    def plain(pool: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(w for w in pool if w not in only)

    formal = _Pools(synonyms={k: plain(v) for k, v in casual.synonyms.items()},
                    contractions={k: v for k, v in contractions.items() if v not in only},
                    **{name: plain(getattr(casual, name)) for name in (
                        "starters", "asking_starters", "emotions", "complaint_emotions", "urgent", "fragments",
                        "connectors",
                        "mind_change", "contradictions")})
    return {True: casual, False: formal}


def _unsay_value(pki: PKI) -> None:
    """Make an attribute's PKI vague: the words no longer say its value, which is kept in ``intended``."""
    pki.intended, pki.value, pki.certainty = pki.value, None, "vague"


def _contradicted(lex: dict, schema: PersonaSchema) -> dict[str, frozenset[str]]:
    """Each contradiction of the lexicon -> the attributes its kind leaves unsaid (`contradiction_attributes`),
    every kind and attribute named checked."""
    table = lex.get("contradiction_attributes", {})
    out: dict[str, frozenset[str]] = {}
    for kind, said in lex["contradictions"].items():
        if kind not in table:
            raise ValueError(f"noise lexicon: contradiction_attributes has no entry for {kind!r}; expected the "
                             "attributes its contradictions leave unsaid (an empty list if none)")
        names = table[kind]
        stray = [n for n in names if n not in schema.attributes]
        if stray:
            raise ValueError(f"noise lexicon: contradiction_attributes[{kind!r}] names {stray[0]!r}, which is no "
                             "persona attribute")
        out.update((c, frozenset(names)) for c in said)
    unknown = sorted(set(table) - set(lex["contradictions"]))
    if unknown:
        raise ValueError(f"noise lexicon: contradiction_attributes names {unknown[0]!r}, which is no kind of "
                         f"contradiction; expected one of {sorted(lex['contradictions'])}")
    return out


#: What a phrase of the lexicon's `history_needs` may need to have happened (`conversation_so_far` says what has).
HISTORY_NEEDS = ("request", "earlier", "session", "week", "topic")
def _delegations(lex: dict, schema: PersonaSchema) -> dict[str, tuple[str, ...]]:
    """The lexicon's `delegation_for`, each attribute named checked: a style attribute of the schema, with
    phrases (a misspelt one would silently never be delegated)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, phrases in lex.get("delegation_for", {}).items():
        attribute = schema.attributes.get(name)
        if attribute is None or attribute.role != "style":
            styles = [a for a, spec in schema.attributes.items() if spec.role == "style"]
            raise ValueError(f"noise lexicon: delegation_for names {name!r}{did_you_mean(name, styles)}; expected a "
                             "style attribute of the persona schema")
        if not isinstance(phrases, list) or not phrases or not all(isinstance(p, str) and p for p in phrases):
            raise ValueError(f"noise lexicon: delegation_for[{name!r}] must be a non-empty list of phrases, "
                             f"got {phrases!r}")
        out[name] = tuple(phrases)
    return out


#: The lexicon pools whose phrases may point back at the conversation (`history_needs`).
_POINTING_POOLS = ("context_references", "ambiguous_rewrites")


def _phrase_needs(lex: dict, schema: PersonaSchema, key: str, phrases: tuple[str, ...],
                  kind: str) -> Presuppositions:
    """The lexicon's `<key>_needs` and `<key>_states` for `phrases` (what a phrase presupposes about the speaker,
    and which facts it states); a need naming no phrase of the pool, or a value the schema lacks, fails by name."""
    needs = Presuppositions(lex.get(f"{key}_needs", {}), lex.get(f"{key}_states"), f"noise lexicon: {key}_states")
    for phrase in needs.needs:
        if phrase not in phrases:
            raise ValueError(f"noise lexicon: {key}_needs names {phrase!r}, which is no {kind}")
    needs.check({a.name: a.values for a in schema.attributes.values()}, f"noise lexicon: {key}_needs")
    return needs


def _history_needs(lex: dict) -> dict[str, str]:
    """Phrase -> what it points back at (`history_needs`, one of `HISTORY_NEEDS`), every need and phrase checked;
    every context reference has one (it points back by definition)."""
    out: dict[str, str] = {}
    pooled = {p for pool in _POINTING_POOLS for p in lex[pool]}
    for need, phrases in lex.get("history_needs", {}).items():
        if need not in HISTORY_NEEDS:
            raise ValueError(f"noise lexicon: history_needs names {need!r}{did_you_mean(need, HISTORY_NEEDS)}; "
                             f"expected one of {', '.join(HISTORY_NEEDS)}")
        for phrase in phrases:
            if phrase not in pooled:
                raise ValueError(f"noise lexicon: history_needs.{need} names {phrase!r}, which is no "
                                 f"{' or '.join(_POINTING_POOLS)} phrase")
            out[phrase] = need
    unbacked = [p for p in lex["context_references"] if p not in out]
    if unbacked:
        raise ValueError(f"noise lexicon: the context reference {unbacked[0]!r} has no history_needs entry; expected "
                         f"it under one of {', '.join(HISTORY_NEEDS)} (what it points back at)")
    return out


def _says(draft: Draft, attribute: str, value: str) -> bool:
    """Whether the speaker of `draft` is known to have `attribute` = `value`."""
    return draft.speaker is not None and draft.speaker.get(attribute) == value


#: P(an emotional marker is one of urgency) by `time_sensitivity` (normal or unknown: the markers' own share).
URGENCY = {"urgent": 0.7, "somewhat_urgent": 0.4, "exploratory": 0.0}

#: How a user's behaviour attributes scale a strategy's probability: strategy -> (attribute, value -> factor;
#: values not listed, or no attribute, 1).  "Often changes their mind" changed it as often as "rarely".
PERSONA_RATES: dict[str, tuple[str, dict[str, float]]] = {
    "multiple_intents": ("multi_intent_rate", {"single": 0.3, "often_multi": 2.0}),
    "mind_change": ("mind_changing_tendency", {"rarely": 0.3, "often": 2.0}),
    "self_contradiction": ("mind_changing_tendency", {"rarely": 0.5, "often": 1.5}),
    "typo": ("typing_style", {"sloppy": 2.0}),
    "word_segmentation": ("typing_style", {"sloppy": 2.0}),
}


#: P(a mind change on an interest says the right thing at once, after the wrong one), not in a later message
#: (`NoiseModel._mind_change`); where the wrong one does not end its phrase, always later.
FIXED_AT_ONCE = 0.5
#: Words that start a new phrase after an entity ("jazz for a party", "jazz or blues"): the entity ended its own.
_PHRASE_STARTS = frozenset({
    "for", "in", "with", "to", "and", "or", "but", "that", "which", "on", "at", "by", "from", "as", "about", "near",
    "under", "over", "like", "without", "before", "after", "than", "so", "because", "while", "if"})


def _ends_phrase(segments: list[Segment], seg: Segment) -> bool:
    """Whether the words after an entity segment start a new phrase (punctuation, a detail, a preposition or
    a conjunction, or nothing), not the rest of a noun phrase ("a jazz fan", "an Asia theme")."""
    after = next((s for s in segments[segments.index(seg) + 1:] if s.text), None)
    if after is None or after.kind == SLOT:
        return True
    text = after.text.lstrip()
    if not text or not text[0].isalnum():
        return True
    return text.split(maxsplit=1)[0].lower() in _PHRASE_STARTS


def _persona_rate(strategy: str, speaker: Mapping[str, object]) -> float:
    """The factor `PERSONA_RATES` gives `strategy` for this speaker."""
    entry = PERSONA_RATES.get(strategy)
    if entry is None:
        return 1.0
    value = speaker.get(entry[0])
    return entry[1].get(value, 1.0) if isinstance(value, str) else 1.0


class NoiseModel(SharedOnCopy):
    """Applies the configured noise to drafts; see the module docstring."""

    def __init__(self, schema: PersonaSchema, config: NoiseConfig | None = None,
                 lexicon: dict | None = None,
                 slot_values: Mapping[str, tuple[str, ...]] | None = None,
                 vague_slot_values: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None,
                 stated_details: Iterable[str] = ()) -> None:
        self.config = config or NoiseConfig()
        self.slot_values = dict(slot_values or {})
        #: slot -> value -> vaguer phrases for it (`TemplateBank.vague_slot_values`)
        self.vague_slot_values = dict(vague_slot_values or {})
        #: slot values that state a fact about the user ("for my kids"), never what a mind change settles on
        self.stated_details = frozenset(stated_details)
        self.schema = schema
        self.taxonomy: Taxonomy = schema.taxonomy
        lex = lexicon or load_lexicon()
        self.lex = lex
        tables = _lexicon_tables(lex)
        self._synonym_re = tables.synonym_re
        self._contraction_re = tables.contraction_re
        self._misspellings, self._negations = tables.misspellings, tables.negations
        self._fragments = tuple(lex["real_life_fragments"])
        #: contradiction -> the attributes it leaves unsaid (`contradiction_attributes`)
        self._contradicts = _contradicted(lex, schema)
        #: casual speaker or not -> the pools noise draws added words from (`_Pools`)
        self._pools = tables.pools
        #: node -> the aliases that can take its name's place in a sentence (`TaxonomyNode.sayable`), found as
        #: nodes come up
        self._stand_in_aliases: dict[str, tuple[str, ...]] = {}
        #: style attribute -> what a user says to leave it to the assistant (`delegation_for`)
        self._delegations = _delegations(lex, schema)
        #: what fragments presuppose about the speaker ("walking the dog rn": a dog)
        self._fragment_needs = _phrase_needs(lex, schema, "fragment", self._fragments, "real_life_fragment")
        #: side requests, and what they presuppose about the speaker ("word a text to my landlord": renting)
        self._side_requests = tuple(lex["side_requests"])
        self._side_needs = _phrase_needs(lex, schema, "side_request", self._side_requests, "side_request")
        #: phrase -> what it points back at (`history_needs`); (pool, what the conversation holds) -> its phrases
        #: that point at nothing else (`_backed`)
        self._history_needs = _history_needs(lex)
        self._backed_pools: dict[tuple[str, frozenset[str]], tuple[str, ...]] = {}
        emoji = lex["emoji"]
        if isinstance(emoji, list):  # a lexicon that does not tell moods apart uses its emoji anywhere
            emoji = {"any": emoji, "positive": emoji, "negative": emoji}
        #: draft mood (-1, 0, 1) -> the emoji that fit it: no "😭" after "This is great", no "😊" after a complaint
        self._emoji = {0: tuple(emoji["any"]), 1: tuple(emoji["positive"]), -1: tuple(emoji["negative"])}
        weights = self.config.layer_weights
        acc, self._layer_cum = 0.0, []
        for layer in LAYERS:
            acc += weights.get(layer, 0.0)
            self._layer_cum.append(acc)
        merged = {k: dict(v) for k, v in DEFAULT_STRATEGIES.items()}
        for layer, probs in self.config.strategies.items():
            merged[layer].update(probs)
        self._strategies = {
            layer: [(name, p, getattr(self, "_" + name)) for name, p in probs.items()]
            for layer, probs in merged.items()
        }

    # -- driver ----------------------------------------------------------------------------
    def apply(self, draft: Draft, d: Draws) -> tuple[NoiseLayer, list[str]]:
        """Maybe noise the draft in place; return the layer and the strategies applied."""
        if d.random() >= self.config.rate:
            return "none", []
        layer = LAYERS[d.weighted(self._layer_cum)]
        strategies = self._strategies[layer]
        speaker = draft.speaker or {}
        applied = [name for name, p, fn in strategies
                   if d.random() < p * _persona_rate(name, speaker) and fn(draft, d)]
        if not applied:
            for name, _, fn in sorted(strategies, key=lambda s: -s[1]):
                if fn(draft, d):
                    applied.append(name)
                    break
        if not applied:
            return "none", []  # nothing in this layer fits the utterance (a goodbye has no slot to drop)
        return layer, applied  # type: ignore[return-value]

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _plains(draft: Draft) -> list[Segment]:
        return [s for s in draft.segments if s.kind == PLAIN and s.text.strip()]

    def _backed(self, pool: str, draft: Draft) -> tuple[str, ...]:
        """The phrases of the lexicon's `pool` whose pointing back (`history_needs`) the conversation so far backs
        (`Draft.history`; None: any): no "like I explained earlier" or "can you do that thing again" in a first
        message, no "the one from the other day" a month on.  May be empty."""
        history = draft.history
        if history is None:
            return tuple(self.lex[pool])
        key = (pool, history)
        phrases = self._backed_pools.get(key)
        if phrases is None:
            needs = self._history_needs
            phrases = self._backed_pools[key] = tuple(
                p for p in self.lex[pool] if needs.get(p) is None or needs[p] in history)
        return phrases

    @staticmethod
    def _entities(draft: Draft, kind: str | None = None) -> list[Segment]:
        return [
            s for s in draft.segments
            if s.kind == ENTITY and s.pki >= 0 and (kind is None or draft.pkis[s.pki].kind == kind)
        ]

    @classmethod
    def _swappable(cls, draft: Draft, kind: str | None = None) -> list[Segment]:
        """The entities noise may replace by another one (vaguer, or a mind change).

        None in a correction: its entity is what it corrects, and a parent put
        in its place can be the very entity corrected ("I said retro fashion
        but I meant retro fashion"); none in a contrast (`Draft.contrast`).
        """
        return [] if draft.intent == "correction" or draft.contrast else cls._entities(draft, kind)

    @staticmethod
    def _end_clause(draft: Draft, clause: str) -> None:
        """Add a clause at the end of the request proper, before any aside.

        Asides are an attached preference, "Thanks!", an emoji.  After a
        question the clause is a sentence of its own ("...? Like last time."):
        tucked into the question it would be asked too.
        """
        clause = draft.cased(clause)
        segments = draft.segments
        at = len(segments) - 1
        while at > 0 and (segments[at].aside or not segments[at].text.strip()):
            at -= 1
        last = segments[at] if segments else None
        if last is not None and last.kind == PLAIN:
            stripped = last.text.rstrip()
            end = stripped[-1:] if stripped[-1:] in ".!?" else ""
            if end == "?":
                added = f" {clause}."
            else:
                last.text = stripped[:-1] if end else stripped
                added = f", {clause}{end or '.'}"
        else:
            added = f", {clause}."
        segments.insert(at + 1, Segment(added))

    # -- surface ---------------------------------------------------------------------------
    def _colloquial_speech(self, draft: Draft, d: Draws) -> bool:
        """Contractions, all lowercase and a casual starter ("ok so ..."); a formal speaker only contracts
        ("I am" -> "I'm"): "Please adjust: i like detailed answers" was no highly formal user's writing."""
        casual = draft.casual_speaker
        pools = self._pools[casual]
        contractions = pools.contractions  # "going to" -> "gonna" only from a casual speaker
        changed = False
        for seg in draft.segments:
            if seg.kind == PLAIN:
                new = self._contraction_re.sub(
                    lambda m: draft.cased(contractions.get(m.group(0).lower(), m.group(0))), seg.text)
                changed |= new != seg.text
                seg.text = new
            if casual:
                seg.text = seg.text.lower()
        if not casual:
            return changed
        draft.casual = True
        if d.random() < 0.5:  # "quick q:" only before a request: "Question: thanks!" asks nothing
            first = _WORD.search(draft.text())
            word = first.group(0) if first is not None else None
            # no starter that says the first word again: "mkay so so, quick thing", "right, right."
            starters = [s for s in (pools.asking_starters if draft.asks else pools.starters)
                        if word not in s.replace(",", "").split()]
            if starters:
                draft.segments.insert(0, Segment(d.choice(starters) + " "))
        return True

    def _incomplete_sentence(self, draft: Draft, d: Draws) -> bool:
        """Drop the request's frame ("Could you recommend ..." -> "recommend ...") and its final stop.  Only
        with a frame to drop: dropping the stop alone is `punctuation` (296 of 333 did only that)."""
        first = draft.segments[0] if draft.segments else None
        if first is None or first.kind != PLAIN:
            return False
        new = _FRAME.sub("", first.text, count=1)
        if new == first.text:
            return False
        first.text = new
        # an order now, not a question: "Write a listicle on art classes? Thanks" asked nothing; only the
        # frame's own sentence, not a question after it ("I want to make a plan. Can you help?" became "Make a
        # plan. Can you help." in 70 of 482 audited)
        for seg in draft.segments:
            end = _SENTENCE_END.search(seg.text) if seg.kind == PLAIN else None
            if end is not None:
                if end.group(0) == "?":
                    seg.text = seg.text[:end.start()] + "." + seg.text[end.end():]
                break
        last = draft.segments[-1]
        if last.kind == PLAIN and last.text.rstrip()[-1:] in (".", "?", "!"):
            last.text = last.text.rstrip()[:-1]
        return True

    def _typo(self, draft: Draft, d: Draws) -> bool:
        """A slip of the finger in a plain word; none from a careful typist (`typing_style`)."""
        if _says(draft, "typing_style", "careful"):
            return False
        words = [(s, m) for s in self._plains(draft) for m in _WORD.finditer(s.text)
                 if len(m.group(0)) >= 4]
        if not words:
            return False
        seg, m = d.choice(words)
        word = m.group(0)
        typo = self._misspellings.get(word.lower())
        if typo is None:
            i = 1 + d.index(len(word) - 2)
            op = d.index(4)
            if word[i] == "'":  # a slip on an apostrophe drops it ("thats"), never doubles it ("that''s")
                typo = word[:i] + word[i + 1:]
            elif op == 0 and word[i] != word[i + 1]:
                typo = word[:i] + word[i + 1] + word[i] + word[i + 2:]
            elif op <= 1:  # two letters alike swapped are the word unchanged ("worried"): one is dropped instead
                typo = word[:i] + word[i + 1:]
            elif op == 2:
                typo = word[:i] + word[i] + word[i:]
            else:
                row = next((r for r in _KEYBOARD if word[i].lower() in r), None)
                j = row.index(word[i].lower()) if row else -1
                near = row[j + 1] if row and j + 1 < len(row) else (row[j - 1] if row else "e")
                if word[i].isupper():  # the key next to it, with Shift or Caps Lock still down: "LOVR", not "LOvE"
                    near = near.upper()
                typo = word[:i] + near + word[i + 1:]
        seg.text = seg.text[: m.start()] + typo + seg.text[m.end():]
        return True

    def _word_segmentation(self, draft: Draft, d: Draws) -> bool:
        """A missed space ("alot", "ofthe") or a compound split where its parts are words ("some thing",
        "any one", "over all"), as people type them; none from a careful typist.  A split at any letter
        ("sh ould") or a doubled last letter ("thankss") was no one's typing."""
        if _says(draft, "typing_style", "careful"):
            return False
        plains = self._plains(draft)
        splits = [(s, m) for s in plains for m in _COMPOUND.finditer(s.text)]
        joins = [(s, m) for s in plains for m in _SHORT_PAIR.finditer(s.text)]
        if not splits and not joins:
            return False
        if splits and (not joins or d.random() < 0.5):
            seg, m = d.choice(splits)
            new = f"{m.group(1)} {m.group(2)}"
        else:
            seg, m = d.choice(joins)
            new = m.group(1) + m.group(2)
        seg.text = seg.text[: m.start()] + new + seg.text[m.end():]
        return True

    def _punctuation(self, draft: Draft, d: Draws) -> bool:
        """Drop the final stop, or end with an emoji (not from a user who wants none: `emoji_use` never)."""
        last = draft.segments[-1] if draft.segments else None
        changed = False
        if last is not None and last.kind == PLAIN and last.text.rstrip()[-1:] in (".", "!"):
            last.text = last.text.rstrip()[:-1]
            changed = True
        emoji = 0.6 if _says(draft, "emoji_use", "often") else 0.3
        if (d.random() < emoji or not changed) and not _says(draft, "emoji_use", "never"):
            draft.plain(" " + d.choice(self._emoji[draft.mood]), aside=True)
            changed = True
        return changed

    def _synonym_rewrite(self, draft: Draft, d: Draws) -> bool:
        """Casual wording: "purchase" -> "buy"; "thanks" -> "thx" only from a casual speaker."""
        changed = False
        synonyms = self._pools[draft.casual_speaker].synonyms

        def swap(m: re.Match[str]) -> str:
            options = synonyms[m.group(0).lower()]
            return draft.cased(d.choice(options)) if options else m.group(0)

        for seg in self._plains(draft):
            new = self._synonym_re.sub(swap, seg.text, count=2)
            changed |= new != seg.text
            seg.text = new
        interests = self._entities(draft, "interest")
        if interests and (not changed or d.random() < 0.5):
            seg = d.choice(interests)
            aliases = self._stand_ins(draft.pkis[seg.pki].key)
            if aliases:
                seg.text = d.choice(aliases)
                changed = True
        return changed

    def _stand_ins(self, node: str) -> tuple[str, ...]:
        """The aliases of `node` a user can say in its name's place: "Kyoto trip" is no way to say "Kyoto", nor
        "gelato" a way to say "ice cream" (43 of 236 audited swaps named something else, labelled as the node)."""
        aliases = self._stand_in_aliases.get(node)
        if aliases is None:
            named = self.taxonomy.nodes[node]
            aliases = self._stand_in_aliases[node] = named.sayable
        return aliases

    def _emotional_tone(self, draft: Draft, d: Draws) -> bool:
        """Urgency, politeness, frustration or excitement about a request; a complaint is only urgent or fed up."""
        if not draft.asks:
            return False
        pools = self._pools[draft.casual_speaker]
        calm = pools.emotions if draft.intent == "task_request" else pools.complaint_emotions
        if not calm and not pools.urgent:
            return False
        # how pressed for time the user is sets how often the tone is urgency (an exploratory user is never in
        # a rush: they got urgency markers more often than urgent users); unknown: the markers' own share
        share = len(pools.urgent) / (len(pools.urgent) + len(calm))
        p_urgent = URGENCY.get(str(draft.speaker.get("time_sensitivity")) if draft.speaker else "", share)
        markers = pools.urgent if pools.urgent and (not calm or d.random() < p_urgent) else calm
        if not markers:
            return False
        self._end_clause(draft, d.choice(markers))
        return True

    def _negation(self, draft: Draft, d: Draws) -> bool:
        """Restate a preference negatively ("keep it short" -> "don't make it long").

        Said so, a stated value is one of several ("don't make it long" is brief or moderate, "don't give me a
        wall of text" no more a bulleted list than a table): the attribute's PKI becomes vague, its value kept
        in ``intended`` (it was labelled with the value the words no longer say).
        """
        for seg in draft.segments:
            if seg.kind == SLOT:
                continue
            lower = seg.text.lower()
            for phrase, negated in self._negations.items():
                pos = lower.find(phrase)
                # an instruction, not a phrase in passing: "to be honest" is no "be honest"
                if pos >= 0 and (pos == 0 or not lower[pos - 1].isalnum()) and not lower.endswith("to ", 0, pos):
                    seg.text = seg.text[:pos] + draft.cased(negated) + seg.text[pos + len(phrase):]
                    pki = draft.pkis[seg.pki] if seg.kind == ENTITY and seg.pki >= 0 else None
                    if pki is not None and pki.kind == "attribute" and pki.value is not None:
                        _unsay_value(pki)
                    return True
        return False

    def _real_life_fragment(self, draft: Draft, d: Draws) -> bool:
        """Lead with a bit of the user's situation ("on the bus rn, what should I ...").

        It makes one sentence with what follows, so the next word is lowercased.
        """
        first = next((s for s in draft.segments if s.text), None)
        if first is not None and first.kind == PLAIN and not _PRONOUN_START.match(first.text):
            first.text = first.text[:1].lower() + first.text[1:]
        fragments = self._pools[draft.casual_speaker].fragments
        if draft.speaker is not None:  # no "walking the dog rn" without a dog
            fragments = self._fragment_needs.fitting(fragments, self._fragment_needs.excluded(draft.speaker))
        if not fragments:
            return False
        draft.segments.insert(0, Segment(draft.cased(d.choice(fragments)) + ", "))
        return True

    # -- incomplete information ------------------------------------------------------------
    def _missing_slot(self, draft: Draft, d: Draws) -> bool:
        slots = [s for s in draft.segments if s.kind == SLOT and s.text]
        if not slots:
            return False
        drop = [s for s in slots if d.random() < 0.6] or [d.choice(slots)]
        for seg in drop:
            seg.text = ""
        return True

    def _vague_value(self, draft: Draft, d: Draws) -> bool:
        vague = self.vague_slot_values
        # a detail is said vaguely only in words true of it: "for my manager" may become "for someone at
        # work", never "for the family"
        slots = [s for s in draft.segments if s.kind == SLOT and s.text in vague.get(s.slot or "", ())]
        entities = self._swappable(draft)
        if not slots and not entities:
            return False
        if slots and (not entities or d.random() < 0.5):
            seg = d.choice(slots)
            seg.text = d.choice(vague[seg.slot or ""][seg.text])
            seg.pki = -1  # "for someone I know" states no more that the user has kids
            return True
        seg = d.choice(entities)
        pki = draft.pkis[seg.pki]
        if pki.kind == "interest":
            parent = self.taxonomy.parent(pki.key)
            if parent is None:
                return False
            node = self.taxonomy.nodes[parent]
            # a grouping node is no interest of its own: "certain cuisines", not "cuisines"; and no "with some
            # some book genres" after a template's own "some"
            if node.group:
                mentions = self.lex["vague_group_mentions"]
                before = "".join(s.text for s in draft.segments[:draft.segments.index(seg)]).split()
                if before and any(m.split()[0] == before[-1].lower() for m in mentions):
                    mentions = [m for m in mentions if m.split()[0] != before[-1].lower()] or mentions
                seg.text = d.choice(mentions).format(item=node.name)
            else:
                seg.text = node.name
            pki.intended, pki.key, pki.certainty = pki.key, parent, "vague"
            return True
        vague = self.schema.attributes[pki.key].vague_phrases(pki.value)
        if not vague:
            return False
        seg.text = draft.cased(d.choice(vague))
        _unsay_value(pki)
        return True

    def _context_dependency(self, draft: Draft, d: Draws) -> bool:
        """Refer to the shared history instead of restating it ("like last time") in a request, only to what
        there is (`_backed`: none in a first-time user's first message); tacked onto a complaint it qualified
        what the user had just said ("I stay away from gambling, like the list you gave me before.")."""
        if draft.intent != "task_request":
            return False
        references = self._backed("context_references", draft)
        if not references:
            return False
        self._end_clause(draft, d.choice(references))
        return True

    def _unclear_priority(self, draft: Draft, d: Draws) -> bool:
        """Leave a style preference to the assistant, in its place and saying which ("Small thing: any length
        is fine."; the lexicon's `delegation_for`).

        Only in a task request (a complaint that says "your call" takes itself
        back), and never in place of a constraint or a fact about the user.  A
        bare "your call" tacked onto the request, or ending it in place of an
        attached preference, left nothing to choose ("How do I network with
        people in academic philosophy? Whatever you'd go with.": 87 requests in
        600 tracker Chat-v0 episodes).
        """
        if draft.intent != "task_request":
            return False
        phrases = self._delegations
        attrs = [s for s in self._entities(draft, "attribute") if draft.pkis[s.pki].key in phrases]
        if not attrs:
            return False
        seg = d.choice(attrs)
        seg.text, seg.kind = draft.cased(d.choice(phrases[draft.pkis[seg.pki].key])), PLAIN
        seg.pki = -1
        return True

    # -- semantic ambiguity ----------------------------------------------------------------
    def _multiple_intents(self, draft: Draft, d: Draws) -> bool:
        """Tack a side request on ("btw, how many ounces are in a liter?"), one the speaker's life allows
        (`side_request_needs`); never on a goodbye, which nobody answers."""
        if draft.intent == "goodbye":
            return False
        connectors = self._pools[draft.casual_speaker].connectors
        if not connectors:
            return False
        connector = draft.cased(d.choice(connectors))
        sides = self._side_requests
        if draft.speaker is not None:  # no text to a landlord from a homeowner
            sides = self._side_needs.fitting(sides, self._side_needs.excluded(draft.speaker))
        draft.plain(f" {connector} {draft.cased(d.choice(sides))}", aside=True)
        return True

    def _unclear_intent(self, draft: Draft, d: Draws) -> bool:
        """Say what to do vaguely: a request shrinks to "sort this out, the <topic> thing"; a complaint leads with it.

        A complaint keeps its words: "the jazz thing" alone would no longer say
        the user dislikes jazz, which its PKI still states.  A request keeps
        its asides: the constraint or fact it attaches ("Side note: I have a
        peanut allergy") stays said, as its PKI and the user's memory hold.
        "The <topic> thing" points back at a topic talked of before: a request
        shrinks so only when the conversation named it (`Draft.history` holds
        "topic"; None: anything goes), else the vague words lead it as they
        lead a complaint ("Just figure it out, the classical ballet thing" was
        a whole first message in 1.8% of Chat-v0 episodes), but none of the
        words that work on the answer before ("make it a bit less bad", "tweak
        it": `history_needs` "request"): "Make it a bit less bad. I'd love a
        simple plan to introduce city breaks to the whole family." asked
        something new.
        """
        if not draft.asks:
            return False
        topic = next((s for s in draft.segments if s.kind == ENTITY and s.text
                      and (s.pki < 0 or draft.pkis[s.pki].kind == "interest")), None)
        request = draft.intent == "task_request"
        shrinks = request and topic is not None and (draft.history is None or "topic" in draft.history)
        rewrites = self._backed("ambiguous_rewrites", draft)  # no "make it a bit less bad" with no "it" yet
        if request and not shrinks:  # words that work on an answer lead no new request
            rewrites = tuple(r for r in rewrites if self._history_needs.get(r) != "request")
        if not rewrites:
            return False
        rewrite = draft.cased(d.choice(rewrites))
        asked = rewrite.lower().startswith(("can you", "could you"))  # "Can you tidy this up?", not "... up."
        if shrinks:
            asides = [s for s in draft.segments if s.aside]
            end = " thing?" if asked else " thing." if asides else " thing"
            draft.segments = [Segment(rewrite + ", the "), topic, Segment(end), *asides]
        else:
            draft.segments.insert(0, Segment(rewrite + ("? " if asked else ". ")))
        return True

    def _self_contradiction(self, draft: Draft, d: Draws) -> bool:
        """Conflicting instructions ("short, but cover everything"): only a request or complaint gives instructions."""
        if not draft.asks:
            return False
        contradictions = self._pools[draft.casual_speaker].contradictions
        if not contradictions:
            return False
        said = d.choice(contradictions)
        self._end_clause(draft, said)
        # "be exhaustive ... one paragraph max, but make it really long" says no length: its PKI is vague
        unsaid = self._contradicts.get(said, frozenset())
        for pki in draft.pkis:
            if pki.kind == "attribute" and pki.key in unsaid and pki.value is not None:
                _unsay_value(pki)
        return True

    def _mind_change(self, draft: Draft, d: Draws) -> bool:
        """Say a word and then another: an interest named in passing, or a detail of a request.

        An interest: the wrong thing first, then the right one ("I tend to enjoy motorsports, oops, make that
        college football": motorsports `retracted`, college football as it was said), or the wrong one alone,
        a slip the user may correct in their next message ("I tend to enjoy motorsports", `mistaken`, then
        "Sorry, I meant college football, not motorsports."), half each (`FIXED_AT_ONCE`).  The truth ended
        "college football, oops, make that motorsports" until 2026-12-07: a reader takes "make that" as what
        holds.  Never a request's topic: "X, wait, make that Y" asks about Y, while the request the user judges
        answers by stays X (13 of 600 tracker Chat-v0 episodes opened so, their answers about Y off the
        request).
        """
        markers = self._pools[draft.casual_speaker].mind_change
        if not markers:
            return False
        marker = draft.cased(d.choice(markers))
        interests = [] if draft.intent == "task_request" else self._swappable(draft, "interest")
        if interests:  # else a detail changes, if any may
            seg = d.choice(interests)
            pki = draft.pkis[seg.pki]
            # another thing near it, not a refinement ("rock music, make that classic rock" changes no mind)
            other = self.taxonomy.sample_near(pki.key, d, decay=self.config.confusion_decay, lineage=False)
            # only where the entity ends its phrase: "I'm a safaris, oops, make that wine tasting trips fan"
            # and "with an Asia, wait a sec, make that Europe theme" spliced the change into a noun phrase
            at_once = _ends_phrase(draft.segments, seg) and d.random() < FIXED_AT_ONCE
            # the wrong thing is said as the right one was, stated or implied alike
            wrong = pki.model_copy(update={"key": other, "certainty": "retracted" if at_once else "mistaken",
                                           "intended": None if at_once else pki.key})
            right = Segment(seg.text, ENTITY, seg.pki)
            seg.text, seg.pki = self.taxonomy.nodes[other].name, len(draft.pkis)
            draft.pkis.append(wrong)
            if at_once:
                pos = draft.segments.index(seg) + 1
                draft.segments[pos:pos] = [Segment(f", {marker}, make that "), right]
            return True
        swaps = [(s, values) for s in draft.segments if s.kind == SLOT and s.text and s.slot
                 and (values := self._other_details(draft, s))]
        if not swaps:
            return False
        seg, values = d.choice(swaps)
        seg.text = f"{seg.text}, {marker}, {d.choice(values)}"
        seg.pki = -1
        return True

    def _other_details(self, draft: Draft, seg: Segment) -> list[str]:
        """The details a mind change on the slot `seg` may settle on: another the speaker could have asked for
        (`Draft.details`: no "in Lisbon, wait, around Manila" from someone in Warsaw, no "around Budapest" from
        one in the tropics, no skiing "near Colombo"; none known: any of the bank's), and none that states a fact
        about the user ("for my kids, wait, for my partner" would state a partner the profile may not have: the
        one taken back stated nothing either)."""
        pool = self.slot_values if draft.details is None else draft.details
        return [v for v in pool.get(seg.slot or "", ()) if v != seg.text and v not in self.stated_details]
