"""Training-data exports of a generated dataset: JSON lines for `datasets.load_dataset("json", ...)`.

* ``chat``: one conversation per line in the OpenAI / TRL conversational
  format (``messages`` of user and assistant turns): a session of a
  multi-session episode is a conversation of its own, or (``by="episode"``)
  the whole episode is one.
* ``pki_sft``: a conversation and the personal knowledge items (PKIs) its
  words state, with a reasoning trace; TRL prompt-completion columns for
  supervised fine-tuning.
* ``ppopt``: PPOpt-style query personalization: up to four past sessions of the
  same persona with the assistant's replies masked as ``[ASSISTANT_RESPONSE]``,
  the current query, and the target ``<REASONING>`` profile plus ``<PROMPT>``
  rewritten query.
* ``pairs``: preference pairs over the same first user message from runs of
  different policies with the same seed, chosen and rejected by the env reward
  of the reply as exported (without the profile component).
* ``recall``: multiple-choice questions on what the user said about themselves,
  asked after the whole episode (`personagym.data.recall`), for evaluating what
  a model remembers of a conversation.

A run of a policy that reads the hidden state (`PRIVILEGED_POLICIES`: the
``oracle``) writes answers naming things the user never said: ``pki_sft`` and
``recall`` mask those answers in their conversations, and ``chat`` and ``pairs`` warn
(their answers are the training targets).

Every row of a kind has the same shape, floats are written as floats, and
`export_features` gives the explicit `datasets.Features` of each kind.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from personagym.checks import check_int, require_module
from personagym.data.generate import PathLike, load_manifest, read_generated
from personagym.data.trajectories import write_lines
from personagym.records import PKI, Intent, Trajectory, UserTurn, session_marker
from personagym.rollout import make_env
from personagym.suggest import did_you_mean

if TYPE_CHECKING:
    import datasets

ExportKind = Literal["chat", "pki_sft", "ppopt", "pairs", "recall"]
EXPORT_KINDS: tuple[str, ...] = ("chat", "pki_sft", "ppopt", "pairs", "recall")
#: A word of at most this many interests' names names something particular (see `_World.particular_words`).
PARTICULAR = 3
_NAME_WORD = re.compile(r"[a-z0-9+#]+")
#: What a ``chat`` row holds: one session, or a whole episode (every session, in order).
ChatUnit = Literal["session", "episode"]
CHAT_UNITS: tuple[str, ...] = ("session", "episode")
#: Built-in policies that answer from the current session alone: their later sessions need no earlier ones.
MEMORYLESS_POLICIES = frozenset({"generic", "random"})
MASK = "[ASSISTANT_RESPONSE]"
MAX_PAST_SESSIONS = 4
#: Rewards closer than this are a tie: the components are rounded to 6 places, so two replies with every
#: component equal could differ by 1e-6 and make a pair.
TIE = 1e-5
#: Attribute roles a rewritten query states (background and behaviour do not change a good answer).
PROMPT_ROLES = ("constraint", "style")
#: Policies whose answers read the hidden state: they name what the user never said.
PRIVILEGED_POLICIES = frozenset({"oracle"})
#: Noise strategies that take content out of a message (a slot value, the task, a stated preference), say
#: something else in its place (a change of mind, a contradiction: the words end on the slip), or add a second
#: request ("... PS what should I watch tonight?"): a rewritten query may not put the truth back, since nothing
#: the model reads says it, nor drop what the user asked for.
LOSSY_NOISE = frozenset({"missing_slot", "vague_value", "negation", "unclear_priority", "unclear_intent",
                         "mind_change", "self_contradiction", "multiple_intents"})
#: Disclosures that tell a change of taste (`Intent.reason`): "I've moved on from X to Y", "more Y, less X" are
#: worded alike whatever the strength of the new liking, so their words give no intensity (10 of 42 intensities
#: of a LongTerm-v0 tracker run's pki_sft answers came from such news: 0.55 and 0.85 for the same words).
TASTE_NEWS = frozenset({"moved_on", "dislike_moved", "dislike_narrowed", "dislike_widened", "gone_off", "taken_up",
                        "tried", "had_enough"})

#: An item a message can state: (kind, key, value of a multi-valued attribute, else None).
Item = tuple[str, str, str | None]
#: What messages state, as `_World.stated` gives it: item -> (the PKI in force, where it was said).
Stated = Mapping[Item, tuple[PKI, object]]
#: Where a message was said, as a caller of `_World.stated` names it (a label, a message index).
W = TypeVar("W")

PKI_INSTRUCTION = (
    "Read the conversation and list the personal knowledge items (PKIs) the user reveals, each with its type, "
    "key, value, polarity, intensity and whether it is said only vaguely. Reason first, then answer as "
    "<REASONING>...</REASONING> <PKIS>[...]</PKIS>."
)
PPOPT_INSTRUCTION = (
    "Infer the user's profile from the past sessions (the assistant's replies are hidden) and the current "
    "query, then rewrite the query into a prompt that says what a personalized answer needs. Answer as "
    "<REASONING>...</REASONING> <PROMPT>...</PROMPT>."
)
_PRONOUN_I = re.compile(r"\bi\b")
#: Where a sentence of a user's message ends: a stop followed by a space or the end, or a line break.
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


# --------------------------------------------------------------------------- public API


def export(kind: ExportKind, source: PathLike | Sequence[PathLike], out_path: PathLike, *,
           by: ChatUnit | None = None) -> int:
    """Write the `kind` export of generated dataset(s) to `out_path`; return the number of rows.

    ``pairs`` takes two or more directories (runs of different policies with the
    same seed); the other kinds take one.  `by` is the ``chat`` export's
    conversation unit (see `export_chat`; None: chosen from the data).
    """
    sources = [source] if isinstance(source, str | os.PathLike) else list(source)
    if by is not None and by not in CHAT_UNITS:
        raise ValueError(f"by must be one of {', '.join(CHAT_UNITS)}, got {by!r}")
    if by is not None and kind != "chat":
        raise ValueError(f"by={by!r} is the chat export's option; the {kind!r} export has none")
    if kind == "pairs":
        return export_pairs(sources, out_path)
    from personagym.data.recall import export_recall  # it builds on this module

    exporters: dict[str, Callable[[PathLike, PathLike], int]] = {
        "chat": lambda src, out: export_chat(src, out, by=by), "pki_sft": export_pki_sft, "ppopt": export_ppopt,
        "recall": export_recall}
    if kind not in exporters:
        raise ValueError(f"unknown export kind {kind!r}{did_you_mean(str(kind), EXPORT_KINDS)}; "
                         f"expected one of {', '.join(EXPORT_KINDS)}")
    if len(sources) != 1:
        raise ValueError(f"the {kind!r} export reads one generated directory, got {len(sources)}")
    return exporters[kind](sources[0], out_path)


def export_chat(out_dir: PathLike, out_path: PathLike, *, by: ChatUnit | None = None) -> int:
    """One conversation per line: ``{"trajectory_id", "persona_id", "session", "session_starts", "messages":
    [{"role", "content"}]}``.

    ``by="session"``: each session of an episode is a conversation (sessions
    are days to a year apart).  ``by="episode"``: an episode's sessions, in
    order, are one conversation (``session`` is 0, and ``session_starts``
    holds the index of each session's first message): the context an assistant
    that remembers earlier sessions (the tracker) answers from; split by
    session, its answers name things the row never mentions, which is warned
    about.  The user's last, unanswered message of a session (usually a
    goodbye) is left out, so each conversation ends with an assistant turn, as
    SFT on conversations expects.  ``by=None`` (the default) keeps a multi-session
    episode whole unless its policy answers from the current session alone
    (`MEMORYLESS_POLICIES`): split by session, 443 of 450 later-session rows of a
    LongTerm-v0 tracker run recommended a thing the user had named only in a
    session the row left out.
    """
    policy = load_manifest(out_dir).config.policy
    by_default = by is None
    if policy in PRIVILEGED_POLICIES:
        warnings.warn(f"{out_dir} was generated by the {policy!r} policy, which reads the hidden profile: its "
                      "answers name things the user never said, and SFT on them teaches a model to invent them",
                      stacklevel=2)
    split = 0  # later sessions written without the sessions before them

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal split
        for t in read_generated(out_dir):
            whole = by == "episode" or (by_default and policy not in MEMORYLESS_POLICIES)
            sessions = [(0, t.turns)] if whole else \
                itertools.groupby(t.turns, key=lambda turn: turn.user.session)
            for session, turns in sessions:
                split += session > 0
                turns = list(turns)
                starts = [2 * i for i, turn in enumerate(turns)
                          if i == 0 or turn.user.session != turns[i - 1].user.session]
                yield {"trajectory_id": t.trajectory_id, "persona_id": t.persona.persona_id, "session": session,
                       "session_starts": starts,
                       "messages": [m for turn in turns for m in ({"role": "user", "content": turn.user.text},
                                                                  {"role": "assistant", "content": turn.assistant})]}

    written = _write_rows(rows(), out_path)
    if split and policy not in MEMORYLESS_POLICIES:
        warnings.warn(f"{split:,} rows are later sessions written without the sessions before them, and the "
                      f"{policy!r} policy may answer from what the user said there (the tracker remembers across "
                      "sessions): SFT on them teaches a model to name what the conversation never mentions; "
                      "--by episode keeps an episode's sessions in one conversation", stacklevel=2)
    return written


def export_pki_sft(out_dir: PathLike, out_path: PathLike) -> int:
    """Conversation -> the PKIs its words state, one conversation per line, with a reasoning trace.

    The target is what a reader of the conversation can know (`_World.stated`): each item as the words
    state it, a vague mention as vague ("I have a food allergy": food allergies, no value; "I'd skip some
    cuisines": ``vague`` true, not a dislike of every cuisine; a broader name said plainly, "I love jazz" for
    bebop, as said: `_World.hedged`), an interest the user says they no longer have
    dropped ("I've gone off X", "more into Y than X"), an intensity
    only where the wording gives one; not what a request only implies (asking about jazz is no statement of
    liking it: it was labelled only when the hidden profile happened to hold it) nor what a message takes
    back or a later one corrects.  The ``pkis`` column lists every PKI of the record as said, with
    ``intended`` (the true key or value where the wording deviates) and ``explicit``.  ``prompt`` and
    ``completion`` hold the same example in TRL's prompt-completion format.  The answers of a privileged
    policy (the oracle) are masked as ``[ASSISTANT_RESPONSE]``: they name the hidden profile, which the
    extractor must read from the user's words alone.
    """
    world = _World.of(out_dir)
    masked = load_manifest(out_dir).config.policy in PRIVILEGED_POLICIES

    def rows() -> Iterator[dict[str, Any]]:
        for t in read_generated(out_dir):
            users = t.user_turns()
            pkis = [world.pki_row(pki, i) for i, user in enumerate(users) for pki in user.pkis]
            stated = world.stated([(user, user) for user in users])
            reasoning = world.pki_reasoning(users, stated)
            answer = json.dumps([{"type": p.kind, "key": p.key, "value": p.value, "polarity": int(p.polarity),
                                  "intensity": worded_intensity(p, user), "vague": world.hedged(p)}
                                 for p, user in stated.values()], ensure_ascii=False)
            conversation = _messages(t, mask=masked)
            transcript = "\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in conversation)
            yield {
                "trajectory_id": t.trajectory_id, "persona_id": t.persona.persona_id,
                "conversation": conversation, "pkis": pkis, "reasoning": reasoning,
                "prompt": [{"role": "user", "content": f"{PKI_INSTRUCTION}\n\n<conversation>\n{transcript}\n"
                                                       "</conversation>"}],
                "completion": [{"role": "assistant",
                                "content": f"<REASONING>\n{reasoning}\n</REASONING>\n<PKIS>\n{answer}\n</PKIS>"}],
            }

    return _write_rows(rows(), out_path)


def export_ppopt(out_dir: PathLike, out_path: PathLike, *, max_past_sessions: int = MAX_PAST_SESSIONS) -> int:
    """PPOpt query-personalization examples, one per session of each persona.

    The history of a session is up to `max_past_sessions` earlier sessions
    (user messages kept, assistant replies masked): of the same episode when
    episodes have several sessions (each episode is its own timeline of drift
    and life events), else of the persona's earlier episodes, which all start
    from the same state.  The query is the session's first user message as
    written (with its noise).  The target reasons from what history and query
    state (`_World.stated`: as worded, so a vague or mistaken mention is not
    resolved to the hidden truth) and rewrites the query with the constraints,
    style and related interests that are known and the query does not say
    itself: the de-noised query when its noise only changed the wording, the
    query as written when noise took content out or said something else in
    its place (`LOSSY_NOISE`), which no model could put back.  A dataset of
    one-session episodes and one episode per persona gives no history at all:
    that is warned about.
    """
    max_past_sessions = check_int("max_past_sessions", max_past_sessions, 0)
    world = _World.of(out_dir)

    histories = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal histories
        for _, trajectories in itertools.groupby(read_generated(out_dir), key=_timeline):
            sessions = [(t, s, users) for t in trajectories for s, users in _sessions(t)]
            for i, (t, s, users) in enumerate(sessions):
                past = sessions[max(0, i - max_past_sessions):i]
                histories += bool(past)
                yield world.ppopt_row(t, s, users[0], past)

    written = _write_rows(rows(), out_path)
    if written and not histories and max_past_sessions > 0:
        warnings.warn(f"no example of {out_dir} has a past session: its episodes have one session and each "
                      "persona one episode; generate with --episodes-per-persona 2 or more, or a multi-session "
                      "env such as PersonaGym/LongTerm-v0, for PPOpt histories", stacklevel=2)
    return written


def export_pairs(sources: Sequence[PathLike], out_path: PathLike) -> int:
    """Preference pairs over the first user message of the same episodes run with different policies.

    `sources` are generation directories with the same env, seed, persona and
    episode counts, turn limit and persona value weights (only the policy may differ), so each episode
    opens with the same user message and a reply's efficiency term (-1/max_turns)
    is the same in every run.  The first turn with the highest env reward is chosen,
    the one with the lowest rejected; ties (within `TIE`: rounding) give no pair.  A reply is the answer
    without the ``<profile>`` block a policy may have put before it (as in the
    ``chat`` export): the oracle's block is the hidden profile itself, which no
    model could infer from the prompt, so training on it would teach the model
    to invent facts.  The reward that ranks them is therefore the reward
    without its profile component (`reply_reward`).  Raises ValueError,
    writing nothing, when no episode gives a pair.
    """
    if len(sources) < 2:
        raise ValueError(f"pairs need two or more generated directories (different policies), got {len(sources)}")
    manifests = [load_manifest(s) for s in sources]
    warn_privileged_pairs(m.config.policy for m in manifests)
    # value_weights: the same seed draws other personas under the other weights, whose first messages differ
    same = ("env_id", "personas", "episodes_per_persona", "seed", "max_turns", "value_weights")
    for source, manifest in zip(sources[1:], manifests[1:], strict=True):
        diffs = [f"{k}={getattr(manifest.config, k)!r} vs {getattr(manifests[0].config, k)!r}"
                 for k in same if getattr(manifest.config, k) != getattr(manifests[0].config, k)]
        if diffs:
            raise ValueError(f"{source} and {sources[0]} were not generated from the same episodes "
                             f"({', '.join(diffs)}); pairs need the same {', '.join(same)}")

    def rows() -> Iterator[dict[str, Any]]:
        for group in zip(*(read_generated(s) for s in sources), strict=True):
            _check_aligned(group, sources)
            firsts = sorted(((reply_reward(t), i) for i, t in enumerate(group) if t.turns), key=lambda x: x[0])
            if len(firsts) < 2 or firsts[-1][0] - firsts[0][0] < TIE:
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

    pairs = rows()
    first = next(pairs, None)
    if first is None:
        raise ValueError(f"no pairs: every episode's first replies scored the same in {', '.join(map(str, sources))} "
                         "(is one run given twice?); nothing written")
    return _write_rows(itertools.chain([first], pairs), out_path)


def warn_privileged_pairs(policies: Iterable[str | None]) -> None:
    """Warn when a policy that reads the hidden profile is paired (`PRIVILEGED_POLICIES`)."""
    privileged = sorted(set(policies) & PRIVILEGED_POLICIES)
    if privileged:
        warnings.warn(f"the {privileged[0]!r} policy reads the hidden profile: its replies recommend things the "
                      "prompt never names, and preference training on them teaches a model to invent them; pair "
                      "policies that see only the conversation (tracker, generic, an LLM policy)", stacklevel=3)


def reply_reward(t: Trajectory) -> float:
    """The env reward of an episode's first reply, less the profile component of the block exports strip."""
    turn = t.turns[0]
    weight = (t.config.get("reward_weights") or {}).get("profile", 0.0)
    return round(turn.reward - weight * turn.reward_components.get("profile", 0.0), 6)


