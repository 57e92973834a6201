"""Exports of generated data: each kind loads with `datasets.load_dataset("json", ...)` and says what it should."""

from __future__ import annotations

import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from personagym.data.exports import (
    EXPORT_KINDS,
    LOSSY_NOISE,
    MASK,
    TASTE_NEWS,
    _session_messages,
    _sessions,
    _World,
    export,
    export_features,
    export_ppopt,
    worded_intensity,
)
from personagym.data.generate import generate, read_generated
from personagym.records import PKI, UserTurn
from personagym.rollout import make_env

datasets = pytest.importorskip("datasets")

RUN = {"personas": 4, "episodes_per_persona": 3, "seed": 3, "fmt": "jsonl", "shard_size": 2}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same episodes with the generic and the oracle policy, and a multi-session run."""
    root = tmp_path_factory.mktemp("runs")
    generate(root / "generic", **RUN)
    generate(root / "oracle", policy="oracle", **RUN)
    # a multi-session run holding an episode cut at its turn limit (about one in five is): the first such seed
    for seed in range(RUN["seed"], RUN["seed"] + 50):
        longterm = root / f"longterm-{seed}"
        generate(longterm, env_id="PersonaGym/LongTerm-v0",
                 **{**RUN, "personas": 2, "episodes_per_persona": 2, "seed": seed})
        if any(t.truncated for t in read_generated(longterm)):
            break
    return {"generic": root / "generic", "oracle": root / "oracle", "longterm": longterm}


def _load(path: Path, tmp_path: Path, kind: str | None = None):
    features = export_features(kind) if kind else None
    return datasets.load_dataset("json", data_files=str(path), split="train", features=features,
                                 cache_dir=str(tmp_path / f"cache-{kind}"))


@pytest.mark.filterwarnings("ignore:the 'oracle' policy reads the hidden profile")
@pytest.mark.parametrize("kind", EXPORT_KINDS)
def test_every_export_loads_with_datasets(runs: dict[str, Path], tmp_path: Path, kind: str) -> None:
    source = [runs["generic"], runs["oracle"]] if kind == "pairs" else runs["generic"]
    path = tmp_path / f"{kind}.jsonl"
    rows = export(kind, source, path)  # type: ignore[arg-type]
    assert rows > 0
    inferred, typed = _load(path, tmp_path), _load(path, tmp_path, kind)
    assert len(inferred) == len(typed) == rows
    assert set(typed.column_names) == set(export_features(kind))  # type: ignore[arg-type]


def test_chat_rows_are_the_conversations(runs: dict[str, Path], tmp_path: Path) -> None:
    export("chat", runs["generic"], tmp_path / "chat.jsonl")
    rows = _load(tmp_path / "chat.jsonl", tmp_path, "chat")
    trajectories = list(read_generated(runs["generic"]))
    assert rows["trajectory_id"] == [t.trajectory_id for t in trajectories]
    for row, t in zip(rows, trajectories, strict=True):
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["user", "assistant"] * len(t.turns)
        assert [m["content"] for m in row["messages"][::2]] == [turn.user.text for turn in t.turns]


def test_chat_gives_each_session_its_own_conversation(runs: dict[str, Path], tmp_path: Path) -> None:
    """Sessions days to a year apart are conversations of their own by default."""
    export("chat", runs["longterm"], tmp_path / "chat.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "chat.jsonl").read_text().splitlines()]
    expected = [(t.trajectory_id, s, [turn.user.text for turn in t.turns if turn.user.session == s])
                for t in read_generated(runs["longterm"]) for s in dict.fromkeys(u.session for u in t.user_turns())
                if any(turn.user.session == s for turn in t.turns)]
    assert len(expected) > len({e[0] for e in expected})  # several sessions an episode
    assert [(r["trajectory_id"], r["session"], [m["content"] for m in r["messages"][::2]]) for r in rows] == expected
    assert all([m["role"] for m in r["messages"]] == ["user", "assistant"] * (len(r["messages"]) // 2)
               for r in rows)


def test_pki_sft_labels_what_the_words_state(runs: dict[str, Path], tmp_path: Path) -> None:
    """The answer holds what a reader of the conversation can know: no topic a request only implies (it was
    labelled only when the hidden profile held it), no hidden intensity or value, nothing taken back, each item
    once; the ``pkis`` column keeps every PKI of the record as said, the truth in ``intended``."""
    export("pki_sft", runs["longterm"], tmp_path / "pki.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "pki.jsonl").read_text().splitlines()]
    world = _World.of(runs["longterm"])
    implied = quoted = 0
    for row, t in zip(rows, read_generated(runs["longterm"]), strict=True):
        pkis = [pki for u in t.user_turns() for pki in u.pkis]
        assert [(p["key"], p["value"], p["intensity"], p["intended"]) for p in row["pkis"]] == [
            (pki.key, pki.value, pki.intensity, pki.intended) for pki in pkis]
        text = row["completion"][0]["content"]
        assert re.fullmatch(r"<REASONING>\n.+\n</REASONING>\n<PKIS>\n\[.*\]\n</PKIS>", text, re.DOTALL)
        withdrawn = sum(u.intent.reason in ("gone_off", "moved_on", "no_longer_into") for u in t.user_turns())
        # a line per PKI the words state: one about an implied PKI ("suggests likes boxing") told the completion
        # that the hidden profile likes the request's topic (287 of 400 rows)
        assert row["reasoning"].count("User message") == sum(p["explicit"] for p in row["pkis"]) + withdrawn
        assert "suggests" not in row["reasoning"]
        answer = json.loads(text.split("<PKIS>\n")[1].split("\n</PKIS>")[0])
        # an intensity only where the words grade it: a plain disclosure, not the news of a change of taste nor a
        # complaint (worded alike at 0.55 and 0.85)
        graded = {id(p) for u in t.user_turns() if u.intent.kind == "preference_disclosure"
                  and u.intent.reason not in TASTE_NEWS for p in u.pkis}
        stated = {(p.kind, p.key, p.value, int(p.polarity), p.intensity if id(p) in graded else None) for p in pkis
                  if p.explicit and p.certainty != "retracted"}
        items = [(a["type"], a["key"], a["value"], a["polarity"], a["intensity"]) for a in answer]
        assert set(items) <= stated and len(items) == len({i[:3] for i in items}), row["trajectory_id"]
        said = {(p.kind, p.key, p.value, world.hedged(p)) for p in pkis}
        assert all((a["type"], a["key"], a["value"], a["vague"]) in said for a in answer)
        implied += sum(not p.explicit for p in pkis)
        # each line quotes the sentence that states its item, not the item's name alone ('"lowriders" states:
        # dislikes lowriders' for "I'd rather do literally anything than deal with lowriders.")
        users = t.user_turns()
        for line in row["reasoning"].splitlines()[:-1]:
            if (found := re.match(r'User message (\d+): "(.+?)" (?:states|says it only|is taken back)', line)):
                quote, text = found.group(2), users[int(found.group(1)) - 1].text
                at = text.index(quote)
                before, after = text[:at].rstrip(), text[at + len(quote):]
                assert not before or before[-1] in ".!?\n" or text[at - 1] == "\n", line  # a sentence's start
                assert quote[-1] in ".!?" or not after.strip() or after[0] == "\n", line  # and end
                quoted += 1
    assert implied > 0  # requests about liked topics were there, and are not in the answers
    assert quoted > 20


def _said(kind: str, pkis: list[PKI], wrong: str | None = None, **intent: str) -> UserTurn:
    return UserTurn.model_validate({"session": 0, "turn": 0, "intent": {"kind": kind, "wrong": wrong, **intent},
                                    "text": "x", "clean_text": "x", "noise": {"clean": "x", "noisy": "x"},
                                    "pkis": pkis})


def test_what_a_conversation_states_follows_its_words() -> None:
    """A slip stands until corrected, a vague mention gives way to the value, two allergies are two items,
    a later statement replaces an earlier one, and what a request implies or a message takes back is no item."""
    env = make_env("PersonaGym/Chat-v0")
    world = _World(env.unwrapped.schema, env.unwrapped.knowledge())
    jazz, swing, blues = "music/music_genres/jazz", "music/music_genres/jazz/swing", "music/music_genres/blues_music"
    like = {"kind": "interest", "polarity": 1}
    allergy = {"kind": "attribute", "key": "food_allergies"}
    turns = [
        _said("task_request", [PKI(key=blues, explicit=False, **like)]),
        _said("preference_disclosure", [PKI(key=swing, certainty="mistaken", intended=jazz, **like)]),
        _said("preference_disclosure", [PKI(value=None, certainty="vague", intended="egg", **allergy)]),
        _said("preference_disclosure", [PKI(value="egg", **allergy), PKI(value="peanut", **allergy)]),
        _said("preference_disclosure", [PKI(key="diet", kind="attribute", value="vegetarian"),
                                        PKI(key=blues, certainty="retracted", **like)]),
        _said("preference_disclosure", [PKI(key="diet", kind="attribute", value="vegan")]),
        # "I have some dietary stuff going on" after "I'm vegan" takes nothing back (it erased the diet)
        _said("preference_disclosure", [PKI(key="diet", kind="attribute", value=None, certainty="vague",
                                            intended="vegan")]),
    ]
    before = world.stated([("m", u) for u in turns])
    assert [(p.key, p.value) for p, _ in before.values()] == [
        (swing, None), ("food_allergies", "egg"), ("food_allergies", "peanut"), ("diet", "vegan")]
    after = world.stated([("m", u) for u in [*turns, _said("correction", [PKI(key=jazz, **like)], wrong=swing)]])
    assert [p.key for p, _ in after.values()] == ["food_allergies", "food_allergies", "diet", jazz]


def test_an_interest_the_user_has_gone_off_leaves_the_answer_and_a_vague_one_says_so() -> None:
    """"I've gone off jazz", "more into blues than jazz" and "I'm not into jazz anymore" carry no PKI for jazz
    (it is no interest now, liked or disliked), and the "likes jazz" said before no longer holds: 38 of 140
    such LongTerm conversations kept it.  "I'd skip some cuisines" is marked vague, not a dislike of every
    cuisine."""
    env = make_env("PersonaGym/Chat-v0")
    world = _World(env.unwrapped.schema, env.unwrapped.knowledge())
    jazz, blues, cuisines = "music/music_genres/jazz", "music/music_genres/blues_music", "food_cooking/cuisines"
    like = {"kind": "interest", "polarity": 1}
    liked = _said("preference_disclosure", [PKI(key=jazz, **like)])
    for news in (_said("preference_disclosure", [], reason="gone_off", topic=jazz),
                 _said("preference_disclosure", [PKI(key=blues, **like)], wrong=jazz, reason="moved_on", topic=blues),
                 _said("feedback", [], reason="no_longer_into", topic=jazz)):
        stated = world.stated([("m", u) for u in (liked, news)])
        assert jazz not in {key for _, key, _ in stated}, news.intent
        assert "no longer into jazz" in world.pki_reasoning([liked, news], stated)
    vague = PKI(key=cuisines, kind="interest", polarity=-1, certainty="vague")
    assert world.pki_label(vague) == "dislikes some cuisines" and world.hedged(vague)
    # "I love jazz" said for bebop is said plainly: labelled as said, the truth in `intended` (82 of 114 vague
    # interests were labelled "some ..." from categorical words)
    broader = PKI(key=jazz, kind="interest", polarity=1, certainty="vague", intended=jazz + "/bebop")
    assert world.pki_label(broader) == "likes jazz" and not world.hedged(broader)


def test_a_dislike_the_user_moved_on_from_leaves_what_the_conversation_states() -> None:
    """"I can't stand swing", then "These days it's blues I can't stand, not so much swing.": the dislike of blues
    is stated and the one of swing no longer is (the user dislikes it no more); nor is it a thing they are "no
    longer into", which says they had liked it."""
    env = make_env("PersonaGym/Chat-v0")
    world = _World(env.unwrapped.schema, env.unwrapped.knowledge())
    swing, blues = "music/music_genres/jazz/swing", "music/music_genres/blues_music"
    dislike = {"kind": "interest", "polarity": -1}
    said = [_said("preference_disclosure", [PKI(key=swing, **dislike)]),
            _said("preference_disclosure", [PKI(key=blues, **dislike)], wrong=swing, reason="dislike_moved",
                  topic=blues)]
    stated = world.stated([("m", u) for u in said])
    assert [(p.key, p.polarity) for p, _ in stated.values()] == [(blues, -1)]
    assert "no longer into" not in world.pki_reasoning(said, stated)
    # narrowed to a child ("just bebop, not jazz in general"), jazz is no dislike now; widened to the parent
    # ("all of jazz, not just swing"), swing is disliked still
    jazz, bebop = "music/music_genres/jazz", "music/music_genres/jazz/bebop"
    for reason, old, new, held in (("dislike_narrowed", jazz, bebop, [(bebop, -1)]),
                                   ("dislike_widened", swing, jazz, [(swing, -1), (jazz, -1)])):
        said = [_said("preference_disclosure", [PKI(key=old, **dislike)]),
                _said("preference_disclosure", [PKI(key=new, **dislike)], wrong=old, reason=reason, topic=new)]
        stated = world.stated([("m", u) for u in said])
        assert [(p.key, p.polarity) for p, _ in stated.values()] == held, reason


