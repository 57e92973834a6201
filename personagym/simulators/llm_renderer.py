"""The LLM language surface: an LLM renderer and an LLM distractor over template turns.

The structured core decides everything first: the user simulator picks the
intent, the template renderer writes a reference utterance with its PKIs, and
the noise model picks the layer and strategies.  The LLM then only writes:

1. `render` (the LLM renderer): the user's clean utterance in the persona's
   voice, given the reference utterance, the intent and the recent history.
2. `distract` (the LLM distractor): the noisy message the assistant sees,
   applying the noise model's chosen layer and strategies to the clean one.

Each stage checks its output against the structure: every phrase that carries
ground truth (entity mentions, slot values, PKI evidence) must appear; for the
distractor, phrases the noise removed must not.  A failed check is retried
with a new seed, then the turn falls back to the template text and is marked
``rendered_by="template_fallback"``; the PKI spans always point into the text
the assistant sees.  All requests of a batch go to the backend as one
`generate` call per stage and attempt.  Request seeds are hashes of the turn's
key, so LLM mode draws nothing from the simulation's random tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from personagym.llm.types import ChatMessage, ChatRequest, Completion, LLMBackend, Sampling
from personagym.records import PKI, UserTurn
from personagym.simulators.analyzer import ResponseAnalyzer

INTENT_GOALS: dict[str, str] = {
    "task_request": "ask the assistant for help with this",
    "preference_disclosure": "tell the assistant this about yourself",
    "feedback": "react to the assistant's last answer",
    "clarification_answer": "answer the assistant's question",
    "correction": "correct something you said before",
    "goodbye": "end the conversation",
}

#: How each noise strategy is put to the distractor (the noise model chose which ones apply).
STRATEGY_HOWTO: dict[str, str] = {
    "colloquial_speech": "use casual, spoken wording",
    "incomplete_sentence": "leave a sentence unfinished or drop small words",
    "typo": "make one or two small typos (never inside the required phrases)",
    "word_segmentation": "run two ordinary words together or split one",
    "punctuation": "use sloppy punctuation",
    "synonym_rewrite": "swap some ordinary words for synonyms",
    "emotional_tone": "sound a little impatient or excited",
    "negation": "phrase part of it as a negation",
    "real_life_fragment": "add a short aside about your day",
    "missing_slot": "leave out a detail (do not mention the forbidden phrases)",
    "vague_value": "be vague about a detail",
    "context_dependency": "refer to earlier context instead of restating it",
    "unclear_priority": "do not say which part matters most",
    "multiple_intents": "mix in a second, unrelated request",
    "unclear_intent": "be unclear about what you actually want",
    "self_contradiction": "contradict yourself slightly",
    "mind_change": "change your mind midway",
}

RENDER_SYSTEM = (
    "You are role-playing a person chatting with an AI assistant. About you: {persona}\n"
    "Write only your own next chat message, in the first person, as this person would type it. "
    "Never write the assistant's reply. No quotes, no labels, no explanations."
)
DISTRACT_SYSTEM = (
    "You rewrite a chat message the way a real person would actually type it, imperfectly. "
    "Output only the rewritten message. No quotes, no labels, no explanations."
)
MAX_UTTERANCE_CHARS = 1200
_LABELS = ("user:", "me:", "message:", "rewritten message:", "you:")


@dataclass(frozen=True)
class SurfaceItem:
    """One user turn to put into words.

    ``turn`` is the template turn (intent, reference text, noise choice, PKIs);
    ``history`` the recent (role, text) messages, oldest first; ``key`` a
    stable id of the turn (trajectory id, session, turn) that seeds requests.
    """

    turn: UserTurn
    persona_summary: str
    history: Sequence[tuple[str, str]] = ()
    key: str = ""


@dataclass
class StageResult:
    """The texts a stage produced (None where every attempt failed) and why attempts failed."""

    texts: list[str | None]
    failures: list[list[str]] = field(default_factory=list)


class LanguageSurface:
    """Writes template turns in an LLM's words; see the module docstring.

    Args:
        backend: any `LLMBackend`.
        analyzer: finds the entity mentions that must survive the rewrite.
        render: use the LLM renderer (else the template's clean text is kept).
        distract: use the LLM distractor for noised turns (else the template's noise is kept).
        sampling: sampling parameters of both stages.
        attempts: tries per stage before falling back to the template text.
        history_turns: how many recent messages the renderer sees.
    """

    def __init__(
        self,
        backend: LLMBackend,
        analyzer: ResponseAnalyzer,
        *,
        render: bool = True,
        distract: bool = True,
        sampling: Sampling | None = None,
        attempts: int = 2,
        history_turns: int = 4,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {attempts}")
        if not (render or distract):
            raise ValueError("a language surface needs render=True or distract=True (else use template mode)")
        self.backend = backend
        self.analyzer = analyzer
        self.render_enabled = render
        self.distract_enabled = distract
        self.sampling = sampling or Sampling(temperature=0.7, top_p=0.95, max_tokens=160, stop=("\n\n",))
        self.attempts = attempts
        self.history_turns = history_turns

    # -- the whole turn --------------------------------------------------------------------
    async def realize(self, items: Sequence[SurfaceItem]) -> list[UserTurn]:
        """Each template turn rewritten by the enabled stages, or the template turn marked as a fallback."""
        cleans: list[str | None] = (
            (await self.render(items)).texts if self.render_enabled else [i.turn.clean_text for i in items]
        )
        noisy: list[str | None] = list(cleans)
        noised = [k for k, item in enumerate(items)
                  if cleans[k] is not None and item.turn.noise.layer != "none"]
        if not self.distract_enabled:  # template noise works on the template draft only: keep that turn
            keep = set(noised)
            return [item.turn if k in keep else self.assemble(item, cleans[k], noisy[k])
                    for k, item in enumerate(items)]
        if noised:
            result = await self.distract([items[k] for k in noised], [cleans[k] for k in noised])  # type: ignore[misc]
            for k, text in zip(noised, result.texts, strict=True):
                noisy[k] = text
        return [self.assemble(item, clean, text) for item, clean, text in zip(items, cleans, noisy, strict=True)]

    def assemble(self, item: SurfaceItem, clean: str | None, noisy: str | None) -> UserTurn:
        """The turn record for stage outputs; a None output falls back to the template turn."""
        turn = item.turn
        if clean is None or noisy is None:
            return turn.model_copy(update={"rendered_by": "template_fallback"})
        llm_noise = self.distract_enabled and turn.noise.layer != "none"
        noise = turn.noise.model_copy(update={
            "clean": clean, "noisy": noisy, "written_by": "llm" if llm_noise else turn.noise.written_by})
        return turn.model_copy(update={
            "text": noisy, "clean_text": clean, "noise": noise, "pkis": respan(turn.pkis, noisy),
            "rendered_by": "llm" if self.render_enabled else turn.rendered_by,
        })

    # -- stages ----------------------------------------------------------------------------
    async def render(self, items: Sequence[SurfaceItem]) -> StageResult:
        """The clean utterance of each item in the persona's voice (None where every attempt failed)."""
        required = [self.required_phrases(item.turn) for item in items]
        return await self._stage(
            "render", items, [self._render_messages(item, req) for item, req in zip(items, required, strict=True)],
            [lambda text, req=req: _check(text, req, ()) for req in required])

    async def distract(self, items: Sequence[SurfaceItem], cleans: Sequence[str]) -> StageResult:
        """The noisy message of each item, applying its noise layer and strategies to ``cleans``."""
        required = [[p.evidence for p in item.turn.pkis if p.evidence] for item in items]
        forbidden = [self.removed_phrases(item.turn) for item in items]
        messages = [self._distract_messages(item, clean, req, forb)
                    for item, clean, req, forb in zip(items, cleans, required, forbidden, strict=True)]
        checks = [lambda text, req=req, forb=forb, clean=clean: _check(text, req, forb, differ_from=clean)
                  for req, forb, clean in zip(required, forbidden, cleans, strict=True)]
        return await self._stage("distract", items, messages, checks)

    async def _stage(self, stage: str, items: Sequence[SurfaceItem], messages: list[tuple[ChatMessage, ...]],
                     checks: list) -> StageResult:
        texts: list[str | None] = [None] * len(items)
        failures: list[list[str]] = [[] for _ in items]
        pending = list(range(len(items)))
        for attempt in range(self.attempts):
            if not pending:
                break
            requests = [ChatRequest(
                messages=messages[k], tag=f"{stage} {items[k].key or k}",
                sampling=self.sampling.model_copy(update={"seed": request_seed(items[k].key, stage, attempt)}),
            ) for k in pending]
            completions = await self.backend.generate(requests)
            still: list[int] = []
            for k, completion in zip(pending, completions, strict=True):
                text, problem = _accept(completion, checks[k])
                if text is None:
                    failures[k].append(problem)
                    still.append(k)
                else:
                    texts[k] = text
            pending = still
        return StageResult(texts, failures)

    # -- what must survive -----------------------------------------------------------------
    def required_phrases(self, turn: UserTurn) -> list[str]:
        """Phrases of the clean reference that carry truth: entity mentions, slot values, PKI evidence."""
        clean = turn.clean_text
        phrases = [clean[s:e] for _, s, e, _ in self.analyzer.find_mentions(clean)]
        phrases += turn.intent.slots.values()  # the details the clean text states
        if turn.noise.layer == "none":
            phrases += [p.evidence for p in turn.pkis if p.evidence]
        return _unique(phrases)

    def removed_phrases(self, turn: UserTurn) -> list[str]:
        """Truth-carrying phrases of the clean reference that the noise removed from the message."""
        noisy = turn.text.lower()
        return [p for p in self.required_phrases(turn) if p.lower() not in noisy]

    # -- prompts ---------------------------------------------------------------------------
    def _render_messages(self, item: SurfaceItem, required: list[str]) -> tuple[ChatMessage, ...]:
        turn = item.turn
        recent = list(item.history)[-self.history_turns:]
        lines = [f"{'You' if role == 'user' else 'Assistant'}: {text}" for role, text in recent]
        convo = "Conversation so far:\n" + "\n".join(lines) + "\n\n" if lines else ""
        goal = INTENT_GOALS.get(turn.intent.kind, "reply")
        must = f"\nKeep these exact words: {', '.join(repr(p) for p in required)}." if required else ""
        prompt = (f"{convo}Your next message should {goal}. It means: \"{turn.clean_text}\"{must}\n"
                  "Write your message now.")
        return (ChatMessage(role="system", content=RENDER_SYSTEM.format(persona=item.persona_summary)),
                ChatMessage(role="user", content=prompt))

    def _distract_messages(self, item: SurfaceItem, clean: str, required: list[str],
                           forbidden: list[str]) -> tuple[ChatMessage, ...]:
        how = "; ".join(STRATEGY_HOWTO.get(s, s.replace("_", " ")) for s in item.turn.noise.strategies)
        must = f"\nKeep these exact words: {', '.join(repr(p) for p in required)}." if required else ""
        never = f"\nDo not mention: {', '.join(repr(p) for p in forbidden)}." if forbidden else ""
        prompt = f"Message: \"{clean}\"\nRewrite it so that you {how or 'sound casual'}.{must}{never}"
        return (ChatMessage(role="system", content=DISTRACT_SYSTEM), ChatMessage(role="user", content=prompt))


def request_seed(key: str, stage: str, attempt: int) -> int:
    """A request seed from the turn's key: reproducible without touching the simulation's generators."""
    digest = hashlib.sha256(f"{key}|{stage}|{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def respan(pkis: Sequence[PKI], text: str) -> list[PKI]:
    """The PKIs with evidence spans located in ``text`` (case-insensitive), in order of appearance."""
    lower, out = text.lower(), []
    for pki in pkis:
        start = lower.find(pki.evidence.lower()) if pki.evidence else -1
        if start < 0:
            out.append(pki.model_copy(update={"start": -1, "end": -1}))
        else:
            end = start + len(pki.evidence)
            out.append(pki.model_copy(update={"start": start, "end": end, "evidence": text[start:end]}))
    return out


def clean_completion(text: str) -> str:
    """The message inside a small model's completion: no surrounding quotes, labels or trailing chatter."""
    text = text.strip()
    for label in _LABELS:
        if text.lower().startswith(label):
            text = text[len(label):].lstrip()
    text = text.split("\n\n", 1)[0].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def _accept(completion: Completion, check) -> tuple[str | None, str]:
    """(text, "") when the completion is usable, else (None, why not)."""
    if not completion.ok:
        return None, f"request failed: {completion.error}"
    if completion.truncated:
        return None, "truncated at max_tokens"
    text = clean_completion(completion.text)
    problem = check(text)
    return (None, problem) if problem else (text, "")


def _check(text: str, required: Sequence[str], forbidden: Sequence[str], differ_from: str | None = None) -> str:
    """Why ``text`` is not acceptable, or "" if it is."""
    if not text:
        return "empty message"
    if len(text) > MAX_UTTERANCE_CHARS:
        return f"message longer than {MAX_UTTERANCE_CHARS} characters"
    lower = text.lower()
    if lower.startswith("assistant:"):
        return "wrote the assistant's part"
    missing = [p for p in required if p.lower() not in lower]
    if missing:
        return f"missing required phrases {missing}"
    present = [p for p in forbidden if p.lower() in lower]
    if present:
        return f"kept removed phrases {present}"
    if differ_from is not None and text.strip() == differ_from.strip():
        return "no change to the clean message"
    return ""


def _unique(phrases: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for p in phrases:
        if p and p.lower() not in seen:
            seen.add(p.lower())
            out.append(p)
    return out
