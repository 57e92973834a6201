"""The dynamic preference process: how a user's hidden truth changes over time.

Four mechanisms, each writing a `PreferenceEvent` with before/after and cause:

* drift (between sessions): an interest moves along a taxonomy edge, to a
  sibling, a child or its parent (PersonaMem's evolving preferences), never
  straight back to one the user left within `REVISIT_DAYS`, and a liked one
  never to a node the persona's attributes rule out (the schema's rules on
  interests, which the sampler obeys too), nor away from one the user's
  circumstances hold in place (`held_interests`: a dog owner's dogs);
* life events (between sessions): a constraint or interest changes for a
  reason ("went vegan"), stamped with the gap before the session
  (next_week / next_month / next_year; events within a session: same_session);
  drift, life events and recovery have per-week rates that compound over a
  gap's `GAP_WEEKS` (a year apart changes a user more than a week apart);
* satiation (within a session): each exposure to a liked topic lowers its
  intensity, and part of it recovers between sessions (RecSim-style);
* reactions (within a session): an answer that violates a constraint, pushes
  a disliked topic or ignores a stated preference lowers satisfaction and
  makes the user restate more explicitly; a good answer raises satisfaction.

`assess` is the user's perception of an answer; the env's reward is computed
from the same assessment, so the simulator and the reward agree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, model_validator

from personagym.records import (
    AttributeValue,
    Interest,
    Persona,
    PreferenceEvent,
    PreferenceState,
    ResponseFeatures,
)
from personagym.rng import Draws
from personagym.shared import SharedOnCopy
from personagym.simulators.life_events import LIFE_EVENTS, LifeEvent, held_interests
from personagym.simulators.persona import PersonaSchema
from personagym.suggest import ConfigFloat

#: Session gaps and their simulated length in days.
TIME_GAPS: dict[str, float] = {"next_week": 7.0, "next_month": 30.0, "next_year": 365.0}
#: How many one-week gaps each gap counts for: the per-week rates of drift, life events and recovery
#: compound over them.  Sublinear in days: a year changes a user more than a month, not 52 times a week.
GAP_WEEKS: dict[str, float] = {"next_week": 1.0, "next_month": 2.0, "next_year": 4.0}

#: Days an interest stays out of reach of drift and of new interests after the user moved away from it or
#: lost it, and safe from being lost after they moved to it or took it up: a taste that flips back within
#: weeks reads as noise (unchecked, an interest went A -> B -> A in 22% of LongTerm episodes, most of them in
#: the very next session).  A year's gap is longer: a taste may come back after that.
REVISIT_DAYS = 180.0

#: How the cause of a life event's consequence starts: a liked interest the change rules out, the interest it
#: brings, an attribute it clears.  Consequences are recorded as life events too, but are not drawn.
DROPPED, CAME_WITH, NO_LONGER = "dropped: ", "came with: ", "no longer so: "
#: The cause of a value a session outgrows (a first-timer with AI assistants is one no more): no drawn event.
OUTGROWN = "a session has passed"
#: The cause of the event that opens every later session (its time label says how long the gap was).
FRESH_START = "a new session starts afresh"


def drawn_life_event(event: PreferenceEvent) -> bool:
    """Whether an event is a life event drawn for a gap (or due), not a consequence of one nor an outgrown value."""
    return event.kind == "life_event" and event.cause != OUTGROWN \
        and not event.cause.startswith((DROPPED, CAME_WITH, NO_LONGER))


#: Expected answer length (words) per length preference.
LENGTH_RANGES: dict[str, tuple[int, int]] = {
    "terse": (0, 40),
    "brief": (10, 100),
    "standard": (50, 250),
    "detailed": (150, 600),
    "exhaustive": (300, 100_000),
}
FORMALITY_TARGET: dict[str, float] = {
    "very_casual": 0.0,
    "casual": 0.25,
    "business_casual": 0.5,
    "professional": 0.75,
    "highly_formal": 1.0,
}
LIST_FORMATS = frozenset({"bullets", "numbered_steps", "outline", "checklist", "pros_cons", "qa"})
#: Suggestions a user weighs in one answer.  An answer that puts more entities
#: forward (any stance but "warn") has each liked one count ATTENTION / n of its
#: intensity: in a list of hundreds of names the good ones drown, so naming the
#: whole taxonomy earns about nothing.  Disliked and forbidden items put forward
#: still count in full: they sting wherever they are.
ATTENTION = 6
#: What a liked entity the answer only names (no recommendation cue) is worth, against one it recommends:
#: echoing the user, asking about their favourites or refusing ("can't help with X") is not serving them.
NAMED_CREDIT = 0.5
#: The discount above bounds what an answer's only-named liked mentions earn *together*, not one by one: at most
#: NAMED_CREDIT of a full answer.  Summed per mention, six favourites off the request (6 x 0.25 x their intensity,
#: when they earned a quarter) reached the cap of 1: an oracle recommending six favourites whatever was asked
#: earned more than the oracle answering on topic (6.25 against 5.43 a Chat-v0 episode).
#:
#: A liked entity off the request (`on_request`: outside its topic's area and the areas that answer its template's
#: requests) earns nothing: a user asking for a three-day camping schedule is not served by chemistry, JavaScript
#: and ice cream, however much they like them, and each such name takes a place a thing on the request could have
#: had.  At a quarter (at most a quarter an answer) such padding paid: the oracle, padding every answer with two
#: favourites, earned 52% of its liked credit on Chat-v0 from them, an answer with its padding was worth more than
#: the same answer without it in 1,035 of its 1,225 answers, and one thing on the request no liking touches plus
#: two favourites (0.25) beat a focused answer with a mild liking on the request.


def on_request(path: Sequence[str], about: frozenset[str] | None) -> bool:
    """Whether a thing (its taxonomy `path`, the root first) is one the request being answered is about: at or
    under one of the nodes in `about` (None: no request narrows it, everything is).

    A top-level category was too wide a bound: "I'd suggest body scan meditation." to a plan for kettlebell
    training, or classic cocktails to a question about boats' category, earned full credit and praise (38% of the
    tracker's preference reward came from liked things outside the request's area).
    """
    return about is None or not about.isdisjoint(path)


class PreferenceConfig(BaseModel):
    """Rates of the preference process."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    drift_rate: ConfigFloat = Field(0.09, ge=0.0, le=1.0,
                                    description="P(an interest drifts) over a one-week gap (longer gaps compound it)")
    drift_moves: dict[str, ConfigFloat] = Field(
        default_factory=lambda: {"sibling": 0.5, "child": 0.25, "parent": 0.25}
    )
    event_rate: ConfigFloat = Field(0.12, ge=0.0, le=1.0,
                                    description="P(a life event) over a one-week gap (longer gaps compound it)")
    gap_weights: dict[str, ConfigFloat] = Field(
        default_factory=lambda: {"next_week": 0.5, "next_month": 0.35, "next_year": 0.15}
    )
    satiation_rate: ConfigFloat = Field(0.1, ge=0.0, le=1.0, description="intensity lost per exposure")
    satiation_recovery: ConfigFloat = Field(
        0.5, ge=0.0, le=1.0, description="exposure forgotten over a one-week gap (longer gaps compound it)")
    violation_penalty: ConfigFloat = Field(0.3, ge=0.0, le=1.0)
    dislike_penalty: ConfigFloat = Field(0.15, ge=0.0, le=1.0)
    style_penalty: ConfigFloat = Field(0.05, ge=0.0, le=1.0)
    unanswered_penalty: ConfigFloat = Field(0.1, ge=0.0, le=1.0, description=(
        "satisfaction an answer that gives a waiting user nothing costs (\"Ok.\", a refusal, warnings only)"))
    like_bonus: ConfigFloat = Field(0.08, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _check_weights(self) -> PreferenceConfig:
        for name, weights, keys in (
            ("drift_moves", self.drift_moves, {"sibling", "child", "parent"}),
            ("gap_weights", self.gap_weights, set(TIME_GAPS)),
        ):
            if set(weights) != keys:
                raise ValueError(f"{name} must have keys {sorted(keys)}, got {sorted(weights)}")
            if any(w < 0 for w in weights.values()) or abs(sum(weights.values()) - 1.0) > 1e-6:
                raise ValueError(f"{name} must be non-negative and sum to 1, got {weights}")
        return self


@dataclass(slots=True)
class Assessment:
    """How the user perceives one assistant answer (0..1 scores, plus reasons)."""

    liked: list[tuple[str, float]] = field(default_factory=list)
    disliked: list[tuple[str, float]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    violated_tags: set[str] = field(default_factory=set)  # the forbidden tags the violations touch
    style_checks: dict[str, bool] = field(default_factory=dict)
    #: False for an answer without a word, or one that gives nothing to a user awaiting an answer (see
    #: `UserSimulator`): it meets no style preference, whatever the checks say
    answered: bool = True
    #: the answer recommends exactly what the one before did, though the user had said more than "restyle it" (see
    #: `UserSimulator`): nothing in it is new, so nothing liked counts, and it meets no style preference
    repeated: bool = False
    #: the answer asks a user who would rather be answered (`clarification_tolerance`) something instead of
    #: answering (see `UserSimulator`): it meets no style preference
    asked_instead: bool = False

    @property
    def style_match(self) -> float:
        """Fraction of the user's style preferences the answer met (1 if none apply; 0 with no answer, the same
        list again or a question put instead of an answer: the user is let down, however well it is written)."""
        if not self.answered or self.repeated or self.asked_instead:
            return 0.0
        if not self.style_checks:
            return 1.0
        return sum(self.style_checks.values()) / len(self.style_checks)

    @property
    def alignment(self) -> float:
        """Intensity-weighted liked mentions (at most 1; none in a repeat or in an answer that gives a waiting user
        nothing) minus disliked ones, in [-1, 1].

        The liked credit is capped before the dislikes are taken off: capped after, a disliked item next to
        enough liked ones cost nothing (12% of an oracle's answers with two dislikes added kept 1.0).  Favourites
        off the request earn nothing (`assess`), so an answer is never worth more for adding them.
        """
        liked = 0.0 if self.repeated or not self.answered else min(1.0, sum(w for _, w in self.liked))
        return max(-1.0, liked - sum(w for _, w in self.disliked))


def layout(features: ResponseFeatures) -> str:
    """How an answer is laid out: "table", "list", "narrative" (neither), or "mixed" (both).

    An answer with both a table and a list hedges between layouts; it meets no
    format preference, or one answer could meet them all.  A table is not prose.
    """
    if features.has_table:
        return "mixed" if features.has_list else "table"
    return "list" if features.has_list else "narrative"


def wanted_shape(attributes: Mapping[str, object]) -> tuple[tuple[int, int] | None, str | None]:
    """(words, layout) a user wants of an answer: the range of its word count, and "list", "table" or
    "narrative"; None where the user has no such preference."""
    length = attributes.get("length_pref")
    fmt = attributes.get("format_pref_primary")
    words = LENGTH_RANGES.get(length) if isinstance(length, str) else None
    if not isinstance(fmt, str):
        return words, None
    return words, "list" if fmt in LIST_FORMATS else fmt if fmt in ("table", "narrative") else None


def initial_state(persona: Persona, schema: PersonaSchema) -> PreferenceState:
    """The preference state at time 0 of a persona.

    Validating the persona's fields as plain data makes fresh copies of every
    interest and list (the state mutates them; the persona must not change),
    several times faster than copying the models one by one.
    """
    return PreferenceState(
        persona_id=persona.persona_id,
        interests={i.node: i.__dict__ for i in persona.interests},
        attributes=persona.attributes,
        forbidden_tags=sorted(schema.forbidden_tags(persona.attributes)),
    )


def snapshot(state: PreferenceState) -> PreferenceState:
    """An independent copy of a state, equal to ``state.model_copy(deep=True)`` and much faster.

    The state's values are strings, numbers, lists of strings and interests,
    so re-validating its fields as plain data copies everything mutable.
    """
    data = dict(state.__dict__)
    data["interests"] = {node: i.__dict__ for node, i in state.interests.items()}
    return PreferenceState(**data)


def assess(state: PreferenceState, features: ResponseFeatures, schema: PersonaSchema,
           about: frozenset[str] | None = None, topic: str | None = None, picks: bool = True,
           given: Collection[str] = frozenset()) -> Assessment:
    """The user's view of an answer: liked/disliked mentions, violations, style fit.

    An entity is put forward unless the answer warns against it: a disliked one
    counts against the answer however it is named (naming it without a
    recommendation cue is still offering it), a forbidden one is a violation,
    and a liked one weighs its interest's intensity, less when the answer puts
    forward more than `ATTENTION` entities, half (`NAMED_CREDIT`) when it is
    only named, not recommended (those bounded together, not one by one: at
    most half a full answer), and nothing when it is off the request being
    answered (`on_request`: at or under none of the nodes in `about`, its
    topic's area and the areas that answer its template's requests; None:
    everything is on topic): favourites padding an answer serve no request,
    and the user still sees them (satiation).  A liked interest earns once per answer, through the best of the
    things put forward under it (as satiation counts it once).  The request's
    own `topic` and its ancestors earn nothing: "I'd suggest jazz." to "Any
    jazz albums you would recommend?" tells the user nothing new (a red-team
    policy that only echoed the topic beat `generic`).  A request that asks
    for no `picks` (an explainer, a draft, tips: `TaskDomain.asks_picks`) is
    served by a liked thing named in it as much as by one recommended: all
    earn as only named ones do ("I'd suggest virology." is no analogy for
    microbiology).  A thing `given` already since the request earns nothing again, as one off the request
    (the oracle answered "Perfect!" with its last list, one thing swapped, and earned its liked credit again: 32 of
    79 credited answers to praise), unless the user called for another style (the caller's `given` is empty then).
    """
    tax = schema.taxonomy
    nodes, paths = tax.nodes, tax.paths
    out = Assessment(answered=features.word_count > 0)
    forbidden = set(state.forbidden_tags)
    put_forward = sum(m.stance != "warn" for m in features.mentions)
    attention = min(1.0, ATTENTION / put_forward) if put_forward else 1.0
    echoed = paths.get(topic, ()) if topic else ()
    named: list[int] = []  # indices in out.liked of the liked things only named
    sources: list[str] = []  # the interest each of out.liked is credited through
    for mention in features.mentions:
        node = nodes.get(mention.node)
        if node is None:
            continue
        tags = node.tags & forbidden
        if tags and mention.stance != "warn":
            out.violations.append(f"{mention.node} ({', '.join(sorted(tags))})")
            out.violated_tags |= tags
        for ancestor in reversed(paths[mention.node]):
            interest = state.interests.get(ancestor)
            if interest is None:
                continue
            if interest.polarity > 0 and mention.stance != "warn":
                if mention.node in echoed:
                    break
                # off the request it earns nothing, but is still seen (`expose`: satiation counts it)
                credit = 0.0 if mention.node in given or not on_request(paths[mention.node], about) \
                    else 1.0 if mention.stance == "recommend" and picks else NAMED_CREDIT
                if credit == NAMED_CREDIT:
                    named.append(len(out.liked))
                out.liked.append((mention.node, interest.intensity * attention * credit))
                sources.append(ancestor)
            elif interest.polarity < 0 and mention.stance != "warn":
                out.disliked.append((mention.node, interest.intensity))
            break
    _once_per_interest(out.liked, sources)
    _bound_credit(out.liked, named, NAMED_CREDIT)
    bare = [t for t in features.violated_tags if t in forbidden]  # forbidden things named without a node
    out.violations += bare
    out.violated_tags.update(bare)
    out.style_checks = style_checks(state.attributes, features)
    return out


def _once_per_interest(liked: list[tuple[str, float]], sources: list[str]) -> None:
    """Keep each liked interest's credit once (`sources`: the interest each entry is credited through): the best
    of the things the answer puts forward under it; the others stay in the list (the user still sees liked
    things) at no weight.

    Credited per mention, six kinds of jazz made a full answer out of one mild liking for jazz (an oracle naming
    things under its best favourites instead of one favourite each earned +0.30 an episode over the oracle), as
    satiation already counts one exposure per interest and answer (`PreferenceProcess.expose`)."""
    best: dict[str, int] = {}
    for i, ((node, weight), interest) in enumerate(zip(liked, sources, strict=True)):
        j = best.get(interest)
        if j is None or weight > liked[j][1]:
            if j is not None:
                liked[j] = (liked[j][0], 0.0)
            best[interest] = i
        else:
            liked[i] = (node, 0.0)


def _bound_credit(liked: list[tuple[str, float]], group: list[int], bound: float) -> None:
    """Scale the liked weights at `group`'s indices down so that together they come to at most `bound`."""
    total = sum(liked[i][1] for i in group)
    if total > bound:
        for i in group:
            node, weight = liked[i]
            liked[i] = (node, weight * bound / total)


#: The style attributes an answer is checked on (`style_checks`): told one of them, a user wants the answer
#: again as they said, and the same things in it are no repeat.
STYLE_CHECKED = ("length_pref", "format_pref_primary", "formality_level", "emoji_use")


def style_checks(attributes: Mapping[str, object], features: ResponseFeatures) -> dict[str, bool]:
    """Which of a user's style preferences an answer meets: one entry per style attribute the user has (length,
    layout, formality, emoji), True where the answer meets it."""
    checks: dict[str, bool] = {}
    words, wanted = wanted_shape(attributes)
    if words is not None:
        checks["length_pref"] = words[0] <= features.word_count <= words[1]
    if wanted is not None:
        checks["format_pref_primary"] = layout(features) == wanted
    formality = attributes.get("formality_level")
    if isinstance(formality, str) and formality in FORMALITY_TARGET:
        checks["formality_level"] = abs(features.formality - FORMALITY_TARGET[formality]) <= 0.3
    emoji = attributes.get("emoji_use")
    if isinstance(emoji, str):
        wants = emoji not in ("never", "none", "no_emoji")
        checks["emoji_use"] = (features.emoji_count > 0) == wants or emoji == "sometimes"
    return checks


#: A session's satisfaction when it starts, whatever the last one ended on (`PreferenceState.satisfaction`'s
#: default, the first session's).
FRESH_SATISFACTION = PreferenceState.model_fields["satisfaction"].default


class PreferenceProcess(SharedOnCopy):
    """Evolves a `PreferenceState` in place and records every change as an event."""

    def __init__(self, schema: PersonaSchema, config: PreferenceConfig | None = None,
                 events: tuple[LifeEvent, ...] = LIFE_EVENTS) -> None:
        self.schema = schema
        self.taxonomy = schema.taxonomy
        self.config = config or PreferenceConfig()
        for event in events:
            event.validate(schema)
        self.events = events
        #: Taxonomy attribute -> the subtree its value must stay in (a drift must not carry it out).
        self._roots = {a.name: a.root for a in schema.attributes.values() if a.type == "taxonomy" and a.root}
        #: (attribute, value -> the value it becomes) for the values a session outgrows
        self._outgrown = [(a.name, a.outgrown) for a in schema.attributes.values() if a.outgrown]
        moves = self.config.drift_moves
        self._move_names = ("sibling", "child", "parent")
        self._move_cum = [moves["sibling"], moves["sibling"] + moves["child"], 1.0]
        gaps = self.config.gap_weights
        self._gap_names = tuple(TIME_GAPS)
        acc, self._gap_cum = 0.0, []
        for name in self._gap_names:
            acc += gaps[name]
            self._gap_cum.append(acc)
        cfg = self.config
        #: Gap -> (P(an interest drifts), P(a life event), share of exposure kept) over that gap.
        self._gap_rates = {
            name: (1.0 - (1.0 - cfg.drift_rate) ** weeks, 1.0 - (1.0 - cfg.event_rate) ** weeks,
                   (1.0 - cfg.satiation_recovery) ** weeks)
            for name, weeks in GAP_WEEKS.items()
        }

    def _event(self, state: PreferenceState, kind: str, label: str, target: str,
               before: object, after: object, cause: str) -> PreferenceEvent:
        return PreferenceEvent(
            kind=kind, session=state.session, turn=state.turn, day=state.day,  # type: ignore[arg-type]
            time_label=label, target=target, before=before, after=after, cause=cause,
        )

    # -- between sessions ------------------------------------------------------------------
    def next_session(self, state: PreferenceState, d: Draws,
                     history: Iterable[PreferenceEvent] = ()) -> list[PreferenceEvent]:
        """Advance to the next session: a time gap, recovery, drift and maybe a life event.

        Values a session outgrows change first (the schema's `outgrown`): a user who met an AI assistant for
        the first time is no longer a first-timer ("this is my first time using an AI assistant" in a third
        session was false).  `history`, the user's events so far, says which interests changed recently
        (`REVISIT_DAYS`): no drift or new interest goes back to one just left (nor above it), and no life event
        drops one just found.
        """
        history = tuple(history)  # read twice: what changed recently, and what is due
        label = self._gap_names[d.weighted(self._gap_cum)]
        state.session += 1
        state.turn = 0
        state.day += TIME_GAPS[label]
        state.restate_level = 0
        # always recorded, also unchanged: the one event every gap has, so the records say when each session was
        events = [self._event(state, "recovery", label, "satisfaction", state.satisfaction, FRESH_SATISFACTION,
                              FRESH_START)]
        state.satisfaction = FRESH_SATISFACTION
        drift_rate, event_rate, keep = self._gap_rates[label]
        events += self._recover(state, label, keep)
        for name, outgrown in self._outgrown:
            before = state.attributes.get(name)
            if isinstance(before, str) and before in outgrown:
                state.attributes[name] = after = outgrown[before]
                events.append(self._event(state, "life_event", label, name, before, after, OUTGROWN))
        left, entered, changed = self._recent_moves(history, state.day)
        unfit = self.schema.unfit_interests(state.attributes)
        held = held_interests(self.events, state.attributes, self.taxonomy)
        for node in list(state.interests):
            if d.random() < drift_rate:
                ev = self._drift(state, node, label, d, left, unfit, held)
                if ev:
                    events.append(ev)
                    left.add(node)
                    entered.add(ev.after)
        due = self._due_event(state, label, d, left, history)
        if due:
            events += due
        elif d.random() < event_rate:
            events.extend(self._life_event(state, label, d, left, entered, changed, held))
        return events

    def _due_event(self, state: PreferenceState, label: str, d: Draws, left: set[str],
                   history: Iterable[PreferenceEvent]) -> list[PreferenceEvent]:
        """The first event with `due_days` that is due (its attribute unchanged that long, counted from the
        episode's start if never changed), applied; none if none is."""
        last = {e.target: e.day for e in history if e.kind == "life_event"}
        for event in self.events:
            if event.due_days is not None and state.day - last.get(str(event.attribute), 0.0) >= event.due_days:
                applied = self._try_attribute(state, event, label, d, left)
                if applied:
                    return applied
        return []

    def _recent_moves(self, history: Iterable[PreferenceEvent],
                      day: float) -> tuple[set[str], set[str], set[str]]:
        """(interests left, interests entered, attributes changed) by a drift or a life event less than
        `REVISIT_DAYS` before `day`."""
        left: set[str] = set()
        entered: set[str] = set()
        changed: set[str] = set()
        nodes, attributes = self.taxonomy.nodes, self.schema.attributes
        for e in history:
            if day - e.day >= REVISIT_DAYS:
                continue
            if e.kind == "drift":
                left.add(e.before)
                entered.add(e.after)
            elif e.kind == "life_event" and e.target in attributes:
                changed.add(e.target)
            elif e.kind == "life_event" and e.target in nodes:
                (left if e.after is None else entered).add(e.target)
        return left, entered, changed

    def _recover(self, state: PreferenceState, label: str, keep: float) -> list[PreferenceEvent]:
        """Forget all but `keep` of each exposure; the intensity it took comes back in proportion."""
        events = []
        for node, exposure in list(state.exposure.items()):
            interest = state.interests.get(node)
            new_exposure = round(exposure * keep, 4)
            if interest is not None and exposure > new_exposure:
                before = interest.intensity
                factor = (1.0 - self.config.satiation_rate) ** (new_exposure - exposure)
                interest.intensity = round(min(1.0, before * factor), 4)
                events.append(self._event(state, "recovery", label, node, before,
                                          interest.intensity, "time away from the topic"))
            if new_exposure < 0.01:
                del state.exposure[node]
            else:
                state.exposure[node] = new_exposure
        return events

    def _drift(self, state: PreferenceState, node: str, label: str, d: Draws, left: set[str],
               unfit: frozenset[str], held: frozenset[str] = frozenset()) -> PreferenceEvent | None:
        """Move an interest along a taxonomy edge, or None where no move is allowed.

        Never to a node in `left` (one the user recently moved away from or lost) nor above one: K-pop -> synth-pop
        then synth-pop -> pop music liked K-pop again weeks after the user left it; a liked interest never to one
        the persona cannot like (`unfit`, by the schema's rules on interests), nor across such a rule: a drift
        changes a taste, not a life (pregnancy -> toddlerhood in a week would age the child by two years).  For
        the same reason a liked interest at or above one the user's circumstances hold in place (`held`) only
        moves to a node still at or above it: a dog owner's "dogs" may widen to "pets", never move on to "cats"
        nor narrow to "dog training".
        """
        tax = self.taxonomy
        interest = state.interests[node]
        nodes, path = tax.nodes, tax.paths[node]
        forbidden = frozenset(state.forbidden_tags) if interest.polarity > 0 else frozenset()
        # A target must be new, allowed, and neither an ancestor nor a descendant of an interest of
        # opposite polarity.  Every option of a move shares its ancestors (`above`), so the
        # descendant test is made once per move, not once per option.
        opposite = {m for m, i in state.interests.items() if i.polarity != interest.polarity}
        above_opposite = {a for m in opposite for a in tax.paths[m]}  # those interests and their ancestors
        above_left = {a for m in left for a in tax.paths[m]}  # the interests left and their ancestors
        # An interest that is the value of a taxonomy attribute (favorite_programming_topic) stays in that
        # attribute's subtree: a move out of it would give the attribute a value outside its domain.
        root = self._roots.get(interest.source)
        ruled = self.schema.like_rules_over(node) if interest.polarity > 0 else None
        keep = [tax.paths[h] for h in held if node in tax.paths[h]] if interest.polarity > 0 else ()
        first = d.weighted(self._move_cum)
        # the drawn move first; where it is impossible, the others, a sibling first: a leaf has no child, and
        # falling back to the parent made a third of all drifts widen a taste (75% of interests are leaves), so
        # interests grew broader session by session.
        # A drift stays in its top-level category and never widens to a whole one: "languages" becoming
        # "news & politics", or a dislike of entrepreneurship one of all business & finance, is no drift of taste.
        for move in (self._move_names[first], *(m for i, m in enumerate(self._move_names) if i != first)):
            if move == "sibling":
                if len(path) < 2:
                    continue
                options, above = tax.children[nodes[node].parent], path[:-1]  # `node` is taken: never kept
            elif move == "child":
                options, above = tax.children[node], path
            else:
                if len(path) < 3:
                    continue
                options, above = path[-2:-1], path[:-2]  # the parent
            if not opposite.isdisjoint(above):
                continue
            options = [
                o for o in options
                if o not in state.interests and o not in above_opposite and not nodes[o].group and o not in above_left
                and (not forbidden or nodes[o].tags.isdisjoint(forbidden))
                and (root is None or root in tax.paths[o])
                and (ruled is None or (unfit.isdisjoint(tax.paths[o]) and self.schema.like_rules_over(o) == ruled))
                and all(o in above_held for above_held in keep)
            ]
            if options:
                break
        else:
            return None
        target = d.choice(options)
        del state.interests[node]
        state.interests[target] = Interest(node=target, polarity=interest.polarity,
                                           intensity=interest.intensity, source=interest.source)
        if interest.source in state.attributes:
            state.attributes[interest.source] = target
        if node in state.exposure:  # the satiation moves with the interest, and recovers there as before
            state.exposure[target] = state.exposure.pop(node)
        return self._event(state, "drift", label, node, node, target, f"interest moved to a {move}")

    def _life_event(self, state: PreferenceState, label: str, d: Draws, left: set[str],
                    entered: set[str], changed: set[str],
                    held: frozenset[str] = frozenset()) -> list[PreferenceEvent]:
        """The first life event, in a random order, that applies to this user (`LifeEvent.propose_interest` on
        `left`, `entered` and `held`), applied; none if none does.  No event changes an attribute one changed less
        than `REVISIT_DAYS` ago (`changed`): a baby is not born weeks after the news of it, and a raise does
        not follow the news that money got tight."""
        order = list(range(len(self.events)))
        for i in range(len(order)):
            j = i + d.index(len(order) - i)
            order[i], order[j] = order[j], order[i]
        for k in order:
            event = self.events[k]
            if event.kind in ("new_interest", "lose_interest"):
                interest_change = event.propose_interest(state, self.schema, d, left, entered, held)
                if interest_change is None:
                    continue
                node, interest, reason = interest_change
                before = state.interests.pop(node, None)
                if interest is not None:
                    state.interests[node] = interest
                return [self._event(state, "life_event", label, node,
                                    before.intensity if before else None,
                                    interest.intensity if interest else None, reason),
                        *self._unset_source(state, before if interest is None else None, label,
                                            f"{DROPPED}{reason}")]
            if event.attribute not in changed:
                applied = self._try_attribute(state, event, label, d, left)
                if applied:
                    return applied
        return []

    def _try_attribute(self, state: PreferenceState, event: LifeEvent, label: str, d: Draws,
                       left: set[str]) -> list[PreferenceEvent]:
        """Propose the event's attribute change and apply it if the persona stays coherent; none if not."""
        change = event.propose(state, self.schema, d)
        if change is None:
            return []
        name, new_value, reason = change
        trial = {k: v for k, v in state.attributes.items() if k not in event.clears}
        trial[name] = new_value
        if self.schema.violations(trial):
            return []
        return self._apply_attribute(state, event, state.attributes.get(name), new_value, label, reason, d, left)

    def _apply_attribute(self, state: PreferenceState, event: LifeEvent, before: AttributeValue | None,
                         after: AttributeValue, label: str, reason: str, d: Draws,
                         left: set[str]) -> list[PreferenceEvent]:
        """Set the event's attribute and unset what it `clears`; drop the liked interests the new constraints
        forbid or the schema's rules on interests now rule out (pregnancy once the baby is born); take up the
        interest the event `brings`, unless one just left or one already held at or around it."""
        name = str(event.attribute)
        state.attributes[name] = after
        events = [self._event(state, "life_event", label, name, before, after, reason)]
        for cleared in event.clears:
            if cleared in state.attributes:
                events.append(self._event(state, "life_event", label, cleared, state.attributes.pop(cleared), None,
                                          f"{NO_LONGER}{reason}"))
        forbidden = self.schema.forbidden_tags(state.attributes)
        state.forbidden_tags = sorted(forbidden)
        unfit = self.schema.unfit_interests(state.attributes)
        tax = self.taxonomy
        for node, interest in list(state.interests.items()):
            if interest.polarity <= 0:
                continue
            tags = tax.nodes[node].tags & forbidden
            if tags:
                cause = f"{DROPPED}{reason} ({', '.join(sorted(tags))} now off-limits)"
            elif not unfit.isdisjoint(tax.paths[node]):
                cause = f"{DROPPED}{reason} (no longer fits)"
            else:
                continue
            del state.interests[node]
            events.append(self._event(state, "life_event", label, node, interest.intensity, None, cause))
            events += self._unset_source(state, interest, label, cause)
        added = [v for v in (after if isinstance(after, list) else [after])
                 if v not in (before if isinstance(before, list) else [before])]
        node = event.brought(added[0], tax) if added else None  # type: ignore[arg-type]
        if node is not None and node not in left and not tax.nodes[node].tags & forbidden \
                and unfit.isdisjoint(tax.paths[node]) \
                and not any(n == node or tax.is_ancestor(n, node) or tax.is_ancestor(node, n)
                            for n in state.interests):
            intensity = round(0.6 + 0.4 * d.random(), 3)
            state.interests[node] = Interest(node=node, polarity=1, intensity=intensity, source="life_event")
            events.append(self._event(state, "life_event", label, node, None, intensity, f"{CAME_WITH}{reason}"))
        return events

    def _unset_source(self, state: PreferenceState, dropped: Interest | None, label: str,
                      cause: str) -> list[PreferenceEvent]:
        """Unset the taxonomy attribute whose value was a dropped interest (no favourite dish a vegan gave up)."""
        if dropped is None or state.attributes.get(dropped.source) != dropped.node:
            return []
        del state.attributes[dropped.source]
        return [self._event(state, "life_event", label, dropped.source, dropped.node, None, cause)]

    # -- within a session ------------------------------------------------------------------
    def expose(self, state: PreferenceState, nodes: list[str]) -> list[PreferenceEvent]:
        """Satiation: each liked interest an answer shows the user (itself or something under it) loses some
        intensity, once per answer: three laptops named in one answer cut "personal computers" once, not three
        times."""
        events = []
        rate = self.config.satiation_rate
        paths = self.taxonomy.paths
        shown: set[str] = set()
        for node in nodes:
            path = paths.get(node) or self.taxonomy.anchor_path(node)  # the latter raises for an unknown node
            for ancestor in reversed(path):
                interest = state.interests.get(ancestor)
                if interest is None:
                    continue
                if interest.polarity > 0 and rate > 0 and ancestor not in shown:
                    shown.add(ancestor)
                    before = interest.intensity
                    interest.intensity = round(before * (1.0 - rate), 4)
                    state.exposure[ancestor] = state.exposure.get(ancestor, 0.0) + 1.0
                    events.append(self._event(state, "satiation", "same_session", ancestor, before,
                                              interest.intensity, f"shown {node} again"))
                break
        return events

    def disappoint(self, state: PreferenceState, amount: float, cause: str) -> list[PreferenceEvent]:
        """Lower satisfaction by `amount` for a reason the assessment does not hold (a list seen already)."""
        before = state.satisfaction
        state.satisfaction = round(max(0.0, before - amount), 4)
        if state.satisfaction == before:
            return []
        return [self._event(state, "reaction", "same_session", "satisfaction", before, state.satisfaction, cause)]

    def react(self, state: PreferenceState, assessment: Assessment) -> list[PreferenceEvent]:
        """Update satisfaction and restating from the user's assessment of an answer."""
        cfg = self.config
        before = state.satisfaction
        # nothing liked in a list seen already, or beside no answer, pleases, as nothing of it counts in the reward
        # (`alignment`)
        delta = 0.0 if assessment.repeated or not assessment.answered else cfg.like_bonus * sum(
            w for _, w in assessment.liked)
        delta -= cfg.dislike_penalty * sum(w for _, w in assessment.disliked)
        delta -= cfg.violation_penalty * len(assessment.violations)
        delta -= cfg.style_penalty * sum(1 for ok in assessment.style_checks.values() if not ok)
        if not assessment.answered:  # "Ok." to a question left the user as pleased as a real answer
            delta -= cfg.unanswered_penalty
        state.satisfaction = round(max(0.0, min(1.0, before + delta)), 4)
        causes = [] if assessment.answered else ["answered nothing"]
        if assessment.violations:
            causes.append("constraint violated: " + "; ".join(assessment.violations))
        if assessment.disliked:
            causes.append("pushed disliked " + ", ".join(n for n, _ in assessment.disliked))
        missed = [k for k, ok in assessment.style_checks.items() if not ok]
        if missed:
            causes.append("ignored " + ", ".join(missed))
        if assessment.violations or assessment.disliked:
            state.restate_level += 1
        if state.satisfaction == before:
            return []
        if state.satisfaction > before:  # only what they liked raises it: first, not "ignored formality_level" alone
            causes.insert(0, "liked " + ", ".join(n for n, _ in assessment.liked))
        cause = "; ".join(causes)
        return [self._event(state, "reaction", "same_session", "satisfaction", before,
                            state.satisfaction, cause)]