def test_an_intensity_is_given_only_where_the_words_grade_it() -> None:
    """"I live for jazz" says how much; "I've moved on from swing to jazz" and "Please leave out jazz" are worded
    alike whatever the hidden intensity (the same words carried 0.55 and 0.85 in a LongTerm-v0 pki_sft export)."""
    jazz = "music/music_genres/jazz"
    strong = {"key": jazz, "kind": "interest", "intensity": 0.85}
    graded = _said("preference_disclosure", [PKI(polarity=1, **strong)], level="high")
    assert worded_intensity(graded.pkis[0], graded) == 0.85
    for user in (*(_said("preference_disclosure", [PKI(polarity=1, **strong)], reason=reason, level="high")
                   for reason in sorted(TASTE_NEWS)),
                 _said("feedback", [PKI(polarity=-1, **strong)], reason="disliked_item", level="high"),
                 _said("clarification_answer", [PKI(polarity=1, **strong)], level="high")):
        assert worded_intensity(user.pkis[0], user) is None, user.intent


def test_the_rewritten_query_says_once_what_the_query_says() -> None:
    """"... Quick note: I'm on a budget." was rewritten with "About me: Money is really tight for me right now.":
    what the query states is in its words already (40 of 108 rewrites with an "About me" of a Chat-v0 and a
    LongTerm-v0 tracker run said an item twice); what earlier sessions said is added."""
    env = make_env("PersonaGym/Chat-v0")
    world = _World(env.unwrapped.schema, env.unwrapped.knowledge())
    text = "Plan a cheap weekend. Quick note: I'm on a budget."
    budget = PKI(kind="attribute", key="budget_level", value="tight", evidence="I'm on a budget")
    query = UserTurn.model_validate({
        "session": 0, "turn": 0, "intent": {"kind": "task_request"}, "text": text, "clean_text": text,
        "noise": {"clean": text, "noisy": text}, "pkis": [budget]})
    earlier = PKI(kind="attribute", key="length_pref", value="terse")
    known = world.stated([("session 1", _said("preference_disclosure", [earlier])), ("the query", query)])
    assert world._rewrite(query, known) == f"{text}\n\nAbout me: Keep answers super short."
    assert world._rewrite(query, {("attribute", "budget_level", None): (budget, "the query")}) == text


