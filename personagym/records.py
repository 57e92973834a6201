"""Pydantic records: everything PersonaGym produces is one of these.

Records carry a schema version and serialise to JSON lines.  They import
nothing else from the package, so every layer can depend on them.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_serializer, field_validator

SCHEMA_VERSION = "1.0"

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
    """Base of all records: strict about unknown fields, versioned.

    Records are convenient dicts in Python and a fixed, Arrow-friendly shape in
    JSON: mappings with open key sets serialise as lists of entries and
    free-form values as JSON strings, so every JSON line has the same schema
    (what `datasets` and Parquet need).  Validation accepts both forms.
    """

    model_config = ConfigDict(extra="forbid")


def _attributes_out(attributes: dict[str, AttributeValue]) -> list[dict[str, Any]]:
    return [
        {"name": k, "values": list(v) if isinstance(v, list) else [v], "multi": isinstance(v, list)}
        for k, v in attributes.items()
    ]


def _attributes_in(value: Any) -> Any:
    if isinstance(value, list):
        return {e["name"]: (list(e["values"]) if e.get("multi") else e["values"][0]) for e in value}
    return value


def _json_out(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


#: Validation context of records read back from their serialised form (`model_dump(mode="json")`).
SERIALIZED: dict[str, bool] = {"serialized": True}


def _json_in(value: Any, info: ValidationInfo) -> Any:
    """Decode a JSON-encoded field of a serialised record; values built in memory pass unchanged.

    Only readers of serialised records pass the `SERIALIZED` context, so an
    in-memory value that happens to look like JSON ("2534") is never decoded.
    """
    if not (isinstance(value, str) and info.context and info.context.get("serialized")):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class Interest(Record):
    """A liked or disliked taxonomy node with a strength."""

    node: str = Field(description="taxonomy node id")
    polarity: Literal[1, -1]
    intensity: float = Field(ge=0.0, le=1.0)
    source: str = Field(default="latent", description="persona attribute it came from, or 'latent'")


class Persona(Record):
    """Who a simulated user is: a partially observed set of attributes plus interests."""

    schema_version: str = SCHEMA_VERSION
    persona_id: str
    attributes: dict[str, AttributeValue] = Field(
        description="attribute name -> value id(s); taxonomy attributes hold a node id"
    )
    interests: list[Interest]
    summary: str
    seed: int | None = None
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
    time_label: str = Field(description="PersonaMem-style label: init, next_week, ...")
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

    schema_version: str = SCHEMA_VERSION
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
        if isinstance(v, list):
            return {(i["node"] if isinstance(i, dict) else i.node): i for i in v}
        return v

    @field_serializer("interests")
    def _interests_out(self, v: dict[str, Interest]) -> list[Interest]:
        return list(v.values())

    @field_validator("exposure", mode="before")
    @classmethod
    def _exposure_in(cls, v: Any) -> Any:
        return {e["node"]: e["value"] for e in v} if isinstance(v, list) else v

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
    wrong: str | None = Field(default=None, description="node a correction rejects")
    polarity: Literal[1, -1] | None = None
    level: Literal["high", "medium", "low"] | None = None
    reason: str | None = None
    slots: dict[str, str] = Field(default_factory=dict, description=(
        "details the request states (time, budget, ...) -> their words in the clean text; noise may drop them"))

    @field_validator("slots", mode="before")
    @classmethod
    def _slots_in(cls, v: Any) -> Any:
        return {e["name"]: e["value"] for e in v} if isinstance(v, list) else v

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


class MentionFeature(Record):
    """A taxonomy node an assistant message mentions, and how."""

    node: str
    stance: Literal["recommend", "warn", "neutral"] = "neutral"


class ResponseFeatures(Record):
    """What the user perceives in an assistant message (filled by the response analyzer)."""

    mentions: list[MentionFeature] = Field(default_factory=list)
    word_count: int = 0
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
    violated_tags: list[str] = Field(default_factory=list)


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


class Trajectory(Record):
    """A whole episode with its ground truth: what training and evaluation read."""

    schema_version: str = SCHEMA_VERSION
    trajectory_id: str
    env_id: str
    policy: str | None = None
    seed: int | None = None
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

    _free_in = field_validator("config", "versions", mode="before")(classmethod(lambda cls, v, info: _json_in(v, info)))

    @field_serializer("config", "versions")
    def _free_out(self, v: dict[str, Any]) -> str:
        return _json_out(v)

    def user_turns(self) -> list[UserTurn]:
        """Every user message of the episode in order, the final unanswered one included."""
        return [turn.user for turn in self.turns] + ([self.final_user] if self.final_user is not None else [])