def export_features(kind: ExportKind) -> datasets.Features:
    """The explicit `datasets.Features` of an export, for ``load_dataset("json", ..., features=...)``."""
    ds = require_module("datasets", "datasets", "Making an export's datasets Features")
    string, integer, number = ds.Value("string"), ds.Value("int64"), ds.Value("float64")
    messages = ds.List({"role": string, "content": string})
    ids = {"trajectory_id": string, "persona_id": string}
    pki = {"turn": integer, "type": string, "key": string, "value": string, "label": string, "polarity": integer,
           "intensity": number, "certainty": string, "explicit": ds.Value("bool"), "intended": string,
           "evidence": string}
    by_kind = {
        "chat": {**ids, "session": integer, "session_starts": ds.List(integer), "messages": messages},
        "pki_sft": {**ids, "conversation": messages, "pkis": ds.List(pki), "reasoning": string,
                    "prompt": messages, "completion": messages},
        "ppopt": {**ids, "session": integer, "history": ds.List({"session": integer, "messages": messages}),
                  "query": string, "reasoning": string, "rewritten_prompt": string, "prompt": messages,
                  "completion": messages},
        "pairs": {**ids, "prompt": messages, "chosen": messages, "rejected": messages, "chosen_reward": number,
                  "rejected_reward": number, "chosen_policy": string, "rejected_policy": string},
        "recall": {"question_id": string, **ids, "kind": string, "key": string, "updated": ds.Value("bool"),
                   "holds": ds.Value("bool"), "question": string, "options": ds.List(string), "answer": integer,
                   "answer_text": string, "evidence": string, "evidence_message": integer,
                   "messages_after": integer, "sessions_after": integer, "conversation": messages,
                   "session_starts": ds.List(integer), "prompt": messages, "completion": messages},
    }
    if kind not in by_kind:
        raise ValueError(f"unknown export kind {kind!r}; expected one of {', '.join(EXPORT_KINDS)}")
    return ds.Features(by_kind[kind])


