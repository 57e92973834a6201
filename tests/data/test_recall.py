"""The recall export: questions on what the user said, each with exactly one right option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personagym.data.exports import MASK, _messages, _World, export, export_features
from personagym.data.generate import generate, read_generated
from personagym.data.recall import IMPLIED_BY, LETTERS, OVERLAPPING, _unrelated, export_recall, recall_rows
from personagym.records import PKI, UserTurn

RUN = {"personas": 12, "episodes_per_persona": 1, "seed": 5, "fmt": "jsonl"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Multi-session episodes of a policy that draws statements out, and one-session oracle episodes."""
    root = tmp_path_factory.mktemp("recall")
    generate(root / "longterm", env_id="PersonaGym/LongTerm-v0", policy="tracker", **RUN)
    generate(root / "oracle", policy="oracle", **RUN)
    return {"longterm": root / "longterm", "oracle": root / "oracle"}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_question_has_one_right_option_stated_by_the_user(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "recall.jsonl"
    written = export("recall", runs["longterm"], out)
    rows = _rows(out)
    assert written == len(rows) > 30
    assert {"attribute", "likes", "no_longer"} <= {r["kind"] for r in rows}
    assert any(r["sessions_after"] > 0 for r in rows)  # asked sessions after it was said
    world = _World.of(runs["longterm"])
    episodes = {t.trajectory_id: t for t in read_generated(runs["longterm"])}
    for r in rows:
        t = episodes[r["trajectory_id"]]
        options = r["options"]
        assert 2 <= len(options) <= 4 and len(set(options)) == len(options), r
        assert options[r["answer"]] == r["answer_text"] and r["completion"][0]["content"] == LETTERS[r["answer"]]
        said = r["conversation"][r["evidence_message"]]
        assert said["role"] == "user" and r["evidence"].lower() in said["content"].lower(), r
        assert r["messages_after"] == len(r["conversation"]) - 1 - r["evidence_message"]
        assert r["question"] in r["prompt"][0]["content"]
        assert all(line in r["prompt"][0]["content"] for line in said["content"].splitlines())
        wrong = set(options) - {r["answer_text"]}
        if r["kind"] in ("likes", "dislikes"):
            # the answer is the user's last plain word on it; no wrong option is liked (disliked) by their words or
            # by the hidden profile now, nor above or below the answer ("bebop" is no wrong answer for jazz)
            polarity = 1 if r["kind"] == "likes" else -1
            stated = world.stated([(i, u) for i, u in enumerate(t.user_turns())])
            assert stated[("interest", r["key"], None)][0].polarity == polarity
            paths = world.schema.taxonomy.paths
            named = {p.key for u in t.user_turns() for p in u.pkis} | {u.intent.topic for u in t.user_turns()} | \
                {u.intent.wrong for u in t.user_turns()}
            held = named | {i.node for i in t.persona.interests} | set(t.initial_state.interests) | \
                set(t.final_state.interests)
            for name in wrong:  # one the user never named is in no line of descent with anything they hold
                assert any(
                    r["key"] not in paths[n] and n not in paths[r["key"]]
                    and getattr(t.final_state.interests.get(n), "polarity", 0) != polarity
                    and getattr(stated.get(("interest", n, None), (None,))[0], "polarity", 0) != polarity
                    and (n in named or (held.isdisjoint(paths[n]) and not any(n in paths.get(h, ()) for h in held)
                                        and not any(world.particular_words[n] & world.particular_words.get(h, set())
                                                    for h in held)))
                    for n in paths if world.name(n) == name), (r, name)
        elif r["kind"] == "attribute":
            truth = t.final_state.attributes[r["key"]]
            true_now = {world._sentence(r["key"], v) for v in (truth if isinstance(truth, list) else [truth])}
            assert wrong.isdisjoint(true_now), r


def test_a_conversation_alternates_and_keeps_each_goodbye_with_the_next_session(runs: dict[str, Path],
                                                                               tmp_path: Path) -> None:
    """A goodbye that closed a session was followed by the next session's first message: two user messages in a
    row (39 in 20 LongTerm-v0 episodes), which a chat template refuses.  The goodbye, ``--- session N ---`` and the
    message are now one user message, as in `turn_pairs` prompts; a conversation of one session is as it was."""
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "long.jsonl"
    export_recall(runs["longterm"], out)
    rows = _rows(out)
    episodes = {t.trajectory_id: t for t in read_generated(runs["longterm"])}
    goodbyes = 0
    for r in rows:
        t, conversation = episodes[r["trajectory_id"]], r["conversation"]
        roles = [m["role"] for m in conversation]
        assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"] * (len(roles) % 2), r["question_id"]
        opens = [k for k, turn in enumerate(t.turns) if k == 0 or turn.user.session != t.turns[k - 1].user.session]
        assert len(opens) > 1 and r["session_starts"] == [2 * k for k in opens]
        for k in opens:
            closing = t.turns[k - 1].closing if k else None  # None where the session was cut at its last turn
            head = "" if closing is None else f"{closing.text}\n"
            assert conversation[2 * k]["content"] == f"{head}--- session {t.turns[k].user.session + 1} ---\n" \
                                                     f"{t.turns[k].user.text}"
            goodbyes += closing is not None
        said = [line for m in conversation if m["role"] == "user" for line in m["content"].splitlines()
                if not line.startswith("--- session ")]
        assert said == [line for u in t.user_turns() for line in u.text.splitlines()]  # no word lost
    assert goodbyes > 0
    loaded = datasets.load_dataset("json", data_files=str(out), features=export_features("recall"), split="train",
                                   cache_dir=str(tmp_path / "cache"))
    assert loaded.num_rows == len(rows) and loaded[-1]["conversation"] == rows[-1]["conversation"]
    export_recall(runs["oracle"], out)  # one session: every message as it was said, no marker
    oracle = {t.trajectory_id: t for t in read_generated(runs["oracle"])}
    for r in _rows(out):
        assert r["conversation"] == _messages(oracle[r["trajectory_id"]], mask=True) and r["session_starts"] == [0]


def test_an_update_asks_for_the_value_now_and_offers_the_old_one(runs: dict[str, Path]) -> None:
    """A diet told as pescatarian, then as vegan: "now" is vegan, pescatarian a distractor, the row `updated`; a
    like the user has since gone off is asked as "no longer into", and not as a like."""
    t = next(read_generated(runs["oracle"]))  # the frame of an episode, its user messages replaced
    world = _World.of(runs["oracle"])
    jazz = "music/music_genres/jazz"
    said = [
        _user(0, [PKI(kind="attribute", key="diet", value="pescatarian", evidence="fish but no meat for me"),
                  PKI(kind="interest", key=jazz, evidence="jazz")], "preference_disclosure"),
        _user(1, [PKI(kind="attribute", key="diet", value="vegan", evidence="fully vegan now")],
              "preference_disclosure"),
        _user(2, [], "feedback", reason="gone_off", topic=jazz),
    ]
    turns = [t.turns[0].model_copy(update={"user": u, "closing": None}) for u in said]
    final = t.final_state.model_copy(update={"attributes": {**t.final_state.attributes, "diet": "vegan"}})
    episode = t.model_copy(update={"turns": turns, "final_user": None, "final_state": final})
    rows = {r["key"]: r for r in recall_rows(world, episode)}
    diet = rows["diet"]
    assert diet["answer_text"] == "I'm vegan." and "I'm pescatarian." in diet["options"]
    assert "I'm vegetarian." not in diet["options"]  # true of a vegan too
    assert diet["updated"] and diet["holds"] and diet["evidence"] == "fully vegan now"
    assert rows[jazz]["kind"] == "no_longer" and rows[jazz]["answer_text"] == "jazz"
    assert [r["kind"] for r in rows.values()].count("likes") == 0
    # a diet that changed without the user saying so: the answer is still what they said, and the truth no option
    silent = final.model_copy(update={"attributes": {**final.attributes, "diet": "omnivore"}})
    diet = next(r for r in recall_rows(world, episode.model_copy(update={"final_state": silent}), options=8)
                if r["key"] == "diet")
    assert diet["answer_text"] == "I'm vegan." and not diet["holds"]
    assert "I eat pretty much everything." not in diet["options"]
    # an option is not the user's own words where the schema has others: "I'm vegan" said, "I eat a fully
    # plant-based diet." asked (matching words answered 86% of attribute questions, 73% now)
    said = _user(1, [PKI(kind="attribute", key="diet", value="vegan", evidence="i'm vegan")], "preference_disclosure")
    plain = episode.model_copy(update={"turns": [turns[0].model_copy(update={"user": said})]})
    diet = next(r for r in recall_rows(world, plain) if r["key"] == "diet")
    assert diet["answer_text"] == "I eat a fully plant-based diet."


def test_an_export_is_the_same_every_time_and_masks_the_oracle(runs: dict[str, Path], tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    export_recall(runs["oracle"], first)
    export_recall(runs["oracle"], second)
    assert first.read_bytes() == second.read_bytes()
    rows = _rows(first)
    assert rows and all(m["content"] == MASK for r in rows for m in r["conversation"] if m["role"] == "assistant")
    answers = [r["answer"] for r in _rows(tmp_path / "a.jsonl")]
    assert len(set(answers)) > 1  # the right option is not always in the same place
    with pytest.raises(ValueError, match=r"options must be an int in \[2, 8\], got 1"):
        export_recall(runs["oracle"], tmp_path / "c.jsonl", options=1)
    assert not (tmp_path / "c.jsonl").exists()


def _user(turn: int, pkis: list[PKI], kind: str, strategies: tuple[str, ...] = (), **intent: str) -> UserTurn:
    return UserTurn.model_validate({"session": 0, "turn": turn, "intent": {"kind": kind, **intent},
                                    "text": " ".join(p.evidence for p in pkis) or "I've gone off jazz",
                                    "clean_text": "x", "pkis": pkis,
                                    "noise": {"clean": "x", "noisy": "x", "strategies": list(strategies)}})


def test_the_baseline_script_prints_both_floors(runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from tests.learn.test_scripts import load_script, run_main

    out = tmp_path / "recall.jsonl"
    rows = export_recall(runs["longterm"], out)
    run_main("recall_baseline", [str(out)], monkeypatch)
    floors = json.loads(capsys.readouterr().out)
    expected = sum(1 / len(r["options"]) for r in _rows(out)) / rows
    assert floors["all"]["questions"] == rows and floors["all"]["chance"] == round(expected, 3)
    assert floors["all"]["chance"] < floors["all"]["overlap"] < 1  # words help, and do not answer everything
    # a session's marker holds no words of the user's: "1" of "--- session 1 ---" does not pick "Formula 1"
    row = {"options": ["Formula 1", "Ocean sailing trips"], "conversation": [
        {"role": "user", "content": "--- session 1 ---\nAny tips for the ocean?"}]}
    assert load_script("recall_baseline").overlap_choice(row) == 1
    (tmp_path / "bad.jsonl").write_text('{"options": []}\n')
    for path, message in ((tmp_path / "none.jsonl", "is no file"), (tmp_path / "bad.jsonl", "line 1 is no recall")):
        with pytest.raises(SystemExit):
            run_main("recall_baseline", [str(path)], monkeypatch)
        assert message in capsys.readouterr().err


def _episode(runs: dict[str, Path], said: list[UserTurn], **attributes: str):
    t = next(read_generated(runs["oracle"]))
    turns = [t.turns[0].model_copy(update={"user": u, "closing": None}) for u in said]
    final = t.final_state.model_copy(update={"attributes": {**t.final_state.attributes, **attributes}})
    return t.model_copy(update={"turns": turns, "final_user": None, "final_state": final})


def test_no_wrong_option_is_true_of_someone_the_answer_is_true_of(runs: dict[str, Path]) -> None:
    """"I prefer brief answers." is no wrong answer for a user who said "one or two lines max", nor "I have
    limited mobility." for a wheelchair user: values whose sentences overlap are never each other's distractors."""
    world = _World.of(runs["oracle"])
    said = [_user(0, [PKI(kind="attribute", key="length_pref", value="terse", evidence="One or two lines max please"),
                      PKI(kind="attribute", key="mobility", value="wheelchair_user", evidence="I use a wheelchair")],
                  "preference_disclosure")]
    episode = _episode(runs, said, length_pref="terse", mobility="wheelchair_user")
    rows = {r["key"]: r for r in recall_rows(world, episode, options=8)}
    length = rows["length_pref"]
    assert length["answer_text"] == "Keep answers super short."
    assert {"I prefer brief answers.", "Keep it short."}.isdisjoint(length["options"]), length["options"]
    assert "I like detailed answers." in length["options"] or "Give me the details." in length["options"]
    assert "mobility" not in rows  # "I have limited mobility." was its only other option: no question


def test_a_narrower_taste_is_no_interest_moved_on_from(runs: dict[str, Path]) -> None:
    """"These days I'm more into AirPods than wearables": AirPods are wearables, so the user is still into
    wearables; no "no longer into" question on them, and they are no wrong answer to a question on likes."""
    world = _World.of(runs["oracle"])
    wearables = "technology_computing/consumer_tech/wearables"
    airpods = f"{wearables}/airpods"
    assert wearables in world.schema.taxonomy.paths[airpods]
    said = [_user(0, [PKI(kind="interest", key=airpods, evidence="AirPods")], "preference_disclosure",
                  reason="moved_on", topic=airpods, wrong=wearables)]
    rows = list(recall_rows(world, _episode(runs, said), options=8))
    assert all(r["key"] != wearables for r in rows), rows
    assert all("wearables" not in r["options"] for r in rows)


def test_no_wrong_option_is_liked_through_an_interest_above_it(runs: dict[str, Path]) -> None:
    """"I used to like mobile devices, but not anymore", then (a year on, unsaid) into consumer tech: mobile
    devices are liked again by the hidden profile, so they are no wrong answer to "which do they like?" (7 of
    3,712 recall questions offered such a one), and "no longer into them" no longer holds."""
    from personagym.records import Interest

    world = _World.of(runs["oracle"])
    tech = "technology_computing/consumer_tech"
    mobile, games = f"{tech}/mobile_devices", "hobbies_crafts/board_card_games/classic_board_games"
    said = [_user(0, [PKI(kind="interest", key=games, evidence="classic board games")], "preference_disclosure"),
            _user(1, [], "feedback", reason="no_longer_into", topic=mobile)]
    episode = _episode(runs, said)
    final = episode.final_state.model_copy(update={"interests": {
        n: Interest(node=n, polarity=1, intensity=0.8) for n in (games, tech)}})
    rows = {r["key"]: r for r in recall_rows(world, episode.model_copy(update={"final_state": final}), options=8)}
    assert "mobile devices" not in rows[games]["options"], rows[games]["options"]
    assert rows[mobile]["kind"] == "no_longer" and not rows[mobile]["holds"]


def test_no_question_on_what_a_change_the_user_told_of_has_ended(runs: dict[str, Path]) -> None:
    """"I'm a manager at work", then "News on my side: I just retired.": retiring unset the user's seniority, so
    "I manage a team." is no right answer to what is true of them now (asked of 1 in 3,712 questions, with the
    other ranks as wrong answers); untold, the retirement ends nothing the conversation says."""
    from personagym.records import PreferenceEvent

    world = _World.of(runs["oracle"])
    said = [_user(0, [PKI(kind="attribute", key="seniority", value="manager", evidence="I'm a manager at work")],
                  "preference_disclosure", attribute="seniority", value="manager"),
            _user(1, [PKI(kind="attribute", key="employment_status", value="retired", evidence="I just retired")],
                  "task_request", reason="life_event", attribute="employment_status", value="retired")]
    changes = [PreferenceEvent(kind="life_event", session=0, turn=0, day=7.0, time_label="next_week",
                               target=target, before=before, after=after, cause=cause)
               for target, before, after, cause in (("employment_status", "employed_full_time", "retired", "retired"),
                                                    ("seniority", "manager", None, "no longer so: retired"))]
    episode = _episode(runs, said).model_copy(update={"session_events": changes})
    assert "seniority" not in {r["key"] for r in recall_rows(world, episode, options=8)}
    untold = _episode(runs, said[:1], seniority="manager").model_copy(update={"session_events": changes})
    assert "seniority" in {r["key"] for r in recall_rows(world, untold, options=8)}


def test_overlapping_and_implied_values_are_values_of_their_attributes(runs: dict[str, Path]) -> None:
    schema = _World.of(runs["oracle"]).schema
    for key, groups in OVERLAPPING.items():
        for group in groups:
            assert group <= set(schema.attributes[key].values), (key, group - set(schema.attributes[key].values))
    for sources, implied in IMPLIED_BY:
        for key, value in sources | implied:
            assert value in schema.attributes[key].values, (key, value)


def test_no_wrong_option_is_true_through_another_attribute(runs: dict[str, Path]) -> None:
    """"I eat gluten-free." offered as wrong to a celiac user, "I like things concise." to one who said "one or
    two lines max" (27 of 3,759 attribute questions): a value another attribute's value implies is no wrong
    answer, whether the user said the source or holds it."""
    world = _World.of(runs["oracle"])
    said = [_user(0, [PKI(kind="attribute", key="tone_pref", value="warm", evidence="a friendly tone works"),
                      PKI(kind="attribute", key="length_pref", value="terse", evidence="one or two lines max"),
                      PKI(kind="attribute", key="diet", value="omnivore", evidence="i eat anything")],
                  "preference_disclosure")]
    episode = _episode(runs, said, tone_pref="warm", length_pref="terse", diet="omnivore", food_allergies=["gluten"])
    rows = {r["key"]: r for r in recall_rows(world, episode, options=8)}
    assert "I like things concise." not in rows["tone_pref"]["options"]
    assert not {"I eat gluten-free.", "I have to avoid gluten."} & set(rows["diet"]["options"])
    assert len(rows["diet"]["options"]) > 3  # the other diets are still wrong answers


def test_no_question_on_words_that_contradict_themselves_or_a_like_dropped_later(runs: dict[str, Path]) -> None:
    """"one or two lines max please, ... but walk me through every little step" (self-contradiction noise) asks
    nothing about length (12 of 3,759 attribute questions did); "likes React.js" is not asked once the user has
    since gone off JavaScript, which is asked as "no longer into" instead."""
    world = _World.of(runs["oracle"])
    js = "technology_computing/programming/javascript"
    said = [_user(0, [PKI(kind="attribute", key="length_pref", value="terse", evidence="one or two lines max")],
                  "preference_disclosure", strategies=("self_contradiction",)),
            _user(1, [PKI(kind="interest", key=f"{js}/react_js", evidence="React.js")], "preference_disclosure"),
            _user(2, [], "feedback", reason="no_longer_into", topic=js)]
    rows = {r["key"]: r for r in recall_rows(world, _episode(runs, said, length_pref="terse"), options=8)}
    assert "length_pref" not in rows and f"{js}/react_js" not in rows
    assert rows[js]["kind"] == "no_longer"


def test_no_wrong_option_is_near_a_held_interest_in_meaning(runs: dict[str, Path]) -> None:
    """Pad Thai is on another branch of the taxonomy than Thai cuisine, but no wrong answer for a user into Thai
    cuisine; Italian cuisine is one."""
    world = _World.of(runs["longterm"])
    thai = "food_cooking/cuisines/thai_cuisine"
    pool = _unrelated(world, thai, {thai})
    assert "Italian cuisine" in pool and "pad Thai" not in pool
    martini = "drinks_beverages/cocktails_spirits/classic_cocktails/martini"
    assert "espresso martini" not in _unrelated(world, martini, {martini})


def test_the_answer_is_no_odd_one_out_among_the_schema_phrases(runs: dict[str, Path]) -> None:
    """The answer is put in other words than the user's (the schema's second phrase when they said the first):
    its wrong options come in phrases of the same rank, else the one second phrase among first ones would give it
    away to anyone who knows the schema."""
    world = _World.of(runs["longterm"])
    rank = {(a.name, world._sentence(a.name, v, start=i)): i
            for a in world.schema.attributes.values() for v, phrases in a.phrases.items() for i in range(len(phrases))}
    rows = [r for r in _rows_of(runs["longterm"]) if r["kind"] == "attribute"]
    odd = [r for r in rows if [rank[r["key"], o] for o in r["options"]].count(rank[r["key"], r["answer_text"]]) == 1]
    assert len(rows) > 30 and any(rank[r["key"], r["answer_text"]] > 0 for r in rows)
    assert len(odd) <= 0.05 * len(rows), odd[:3]


def _rows_of(run: Path) -> list[dict]:
    world = _World.of(run)
    return [row for t in read_generated(run) for row in recall_rows(world, t)]