def test_pki_sft_masks_the_oracles_answers_and_chat_warns(runs: dict[str, Path], tmp_path: Path) -> None:
    export("pki_sft", runs["oracle"], tmp_path / "pki.jsonl")
    for line in (tmp_path / "pki.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert {m["content"] for m in row["conversation"] if m["role"] == "assistant"} <= {MASK}
    with pytest.warns(UserWarning, match="'oracle' policy, which reads the hidden profile"):
        export("chat", runs["oracle"], tmp_path / "chat.jsonl")


def test_ppopt_masks_replies_and_keeps_at_most_four_past_sessions(runs: dict[str, Path], tmp_path: Path) -> None:
    export("ppopt", runs["longterm"], tmp_path / "ppopt.jsonl")  # 2 personas x 2 episodes x 4 sessions
    rows = [json.loads(line) for line in (tmp_path / "ppopt.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 2 * 4
    # each episode is its own timeline (drift, life events): its sessions' history is its own
    assert [len(r["history"]) for r in rows] == [0, 1, 2, 3] * 4
    # a flag is no count (True was read as one past session); numpy's ints are counts
    with pytest.raises(ValueError, match="max_past_sessions must be an int >= 0, got True"):
        export_ppopt(runs["longterm"], tmp_path / "flag.jsonl", max_past_sessions=True)
    assert not (tmp_path / "flag.jsonl").exists()
    export_ppopt(runs["longterm"], tmp_path / "two.jsonl", max_past_sessions=np.int64(2))
    assert [len(json.loads(r)["history"]) for r in (tmp_path / "two.jsonl").read_text().splitlines()][:4] == [
        0, 1, 2, 2]
    export("ppopt", runs["generic"], tmp_path / "single.jsonl")  # single-session episodes: the persona's
    assert [len(json.loads(r)["history"]) for r in (tmp_path / "single.jsonl").read_text().splitlines()][:3] == [
        0, 1, 2]
    for row in rows:
        assistant = [m["content"] for h in row["history"] for m in h["messages"] if m["role"] == "assistant"]
        assert set(assistant) <= {MASK}
        assert MASK in row["prompt"][0]["content"] or not row["history"]
        assert row["query"] in row["prompt"][0]["content"]
        assert re.fullmatch(r"<REASONING>\n.+\n</REASONING>\n<PROMPT>\n.+\n</PROMPT>",
                            row["completion"][0]["content"], re.DOTALL)
    trajectories = {t.trajectory_id: t for t in read_generated(runs["longterm"])}
    truncated = next(t for t in trajectories.values() if t.truncated)  # its last message was never answered
    last_session = _sessions(truncated)[-1][1]
    assert last_session[-1] is truncated.final_user
    messages = _session_messages(last_session, truncated.final_user)
    assert messages[-1] == {"role": "user", "content": truncated.final_user.text}  # no invented reply after it
    assert [m["role"] for m in messages[:2]] == ["user", "assistant"]
    for row in rows:  # the rewritten query puts back what noise changed in the wording, never what it took out
        opening = next(u for u in trajectories[row["trajectory_id"]].user_turns() if u.session == row["session"])
        took_out = bool(LOSSY_NOISE.intersection(opening.noise.strategies))
        assert row["query"] == opening.text
        assert row["rewritten_prompt"].startswith(opening.text if took_out else opening.clean_text)


def test_ppopt_warns_when_no_example_has_a_history(tmp_path: Path) -> None:
    """One one-session episode per persona gives PPOpt examples without a past session: silently, 300 of 300."""
    generate(tmp_path / "single", **{**RUN, "personas": 2, "episodes_per_persona": 1})
    with pytest.warns(UserWarning, match="no example of .* has a past session"):
        assert export("ppopt", tmp_path / "single", tmp_path / "ppopt.jsonl") == 2


def test_pairs_prefer_the_higher_reward_for_the_same_first_message(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="'oracle' policy reads the hidden profile: its replies recommend"):
        export("pairs", [runs["generic"], runs["oracle"]], tmp_path / "pairs.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    oracle = {t.trajectory_id: t for t in read_generated(runs["oracle"])}
    for row in rows:
        assert row["chosen_reward"] > row["rejected_reward"]
        turn = oracle[row["trajectory_id"]].turns[0]
        reward = row["chosen_reward"] if row["chosen_policy"] == "oracle" else row["rejected_reward"]
        # ranked by the reply as exported: without the profile block's score (written to six decimals)
        assert reward == pytest.approx(turn.reward - 0.5 * turn.reward_components["profile"], abs=1e-6)
        assert row["prompt"][0]["content"] == turn.user.text
        answered = row["chosen"] if row["chosen_policy"] == "oracle" else row["rejected"]
        assert turn.profile is not None  # the oracle stated the hidden profile ...
        assert answered[0]["content"] == turn.assistant  # ... and the pair keeps only the answer
        assert "<profile>" not in answered[0]["content"]


def test_pairs_refuse_runs_of_other_episodes(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"not generated from the same episodes \(env_id='PersonaGym/LongTerm-v0' "
                                         r"vs 'PersonaGym/Chat-v0', personas=2 vs 4"):
        export("pairs", [runs["generic"], runs["longterm"]], tmp_path / "pairs.jsonl")
    with pytest.raises(ValueError, match=r"pairs need two or more generated directories"):
        export("pairs", runs["generic"], tmp_path / "pairs.jsonl")
    # another turn limit opens with the same message, but every reply's efficiency term differs (-1/max_turns):
    # pairs of equal replies were ranked by the limit alone
    short = tmp_path / "short"
    generate(short, policy="random", max_turns=3, **RUN)
    with pytest.raises(ValueError, match=r"not generated from the same episodes \(max_turns=3 vs None\); pairs "
                                         r"need the same env_id, personas, episodes_per_persona, seed, max_turns"):
        export("pairs", [runs["generic"], short], tmp_path / "pairs.jsonl")
    # other persona value weights draw other personas from the same seed: refused by the config, not by the
    # first episode's message ("pairs need runs with the same seed and env", which they were)
    uniform = tmp_path / "uniform"
    generate(uniform, policy="random", value_weights="uniform", **RUN)
    with pytest.raises(ValueError, match=r"not generated from the same episodes \(value_weights='uniform' vs "
                                         r"'population'\); pairs need the same .*, value_weights"):
        export("pairs", [runs["generic"], uniform], tmp_path / "pairs.jsonl")
    with pytest.raises(ValueError, match=r"unknown export kind 'sft' \(did you mean 'pki_sft'\?\); "
                                         r"expected one of chat, pki_sft, ppopt, pairs"):
        export("sft", runs["generic"], tmp_path / "x.jsonl")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"no pairs: every episode's first replies scored the same .*nothing written"):
        export("pairs", [runs["generic"], runs["generic"]], tmp_path / "pairs.jsonl")
    assert not (tmp_path / "pairs.jsonl").exists()


def test_chat_by_episode_keeps_the_sessions_an_assistant_remembers(runs: dict[str, Path], tmp_path: Path) -> None:
    """The tracker remembers earlier sessions: split by session, 637 of 3,000 later-session rows recommended what
    the user had said only in a session the row left out.  Splitting warns; ``by="episode"`` keeps them together."""
    tracker = tmp_path / "tracker"
    generate(tracker, env_id="PersonaGym/LongTerm-v0", policy="tracker", **{**RUN, "personas": 2})
    with pytest.warns(UserWarning, match=r"later sessions written without the sessions before them.*--by episode"):
        export("chat", tracker, tmp_path / "sessions.jsonl", by="session")
    export("chat", tracker, tmp_path / "episodes.jsonl", by="episode")
    rows = [json.loads(line) for line in (tmp_path / "episodes.jsonl").read_text().splitlines()]
    # the default keeps the tracker's episodes whole (a memoryless policy's are split, as before)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        export("chat", tracker, tmp_path / "default.jsonl")
    assert (tmp_path / "default.jsonl").read_text() == (tmp_path / "episodes.jsonl").read_text()
    trajectories = list(read_generated(tracker))
    assert [r["trajectory_id"] for r in rows] == [t.trajectory_id for t in trajectories]
    for row, t in zip(rows, trajectories, strict=True):
        assert [m["content"] for m in row["messages"]] == [x for turn in t.turns for x in (turn.user.text,
                                                                                             turn.assistant)]
        # where each session starts, for a trainer to tell (they are weeks apart)
        firsts = [next(turn.user.text for turn in t.turns if turn.user.session == s)
                  for s in dict.fromkeys(turn.user.session for turn in t.turns)]
        assert [row["messages"][i]["content"] for i in row["session_starts"]] == firsts
    assert any(len({turn.user.session for turn in t.turns}) > 1 for t in trajectories)
    with pytest.raises(ValueError, match="by='episode' is the chat export's option"):
        export("pki_sft", tracker, tmp_path / "x.jsonl", by="episode")


def test_the_rewritten_query_keeps_a_second_request() -> None:
    """The de-noised query dropped what noise had added the user asking for ("... PS what should I watch
    tonight?": 12 in 1,000 LongTerm episodes)."""
    env = make_env("PersonaGym/Chat-v0")
    world = _World(env.unwrapped.schema, env.unwrapped.knowledge())
    clean, text = "Recommend some jazz albums.", "Recommend some jazz albums. PS what should I watch tonight?"
    query = UserTurn.model_validate({
        "session": 0, "turn": 0, "intent": {"kind": "task_request"}, "text": text, "clean_text": clean,
        "noise": {"layer": "ambiguity", "strategies": ["multiple_intents"], "clean": clean, "noisy": text},
        "pkis": []})
    assert world._rewrite(query, {}) == text


def test_a_generated_directory_loads_by_its_name(runs: dict[str, Path], tmp_path: Path) -> None:
    """`personagym.data.load_dataset(DIR)` said "Unable to find DIR" of a directory that exists."""
    from personagym.data import load_dataset

    rows = load_dataset(runs["generic"], cache_dir=str(tmp_path / "cache"))
    assert rows["trajectory_id"] == [t.trajectory_id for t in read_generated(runs["generic"])]
    with pytest.raises(ValueError, match="is a directory without a manifest.json"):
        load_dataset(tmp_path)


def test_export_features_without_datasets_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ImportError, match=re.escape("Making an export's datasets Features needs the 'datasets' "
                                                    "package, which is not installed: "
                                                    "pip install 'personagym[datasets]'")):
        export_features("sft")