# --------------------------------------------------------------------------- conversations


def _messages(t: Trajectory, mask: bool = False) -> list[dict[str, str]]:
    """The whole episode as chat messages, every user message included (`Trajectory.user_turns`: the
    unanswered last one and the goodbyes that closed a session); `mask` hides the answers."""
    return _indexed_messages(t, mask)[0]


def _indexed_messages(t: Trajectory, mask: bool = False) -> tuple[list[dict[str, str]], list[tuple[int, UserTurn]]]:
    """`_messages`, and each user message (`Trajectory.user_turns`, in order) with its index among them."""
    out: list[dict[str, str]] = []
    users: list[tuple[int, UserTurn]] = []

    def said(user: UserTurn) -> None:
        users.append((len(out), user))
        out.append({"role": "user", "content": user.text})

    for turn in t.turns:
        said(turn.user)
        out.append({"role": "assistant", "content": MASK if mask else turn.assistant})
        if turn.closing is not None:
            said(turn.closing)
    if t.final_user is not None:
        said(t.final_user)
    return out, users


def session_opening(closing: str | None, session: int, message: str) -> str:
    """The first user message of session `session` (0-based) in a conversation of several sessions: the goodbye
    that closed the session before (`closing`, None if the user did not say one: the session was cut), then
    `session_marker`, then the message.  No answer followed the goodbye, so kept there the conversation still
    alternates user and assistant, as TRL's conversational format requires (`turn_pairs` prompts, the
    ``recall`` conversation)."""
    marked = f"{session_marker(session)}\n{message}"
    return marked if closing is None else f"{closing}\n{marked}"


