"""`LLMPolicy`: the assistant is a language model behind any `LLMBackend`.

The policy keeps the conversation of each batch slot (a vector env passes one
observation per env; slot i is env i) from the observations it is given:
an observation holds only the user's latest message, so the policy stores
each exchange itself.  A slot's conversation restarts when its observation is
the first turn of the first session (what `reset` produces); a later session
continues it, as a real assistant with memory would.

Reason-then-respond (``reason_then_respond=True``, the RLPA/PPOpt recipe):
the model first states the profile it infers, as JSON bounded by a schema
(liked and disliked things as short free text, attribute values from their
domains), then answers with that profile in its instructions.  The action is
``format_profile(profile) + answer``, so the env scores the profile and the
user sees only the answer.  Each step sends one batched `generate` per stage
for all slots (one call without reason-then-respond, two with it).

Failures.  An answer the backend could not complete raises `LLMError` naming
the request's tag (slot, session, turn): an answer that was never written
must not be scored as if it had been, nor replaced by a stand-in that would
be.  A profile that failed or does not parse (JSON cut at ``max_tokens``,
say) only loses the profile: the answer is sent without a ``<profile>``
block (the trajectory shows ``Turn.profile = None``, scored 0 by the env)
and `profile_failures` counts it.

Only the light LLM contract is imported here; backends are made elsewhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from personagym.checks import check_int
from personagym.llm.runner import LoopRunner
from personagym.llm.types import ChatMessage, ChatRequest, Completion, LLMBackend, LLMError, Sampling, StructuredOutput
from personagym.policies.base import Observation, Observations, observation_list, register_policy
from personagym.profile_format import format_profile

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful personal assistant. Answer the user's latest message directly and concisely. "
    "Pay attention to everything the user tells you about themselves (what they like and dislike, their diet, "
    "budget and other constraints, how long and in which format they want answers) and respect it in every answer."
)
PROFILE_PROMPT = (
    "You read a conversation between a user and an assistant and write down what the user has revealed about "
    "themselves. Answer with JSON only: \"likes\" and \"dislikes\" are short names of things the user said they "
    "like or dislike (empty lists when they said nothing); \"attributes\" lists the attributes the user stated "
    "(name and value; an empty list when none), chosen from: {names}."
)
DEFAULT_SAMPLING = Sampling(temperature=0.7, max_tokens=192)
#: Profile extraction is reading, not writing: greedy, and bounded by the schema.
PROFILE_MAX_TOKENS = 384
MAX_INTEREST_CHARS = 32
MAX_INTERESTS = 3
MAX_STATED_ATTRIBUTES = 4
# Characters that would break the `key: value, value` profile format (or close its block).
_PROFILE_UNSAFE = re.compile(r"[,;:\n\r<>]+")


#: One slot's (user message, answer) exchanges so far, oldest first (answers without their profile block).
_Conversation = list[tuple[str, str]]


class LLMPolicy:
    """An assistant policy backed by an LLM (see the module docstring).

    ``backend`` is any `LLMBackend`; the policy does not own it (``close``
    leaves it open).  ``sampling`` sets the answer's sampling (default:
    temperature 0.7, 192 tokens); ``system_prompt`` replaces the default
    instructions; ``history_turns`` is how many past exchanges each request
    carries.  ``profile_attributes`` (attribute name -> allowed values) is
    the attribute vocabulary of reason-then-respond; without it the profile
    holds likes and dislikes only.  ``runner`` is the event loop of the sync
    calls: pass the one the backend is already used on (an env's), so its
    clients are not rebuilt for every other call; by default the policy has
    its own.
    """

    name = "llm"

    def __init__(
        self,
        backend: LLMBackend,
        *,
        reason_then_respond: bool = False,
        sampling: Sampling | None = None,
        system_prompt: str | None = None,
        history_turns: int = 4,
        profile_attributes: Mapping[str, Sequence[str]] | None = None,
        runner: LoopRunner | None = None,
    ) -> None:
        history_turns = check_int("history_turns", history_turns, 0)
        if sampling is not None and not isinstance(sampling, Sampling):
            raise TypeError(f"sampling must be a Sampling, got {type(sampling).__name__}")
        attributes = _check_attributes(profile_attributes or {})
        if not callable(getattr(backend, "generate", None)):
            raise TypeError(f"backend must be an LLMBackend (with async generate), got {type(backend).__name__}")
        self.backend = backend
        self.reason_then_respond = bool(reason_then_respond)
        self.sampling = sampling or DEFAULT_SAMPLING
        self.system_prompt = DEFAULT_SYSTEM_PROMPT if system_prompt is None else system_prompt
        self.history_turns = history_turns
        self.profile_attributes = attributes
        self.profile_structure = StructuredOutput(json_schema=profile_schema(self.profile_attributes))
        self.profile_sampling = Sampling(temperature=0.0, max_tokens=PROFILE_MAX_TOKENS, seed=self.sampling.seed)
        #: Profiles the model wrote that did not parse (their answers went without a profile block).
        self.profile_failures = 0
        self._conversations: dict[int, _Conversation] = {}
        self._own_runner = runner is None
        self.runner = runner or LoopRunner()

    # -- Policy protocol -------------------------------------------------------------------
    def act(self, observation: Observation) -> str:
        """The reply to one observation (slot 0)."""
        return self.act_batch([observation])[0]

    def act_batch(self, observations: Observations) -> list[str]:
        """Replies to a batch of observations, slot i being observation i; one `generate` per stage."""
        return self.runner.run(self.aact_batch(observations), async_alternative="LLMPolicy.aact_batch(observations)")

    async def aact(self, observation: Observation) -> str:
        """`act` for callers inside an event loop."""
        return (await self.aact_batch([observation]))[0]

    async def aact_batch(self, observations: Observations) -> list[str]:
        """`act_batch` for callers inside an event loop."""
        turns = [_read(obs, slot) for slot, obs in enumerate(observation_list(observations))]
        if not turns:
            return []
        for slot, (_, turn, session) in enumerate(turns):
            if turn == 0 and session == 0:
                self._conversations[slot] = []
        profiles: list[list[tuple[str, str]] | None] = [None] * len(turns)
        if self.reason_then_respond:
            requests = [self._profile_request(slot, *t) for slot, t in enumerate(turns)]
            completions = await self.backend.generate(requests)
            profiles = [self._parse_profile(c) for c in completions]
        requests = [self._answer_request(slot, *t, profiles[slot]) for slot, t in enumerate(turns)]
        completions = await self.backend.generate(requests)
        # every answer is checked before any is recorded: a failure leaves no slot half-updated
        answers = [_text(c, r).strip() for c, r in zip(completions, requests, strict=True)]
        actions = []
        for slot, (answer, profile) in enumerate(zip(answers, profiles, strict=True)):
            self._conversation(slot).append((turns[slot][0], answer))
            actions.append((format_profile(profile) if profile is not None else "") + answer)
        return actions

    def conversation(self, slot: int = 0) -> list[tuple[str, str]]:
        """The (user message, answer) exchanges of a batch slot so far, oldest first."""
        return list(self._conversation(slot))

    def reset(self) -> None:
        """Forget every conversation."""
        self._conversations.clear()

    def close(self) -> None:
        """Close the policy's own event loop, if it has one (the backend stays open: its owner closes it)."""
        if self._own_runner:
            self.runner.close()

    # -- requests --------------------------------------------------------------------------
    def _conversation(self, slot: int) -> _Conversation:
        return self._conversations.setdefault(slot, [])

    def _history(self, slot: int) -> list[tuple[str, str]]:
        exchanges = self._conversation(slot)
        return exchanges[-self.history_turns:] if self.history_turns else []

    def _answer_request(self, slot: int, message: str, turn: int, session: int,
                        profile: list[tuple[str, str]] | None) -> ChatRequest:
        system = self.system_prompt
        if profile:
            known = "\n".join(f"- {key}: {value}" for key, value in profile)
            system += f"\n\nWhat you know about this user:\n{known}"
        messages = [ChatMessage(role="system", content=system)]
        for user_text, answer in self._history(slot):
            messages += [ChatMessage(role="user", content=user_text), ChatMessage(role="assistant", content=answer)]
        messages.append(ChatMessage(role="user", content=message))
        return ChatRequest(messages=tuple(messages), sampling=self.sampling,
                           tag=f"policy answer slot{slot} s{session}t{turn}")

    def _profile_request(self, slot: int, message: str, turn: int, session: int) -> ChatRequest:
        lines = []
        for user_text, answer in self._history(slot):
            lines += [f"User: {user_text}", f"Assistant: {answer}"]
        lines.append(f"User: {message}")
        names = ", ".join(self.profile_attributes) or "(none)"
        return ChatRequest(
            messages=(ChatMessage(role="system", content=PROFILE_PROMPT.format(names=names)),
                      ChatMessage(role="user", content="Conversation:\n" + "\n".join(lines)
                                  + "\n\nWhat has the user revealed about themselves? JSON only.")),
            sampling=self.profile_sampling, structured=self.profile_structure,
            tag=f"policy profile slot{slot} s{session}t{turn}",
        )

    def _parse_profile(self, completion: Completion) -> list[tuple[str, str]] | None:
        """(key, value) pairs of a profile completion; None (and counted) when it failed or does not parse."""
        pairs = None if completion.error is not None or completion.truncated else parse_profile_json(
            completion.text, self.profile_attributes)
        if pairs is None:
            self.profile_failures += 1
            return None
        return pairs


def profile_schema(attributes: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The bounded JSON schema of a stated profile: a few likes, dislikes and attribute values.

    Attribute values are a short list of ``{"name", "value"}`` objects, each
    value from its attribute's domain, so the output stays small whatever the
    number of attributes (an object with every attribute optional lets a small
    model run on through all of them).
    """
    names = {"type": "array", "maxItems": MAX_INTERESTS,
             "items": {"type": "string", "minLength": 1, "maxLength": MAX_INTEREST_CHARS}}
    stated: dict[str, Any] = {"type": "array", "maxItems": MAX_STATED_ATTRIBUTES if attributes else 0}
    if attributes:
        stated["items"] = {"anyOf": [
            {"type": "object", "properties": {"name": {"const": name}, "value": {"enum": list(values)}},
             "required": ["name", "value"], "additionalProperties": False}
            for name, values in attributes.items()
        ]}
    return {
        "type": "object",
        "properties": {"likes": names, "dislikes": names, "attributes": stated},
        "required": ["likes", "dislikes", "attributes"],
        "additionalProperties": False,
    }


def parse_profile_json(text: str, attributes: Mapping[str, Sequence[str]]) -> list[tuple[str, str]] | None:
    """Profile pairs of a JSON profile, checked against `profile_schema`; None if anything is off.

    Names are cleaned of the characters the profile text format uses as
    separators, so a name can never add a key or close the block.  Repeats are
    dropped (an attribute stated twice keeps its first value).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or set(data) != {"likes", "dislikes", "attributes"}:
        return None
    pairs: list[tuple[str, str]] = []
    for key in ("likes", "dislikes"):
        items = data[key]
        if not isinstance(items, list) or len(items) > MAX_INTERESTS:
            return None
        for item in items:
            if not isinstance(item, str) or len(item) > MAX_INTEREST_CHARS:
                return None
            name = " ".join(_PROFILE_UNSAFE.sub(" ", item).split())
            if name and (key, name) not in pairs:
                pairs.append((key, name))
    stated = data["attributes"]
    if not isinstance(stated, list) or len(stated) > MAX_STATED_ATTRIBUTES:
        return None
    seen: set[str] = set()
    for entry in stated:
        if not isinstance(entry, dict) or set(entry) != {"name", "value"}:
            return None
        name, value = entry["name"], entry["value"]
        if name not in attributes or value not in attributes[name]:
            return None
        if name not in seen:
            seen.add(name)
            pairs.append((name, value))
    return pairs


def _check_attributes(attributes: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for name, values in attributes.items():
        values = tuple(values)
        if not values or not all(isinstance(v, str) and v and not _PROFILE_UNSAFE.search(v) for v in values):
            raise ValueError(f"profile_attributes[{name!r}] must be non-empty values without ',;:<>' or "
                             f"line breaks, got {values!r}")
        out[name] = values
    return out


def _read(observation: Observation, slot: int) -> tuple[str, int, int]:
    """(message, turn, session) of an observation; a missing turn/session counts as 0 (a new conversation)."""
    if not isinstance(observation, Mapping):
        raise TypeError(f"observation {slot} must be a dict with a 'message', got {type(observation).__name__}")
    message = observation.get("message")
    if not isinstance(message, str):
        raise TypeError(f"observation {slot}['message'] must be a str, got {type(message).__name__}")
    return message, int(observation.get("turn", 0)), int(observation.get("session", 0))


def _text(completion: Completion, request: ChatRequest) -> str:
    if completion.error is not None:
        raise LLMError(f"request {request.tag!r} failed: {completion.error}")
    return completion.text


def _profile_attributes(env: Any) -> dict[str, tuple[str, ...]]:
    """Style and constraint attributes of the env's persona schema (what the env scores in a profile).

    Read from ``env.unwrapped.schema`` at run time: attribute names and value
    domains are world knowledge, not the user's profile.
    """
    schema = getattr(env.unwrapped, "schema", None)
    attributes = getattr(schema, "attributes", None)
    if not isinstance(attributes, Mapping):
        return {}
    return {name: tuple(a.values) for name, a in attributes.items()
            if a.role in ("style", "constraint") and a.type != "taxonomy" and a.values}


def _factory(reason_then_respond: bool) -> Callable[..., LLMPolicy]:
    """A registry factory: the backend comes from the env (``env.unwrapped.backend``)."""

    def make(env: Any = None, seed: int | None = None) -> LLMPolicy:
        """The policy on the env's backend (and on the env's event loop, ``env.unwrapped.loop``, if it has one)."""
        backend = getattr(getattr(env, "unwrapped", None), "backend", None)
        if backend is None:
            raise ValueError("the LLM policy needs an LLM backend: pass --backend (or make the env with "
                             "backend=...); this env has none")
        loop = getattr(env.unwrapped, "loop", None)
        return LLMPolicy(
            backend, reason_then_respond=reason_then_respond, runner=loop if isinstance(loop, LoopRunner) else None,
            sampling=Sampling.model_validate({**DEFAULT_SAMPLING.model_dump(), "seed": seed}),
            profile_attributes=_profile_attributes(env) if reason_then_respond else None,
        )

    return make


#: The registered policies that answer with the env's LLM backend (they need LLM mode).
LLM_POLICIES = ("llm", "llm-profile")
for _name, _reasons in zip(LLM_POLICIES, (False, True), strict=True):
    register_policy(_name, _factory(reason_then_respond=_reasons))
