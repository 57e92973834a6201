"""What a user's messages have stated: the memory an assistant builds from the words alone.

The `tracker` policy and Structured-v0's `DialogueState` both keep one and read
messages into it the same way (`StatedProfile.hear`), so the text policy and
the structured env's observation agree on what the user has said: a
correction takes back what was noted of a slip, a stated constraint rules out
the likes it forbids (a user who went vegan no longer "likes" steak), what a
constraint names as forbidden ("I stay away from gambling": casino games) is
no dislike, a value of a multi-valued attribute adds to those stated (a
new allergy does not make the old one void), and what the user says they no
longer care for ("I'm past pet reptiles") is kept apart until liked again.
It never holds the hidden profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from personagym.envs.knowledge import WorldKnowledge


@dataclass(kw_only=True)
class StatedProfile:
    """Stated likes, dislikes and attributes, and the tags the stated constraints rule out."""

    likes: dict[str, None] = field(default_factory=dict)  # insertion order: the most recently stated last
    dislikes: dict[str, None] = field(default_factory=dict)
    #: attribute -> its value, or the values stated of a multi-valued one, in the order stated
    attributes: dict[str, str | list[str]] = field(default_factory=dict)
    forbidden: frozenset[str] = frozenset()
    #: what the user said they no longer care for (`WorldKnowledge.lost`), till they state a liking of it again
    lost: dict[str, None] = field(default_factory=dict)

    def attribute_pairs(self) -> list[tuple[str, str]]:
        """(attribute, value) for each stated value, a multi-valued attribute's one by one."""
        return [(a, v) for a, value in self.attributes.items() for v in (value if isinstance(value, list) else [value])]

    def done_with(self, knowledge: WorldKnowledge, node: str) -> bool:
        """Whether the user said they no longer care for the node or the nearest thing above it they stated a
        liking of or lost: after "I'm past pet reptiles" (or "more into frontend than backend development")
        neither it nor what is under it is to be offered, a liking stated since or below it apart."""
        nearest = next((a for a in reversed(knowledge.lineage(node)) if a in self.likes or a in self.lost), None)
        return nearest is not None and nearest in self.lost

    def hear(self, knowledge: WorldKnowledge, message: str) -> list[tuple[str, str, int]]:
        """Update with what a message states, takes back and rules out; return its statements
        (`WorldKnowledge.statements`, what a correction names in place of a disliked slip as disliked:
        `WorldKnowledge.corrected`)."""
        k = knowledge
        lost = k.lost(message)
        slips = [n for n in k.retractions(message) if n not in lost]
        # a correction says what the slip meant as the slip was said: "I can't stand X" then "Sorry, I meant Y, not
        # X" dislikes Y (read as liked: 3 corrections over 1,500 LongTerm episodes)
        noted = [n in self.dislikes for n in slips if n in self.likes or n in self.dislikes]
        as_disliked = set(k.corrected(message)) if noted and all(noted) else set()
        for node in k.retractions(message):  # a correction: what was noted from the slip is void
            self.likes.pop(node, None)
            self.dislikes.pop(node, None)
        self.lost.update(dict.fromkeys(lost))
        statements = [("dislikes", value, -1) if key == "likes" and value in as_disliked else (key, value, polarity)
                      for key, value, polarity in k.statements(message)]
        constrained: frozenset[str] = frozenset()  # what this message's constraints forbid
        for key, value, _ in statements:
            if key in ("likes", "dislikes"):
                continue
            if k.multi_valued(key):
                held = self.attributes.setdefault(key, [])
                if isinstance(held, list) and value not in held:
                    held.append(value)
            else:
                self.attributes[key] = value
            constrained |= k.forbidden_tags(key, value)
        # from every stated constraint as it now stands: a diet that changed forbids what the new one does
        self.forbidden = frozenset().union(*(k.forbidden_tags(a, v) for a, v in self.attribute_pairs()))
        for node in [n for n in self.likes if k.tags(n) & self.forbidden]:  # what the user may not have, they
            del self.likes[node]  # do not like
        for key, value, _ in statements:
            tags = k.tags(value) if key in ("likes", "dislikes") else frozenset()
            # "I stay away from gambling" names casino games as what a constraint forbids, not as a dislike
            if tags & constrained or (key == "likes" and tags & self.forbidden):
                continue
            if key == "likes":
                self.dislikes.pop(value, None)
                self.lost.pop(value, None)
                self.likes.pop(value, None)  # re-inserted: the most recently stated like comes last
                self.likes[value] = None
            elif key == "dislikes":
                self.likes.pop(value, None)
                self.dislikes[value] = None
        return statements


@dataclass
class RecommendedLists:
    """The lists of things an assistant recommended to one user, so that it does not give the same one again.

    The user reads the same things again as a repeat whatever they said in between but a call for another style
    (praise and disclosures included): the oracle answered "Perfect!" with the same two picks in 22 of its 69
    answers to praise over 300 Chat-v0 episodes, each a complaint and no reward; and a thing given since the
    request earns nothing again, so the things not given come first.  The oracle, the tracker and Structured-v0's
    recommendations pick through one.
    """

    topic: str | None = None  # the request topic answered last
    last: frozenset[str] = frozenset()  # the last answer's list
    given: set[frozenset[str]] = field(default_factory=set)  # the lists since the request, and the one before it
    shown: frozenset[str] = frozenset()  # the things recommended since the request

    def spent(self, topic: str | None) -> bool:
        """Whether lists were given since the request about `topic`: an answer with nothing left to suggest says
        that is all, not that it has no suggestion yet."""
        return topic == self.topic and bool(self.shown)

    def pick(self, topic: str | None, ranked: list[str], n: int, remember: bool = True) -> list[str]:
        """The first `n` of `ranked`, those not recommended since the request about `topic` first (one given
        since earns the user nothing again), unless that list was given since the request (or just before it):
        then with its last place taken by the next things ranked, until it is a list not given; none left, no
        list rather than the same one again.  The pick is remembered unless `remember` is False (a preview)."""
        same = topic == self.topic
        given, shown = (self.given, self.shown) if same else ({self.last}, frozenset())
        if shown:
            ranked = sorted(ranked, key=shown.__contains__)  # stable: the new ones first, each in its rank
        chosen, spare = ranked[:n], ranked[n:]
        while chosen and frozenset(chosen) in given and spare:
            chosen[-1] = spare.pop(0)
        if frozenset(chosen) in given:
            chosen = []
        if remember:
            self.topic, self.given, self.last, self.shown = topic, given, frozenset(chosen), shown.union(chosen)
            given.add(self.last)
        return chosen
