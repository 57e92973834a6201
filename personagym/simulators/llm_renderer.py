"""The LLM language surface: an LLM renderer and an LLM distractor over template turns.

The structured core decides everything first: the user simulator picks the
intent, the template renderer writes a reference utterance with its PKIs, and
the noise model picks the layer and strategies.  The LLM then only writes:

1. `render` (the LLM renderer): the user's clean utterance in the persona's
   voice, given the reference utterance, the intent and the recent history.
2. `distract` (the LLM distractor): the noisy message the assistant sees,
   applying the noise model's chosen layer and strategies to the clean one.

Each stage checks its output against the structure: every phrase that carries
ground truth (entity mentions, slot values, PKI evidence) must appear as words
of their own; for the distractor, phrases the noise removed must not.  The
facts the output states, read as the project's world knowledge reads a user
message (liked and disliked entities, attribute phrases, retractions), must be
exactly those of the template text the PKIs were made for: no fact lost,
added (the hidden profile leaking, or an invented taste) or flipped.  Text
that is not the user's message (the prompt echoed, "Here's the rewritten
message:", the assistant's voice) is refused too.  A failed check is retried
with a new seed, then the turn falls back to the template text and is marked
``rendered_by="template_fallback"``; the PKI spans always point into the text
the assistant sees.  All requests of a batch go to the backend as one
`generate` call per stage and attempt.  Request seeds are hashes of the turn's
key, so LLM mode draws nothing from the simulation's random tree.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from personagym.llm.types import ChatMessage, ChatRequest, Completion, LLMBackend, Sampling
from personagym.records import PKI, UserTurn
from personagym.simulators.analyzer import ResponseAnalyzer

if TYPE_CHECKING:
    from personagym.envs.knowledge import WorldKnowledge

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

#: The renderer's system prompt.  It holds no hidden profile: a model told the whole persona recited it
#: ("I'm on a budget. I have a dog. I'm a bit of a jazz enthusiast." as a goodbye), stating facts the turn does not.
RENDER_SYSTEM = (
    "You are role-playing a person chatting with an AI assistant.{persona}\n"
    "Write only your own next chat message, in the first person, as this person would type it. "
    "Never write the assistant's reply. No quotes, no labels, no explanations."
)
DISTRACT_SYSTEM = (
    "You rewrite a chat message the way a real person would actually type it, imperfectly. "
    "Output only the rewritten message. No quotes, no labels, no explanations."
)
MAX_UTTERANCE_CHARS = 1200
_LABELS = ("user:", "me:", "message:", "rewritten message:", "you:")
#: Words that are not a user's chat message: the prompt echoed or talked about, a rewrite announced, a speaker
#: label, a placeholder, or the assistant's voice.  A completion may say one only as often as its reference
#: text does ("let me know" is a user's words in a template, "I'm here to help" never).
_NOT_THE_USER = re.compile(
    r"\bnext (?:chat )?message\b|\bwrite (?:your|the|my) message\b|\bit means:|\babout yourself\b|"
    r"\bkeep these exact words\b|\bconversation so far\b|\bdo not mention:|"
    r"\b(?:rewrit(?:e|ten|ing)|rephras(?:e|ed|ing)|revised version|original (?:message|response|text))\b|"
    r"\bhere(?:'s| is) (?:the |my |a |your )?(?:message|response|reply|version|continuation)\b|"
    r"(?:^|\n)\s*(?:assistant|user|ai|you|me|message)\s*:|\[(?:name|your name|insert)[^\]]*\]|"
    r"\bas an ai\b|\bai (?:assistant|language model|model)\b|\blanguage model\b|\bchatbot\b|"
    r"\bhow (?:can|may|could) i (?:help|assist)|\b(?:i'?m|i am) here to (?:help|assist)|"
    r"\b(?:happy|glad|delighted|ready|here) to (?:help|assist)\b|\bi can (?:help|assist) you\b|"
    r"\bi'?ll do my best\b|\bhope (?:this|that) helps\b|\bfeel free to\b|\bof service\b|"
    r"\bglad you(?:'re| are)? (?:asked|reached out|enjoyed|enjoying|here|interested)\b|\bgreat question\b|"
    r"\bhappy to (?:explain|share|provide|assist)\b|\b(?:your|a) real person\b|\bmy pleasure\b|"
    r"\bglad (?:to hear|you found)\b|\byou(?:'re| are) interested in\b|\bmy expertise\b|^\W*dear \w+,|"
    r"\bhere(?:'s| is| are) (?:a|an|the|my|your|some) (?:\w+ ){0,2}(?:guide|list|plan|overview|summary|"
    r"breakdown|answer|ideas|tips|steps|options|recipe|poem)\b",
    re.IGNORECASE)
#: A user telling something about themselves: a fact the world knowledge may not read ("I'm a teacher",
#: "my kids"), so a completion may say one only as often as its reference does.
_SELF_TOLD = re.compile(
    r"\bi(?:'m| am) (?:a|an|not)\b|\bi(?:'ve| have) (?:a|an|two|three|kids|children|been)\b|"
    r"\bi (?:have|own|work|live|teach|study|grew up|was born)\b|\bi'?ve always\b|\bi used to\b|"
    r"\bmy (?:wife|husband|partner|kids?|children|son|daughter|family|job|work|boss|dog|cat|home|house|"
    r"apartment|flat|car|age|budget|diet|doctor)\b",
    re.IGNORECASE)
#: Words that negate: a fact phrase in a sentence with one states the opposite of the same phrase without.
_NEGATION = re.compile(r"\b(?:not|no|never|nothing|none|nor|neither|without|hardly|\w+n'?t|cannot|dont|cant|"
                       r"wont|isnt|arent|doesnt|didnt)\b", re.IGNORECASE)
#: Filler between a negation and the word it negates ("not really into", "don't much care").
_FILLER = frozenset(("a", "an", "the", "so", "that", "too", "very", "really", "much", "quite", "all", "at", "big",
                     "huge", "super", "exactly", "even"))
#: What keeps a turn the kind of turn it is, where its reference has it: a request asks, a goodbye closes.
_INTENT_CUES: dict[str, re.Pattern[str]] = {
    "task_request": re.compile(
        r"\?|\b(?:can|could|would|will) you\b|\bhelp me\b|\bhelp with\b|\bi (?:need|want|'?d like)\b|"
        r"^\W*(?:please )?(?:give|tell|show|suggest|recommend|put together|plan|map out|compose|write|list|"
        r"explain|walk me|create|find|help|draft|make|build|outline|summari[sz]e|compare)\b", re.IGNORECASE),
    "goodbye": re.compile(
        r"\b(?:thanks?|thank you|thx|ty|bye|goodbye|cheers|later|good night|take care|see you|see ya|talk soon|"
        r"signing off|all set|sorted|done|that'?s (?:all|it|everything|enough)|that is all|all i needed|"
        r"got what i need|covers it|settles it|leave it|forget (?:it|i asked)|never ?mind|on my own|"
        r"figure (?:it|something) out|elsewhere|someone else|call it quits|i'?m out|stop here|drop it|"
        r"give up|appreciated?)\b", re.IGNORECASE),
}
#: Sentences, for the negation check and for repeats (split at . ! ? and line ends).
_SENTENCE_END = re.compile(r"[^.!?\n]+")


@dataclass(frozen=True)
class SurfaceItem:
    """One user turn to put into words.

    ``turn`` is the template turn (intent, reference text, noise choice, PKIs);
    ``persona_summary`` an optional description of how the person writes,
    shown to the renderer (never the hidden profile: every fact in it is one
    the message could leak, and the checks refuse a message stating a fact
    its turn does not); ``history`` the recent (role, text) messages, oldest
    first; ``key`` a stable id of the turn (trajectory id, session, turn)
    that seeds requests.
    """

    turn: UserTurn
    persona_summary: str = ""
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
        knowledge: reads the facts a message states (default: world knowledge over the shipped schema).
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
        knowledge: WorldKnowledge | None = None,
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
        if knowledge is None:
            from personagym.envs.knowledge import WorldKnowledge
            from personagym.simulators.persona import load_schema

            knowledge = WorldKnowledge(load_schema(), analyzer)
        self.knowledge = knowledge

    def facts(self, text: str) -> frozenset[tuple[str, str, int]]:
        """What a message states, as the world knowledge reads it: (key, value, polarity) statements and
        ("retracts", node, 0) for what it takes back."""
        text = text.replace("\u2019", "'")  # the schema's phrases say "I'm", a model may type "I’m"
        return frozenset(self.knowledge.statements(text)) | {
            ("retracts", node, 0) for node in self.knowledge.retractions(text)}

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
            [lambda text, req=req, ref=item.turn.clean_text, intent=item.turn.intent.kind: _check(
                text, req, (), reference=ref, intent=intent, facts=self.facts)
             for item, req in zip(items, required, strict=True)])

    async def distract(self, items: Sequence[SurfaceItem], cleans: Sequence[str]) -> StageResult:
        """The noisy message of each item, applying its noise layer and strategies to ``cleans``."""
        required = [self.kept_phrases(item.turn) for item in items]
        forbidden = [self.removed_phrases(item.turn) for item in items]
        messages = [self._distract_messages(item, clean, req, forb)
                    for item, clean, req, forb in zip(items, cleans, required, forbidden, strict=True)]
        checks = [lambda text, req=req, forb=forb, clean=clean, ref=item.turn.text, intent=item.turn.intent.kind:
                  _check(text, req, forb, differ_from=clean, reference=ref, intent=intent, facts=self.facts)
                  for item, req, forb, clean in zip(items, required, forbidden, cleans, strict=True)]
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
        return [p for p in self.required_phrases(turn) if not _says(turn.text, p)]

    def kept_phrases(self, turn: UserTurn) -> list[str]:
        """Truth-carrying phrases of the noisy message: PKI evidence, the entities it names, and the clean
        reference's phrases the noise kept (a slot value the noise left in is still a detail of the request)."""
        noisy = turn.text
        phrases = [p.evidence for p in turn.pkis if p.evidence]
        phrases += [noisy[s:e] for _, s, e, _ in self.analyzer.find_mentions(noisy)]
        phrases += [p for p in self.required_phrases(turn) if _says(noisy, p)]
        return _unique(phrases)

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
        return (ChatMessage(role="system", content=RENDER_SYSTEM.format(
            persona=f" About you: {item.persona_summary}" if item.persona_summary else "")),
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


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """``phrase`` as words of their own, case-insensitive: "rum" is not found in "drum", "tea" not in "steak"."""
    head = r"(?<!\w)" if phrase[:1].isalnum() else ""
    tail = r"(?!\w)" if phrase[-1:].isalnum() else ""
    body = re.escape(phrase).replace("'", "['\u2019]")  # "I'm" is "I’m"
    return re.compile(head + body + tail, re.IGNORECASE)


def _find(text: str, phrase: str) -> int:
    """Where ``phrase`` first stands as words of their own in ``text``, or -1."""
    match = _phrase_pattern(phrase).search(text) if phrase else None
    return match.start() if match else -1


def _says(text: str, phrase: str) -> bool:
    return _find(text, phrase) >= 0


def respan(pkis: Sequence[PKI], text: str) -> list[PKI]:
    """The PKIs with evidence spans located in ``text`` (case-insensitive, as words of their own)."""
    out = []
    for pki in pkis:
        start = _find(text, pki.evidence)
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
    elif text[:1] == '"' and text.count('"') == 1:  # an opening quote the model never closed
        text = text[1:].strip()
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


def _check(text: str, required: Sequence[str], forbidden: Sequence[str], differ_from: str | None = None, *,
           reference: str | None = None, intent: str | None = None,
           facts: Callable[[str], frozenset[tuple[str, str, int]]] | None = None) -> str:
    """Why ``text`` is not acceptable, or "" if it is.

    ``required`` phrases must stand in it as words of their own, ``forbidden``
    ones must not.  With a ``reference`` (the template text the turn's PKIs
    were made for), words that are not the user's message must not appear
    unless the reference has them (no more often), it must keep the cue of the
    turn's ``intent`` the reference has (a request asks, a goodbye closes), and
    with ``facts`` (a reader of what a message states) the text must state
    exactly the reference's facts.
    """
    if not text:
        return "empty message"
    if len(text) > MAX_UTTERANCE_CHARS:
        return f"message longer than {MAX_UTTERANCE_CHARS} characters"
    lower = text.lower()
    if lower.startswith("assistant:"):
        return "wrote the assistant's part"
    missing = [p for p in required if not _says(text, p)]
    if missing:
        return f"missing required phrases {missing}"
    present = [p for p in forbidden if _says(text, p)]
    if present:
        return f"kept removed phrases {present}"
    if differ_from is not None and text.strip() == differ_from.strip():
        return "no change to the clean message"
    if reference is not None:
        problem = _unlike(text, reference, required)
        if problem:
            return problem
        cue = _INTENT_CUES.get(intent or "")
        if cue is not None and cue.search(reference.strip()) and not cue.search(text.strip()):
            return f"no longer reads as a {intent.replace('_', ' ')}"  # type: ignore[union-attr]
        if facts is not None:
            said, meant = facts(text), facts(reference)
            if said != meant:
                added, lost = sorted(said - meant), sorted(meant - said)
                return "states other facts than the turn: " + "; ".join(
                    part for part in (f"added {added}" if added else "", f"lost {lost}" if lost else "") if part)
    return ""


def _unlike(text: str, reference: str, phrases: Sequence[str]) -> str:
    """Why ``text`` does not read as the user's message ``reference`` put in other words, or ""."""
    for pattern, what in ((_NOT_THE_USER, "not the user's message"), (_SELF_TOLD, "tells more about the user")):
        extra = _more_often(pattern, text, reference)
        if extra:
            return f"{what}: {extra!r}"
    if len(text) > 2 * len(reference) + 80:
        return f"{len(text)} characters for a {len(reference)}-character message (says more than the turn)"
    sentences = [s.strip().lower() for s in _SENTENCE_END.findall(text) if s.strip()]
    repeated = {s for s in sentences if sentences.count(s) > 1 and len(s) > 3}
    if repeated - {s.strip().lower() for s in _SENTENCE_END.findall(reference)}:
        return f"repeats a sentence: {sorted(repeated)[0]!r}"
    if "?" in text and "?" not in reference and _only_statements(reference):
        return "asks a question the turn does not"
    said, meant = _negations(text, phrases), _negations(reference, phrases)
    if said != meant:
        return f"negates differently near the turn's facts: {sorted(said ^ meant)}"
    return ""


def _same_words(match: str) -> str:
    """A match as a key: case, curly apostrophes and "I am"/"I'm", "I have"/"I've" do not tell matches apart."""
    key = " ".join(match.lower().replace("\u2019", "'").split())
    return re.sub(r"\bi have\b", "i've", re.sub(r"\bi am\b", "i'm", key))


def _more_often(pattern: re.Pattern[str], text: str, reference: str) -> str:
    """A match of ``pattern`` that ``text`` has more often than ``reference``, or ""."""
    seen: dict[str, int] = {}
    for m in pattern.finditer(reference.replace("\u2019", "'")):
        key = _same_words(m.group(0))
        seen[key] = seen.get(key, 0) + 1
    for m in pattern.finditer(text.replace("\u2019", "'")):
        key = _same_words(m.group(0))
        if seen.get(key, 0) <= 0:
            return m.group(0).strip()
        seen[key] -= 1
    return ""


#: Words by which a message asks for something, wherever they stand in it.
_ASKING = re.compile(r"\b(?:can|could|would|will) you\b|\b(?:help|give|tell|show|suggest|recommend|make|"
                     r"put together|plan|write|list|explain)\b", re.IGNORECASE)


def _only_statements(reference: str) -> bool:
    """Whether a reference message is no request at all: a question added to it asks for something new."""
    return not _ASKING.search(reference)


def _negations(text: str, phrases: Sequence[str]) -> frozenset[tuple[str, str]]:
    """(phrase, negated word) for each negation in a sentence of ``text`` naming one of ``phrases``: the
    negation and the word it bears on ("not", "fan"), so "I don't mind X" and "I'm not into X" differ."""
    out: set[tuple[str, str]] = set()
    sentences = _SENTENCE_END.findall(text)
    names = [[p.lower() for p in phrases if p and _says(sentence, p)] for sentence in sentences]
    for k, (sentence, named) in enumerate(zip(sentences, names, strict=True)):
        if not named:
            continue
        if k + 1 < len(sentences) and not names[k + 1]:  # a sentence naming nothing goes on about the one before:
            sentence += " " + sentences[k + 1]  # "Mathematics? Not so interesting."
        masked = sentence
        for p in named:  # a phrase's own words ("no-fuss", "don't have kids") negate nothing around it
            masked = _phrase_pattern(p).sub(" ", masked)
        for m in _NEGATION.finditer(masked):
            after = [w for w in re.findall(r"[a-z']+", masked[m.end():].lower()) if w not in _FILLER]
            out.update((p, after[0] if after else "") for p in named)
    return frozenset(out)


def _unique(phrases: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for p in phrases:
        if p and p.lower() not in seen:
            seen.add(p.lower())
            out.append(p)
    return out