def worded_intensity(pki: PKI, user: UserTurn) -> float | None:
    """The intensity of `pki` as the words of `user`'s message give it, else None.

    Only a disclosure of a liking or a dislike picks its words by strength ("I like X a little", "I live for
    X"); the news of a change of taste (`TASTE_NEWS`) and a complaint about an answer ("Please leave out X", said
    of a strong dislike and of a mild one alike) carry the hidden intensity in the record, which no reader of
    the words could give.
    """
    intent = user.intent
    graded = intent.kind == "preference_disclosure" and intent.reason not in TASTE_NEWS
    return pki.intensity if graded else None


def _timeline(t: Trajectory) -> str:
    """What a session's history may come from: the episode, if it has several sessions, else the persona."""
    return t.trajectory_id if int(t.config.get("sessions", 1)) > 1 else t.persona.persona_id


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


def _withdrawn(intent: Intent) -> str | None:
    """The interest a message says the user no longer has ("I've gone off X", "more into Y than X", "I'm not
    into X anymore"), if any: no dislike either, but what was said of it no longer holds."""
    if intent.reason in ("gone_off", "no_longer_into"):
        return intent.topic
    return intent.wrong if intent.reason == "moved_on" else None


def _check_aligned(group: tuple[Trajectory, ...], sources: Sequence[PathLike]) -> None:
    first = group[0]
    for source, t in zip(sources[1:], group[1:], strict=True):
        if t.trajectory_id != first.trajectory_id or (
                t.turns and first.turns and t.turns[0].user.text != first.turns[0].user.text):
            raise ValueError(f"episode {first.trajectory_id} of {sources[0]} and {t.trajectory_id} of {source} do "
                             "not open with the same user message; pairs need runs with the same seed and env")


