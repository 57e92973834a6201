"""Recall questions about the user: what a model should remember of a conversation (QA-based recall).

CSP tests what a model recalls of the personal knowledge items a conversation
reveals with questions about them; PersonaMem asks after many sessions, when
some preferences have changed.  The ``recall`` export asks such questions of
each generated episode, after its last message: multiple choice, one row per
question.

* The answer is what the user's words state (`_World.stated`, as the
  ``pki_sft`` target: as worded, the last statement of an item in force).
  Items said vaguely, taken back, or as a slip whose words differ from the
  truth (`PKI.intended`) give no question, nor do items of a message that
  contradicts itself (self-contradiction noise) or a like of something
  under an interest the user went off later ("likes React.js", then "not
  into JavaScript anymore").  A move to a narrower taste ("more into
  AirPods than wearables") is no interest moved on from.
* The distractors are wrong by the user's words and by the hidden profile at
  the episode's end.  First come those the conversation names, so that
  spotting a word the user said is not enough: an attribute's earlier value,
  interests the user said the opposite of or moved on from, likes for a
  question on what they moved on from.  The rest are other values of the
  attribute that do not overlap the answer or the truth (`OVERLAPPING`: "I
  prefer brief answers." is true of someone who wants one or two lines) nor
  follow from another attribute (`IMPLIED_BY`: "I eat gluten-free." of a
  celiac user), or
  interests of the same top-level category the user never named, in no
  line of descent with anything they hold or named ("bebop" is no wrong
  answer for a jazz lover), before or after the episode.  So exactly one
  option is right, by the conversation and by the hidden profile.
* ``updated`` marks an item the user first stated otherwise (a new diet told
  as news, a like that became a dislike): PersonaMem's knowledge update.
* ``holds`` says whether the answer is still true at the episode's end (a
  preference may drift between sessions without the user saying so).

Kinds: ``attribute`` (options are first-person sentences of the attribute's
values, "I'm vegan."), ``likes`` and ``dislikes`` (interests of the same
top-level category), ``no_longer`` (an interest the user said they moved on
from, "I've gone off jazz").  Distractors are drawn with a generator seeded by
the trajectory id, so an export is the same every time.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from personagym.checks import check_int
from personagym.data.exports import (
    PRIVILEGED_POLICIES,
    Item,
    _indexed_messages,
    _withdrawn,
    _World,
    _write_rows,
    session_opening,
)
from personagym.data.generate import PathLike, load_manifest, read_generated
from personagym.records import PKI, Trajectory, UserTurn, session_marker
from personagym.simulators.preferences import NO_LONGER

#: Options per question at most: the answer and up to three distractors; a question needs one distractor.
OPTIONS = 4
LETTERS = "ABCDEFGH"
RECALL_INSTRUCTION = (
    "Read the conversation between a user and an assistant, then answer the question about the user with the "
    "letter of the one right option."
)
#: Values of an attribute whose sentences do not exclude each other: one of a group is true of someone the other
#: is true of ("One or two lines max please." and "I prefer brief answers.", "I get around in a wheelchair." and
#: "I have limited mobility."), so neither is a wrong answer when the other is right.
OVERLAPPING: dict[str, tuple[frozenset[str], ...]] = {
    key: tuple(frozenset(group) for group in groups) for key, groups in {
        "diet": (("vegetarian", "vegan"),),  # "I don't eat meat or fish." is true of a vegan
        "length_pref": (("terse", "brief"), ("detailed", "exhaustive")),
        "formality_level": (("very_casual", "casual"), ("business_casual", "professional"),
                            ("professional", "highly_formal")),
        "tone_pref": (("direct", "blunt", "concise"), ("warm", "friendly", "empathetic"), ("formal", "professional")),
        "humor_pref": (("light", "playful"),),
        "emoji_use": (("sometimes", "often"),),
        "eco_conscious": (("somewhat", "strongly"),),
        "mobility": (("limited_mobility", "wheelchair_user"),),
        "vision": (("low_vision", "blind"),),
        "hearing": (("hard_of_hearing", "deaf"),),
        "budget_level": (("tight", "budget"),),
        "spending_style": (("frugal", "value_seeker"),),
        "caffeine_stance": (("limited", "avoids"),),
        "citation_pref": (("nice_to_have", "required"),),
        "children": (("expecting", "none"), ("young_children", "school_age"), ("school_age", "teenagers")),
        "seniority": (("senior", "staff", "lead", "manager", "director_plus"),),
        "explanation_depth": (("full_reasoning", "teach_me_why"),),
        "detail_orientation": (("detail_focused", "exhaustive_detail"),),
        "example_pref": (("abundant", "examples_first"),),
        "settlement_type": (("small_town", "rural"),),
        "content_sensitivity": (("avoid_explicit", "family_friendly"),),
        "reading_accessibility": (("dyslexia_friendly", "plain_language"),),
    }.items()}
#: Values true of anyone who has another attribute's value: "I eat gluten-free." of a celiac user, "I don't eat
#: beef." of a vegetarian, "I like things concise." of one who wants one or two lines.  Such a value is no wrong
#: answer for a user who said or holds its source.  Each entry: (sources, implied values); an equivalence is
#: two entries.
IMPLIED_BY: tuple[tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]], ...] = tuple(
    (frozenset(sources), frozenset(implied)) for sources, implied in (
        ({("food_allergies", "gluten")}, {("diet", "gluten_free")}),
        ({("religious_restrictions", "no_alcohol")}, {("alcohol_stance", "abstains")}),
        ({("religious_restrictions", "no_gambling")}, {("gambling_stance", "avoids")}),
        ({("diet", "halal"), ("diet", "kosher")}, {("religious_restrictions", "no_pork")}),
        ({("diet", "vegetarian"), ("diet", "vegan"), ("diet", "pescatarian")}, {("religious_restrictions", "no_beef")}),
        ({("length_pref", "terse"), ("length_pref", "brief")}, {("tone_pref", "concise")}),
        ({("tone_pref", "concise")}, {("length_pref", "terse"), ("length_pref", "brief")}),
        ({("jargon_tolerance", "avoid"), ("reading_accessibility", "plain_language")},
         {("reading_level_pref", "simple")}),
        ({("reading_level_pref", "simple"), ("reading_accessibility", "plain_language")},
         {("jargon_tolerance", "avoid")}),
        ({("explanation_depth", "answer_only")}, {("deliverable_type", "answer_only")}),
        ({("deliverable_type", "answer_only")}, {("explanation_depth", "answer_only")}),
        ({("currently_studying", "full_time"), ("employment_status", "student")}, {("role", "student")}),
        ({("employment_status", "retired")}, {("age_band", "60p")}),
    ))
QUESTIONS = {
    "likes": "Going by what the user has said, which of these do they like?",
    "dislikes": "Going by what the user has said, which of these do they dislike?",
    "no_longer": "Going by what the user has said, which of these are they no longer into?",
}


@dataclass(frozen=True, slots=True)
class _Asked:
    """A question before its options are shuffled into place."""

    kind: str
    key: str
    question: str
    answer: str
    first: list[str]  # wrong answers the conversation names (an earlier value): drawn before the others
    pool: list[str]  # the other wrong answers
    updated: bool
    holds: bool
    evidence: str
    message: int


def export_recall(out_dir: PathLike, out_path: PathLike, *, options: int = OPTIONS) -> int:
    """Write the recall questions of a generated dataset, one per line; return how many.  Raises ValueError,
    writing nothing, when no episode gives a question.

    The conversation is every message of the episode, user and assistant in
    turn: in an episode of several sessions, each session's first message
    holds the goodbye before it and the session's marker, as `turn_pairs`
    prompts do.  A privileged policy's answers (the oracle's) are masked as
    ``[ASSISTANT_RESPONSE]``, since they name hidden likes the user never said.
    """
    options = check_int("options", options, 2, len(LETTERS))
    world = _World.of(out_dir)
    masked = load_manifest(out_dir).config.policy in PRIVILEGED_POLICIES

    def rows() -> Iterator[dict[str, Any]]:
        for t in read_generated(out_dir):
            yield from recall_rows(world, t, masked=masked, options=options)

    questions = rows()
    first = next(questions, None)
    if first is None:  # an empty file does not load with datasets, and would replace the one at out_path
        raise ValueError(f"no recall questions: no user of {out_dir} said anything about themselves plainly enough "
                         "to ask about; nothing written")
    return _write_rows(itertools.chain([first], questions), out_path)


def recall_rows(world: _World, t: Trajectory, *, masked: bool = False, options: int = OPTIONS
                ) -> Iterator[dict[str, Any]]:
    """The recall questions of one episode, as export rows."""
    messages, users = _indexed_messages(t, mask=masked)
    sessions = {i: user.session for i, user in users}
    last_session = max(sessions.values(), default=0)
    starts = [i for n, (i, user) in enumerate(users) if n == 0 or user.session != users[n - 1][1].session]
    marked = {i: sessions[i] for i in starts} if last_session else {}
    transcript = _transcript(messages, marked)
    conversation, at = _alternating(messages, marked)
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(t.trajectory_id.encode()).digest()[:8], "big"))
    n = 0
    for asked in _questions(world, t, users):
        chosen = _draw(rng, [text for text in dict.fromkeys(asked.first) if text != asked.answer], options - 1)
        rest = [text for text in dict.fromkeys(asked.pool) if text != asked.answer and text not in chosen]
        chosen += _draw(rng, rest, options - 1 - len(chosen))
        if not chosen:
            continue
        shown = [asked.answer, *chosen]
        order = rng.permutation(len(shown))
        shown = [shown[i] for i in order]
        answer = int(np.flatnonzero(order == 0)[0])
        listed = "\n".join(f"{LETTERS[i]}. {text}" for i, text in enumerate(shown))
        yield {
            "question_id": f"{t.trajectory_id}/q{n}", "trajectory_id": t.trajectory_id,
            "persona_id": t.persona.persona_id, "kind": asked.kind, "key": asked.key, "updated": asked.updated,
            "holds": asked.holds, "question": asked.question, "options": shown, "answer": answer,
            "answer_text": asked.answer, "evidence": asked.evidence or messages[asked.message]["content"],
            "evidence_message": at[asked.message],
            "messages_after": len(conversation) - 1 - at[asked.message],
            "sessions_after": last_session - sessions[asked.message],
            "conversation": conversation, "session_starts": [at[i] for i in starts],
            "prompt": [{"role": "user", "content": f"{RECALL_INSTRUCTION}\n\n<conversation>\n{transcript}\n"
                                                   f"</conversation>\n\n{asked.question}\n{listed}"}],
            "completion": [{"role": "assistant", "content": LETTERS[answer]}],
        }
        n += 1


def _transcript(messages: list[dict[str, str]], marked: dict[int, int]) -> str:
    """The conversation as text; the message at each index of `marked` opens the session it maps to, announced
    on a line of its own (`session_marker`, as the env renders it)."""
    lines = []
    for i, m in enumerate(messages):
        if i in marked:
            lines.append(session_marker(marked[i]))
        lines.append(f"{m['role'].capitalize()}: {m['content']}")
    return "\n".join(lines)


def _alternating(messages: list[dict[str, str]], marked: dict[int, int]) -> tuple[list[dict[str, str]], list[int]]:
    """The ``conversation`` column, and the index there of each of `messages`: the message at each index of
    `marked` opens the session it maps to and holds, as `turn_pairs` prompts do (`session_opening`), the goodbye
    before it (a user message no answer followed, merged into the same message) and the session's marker.  So
    the column alternates user and assistant, as a chat template needs (a goodbye followed by the next session's
    first message was two user messages in a row: 39 in 20 LongTerm-v0 episodes of the tracker)."""
    out: list[dict[str, str]] = []
    at: list[int] = []
    for i, m in enumerate(messages):
        if i in marked:
            closing = out.pop()["content"] if out and out[-1]["role"] == "user" else None
            m = {"role": "user", "content": session_opening(closing, marked[i], m["content"])}
        at.append(len(out))  # a goodbye popped above is at the index of the message that now holds it
        out.append(m)
    return out, at


def _draw(rng: np.random.Generator, pool: list[str], k: int) -> list[str]:
    """Up to `k` of `pool`, drawn without replacement, in pool order."""
    if not pool or k <= 0:
        return []
    return [pool[i] for i in sorted(rng.choice(len(pool), size=min(k, len(pool)), replace=False))]


def _questions(world: _World, t: Trajectory, users: list[tuple[int, UserTurn]]) -> list[_Asked]:
    """What can be asked of an episode, in the order the answers were last said."""
    stated = world.stated(users)
    earlier = _earlier(world, users)
    paths = world.schema.taxonomy.paths
    said_in = dict(users)
    gone = {lost: message for message, user in users if (lost := _withdrawn(user.intent)) in paths}
    cleared = _cleared(t, users)
    # plainly said, in a message that does not contradict itself ("one or two lines max please, ... but walk me
    # through every little step"), and no like of a thing under an interest the user went off later ("likes
    # React.js", then "not into JavaScript anymore"), nor an attribute a change the user told of later ended ("I'm
    # a manager at work", then "I just retired")
    plain = {item: (pki, message) for item, (pki, message) in stated.items() if _plain(world, pki)
             and "self_contradiction" not in said_in[message].noise.strategies
             and not (pki.kind == "interest" and pki.key in paths
                      and any(gone.get(node, -1) > message for node in paths[pki.key] if node != pki.key))
             and not (pki.kind == "attribute" and cleared.get(pki.key, -1) > message)}
    # what the user likes by their words or now: "more into AirPods than wearables" narrows a taste, and leaves
    # them into wearables
    liking = {p.key for p, _ in plain.values() if p.kind == "interest" and p.polarity > 0 and p.key in paths} | \
        {node for node, i in t.final_state.interests.items() if i.polarity > 0 and node in paths}
    withdrawn = {lost: (message, said_in[message]) for lost, message in gone.items()
                 if ("interest", lost, None) not in stated  # not said again
                 and not any(lost in paths[node] for node in liking if node != lost)}
    holding = _held(t)
    implied = _implied(t, [pki for pki, _ in plain.values() if pki.kind == "attribute"])
    said = " ".join(user.text.lower() for _, user in users)  # options are put in other words than these
    asked: list[_Asked] = []
    for item, (pki, message) in plain.items():
        if pki.kind == "attribute":
            got = _attribute_question(world, t, pki, message, earlier.get(item, []), implied.get(pki.key, set()),
                                      said)
        else:  # the wrong answers the user did name: the other way round now, or moved on from
            other = [p.key for p, _ in plain.values() if p.kind == "interest" and p.polarity != pki.polarity]
            got = _interest_question(world, t, pki, message, holding, earlier.get(item, []),
                                     other + ([*withdrawn] if pki.polarity > 0 else []))
        if got is not None:
            asked.append(got)
    liked = [a.key for a in asked if a.kind == "likes" and a.holds]  # said and still true
    for lost, (message, user) in withdrawn.items():
        asked.append(_Asked("no_longer", lost, QUESTIONS["no_longer"], world.name(lost),
                            _named(world, lost, liked, t, polarity=-1), _unrelated(world, lost, holding),
                            updated=True, holds=_held_as(world, t, lost) != 1, evidence=user.text,
                            message=message))
    asked.sort(key=lambda a: a.message)
    return asked


def _cleared(t: Trajectory, users: list[tuple[int, UserTurn]]) -> dict[str, int]:
    """Per attribute a life event unset as no longer so (`NO_LONGER`: a retiree's seniority), the message that
    told the news of that event, if the user told it: what they had said of the attribute no longer holds, by
    their own words ("I just retired." after "I'm a manager at work")."""
    events = t.session_events
    out: dict[str, int] = {}
    for gone in events:
        cause = gone.cause.removeprefix(NO_LONGER) if gone.cause.startswith(NO_LONGER) else None
        change = next((e for e in events if cause and e.session == gone.session and e.cause == cause), None)
        if change is None:
            continue
        new = change.after if isinstance(change.after, list) else [change.after]
        told = next((message for message, user in users if user.session >= change.session
                     and user.intent.attribute == change.target and user.intent.value in new), None)
        if told is not None:
            out[gone.target] = told
    return out


def _plain(world: _World, pki: PKI) -> bool:
    """Whether the words state the item plainly and truly: not vaguely, nor as a slip (`PKI.intended`)."""
    return pki.intended in (None, pki.key if pki.kind == "interest" else pki.value) and not world.hedged(pki)


def _named(world: _World, answer: str, nodes: list[str], t: Trajectory, polarity: int) -> list[str]:
    """Names of the interests among `nodes` that are wrong answers to a question whose answer is `answer` and
    whose right answers have `polarity` (1: liked): none in a line of descent with the answer, none the user
    holds that way now, itself or through an interest above it (mobile devices for one who went off them and
    is into consumer tech again)."""
    paths = world.schema.taxonomy.paths
    return [world.name(node) for node in dict.fromkeys(nodes)
            if answer not in paths[node] and node not in paths[answer] and _held_as(world, t, node) != polarity]


def _held_as(world: _World, t: Trajectory, node: str) -> int | None:
    """The polarity the user holds `node` with at the episode's end: that of the nearest interest at or above
    it, as the user takes in what an answer offers (None: neither liked nor disliked)."""
    interests = t.final_state.interests
    held = next((interests[a] for a in reversed(world.schema.taxonomy.paths[node]) if a in interests), None)
    return None if held is None else held.polarity


def _implied(t: Trajectory, said: list[PKI]) -> dict[str, set[str]]:
    """Per attribute, the values `IMPLIED_BY` what the user said plainly or holds at the end: true of them too."""
    known = {(p.key, p.value) for p in said if p.value is not None}
    for key, held in t.final_state.attributes.items():
        known.update((key, v) for v in (held if isinstance(held, list) else [held]))
    out: dict[str, set[str]] = {}
    for sources, implied in IMPLIED_BY:
        if not sources.isdisjoint(known):
            for key, value in implied:
                out.setdefault(key, set()).add(value)
    return out


def _attribute_question(world: _World, t: Trajectory, pki: PKI, message: int, before: list[tuple[str | None, int]],
                        implied: set[str], said: str) -> _Asked | None:
    attr = world.schema.attributes.get(pki.key)
    if attr is None or pki.value is None:
        return None
    value = pki.value
    now, then = t.final_state.attributes.get(pki.key), t.initial_state.attributes.get(pki.key)
    if attr.type == "multi":  # another value the user has is no wrong answer, said or not
        taken = {v for held in (now, then) for v in (held or [])} | {v for (_, k, v) in _said_keys(t) if k == pki.key}
        holds = value in (now or [])
    else:
        taken = {now} if isinstance(now, str) else set()
        holds = now == value
    # a value that overlaps the answer or the truth now ("I prefer brief answers." for "One or two lines max") is
    # no wrong answer either
    taken |= {v for held in {value, *taken} for group in OVERLAPPING.get(pki.key, ()) if held in group for v in group}
    taken |= implied - {value}  # true through another attribute ("I eat gluten-free." of a celiac user)
    old = list(dict.fromkeys(v for v, _ in before if v is not None and v != value and v not in taken))
    others = [v for v in attr.values if attr.phrases.get(v) and v != value and v not in taken and v not in old]

    # the answer in other words than the user's where the schema has them ("I eat a fully plant-based diet." for
    # "I'm vegan"), and every option in the phrase of the same rank: else the answer was the only second phrase
    # among first ones, an odd one out to anyone who knows the schema
    rank = next((i for i, p in enumerate(attr.phrases.get(value, ())) if p.lower() not in said), 0)

    def sentence(key: str, value: str) -> str:
        return world._sentence(key, value, avoid=said, start=rank)

    return _Asked("attribute", pki.key, f"About: {attr.description} Going by what the user has said, which of "
                  "these is true of them now?", sentence(pki.key, value), [sentence(pki.key, v) for v in old],
                  [sentence(pki.key, v) for v in others], updated=any(v != value for v, _ in before),
                  holds=holds, evidence=pki.evidence, message=message)


def _interest_question(world: _World, t: Trajectory, pki: PKI, message: int, holding: set[str],
                       before: list[tuple[str | None, int]], named: list[str]) -> _Asked | None:
    if pki.key not in world.schema.taxonomy or not world.knowledge.suggestible(pki.key):
        return None
    kind = "likes" if pki.polarity > 0 else "dislikes"
    final = t.final_state.interests.get(pki.key)
    return _Asked(kind, pki.key, QUESTIONS[kind], world.name(pki.key),
                  _named(world, pki.key, [n for n in named if n in world.schema.taxonomy], t, pki.polarity),
                  _unrelated(world, pki.key, holding),
                  updated=any(polarity != pki.polarity for _, polarity in before),
                  holds=final is not None and final.polarity == pki.polarity, evidence=pki.evidence,
                  message=message)


def _earlier(world: _World, users: list[tuple[int, UserTurn]]) -> dict[Item, list[tuple[str | None, int]]]:
    """Per item (as `_World.stated` keys them), every (value, polarity) plainly stated of it, in order: what a
    later statement may update."""
    out: dict[Item, list[tuple[str | None, int]]] = {}
    for _, user in users:
        for pki in user.pkis:
            if pki.explicit and pki.certainty == "clear":
                out.setdefault(world.item(pki), []).append((pki.value, pki.polarity))
    return out


def _said_keys(t: Trajectory) -> set[Item]:
    """(kind, key, value) of every PKI of every user message, however it was said."""
    return {(p.kind, p.key, p.value) for user in t.user_turns() for p in user.pkis}


def _held(t: Trajectory) -> set[str]:
    """Every interest node the user holds at some point or names in a message, and every topic they ask about."""
    nodes = {i.node for i in t.persona.interests} | set(t.initial_state.interests) | set(t.final_state.interests)
    for user in t.user_turns():
        nodes.update(p.key for p in user.pkis if p.kind == "interest")
        nodes.update(n for n in (user.intent.topic, user.intent.wrong) if n)
    return nodes


def _unrelated(world: _World, node: str, holding: set[str]) -> list[str]:
    """Names of suggestible interests of `node`'s top-level category in no line of descent with what the user
    holds or named, nor near one in meaning (pad Thai for a user into Thai cuisine: a word of the name in
    common, `_World.particular_words`): wrong answers to any question about their interests."""
    tax = world.schema.taxonomy
    known = {n for n in holding if n in tax}
    above = {a for n in known for a in tax.paths[n]}  # every node held and its ancestors
    particular = world.particular_words
    near = frozenset().union(*(particular[n] for n in known))
    category = world.knowledge.category(node)
    return [world.name(c) for c in tax.descendants(category)
            if world.knowledge.suggestible(c) and c not in above and known.isdisjoint(tax.paths[c])
            and particular[c].isdisjoint(near)]
