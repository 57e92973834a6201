"""Training-data exports of a generated dataset: JSON lines for `datasets.load_dataset("json", ...)`.

* ``chat``: one conversation per line in the OpenAI / TRL conversational
  format (``messages`` of user and assistant turns).
* ``pki_sft``: a conversation and the personal knowledge items (PKIs) it
  reveals, with a reasoning trace written from the ground truth; TRL
  prompt-completion columns for supervised fine-tuning.
* ``ppopt``: PPOpt-style query personalization: up to four past sessions of the
  same persona with the assistant's replies masked as ``[ASSISTANT_RESPONSE]``,
  the current query, and the target ``<REASONING>`` profile plus ``<PROMPT>``
  rewritten query.
* ``pairs``: preference pairs over the same first user message from runs of
  different policies with the same seed, chosen and rejected by the env reward.

Every row of a kind has the same shape, floats are written as floats, and
`export_features` gives the explicit `datasets.Features` of each kind.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from personagym.data.generate import PathLike, load_manifest, read_generated
from personagym.data.trajectories import require_module, write_lines
from personagym.records import PKI, Trajectory, UserTurn
from personagym.rollout import make_env

if TYPE_CHECKING:
    import datasets

ExportKind = Literal["chat", "pki_sft", "ppopt", "pairs"]
EXPORT_KINDS: tuple[str, ...] = ("chat", "pki_sft", "ppopt", "pairs")
MASK = "[ASSISTANT_RESPONSE]"
MAX_PAST_SESSIONS = 4
#: Attribute roles a rewritten query states (background and behaviour do not change a good answer).
PROMPT_ROLES = ("constraint", "style")

PKI_INSTRUCTION = (
    "Read the conversation and list the personal knowledge items (PKIs) the user reveals, each with its type, "
    "key, value, polarity and intensity. Reason first, then answer as <REASONING>...</REASONING> "
    "<PKIS>[...]</PKIS>."
)
PPOPT_INSTRUCTION = (
    "Infer the user's profile from the past sessions (the assistant's replies are hidden) and the current "
    "query, then rewrite the query into a prompt that says what a personalized answer needs. Answer as "
    "<REASONING>...</REASONING> <PROMPT>...</PROMPT>."
)
_PRONOUN_I = re.compile(r"\bi\b")


# --------------------------------------------------------------------------- public API


def export(kind: ExportKind, source: PathLike | Sequence[PathLike], out_path: PathLike) -> int:
    """Write the `kind` export of generated dataset(s) to `out_path`; return the number of rows.

    ``pairs`` takes two or more directories (runs of different policies with the
    same seed); the other kinds take one.
    """
    sources = [source] if isinstance(source, str | os.PathLike) else list(source)
    if kind == "pairs":
        return export_pairs(sources, out_path)
    exporters: dict[str, Callable[[PathLike, PathLike], int]] = {
        "chat": export_chat, "pki_sft": export_pki_sft, "ppopt": export_ppopt}
    if kind not in exporters:
        raise ValueError(f"unknown export kind {kind!r}; expected one of {', '.join(EXPORT_KINDS)}")
    if len(sources) != 1:
        raise ValueError(f"the {kind!r} export reads one generated directory, got {len(sources)}")
    return exporters[kind](sources[0], out_path)


def export_chat(out_dir: PathLike, out_path: PathLike) -> int:
    """One conversation per line: ``{"trajectory_id", "persona_id", "messages": [{"role", "content"}]}``.

    The user's last, unanswered message (usually a goodbye) is left out, so each
    conversation ends with an assistant turn, as SFT on conversations expects.
    """
    rows = ({"trajectory_id": t.trajectory_id, "persona_id": t.persona.persona_id, "messages": _messages(t)}
            for t in read_generated(out_dir))
    return _write_rows(rows, out_path)


def export_pki_sft(out_dir: PathLike, out_path: PathLike) -> int:
    """Conversation -> PKIs, one conversation per line, with a reasoning trace from the ground truth.

    Each PKI row has the type, key, value, polarity and intensity (the
    interest's true intensity when the utterance leaves it unsaid), how
    certain the wording is and the words that express it.  ``prompt`` and
    ``completion`` hold the same example in TRL's prompt-completion format.
    """
    world = _World.of(out_dir)

    def rows() -> Iterator[dict[str, Any]]:
        for t in read_generated(out_dir):
            pkis = [world.pki_row(pki, i, t) for i, user in enumerate(t.user_turns()) for pki in user.pkis]
            reasoning = world.pki_reasoning(t)
            answer = json.dumps([{k: p[k] for k in ("type", "key", "value", "polarity", "intensity")} for p in pkis],
                                ensure_ascii=False)
            transcript = "\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in _messages(t, final=True))
            yield {
                "trajectory_id": t.trajectory_id, "persona_id": t.persona.persona_id,
                "conversation": _messages(t, final=True), "pkis": pkis, "reasoning": reasoning,
                "prompt": [{"role": "user", "content": f"{PKI_INSTRUCTION}\n\n<conversation>\n{transcript}\n"
                                                       "</conversation>"}],
                "completion": [{"role": "assistant",
                                "content": f"<REASONING>\n{reasoning}\n</REASONING>\n<PKIS>\n{answer}\n</PKIS>"}],
            }

    return _write_rows(rows(), out_path)


def export_ppopt(out_dir: PathLike, out_path: PathLike, *, max_past_sessions: int = MAX_PAST_SESSIONS) -> int:
    """PPOpt query-personalization examples, one per session of each persona.

    A persona's sessions are those of its episodes in episode order.  For each
    session the history is up to `max_past_sessions` earlier sessions (user
    messages kept, assistant replies masked); the query is the session's first
    user message as written (with its noise).  The target reasons from the
    PKIs of history and query, resolved to what the user truly meant, and
    rewrites the de-noised query with the constraints, style and related
    interests that are known.
    """
    if not isinstance(max_past_sessions, int) or max_past_sessions < 0:
        raise ValueError(f"max_past_sessions must be a non-negative int, got {max_past_sessions!r}")
    world = _World.of(out_dir)

    def rows() -> Iterator[dict[str, Any]]:
        for _, trajectories in itertools.groupby(read_generated(out_dir), key=lambda t: t.persona.persona_id):
            sessions = [(t, s, users) for t in trajectories for s, users in _sessions(t)]
            for i, (t, s, users) in enumerate(sessions):
                past = sessions[max(0, i - max_past_sessions):i]
                yield world.ppopt_row(t, s, users[0], past)

    return _write_rows(rows(), out_path)


def export_pairs(sources: Sequence[PathLike], out_path: PathLike) -> int:
    """Preference pairs over the first user message of the same episodes run with different policies.

    `sources` are generation directories with the same env, seed, persona and
    episode counts (only the policy may differ), so each episode opens with the
    same user message.  The first turn with the highest env reward is chosen,
    the one with the lowest rejected; ties give no pair.  A reply is the answer
    without the ``<profile>`` block a policy may have put before it (as in the
    ``chat`` export): the oracle's block is the hidden profile itself, which no
    model could infer from the prompt, so training on it would teach the model
    to invent facts.
    """
    if len(sources) < 2:
        raise ValueError(f"pairs need two or more generated directories (different policies), got {len(sources)}")
    manifests = [load_manifest(s) for s in sources]
    same = ("env_id", "personas", "episodes_per_persona", "seed")
    for source, manifest in zip(sources[1:], manifests[1:], strict=True):
        diffs = [f"{k}={getattr(manifest.config, k)!r} vs {getattr(manifests[0].config, k)!r}"
                 for k in same if getattr(manifest.config, k) != getattr(manifests[0].config, k)]
        if diffs:
            raise ValueError(f"{source} and {sources[0]} were not generated from the same episodes "
                             f"({', '.join(diffs)}); pairs need the same {', '.join(same)}")

    def rows() -> Iterator[dict[str, Any]]:
        for group in zip(*(read_generated(s) for s in sources), strict=True):
            _check_aligned(group, sources)
            firsts = sorted(((t.turns[0].reward, i) for i, t in enumerate(group) if t.turns), key=lambda x: x[0])
            if len(firsts) < 2 or firsts[0][0] == firsts[-1][0]:
                continue
            (low, worst), (high, best) = firsts[0], firsts[-1]
            chosen, rejected = group[best], group[worst]
            yield {
                "trajectory_id": chosen.trajectory_id, "persona_id": chosen.persona.persona_id,
                "prompt": [{"role": "user", "content": chosen.turns[0].user.text}],
                "chosen": [{"role": "assistant", "content": chosen.turns[0].assistant}],
                "rejected": [{"role": "assistant", "content": rejected.turns[0].assistant}],
                "chosen_reward": float(high), "rejected_reward": float(low),
                "chosen_policy": chosen.policy or "", "rejected_policy": rejected.policy or "",
            }

    return _write_rows(rows(), out_path)


def export_features(kind: ExportKind) -> datasets.Features:
    """The explicit `datasets.Features` of an export, for ``load_dataset("json", ..., features=...)``."""
    ds = require_module("datasets", "datasets")
    string, integer, number = ds.Value("string"), ds.Value("int64"), ds.Value("float64")
    messages = ds.List({"role": string, "content": string})
    ids = {"trajectory_id": string, "persona_id": string}
    pki = {"turn": integer, "type": string, "key": string, "value": string, "label": string, "polarity": integer,
           "intensity": number, "certainty": string, "explicit": ds.Value("bool"), "intended": string,
           "evidence": string}
    by_kind = {
        "chat": {**ids, "messages": messages},
        "pki_sft": {**ids, "conversation": messages, "pkis": ds.List(pki), "reasoning": string,
                    "prompt": messages, "completion": messages},
        "ppopt": {**ids, "session": integer, "history": ds.List({"session": integer, "messages": messages}),
                  "query": string, "reasoning": string, "rewritten_prompt": string, "prompt": messages,
                  "completion": messages},
        "pairs": {**ids, "prompt": messages, "chosen": messages, "rejected": messages, "chosen_reward": number,
                  "rejected_reward": number, "chosen_policy": string, "rejected_policy": string},
    }
    if kind not in by_kind:
        raise ValueError(f"unknown export kind {kind!r}; expected one of {', '.join(EXPORT_KINDS)}")
    return ds.Features(by_kind[kind])


# --------------------------------------------------------------------------- conversations


def _messages(t: Trajectory, final: bool = False) -> list[dict[str, str]]:
    """The conversation as chat messages; `final` adds the unanswered last user message."""
    out = []
    for turn in t.turns:
        out += [{"role": "user", "content": turn.user.text},
                {"role": "assistant", "content": turn.assistant}]
    if final and t.final_user is not None:
        out.append({"role": "user", "content": t.final_user.text})
    return out


def _sessions(t: Trajectory) -> list[tuple[int, list[UserTurn]]]:
    """(session index, its user messages) of an episode, in order."""
    users = t.user_turns()
    return [(s, list(group)) for s, group in itertools.groupby(users, key=lambda u: u.session)]


def _session_messages(users: list[UserTurn], unanswered: UserTurn | None) -> list[dict[str, str]]:
    """A past session for PPOpt: user messages, each answered by the mask, except a goodbye and the
    episode's `unanswered` last message (the reaction after the final answer, which nothing followed)."""
    out = []
    for user in users:
        out.append({"role": "user", "content": user.text})
        if user.intent.kind != "goodbye" and user is not unanswered:
            out.append({"role": "assistant", "content": MASK})
    return out


def _check_aligned(group: tuple[Trajectory, ...], sources: Sequence[PathLike]) -> None:
    first = group[0]
    for source, t in zip(sources[1:], group[1:], strict=True):
        if t.trajectory_id != first.trajectory_id or (
                t.turns and first.turns and t.turns[0].user.text != first.turns[0].user.text):
            raise ValueError(f"episode {first.trajectory_id} of {sources[0]} and {t.trajectory_id} of {source} do "
                             "not open with the same user message; pairs need runs with the same seed and env")


# --------------------------------------------------------------------------- ground truth in words


class _World:
    """Names and phrases of the env's schema and taxonomy, to write reasoning and prompts."""

    def __init__(self, schema: Any, knowledge: Any) -> None:
        self.schema = schema
        self.knowledge = knowledge

    @classmethod
    def of(cls, out_dir: PathLike) -> _World:
        """The world of the env a generation directory was made with."""
        env = make_env(load_manifest(out_dir).config.env_id)
        try:
            return cls(env.unwrapped.schema, env.unwrapped.knowledge())
        finally:
            env.close()

    def name(self, node: str) -> str:
        return self.knowledge.name(node) if node in self.schema.taxonomy else node

    def truth(self, pki: PKI) -> tuple[str, str | None]:
        """(key, value) the user truly meant: noise may have named a vaguer or a wrong thing."""
        if pki.kind == "interest":
            return pki.intended or pki.key, None
        return pki.key, pki.intended or pki.value

    def pki_row(self, pki: PKI, turn: int, t: Trajectory) -> dict[str, Any]:
        key, value = self.truth(pki)
        intensity = pki.intensity
        if intensity is None and pki.kind == "interest" and key in t.initial_state.interests:
            intensity = t.initial_state.interests[key].intensity
        return {
            "turn": turn, "type": pki.kind, "key": key, "value": value,
            "label": self.label(pki.kind, key, value, pki.polarity), "polarity": int(pki.polarity),
            "intensity": None if intensity is None else float(intensity), "certainty": pki.certainty,
            "explicit": pki.explicit, "intended": pki.intended, "evidence": pki.evidence,
        }

    def label(self, kind: str, key: str, value: str | None, polarity: int) -> str:
        if kind == "interest":
            return f"{'likes' if polarity > 0 else 'dislikes'} {self.name(key)}"
        return f"{key} = {self.name(value) if value else 'unknown'}"

    def pki_reasoning(self, t: Trajectory) -> str:
        """One line per PKI saying what the words show and what is true, then the resulting profile."""
        lines, profile = [], {}
        for i, user in enumerate(t.user_turns()):
            for pki in user.pkis:
                key, value = self.truth(pki)
                label = self.label(pki.kind, key, value, pki.polarity)
                lines.append(f"User message {i + 1}: {self._why(pki, label)}")
                profile[(pki.kind, key)] = label
        if not lines:
            return "The user reveals nothing about themselves in this conversation."
        return "\n".join([*lines, "Profile: " + "; ".join(profile.values()) + "."])

    def _why(self, pki: PKI, label: str) -> str:
        quote = f'"{pki.evidence}"' if pki.evidence else "the message"
        how = "states" if pki.explicit else "implies"
        if pki.certainty == "vague":
            said = self.name(pki.key) if pki.kind == "interest" else "it vaguely"
            return f"{quote} says {said}; what the user means is: {label}."
        if pki.certainty == "mistaken":
            return f"{quote} is a slip for what the user means: {label}."
        if pki.certainty == "retracted":
            return f"{quote} is taken back in the wording, but it is what the user means: {label}."
        return f"{quote} {how}: {label}."

    # -- PPOpt ------------------------------------------------------------------------------
    def ppopt_row(self, t: Trajectory, session: int, query: UserTurn,
                  past: list[tuple[Trajectory, int, list[UserTurn]]]) -> dict[str, Any]:
        known: dict[tuple[str, str], tuple[PKI, str, str | None]] = {}
        evidence = [(f"session {n + 1}", u) for n, (_, _, users) in enumerate(past) for u in users]
        for where, user in [*evidence, ("the query", query)]:
            for pki in user.pkis:
                key, value = self.truth(pki)
                known[(pki.kind, key)] = (pki, where, value)
        reasoning = self._ppopt_reasoning(known)
        rewritten = self._rewrite(query, known)
        history = [{"session": n + 1, "messages": _session_messages(users, past_t.final_user)}
                   for n, (past_t, _, users) in enumerate(past)]
        shown = "\n\n".join(f"Session {h['session']}:\n" + "\n".join(
            f"{m['role'].capitalize()}: {m['content']}" for m in h["messages"]) for h in history)
        prompt = f"{PPOPT_INSTRUCTION}\n\n<HISTORY>\n{shown or '(no past sessions)'}\n</HISTORY>\n\n" \
                 f"<QUERY>\n{query.text}\n</QUERY>"
        return {
            "trajectory_id": t.trajectory_id, "persona_id": t.persona.persona_id, "session": session,
            "history": history, "query": query.text, "reasoning": reasoning, "rewritten_prompt": rewritten,
            "prompt": [{"role": "user", "content": prompt}],
            "completion": [{"role": "assistant", "content": f"<REASONING>\n{reasoning}\n</REASONING>\n"
                                                            f"<PROMPT>\n{rewritten}\n</PROMPT>"}],
        }

    def _ppopt_reasoning(self, known: dict[tuple[str, str], tuple[PKI, str, str | None]]) -> str:
        if not known:
            return "Neither the past sessions nor the query reveal a preference, so the query stays as it is."
        lines = [f"- {self.label(kind, key, value, pki.polarity)} ({where}: \"{pki.evidence}\")"
                 for (kind, key), (pki, where, value) in known.items()]
        return "What the user has revealed, as they meant it:\n" + "\n".join(lines)

    def _rewrite(self, query: UserTurn, known: dict[tuple[str, str], tuple[PKI, str, str | None]]) -> str:
        """The de-noised query plus the known constraints, style and interests of the query's category."""
        topic = query.intent.topic
        category = self.knowledge.category(topic) if topic and topic in self.schema.taxonomy else None
        facts, likes, dislikes = [], [], []
        for (kind, key), (pki, _, value) in known.items():
            if kind == "interest":
                if category is not None and key in self.schema.taxonomy and self.knowledge.category(key) == category:
                    (likes if pki.polarity > 0 else dislikes).append(self.name(key))
            elif value and self.schema.attributes[key].role in PROMPT_ROLES:
                facts.append(self._sentence(key, value))
        if likes:
            facts.append(f"I like {', '.join(likes)}.")
        if dislikes:
            facts.append(f"I don't like {', '.join(dislikes)}.")
        return query.clean_text + ("\n\nAbout me: " + " ".join(facts) if facts else "")

    def _sentence(self, attribute: str, value: str) -> str:
        """A first-person sentence stating an attribute value (the schema's phrase, else its description)."""
        attr = self.schema.attributes[attribute]
        phrases = attr.phrases.get(value)
        text = _PRONOUN_I.sub("I", phrases[0]) if phrases else f"{attr.description}: {value.replace('_', ' ')}"
        return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def _write_rows(rows: Iterable[dict[str, Any]], out_path: PathLike) -> int:
    """JSON lines, written atomically; returns the number of rows."""
    return write_lines((json.dumps(row, ensure_ascii=False) for row in rows), out_path)