# --------------------------------------------------------------------------- ground truth in words


def _quote(text: str, pki: PKI) -> str:
    """The sentence of a user's message `text` that states `pki`, in quotes: the words that say the liking or the
    dislike ("I'd rather do literally anything than deal with lowriders."), not the thing's name alone.  Without
    offsets into `text`, the PKI's evidence."""
    if pki.start < 0 or text[pki.start:pki.end] != pki.evidence:
        return f'"{pki.evidence}"' if pki.evidence else "the message"
    lo = max((m.end() for m in _SENTENCE_END.finditer(text, 0, pki.start)), default=0)
    hi = next((m.end() for m in _SENTENCE_END.finditer(text, pki.end)), len(text))
    return '"' + text[lo:hi].strip() + '"'


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

    @cached_property
    def particular_words(self) -> dict[str, frozenset[str]]:
        """Per interest node, the words of its name that are in at most `PARTICULAR` names: words that name a
        particular thing ("thai" of Thai cuisine, pad Thai and Thai massage), not a kind ("cuisine": 8 names).
        Interests that share one are near in meaning though the taxonomy puts them on different branches."""
        tax = self.schema.taxonomy
        words = {node: frozenset(_NAME_WORD.findall(self.name(node).lower())) for node in tax.ids}
        counts = Counter(word for found in words.values() for word in found)
        return {node: frozenset(w for w in found if counts[w] <= PARTICULAR) for node, found in words.items()}

    def pki_row(self, pki: PKI, turn: int) -> dict[str, Any]:
        """A PKI of the record as its words state it; `intended` holds the truth where they deviate."""
        return {
            "turn": turn, "type": pki.kind, "key": pki.key, "value": pki.value,
            "label": self.pki_label(pki), "polarity": int(pki.polarity),
            "intensity": pki.intensity, "certainty": pki.certainty, "explicit": pki.explicit,
            "intended": pki.intended, "evidence": pki.evidence,
        }

    def label(self, kind: str, key: str, value: str | None, polarity: int, vague: bool = False) -> str:
        """"likes jazz", "diet = vegan"; a vague mention of a group as such ("dislikes some cuisines")."""
        if kind == "interest":
            return f"{'likes' if polarity > 0 else 'dislikes'} {'some ' if vague else ''}{self.name(key)}"
        return f"{key} = {self.name(value) if value else '(not said)'}"

    def pki_label(self, pki: PKI) -> str:
        return self.label(pki.kind, pki.key, pki.value, pki.polarity, self.hedged(pki))

    def hedged(self, pki: PKI) -> bool:
        """Whether the words of a vague PKI say it vaguely: an attribute without its value ("I have some dietary
        stuff going on"), a group of interests as such ("certain cuisines").  An interest said by a broader
        name is said plainly ("I despise cultural travel, no exceptions" for museum trips: 82 of 114 vague
        interests were): it is labelled as said, the narrower truth in ``intended``."""
        if pki.certainty != "vague":
            return False
        node = self.schema.taxonomy.nodes.get(pki.key) if pki.kind == "interest" else None
        return node is None or node.group

    def item(self, pki: PKI) -> Item:
        """The item a PKI states: an interest, a single-valued attribute, or one value of a multi-valued one."""
        attribute = self.schema.attributes.get(pki.key) if pki.kind == "attribute" else None
        return pki.kind, pki.key, pki.value if attribute is not None and attribute.max_items > 1 else None

    def stated(self, said: Iterable[tuple[W, UserTurn]]) -> dict[Item, tuple[PKI, W]]:
        """What messages (each with where it was said) state, as worded, in the order they were last said.

        An item is an interest, a single-valued attribute, or one value of a
        multi-valued one (two allergies are two items).  A request's topic,
        only implied, and a mention the wording takes back state nothing; a
        later statement of an item replaces an earlier one (a dislike after a
        like, a new diet), a correction drops the slip it corrects, and a
        vague mention of an attribute gives way to its value once that is said
        (and takes nothing back when said after it).
        """
        out: dict[Item, tuple[PKI, W]] = {}
        for where, user in said:
            # a correction drops its slip, and a dislike moved on from is no dislike now ("it's K-pop I can't
            # stand these days, not so much synth-pop"), nor one narrowed to part of it; one widened still holds
            if user.intent.wrong and (user.intent.kind == "correction"
                                      or user.intent.reason in ("dislike_moved", "dislike_narrowed")):
                out.pop(("interest", user.intent.wrong, None), None)
            elif (lost := _withdrawn(user.intent)) is not None:  # "I've gone off X": what it said of X is void
                out.pop(("interest", lost, None), None)
            for pki in user.pkis:
                if not pki.explicit or pki.certainty == "retracted":
                    continue
                item = self.item(pki)
                if pki.kind == "attribute" and pki.value is None and item in out and out[item][0].value is not None:
                    continue  # "I have some dietary stuff going on" after "I'm vegan" takes nothing back
                out.pop(item, None)  # in force from here
                out[item] = (pki, where)
        valued = {key for (kind, key, value) in out if kind == "attribute" and value is not None}
        return {item: got for item, got in out.items() if not (item[1] in valued and got[0].value is None)}

    def pki_reasoning(self, users: list[UserTurn], stated: Stated) -> str:
        """One line per PKI the words state (not one a request only implies), then the profile they add up to."""
        lines = []
        for i, user in enumerate(users):
            corrects = user.intent.wrong if user.intent.kind == "correction" else None
            # only what the words state: a request's topic carries an implied PKI only when the hidden profile
            # likes it, so a line about it ("suggests likes boxing") told the target what no reader can know
            lines += [f"User message {i + 1}: {self._why(pki, user.text, corrects)}"
                      for pki in user.pkis if pki.explicit]
            if (lost := _withdrawn(user.intent)) is not None:
                lines.append(f"User message {i + 1}: no longer into {self.name(lost)}: what was noted of it goes.")
        if not lines:
            return "The user reveals nothing about themselves in this conversation."
        profile = "; ".join(self.pki_label(p) for p, _ in stated.values())
        return "\n".join([*lines, f"Profile: {profile or 'nothing stated'}."])

    def _why(self, pki: PKI, text: str, corrects: str | None) -> str:
        quote = _quote(text, pki)
        label = self.pki_label(pki)
        if pki.certainty == "retracted":
            return f"{quote} is taken back in the same breath: nothing to note."
        if self.hedged(pki):
            return f"{quote} says it only vaguely: {label}."
        if corrects is not None and pki.kind == "interest":
            return f"{quote} states: {label}, in place of {self.name(corrects)}, which was a slip."
        return f"{quote} states: {label}."

    # -- PPOpt ------------------------------------------------------------------------------
    def ppopt_row(self, t: Trajectory, session: int, query: UserTurn,
                  past: list[tuple[Trajectory, int, list[UserTurn]]]) -> dict[str, Any]:
        evidence = [((f"session {n + 1}", u.text), u) for n, (_, _, users) in enumerate(past) for u in users]
        known = self.stated([*evidence, (("the query", query.text), query)])
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

    def _ppopt_reasoning(self, known: dict[Item, tuple[PKI, tuple[str, str]]]) -> str:
        """One line per item known, with where it was said (a session, the query) and the sentence that says it."""
        if not known:
            return "Neither the past sessions nor the query reveal a preference, so the query stays as it is."
        lines = [f"- {self.pki_label(pki)} ({where}: {_quote(text, pki)})"
                 for pki, (where, text) in known.values()]
        return "What the user has said about themselves:\n" + "\n".join(lines)

    def _rewrite(self, query: UserTurn, known: Mapping[Item, tuple[PKI, object]]) -> str:
        """The de-noised query plus the known constraints, style and interests of the query's category that the
        query does not state itself: its words keep them ("... Quick note: I'm on a budget.\n\nAbout me: I'm on a
        budget."; 40 of 108 rewrites with an "About me" said an item of the query again)."""
        topic = query.intent.topic
        category = self.knowledge.category(topic) if topic and topic in self.schema.taxonomy else None
        facts, likes, dislikes = [], [], []
        for pki, _ in known.values():
            if pki in query.pkis:
                continue
            kind, key, value = pki.kind, pki.key, pki.value
            if kind == "interest":  # a vague "some cuisines" names none of them
                if not self.hedged(pki) and category is not None and key in self.schema.taxonomy \
                        and self.knowledge.category(key) == category:
                    (likes if pki.polarity > 0 else dislikes).append(self.name(key))
            elif value and self.schema.attributes[key].role in PROMPT_ROLES:
                facts.append(self._sentence(key, value))
        if likes:
            facts.append(f"I like {', '.join(likes)}.")
        if dislikes:
            facts.append(f"I don't like {', '.join(dislikes)}.")
        text = query.text if LOSSY_NOISE.intersection(query.noise.strategies) else query.clean_text
        return text + ("\n\nAbout me: " + " ".join(facts) if facts else "")

    def _sentence(self, attribute: str, value: str, avoid: str = "", start: int = 0) -> str:
        """A first-person sentence stating an attribute value (the schema's first phrase from index `start` on,
        round to the start, that `avoid`, lower case, does not hold, else the one at `start`; without phrases,
        its description)."""
        attr = self.schema.attributes[attribute]
        phrases = attr.phrases.get(value)
        if phrases:
            turned = phrases[start % len(phrases):] + phrases[:start % len(phrases)]
            phrase = next((p for p in turned if p.lower() not in avoid), turned[0])
        else:
            phrase = None
        text = _PRONOUN_I.sub("I", phrase) if phrase else f"{attr.description}: {value.replace('_', ' ')}"
        return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def _write_rows(rows: Iterable[dict[str, Any]], out_path: PathLike) -> int:
    """JSON lines, written atomically; returns the number of rows."""
    return write_lines((json.dumps(row, ensure_ascii=False) for row in rows), out_path)
