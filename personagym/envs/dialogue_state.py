"""What an assistant has gathered from the user's messages, and its numeric encoding.

`DialogueState` is the memory behind `StructuredChatEnv`: it reads every user
message through `WorldKnowledge` (entity mentions, stated preferences,
constraint tags) and keeps the stated likes, dislikes and attributes, the
topic in focus, the categories talked about and what the assistant did last.
It sees only the messages — never the hidden profile — so everything it
holds is something a real assistant could know.

`DialogueState.features` encodes it as a fixed-length float vector in [0, 1]
named by `feature_names`, for classic RL learners (linear, MLP) that cannot
read text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from personagym.envs.knowledge import WorldKnowledge
from personagym.envs.stated import RecommendedLists, StatedProfile

#: Style values the assistant can produce (the `compose` lengths, three layouts, three registers).
LENGTHS = ("terse", "brief", "standard", "detailed", "exhaustive")
LAYOUTS = ("narrative", "bullets", "table")
FORMALITIES = ("casual", "neutral", "formal")
#: Stated length / formality values and the layout class of a stated format.
STATED_LENGTHS = LENGTHS
STATED_FORMALITIES = ("very_casual", "casual", "business_casual", "professional", "highly_formal")
STATED_LAYOUTS = ("list", "table", "narrative")
_LIST_FORMATS = frozenset({"bullets", "numbered_steps", "outline", "checklist", "pros_cons", "qa"})

# Hand-written English cues for the user's reaction; approximate on purpose (noisy text, typos).
_POSITIVE = re.compile(
    r"\b(?:thanks?|thank you|perfect|great|love|helpful|helps|nice|good|awesome|amazing|brilliant|exactly|"
    r"spot on|fantastic|useful|works for me|solid|nailed|genius|thrilled|fine|okay|alright|decent)\b"
)
_NEGATIVE = re.compile(
    r"\b(?:not|no|wrong|terrible|useless|awful|frustrating|missed|hate|don't|can't|off|meh|try again|"
    r"remember|told you|forgot|forgotten|ignored|ignore|again|mess|rather not|leave out|drop|take out)\b"
)
_COMPLAINTS = {
    "too_long": re.compile(r"too long|shorter|too much text|wordy|condense|cut it down|trim|half the length|"
                           r"an essay|on and on|all that detail"),
    "too_short": re.compile(r"too short|more detail|a bit thin|expand|deeper|too brief|fuller|rushed|"
                            r"skipped over|more than that|barely"),
    "format": re.compile(r"format|layout|restructure|organi[sz]ed differently|wall of text|another way|structure"),
    "tone": re.compile(r"\btone\b|stiff|too formal|too casual|vibe|robot|more natural|sounds a bit weird|"
                       r"came across"),
}

_MAX_COUNT = 5.0  # counts (likes, dislikes) are divided by this and capped at 1
_MAX_ASKS = 3.0


def _layout_class(value: str) -> str | None:
    if value in _LIST_FORMATS:
        return "list"
    return value if value in ("table", "narrative") else None


def feature_names(categories: list[str]) -> tuple[str, ...]:
    """Names of the entries of `DialogueState.features`, in order, for these top-level categories."""
    return (
        "bias", "turn", "session", "first_turn",
        "msg_positive", "msg_negative", "msg_question", "msg_mentions", "msg_states",
        *(f"complaint_{c}" for c in _COMPLAINTS),
        "known_likes", "known_dislikes", "known_constraints", "has_focus", "focus_liked",
        "asks", "last_ask",
        *(f"stated_length={v}" for v in STATED_LENGTHS),
        *(f"stated_layout={v}" for v in STATED_LAYOUTS),
        *(f"stated_formality={v}" for v in STATED_FORMALITIES),
        *(f"last_length={v}" for v in LENGTHS),
        *(f"last_layout={v}" for v in LAYOUTS),
        *(f"last_formality={v}" for v in FORMALITIES),
        *(f"msg_category={c}" for c in categories),
        *(f"dialogue_category={c}" for c in categories),
    )  # fmt: skip


@dataclass
class DialogueState(StatedProfile):
    """The assistant's memory of one episode, built from the user's messages only.

    Args:
        knowledge: world knowledge (entities, relations, tags, preference phrases).
        categories: the taxonomy's top-level category ids, in feature order.

    ``names`` holds the feature names (`feature_names`); the public fields are
    the memory itself (stated likes, dislikes, attributes and forbidden tags,
    read as the tracker reads them (`StatedProfile`), the focus, the questions
    asked and the last action's style).
    """

    knowledge: WorldKnowledge
    categories: list[str]
    focus: str | None = None  # the entity the conversation is about
    #: the first entity of the last message naming one it does not dislike (what `generic` answers)
    request_topic: str | None = None
    #: whether that message asks about the entity itself, not for things like it (`generic` then suggests nothing
    #: beside an entity with nothing under it)
    request_itself: bool = False
    asks: int = 0
    last: tuple[bool, str, str, str] | None = None  # (was a question, length, layout, formality)
    #: what the recommend actions gave (`RecommendedLists`): they give no list twice
    lists: RecommendedLists = field(default_factory=RecommendedLists)
    _message: str = ""
    _mentioned: list[str] = field(default_factory=list)
    _stated: bool = False
    _seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._category_index = {c: i for i, c in enumerate(self.categories)}
        self.names = feature_names(self.categories)

    def observe(self, message: str) -> None:
        """Read one user message: its statements, the entities it mentions, the focus."""
        k = self.knowledge
        self._message = message.lower()
        self._stated = bool(self.hear(k, message))
        self._mentioned = [node for node, _ in k.mentions(message)]
        named = k.named(message)
        if named:  # a message that names nothing ("too short") keeps the conversation's topic
            self.request_topic = named[0]
            self.request_itself = k.asks_about_itself(message)
        wanted = [n for n in self._mentioned if self.offerable(n)]  # no topic the user dislikes, may not have or
        # is done with ("I've moved on from X to Y" is about Y)
        if wanted:
            self.focus = wanted[0]
        self._seen.update(k.category(n) for n in self._mentioned)

    def acted(self, question: bool, length: str, layout: str, formality: str) -> None:
        """Remember what the assistant just did (a question or not, and in which style)."""
        self.asks += question
        self.last = (question, length, layout, formality)

    def disliked(self, node: str) -> bool:
        """True if the user said they dislike the node or something above it."""
        return any(a in self.dislikes for a in self.knowledge.taxonomy.paths[node])

    def safe(self, node: str) -> bool:
        """Neither disliked nor carrying a tag the stated constraints forbid."""
        return not self.disliked(node) and not (self.knowledge.tags(node) & self.forbidden)

    def offerable(self, node: str) -> bool:
        """Safe (`safe`), and not what the user said they are done with (`StatedProfile.done_with`): "I'm past
        pet reptiles" makes them no thing to offer, nor one to warn against."""
        return self.safe(node) and not self.done_with(self.knowledge, node)

    def stated(self, attribute: str) -> str | None:
        """The value the user stated for a style attribute (a single-valued one), if any."""
        value = self.attributes.get(attribute)
        return value if isinstance(value, str) else None

    def features(self, turn: int, max_turns: int, session: int, sessions: int) -> np.ndarray:
        """The state as a float32 vector in [0, 1], entries named by `names`."""
        x = np.zeros(len(self.names), dtype=np.float32)
        msg, k = self._message, self.knowledge
        focus_category = k.category(self.focus) if self.focus else None
        values = [
            1.0, turn / max_turns, session / max(1, sessions - 1), float(turn == 0),
            float(bool(_POSITIVE.search(msg))), float(bool(_NEGATIVE.search(msg))), float("?" in msg),
            float(bool(self._mentioned)), float(self._stated),
            *(float(bool(p.search(msg))) for p in _COMPLAINTS.values()),
            min(len(self.likes) / _MAX_COUNT, 1.0), min(len(self.dislikes) / _MAX_COUNT, 1.0),
            float(bool(self.forbidden)), float(self.focus is not None),
            float(any(k.category(n) == focus_category for n in self.likes)),
            min(self.asks / _MAX_ASKS, 1.0), float(bool(self.last and self.last[0])),
        ]  # fmt: skip
        x[: len(values)] = values
        i = len(values)
        length, layout = self.stated("length_pref"), _layout_class(self.stated("format_pref_primary") or "")
        formality = self.stated("formality_level")
        for vocabulary, value in ((STATED_LENGTHS, length), (STATED_LAYOUTS, layout),
                                  (STATED_FORMALITIES, formality)):
            if value in vocabulary:
                x[i + vocabulary.index(value)] = 1.0
            i += len(vocabulary)
        for position, vocabulary in ((1, LENGTHS), (2, LAYOUTS), (3, FORMALITIES)):
            if self.last is not None and not self.last[0]:  # a question is asked in no style of the menu's
                x[i + vocabulary.index(self.last[position])] = 1.0
            i += len(vocabulary)
        n = len(self.categories)
        for node in self._mentioned:
            x[i + self._category_index[k.category(node)]] = 1.0
        for category in self._seen:
            x[i + n + self._category_index[category]] = 1.0
        return x
