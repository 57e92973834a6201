"""The LLM contract: chat requests in, completions out, in batches.

Backends know no domain (no personas, no envs): they turn `ChatRequest`s into
`Completion`s.  A request fails alone: its `Completion` carries `error` and the
rest of the batch is unaffected.  Everything here is plain data so requests can
be hashed for the on-disk cache and written into records.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["system", "user", "assistant"]


class ChatMessage(BaseModel):
    """One chat message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: str


class Sampling(BaseModel):
    """Sampling parameters, the common subset of vLLM's `SamplingParams` and the OpenAI API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(256, ge=1, le=32768)
    stop: tuple[str, ...] = ()
    seed: int | None = Field(default=None, ge=0)


class StructuredOutput(BaseModel):
    """Constrain the completion: exactly one of a JSON schema, a list of choices, or a regex."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    json_schema: dict[str, Any] | None = None
    choice: tuple[str, ...] | None = None
    regex: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> StructuredOutput:
        given = [k for k in ("json_schema", "choice", "regex") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"structured output needs exactly one of json_schema, choice, regex; got {given or None}")
        if self.choice is not None and not self.choice:
            raise ValueError("structured output choice must list at least one option")
        return self

    @property
    def kind(self) -> str:
        return "json_schema" if self.json_schema is not None else "choice" if self.choice is not None else "regex"


class ChatRequest(BaseModel):
    """One chat completion to make.  `tag` names the request in errors and logs (e.g. "render s0t3")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: tuple[ChatMessage, ...] = Field(min_length=1)
    sampling: Sampling = Field(default_factory=Sampling)
    structured: StructuredOutput | None = None
    tag: str = ""

    def cache_key(self, model: str) -> str:
        """A hash of everything that determines the completion (the tag is excluded)."""
        payload = self.model_dump(mode="json", exclude={"tag"})
        payload["model"] = model
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


class Completion(BaseModel):
    """The outcome of one request: text and token counts, or an error saying what failed."""

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    attempts: int = 1
    error: str | None = None

    @field_validator("text")
    @classmethod
    def _unicode_text(cls, text: str) -> str:
        """Lone surrogates (a JSON body may escape one, "\\ud800") become U+FFFD; a surrogate pair, its character.

        A str holding one is not Unicode text: the env refuses it as an
        action, and a trajectory holding it could not be written.
        """
        if text.isascii():
            return text
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return text

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def truncated(self) -> bool:
        """The completion stopped at `max_tokens` rather than at a natural end."""
        return self.finish_reason == "length"


@dataclass
class Usage:
    """Token and request counters of a backend (since it was created)."""

    requests: int = 0
    cached: int = 0
    failed: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    by_tag: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class LLMBackend(Protocol):
    """What every backend offers: a batched async `generate`, counters, and `aclose`."""

    name: str
    model: str
    usage: Usage

    async def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        """One completion per request, in order; a failed request has `error` set, others are unaffected."""
        ...

    async def aclose(self) -> None:
        """Release clients, engines and servers."""
        ...


class LLMError(RuntimeError):
    """A request failed after its retries; the message names the request (its tag) and the cause."""
