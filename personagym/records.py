"""Pydantic records: everything PersonaGym produces is one of these.

Records carry a schema version and serialise to JSON lines.  They import
nothing else from the package, so every layer can depend on them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_serializer,
    field_validator,
)

from personagym.rng import MAX_SEED

SCHEMA_VERSION = "1.2"

#: Schema versions this code reads: a record of another version is refused by name, never half-read.
#: 1.0 lacks `Turn.closing` (it reads as None: the goodbyes that ended earlier sessions were not kept); 1.0 and
#: 1.1 lack `ResponseFeatures.asked_which` (it reads as empty).
READABLE_SCHEMA_VERSIONS: tuple[str, ...] = ("1.0", "1.1", SCHEMA_VERSION)


def _readable_version(version: str) -> str:
    """Refuse a `schema_version` this code cannot read (a newer release's record, or a damaged one)."""
    if version not in READABLE_SCHEMA_VERSIONS:
        raise ValueError(f"schema version {version!r} cannot be read by this personagym, which reads "
                         f"{', '.join(READABLE_SCHEMA_VERSIONS)}")
    return version


#: The `schema_version` field of the top-level records.
SchemaVersion = Annotated[str, AfterValidator(_readable_version)]

#: Value of a persona attribute: one id, or a list of ids for multi-valued attributes.
AttributeValue = str | list[str]

NoiseLayer = Literal["none", "surface", "incomplete", "ambiguity"]
IntentKind = Literal[
    "task_request",
    "preference_disclosure",
    "feedback",
    "clarification_answer",
    "correction",
    "goodbye",
]
Certainty = Literal["clear", "vague", "retracted", "mistaken"]


class Record(BaseModel):
    """Base of all records: strict about unknown fields and non-finite numbers, versioned.

    Records are convenient dicts in Python and a fixed, Arrow-friendly shape in
    JSON: mappings with open key sets serialise as lists of entries and
    free-form values as JSON strings, so every JSON line has the same schema
    (what `datasets` and Parquet need).  Validation accepts both forms.
    NaN and infinities are refused: JSON has no such numbers.  One set on a
    record after validation serialises as the bare constant (``NaN``), not as
    null, so writers can see it and refuse the record instead of writing a line
    that cannot be read back.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, ser_json_inf_nan="constants")


def _entries_in(value: Any, key: str, fields: tuple[str, ...], what: str) -> Any:
    """The serialised list form of a mapping back as a dict keyed by each entry's `key`; other values unchanged.

    Each entry must be an object with a string `key` and the `fields`, and no
    key may appear twice (the dict would silently keep one of them).  Raises
    ValueError, which pydantic reports with the field's location.
    """
    if not isinstance(value, list):
        return value
    entries: dict[str, Any] = {}
    for i, entry in enumerate(value):
        if not (isinstance(entry, Mapping) and isinstance(entry.get(key), str) and all(f in entry for f in fields)):
            expected = "".join(f", {f!r}" for f in fields)
            raise ValueError(f"entry {i} should be an object with a string {key!r}{expected}, got {entry!r:.100}")
        if entry[key] in entries:
            raise ValueError(f"{what} {entry[key]!r} appears twice (entries {list(entries).index(entry[key])} and {i})")
        entries[entry[key]] = entry
    return entries


def _attributes_out(attributes: dict[str, AttributeValue]) -> list[dict[str, Any]]:
    return [
        {"name": k, "values": list(v) if isinstance(v, list) else [v], "multi": isinstance(v, list)}
        for k, v in attributes.items()
    ]


def _attributes_in(value: Any) -> Any:
    """Attributes from their serialised entries (`_attributes_out`): a single-valued one needs exactly one value."""
    entries = _entries_in(value, "name", ("values", "multi"), "attribute")
    if not isinstance(value, list):
        return entries
    attributes: dict[str, Any] = {}
    for name, entry in entries.items():
        values, multi = entry["values"], entry["multi"]
        if not isinstance(values, list) or not isinstance(multi, bool):
            raise ValueError(f"attribute {name!r} should have a list of 'values' and a bool 'multi', "
                             f"got values={values!r:.100}, multi={multi!r}")
        if not multi and len(values) != 1:
            raise ValueError(f"single-valued attribute {name!r} should have exactly one value, got {values!r:.100}")
        attributes[name] = list(values) if multi else values[0]
    return attributes


def _json_out(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


#: Validation context of records read back from their serialised form (`model_dump(mode="json")`).
SERIALIZED: dict[str, bool] = {"serialized": True}


def _reads_serialized(info: ValidationInfo) -> bool:
    """Whether a record is being read from its serialised form: JSON text, or data passed with `SERIALIZED`.

    JSON text (`model_validate_json`) is always the serialised form, since the
    serialisers write JSON-encoded fields as strings; Python data is only when
    the caller says so, so an in-memory value that looks like JSON ("2534")
    is never decoded.
    """
    return info.mode == "json" or bool(info.context and info.context.get("serialized"))


def _json_in(value: Any, info: ValidationInfo) -> Any:
    """Decode a JSON-encoded free-form field of a serialised record; values built in memory pass unchanged."""
    if not (isinstance(value, str) and _reads_serialized(info)):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _json_object_in(value: Any, info: ValidationInfo) -> Any:
    """Decode a JSON-encoded mapping field (`Trajectory.config`, `versions`) of a serialised record.

    In memory these are dicts, so a string is the serialised form read without
    saying so: it is refused with the fix, because the record's other
    JSON-encoded fields (`PreferenceEvent.before`, `after`) would otherwise stay
    strings without a word.
    """
    if isinstance(value, str) and not _reads_serialized(info):
        raise ValueError(f"{value!r:.60} is JSON-encoded text, the serialised form: read serialised trajectories "
                         "with personagym.data (read_jsonl, read_parquet, from_row) or validate them with "
                         "context=personagym.records.SERIALIZED")
    return _json_in(value, info)


class Interest(Record):
    """A liked or disliked taxonomy node with a strength."""

    node: str = Field(description="taxonomy node id")
    polarity: Literal[1, -1]
    intensity: float = Field(ge=0.0, le=1.0)
    source: str = Field(default="latent", description="persona attribute it came from, or 'latent'")


class Persona(Record):
    """Who a simulated user is: a partially observed set of attributes plus interests."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    persona_id: str
    attributes: dict[str, AttributeValue] = Field(
        description="attribute name -> value id(s); taxonomy attributes hold a node id"
    )
    interests: list[Interest]
    summary: str
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    source: str = "sampled"

    _attrs_in = field_validator("attributes", mode="before")(classmethod(lambda cls, v: _attributes_in(v)))

    @field_serializer("attributes")
    def _attrs_out(self, v: dict[str, AttributeValue]) -> list[dict[str, Any]]:
        return _attributes_out(v)


class PreferenceEvent(Record):
    """One change of a user's preference state, with its cause."""

    kind: Literal["drift", "life_event", "satiation", "reaction", "recovery"]
    session: int
    turn: int
    day: float = Field(description="simulated days since the first session")
    time_label: str = Field(description="PersonaMem-style label: same_session, next_week, next_month, next_year")
    target: str = Field(description="taxonomy node id, attribute name, or 'satisfaction'")
    before: Any = Field(default=None, description="value before (JSON-encoded in serialised form)")
    after: Any = Field(default=None, description="value after (JSON-encoded in serialised form)")
    cause: str

    _values_in = field_validator("before", "after", mode="before")(classmethod(lambda cls, v, info: _json_in(v, info)))

    @field_serializer("before", "after")
    def _values_out(self, v: Any) -> str:
        return _json_out(v)


class PreferenceState(Record):
    """The hidden truth about a user at one moment: what they want now."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    persona_id: str
    session: int = 0
    turn: int = 0
    day: float = 0.0
    interests: dict[str, Interest] = Field(description="node id -> current interest")
    attributes: dict[str, AttributeValue] = Field(
        description="current style, constraint, profile and behaviour attributes"
    )
    forbidden_tags: list[str] = Field(description="taxonomy tags the user must never be offered")
    satisfaction: float = Field(default=0.7, ge=0.0, le=1.0)
    restate_level: int = Field(default=0, ge=0, description="how explicit the user has become")
    exposure: dict[str, float] = Field(default_factory=dict, description="satiation per node")

    _attrs_in = field_validator("attributes", mode="before")(classmethod(lambda cls, v: _attributes_in(v)))

    @field_serializer("attributes")
    def _attrs_out(self, v: dict[str, AttributeValue]) -> list[dict[str, Any]]:
        return _attributes_out(v)

    @field_validator("interests", mode="before")
    @classmethod
    def _interests_in(cls, v: Any) -> Any:
        if isinstance(v, list):  # Interest records built in memory, or their serialised entries
            keyed = _entries_in([{"node": i.node} if isinstance(i, Interest) else i for i in v],
                                "node", (), "interest in node")
            return dict(zip(keyed, v, strict=True))  # one key per entry, in order: no duplicates
        return v

    @field_serializer("interests")
    def _interests_out(self, v: dict[str, Interest]) -> list[Interest]:
        return list(v.values())

    @field_validator("exposure", mode="before")
    @classmethod
    def _exposure_in(cls, v: Any) -> Any:
        entries = _entries_in(v, "node", ("value",), "exposure of node")
        return {node: e["value"] for node, e in entries.items()} if isinstance(v, list) else v

    @field_serializer("exposure")
    def _exposure_out(self, v: dict[str, float]) -> list[dict[str, Any]]:
        return [{"node": k, "value": float(x)} for k, x in v.items()]


class PKI(Record):
    """A personal knowledge item a user turn expresses, with its evidence in the text."""

    kind: Literal["interest", "attribute"]
    key: str = Field(description="taxonomy node id (interest) or attribute name")
    value: str | None = Field(default=None, description="attribute value id; None when vague")
    polarity: Literal[1, -1] = 1
    intensity: float | None = None
    explicit: bool = True
    certainty: Certainty = "clear"
    intended: str | None = Field(
        default=None, description="the true key or value when the expression deviates from it"
    )
    evidence: str = ""
    start: int = -1
    end: int = -1


class NoiseRecord(Record):
    """What the noise model did to one utterance."""

    layer: NoiseLayer = "none"
    strategies: list[str] = Field(default_factory=list)
    clean: str
    noisy: str
    written_by: Literal["template", "llm"] = Field(
        default="template", description="who wrote the noisy text: the template noise model or the LLM distractor")


class Intent(Record):
    """What the user means to do in one turn, before it is put into words."""

    kind: IntentKind
    domain: str | None = None
    topic: str | None = Field(default=None, description="taxonomy node id the turn is about")
    attribute: str | None = Field(default=None, description="persona attribute the turn is about")
    value: str | None = Field(default=None, description="attribute value the turn states")
    wrong: str | None = Field(default=None, description=(
        "node a correction rejects, or the interest a change of taste moved on from (moved_on, dislike_moved, "
        "dislike_narrowed, dislike_widened)"))
    polarity: Literal[1, -1] | None = None
    level: Literal["high", "medium", "low"] | None = None
    reason: str | None = Field(default=None, description=(
        "why the turn says it: a complaint's reason (feedback; ignored_again or violated_again when the user had "
        "already said what the answer got wrong), missed_style for praise of an answer that missed a style "
        "preference the user let pass (it claims no fit and is not high), life_event when a request tells what a "
        "life event changed, late_news when it tells that after a whole session went by without it (\"I forgot to "
        "mention last time: ...\"), restated when a request says again a fact the user had told, moved_on, "
        "dislike_moved, dislike_narrowed, dislike_widened, gone_off or taken_up when a disclosure tells a change of "
        "taste since an earlier session, "
        "tried when it tells that something the last session recommended was a hit, had_enough when it tells that "
        "the user is still sated with a liked thing the answers showed often (it states no liking nor dislike), "
        "request_topic for a correction of what a request was about (it states no liking, as the request did not), "
        "or no_longer_into for a complaint about an interest the user had talked about and has since lost, or "
        "repeated for a complaint that the answer recommends exactly what the one before did, though the user had "
        "said something since other than a call for another style, or impatient for the answer to a question from a "
        "user who dislikes being asked instead of answered (clarification_tolerance)"))
    slots: dict[str, str] = Field(default_factory=dict, description=(
        "details the request states (time, budget, ...) -> their words in the clean text; noise may drop them"))

    @field_validator("slots", mode="before")
    @classmethod
    def _slots_in(cls, v: Any) -> Any:
        entries = _entries_in(v, "name", ("value",), "slot")
        return {name: e["value"] for name, e in entries.items()} if isinstance(v, list) else v

    @field_serializer("slots")
    def _slots_out(self, v: dict[str, str]) -> list[dict[str, str]]:
        return [{"name": k, "value": x} for k, x in v.items()]


class UserTurn(Record):
    """One user message with everything needed to score and replay it."""

    session: int
    turn: int
    intent: Intent
    text: str
    clean_text: str
    noise: NoiseRecord
    pkis: list[PKI]
    rendered_by: Literal["template", "llm", "template_fallback", "ppopt"] = Field(
        default="template",
        description="who wrote the text: templates, the LLM renderer, templates after the LLM output failed "
                    "checks, or imported PPOpt data",
    )


def session_marker(session: int) -> str:
    """The line that announces session `session` (0-based, as `UserTurn.session`) in every text of an episode of
    several sessions: the env renders, the recall transcript, the exports' first message of a session.  The first
    session is marked too, so a reader knows from the first line that more are to come; an episode of one session
    has no marker at all."""
    return f"--- session {session + 1} ---"


class MentionFeature(Record):
    """A taxonomy node an assistant message mentions, and how."""

    node: str
    stance: Literal["recommend", "warn", "neutral"] = "neutral"


class ResponseFeatures(Record):
    """What the user perceives in an assistant message (filled by the response analyzer)."""

    mentions: list[MentionFeature] = Field(default_factory=list)
    word_count: int = Field(default=0, description="words, a sentence said again word for word counted once")
    formality: float = Field(default=0.5, ge=0.0, le=1.0)
    has_list: bool = False
    has_table: bool = False
    emoji_count: int = 0
    markdown: bool = Field(default=False, description="headings, bold or code")
    reading_level: float = Field(default=0.0, description="Flesch-Kincaid grade level")
    questions: int = 0
    asked_about: list[str] = Field(
        default_factory=list, description="taxonomy node ids or attribute names asked about"
    )
    asked_which: list[str] = Field(
        default_factory=list, description="taxonomy node ids a question asks which kind of, or what the user "
                                          "likes in (asked about the request's own topic, only these ask anything)"
    )
    violated_tags: list[str] = Field(default_factory=list, description=(
        "constraint tags the answer offers without naming a taxonomy node, where the caller's features say so (a "
        "hand-built feature set); the response analyzer leaves it empty: it finds violations through the "
        "mentions, counted in the turn's constraint reward component"))


class JudgeRecord(Record):
    """An LLM judge's rubric scores of one assistant message (an optional extra reward term)."""

    personalization: int | None = Field(default=None, description="1-5, None when the judgement failed")
    quality: int | None = Field(default=None, description="1-5, None when the judgement failed")
    term: float = Field(default=0.0, description="the reward term, in [0, weight]; 0 when the judgement failed")
    valid: bool = False
    error: str | None = None


class Turn(Record):
    """One exchange: the user message, the assistant's reply, and how it scored."""

    step: int
    session: int
    turn: int
    user: UserTurn
    assistant: str
    profile: str | None = Field(default=None, description="the policy's <profile> block, if any")
    features: ResponseFeatures
    reward: float
    reward_components: dict[str, float]
    events: list[PreferenceEvent] = Field(
        default_factory=list, description="preference changes this exchange caused"
    )
    judge: JudgeRecord | None = Field(default=None, description="the LLM judge's scores, when a judge is on")
    closing: UserTurn | None = Field(
        default=None, description="the user's goodbye after this answer that ended a session another followed")


class Trajectory(Record):
    """A whole episode with its ground truth: what training and evaluation read."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    trajectory_id: str
    env_id: str
    policy: str | None = None
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    persona: Persona
    initial_state: PreferenceState
    final_state: PreferenceState
    turns: list[Turn]
    final_user: UserTurn | None = Field(
        default=None, description="the last user message, left unanswered (e.g. goodbye)"
    )
    session_events: list[PreferenceEvent] = Field(
        default_factory=list, description="changes between sessions (drift, life events)"
    )
    total_reward: float
    terminated: bool
    truncated: bool
    config: dict[str, Any] = Field(default_factory=dict, description="JSON-encoded when serialised")
    versions: dict[str, str] = Field(default_factory=dict, description="JSON-encoded when serialised")

    _free_in = field_validator("config", "versions", mode="before")(
        classmethod(lambda cls, v, info: _json_object_in(v, info)))

    @field_serializer("config", "versions")
    def _free_out(self, v: dict[str, Any]) -> str:
        return _json_out(v)

    def user_turns(self) -> list[UserTurn]:
        """Every user message of the episode in order: goodbyes that ended a session and the final one included."""
        out = []
        for turn in self.turns:
            out.append(turn.user)
            if turn.closing is not None:
                out.append(turn.closing)
        return out + ([self.final_user] if self.final_user is not None else [])
