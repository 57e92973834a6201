"""Trajectory files: round trips, the published schema, typed `datasets` loading, atomic writes."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from personagym.data import (
    JSON_SCHEMA_PATH,
    export_json_schema,
    from_row,
    load_dataset,
    read_jsonl,
    read_parquet,
    record_features,
    trajectory_features,
    trajectory_json_schema,
    write_jsonl,
    write_parquet,
)
from personagym.records import (
    PKI,
    SERIALIZED,
    Intent,
    Interest,
    MentionFeature,
    NoiseRecord,
    Persona,
    PreferenceEvent,
    PreferenceState,
    ResponseFeatures,
    Trajectory,
    Turn,
    UserTurn,
)

Writer = Callable[..., int]
Reader = Callable[[Path], Iterator[Trajectory]]
FORMATS = {"jsonl": (write_jsonl, read_jsonl), "parquet": (write_parquet, read_parquet)}


# --------------------------------------------------------------------------- hand-built records


def _user_turn(session: int, turn: int, kind: str = "preference_disclosure") -> UserTurn:
    clean = "I'm vegetarian, and I love jazz."
    return UserTurn(
        session=session,
        turn=turn,
        intent=Intent(kind=kind, domain="music", topic="music/jazz", attribute="diet", value="vegetarian",
                      polarity=1, level="high", slots={"cuisine": "thai", "budget": "low"}),
        text="im vegetarian, n i love jazz",
        clean_text=clean,
        noise=NoiseRecord(layer="surface", strategies=["typo", "abbreviation"], clean=clean,
                          noisy="im vegetarian, n i love jazz"),
        pkis=[
            PKI(kind="attribute", key="diet", value="vegetarian", intensity=None, evidence="vegetarian",
                start=4, end=14),
            PKI(kind="interest", key="music/jazz", polarity=1, intensity=0.8, certainty="vague",
                explicit=False, intended="music/bebop"),
            PKI(kind="interest", key="music/pop", value=None, intensity=None, certainty="retracted"),
        ],
    )


def _state(day: float, satisfaction: float) -> PreferenceState:
    return PreferenceState(
        persona_id="p-001",
        session=int(day // 7),
        turn=2,
        day=day,
        interests={
            "music/jazz": Interest(node="music/jazz", polarity=1, intensity=0.8, source="music_taste"),
            "sports/boxing": Interest(node="sports/boxing", polarity=-1, intensity=1),
        },
        attributes={"diet": ["vegetarian", "nut_free"], "formality": "casual"},
        forbidden_tags=["meat", "nuts"],
        satisfaction=satisfaction,
        restate_level=1,
        exposure={"music/jazz": 0.0, "movies/horror": 1},
    )


def _events() -> list[PreferenceEvent]:
    values: list[tuple[Any, Any]] = [
        (None, "vegetarian"),
        (["jazz", "blues"], {"node": "music/jazz", "intensity": 0.5, "polarity": 1}),
        ("satisfied", 0.25),
    ]
    return [
        PreferenceEvent(kind="drift", session=1, turn=0, day=7.0 + i, time_label="next_week",
                        target="music/jazz", before=before, after=after, cause="random walk")
        for i, (before, after) in enumerate(values)
    ]


def _turn(step: int, reward: float, components: dict[str, float], events: list[PreferenceEvent]) -> Turn:
    return Turn(
        step=step,
        session=0,
        turn=step,
        user=_user_turn(0, step),
        assistant="Try Kind of Blue 🎷 — and a **Thai** green curry without fish sauce.",
        profile="<profile>diet: vegetarian</profile>" if step else None,
        features=ResponseFeatures(
            mentions=[MentionFeature(node="music/jazz", stance="recommend"),
                      MentionFeature(node="food/thai")],
            word_count=14, formality=1, has_list=True, emoji_count=1, markdown=True,
            reading_level=0.0, questions=0, asked_about=["diet"], violated_tags=[],
        ),
        reward=reward,
        reward_components=components,
        events=events,
    )


def _trajectories() -> list[Trajectory]:
    """A rich episode whose floats are whole numbers, one with a judge term, and a bare one."""
    persona = Persona(
        persona_id="p-001",
        attributes={"diet": ["vegetarian", "nut_free"], "age_group": "25-34"},
        interests=[Interest(node="music/jazz", polarity=1, intensity=0.8, source="music_taste"),
                   Interest(node="sports/boxing", polarity=-1, intensity=1.0)],
        summary="A vegetarian in their late twenties who loves jazz.",
        seed=7,
    )
    whole = dict(preference=1, constraint=0, style=1.0, profile=0.0, efficiency=-1)
    rich = Trajectory(
        trajectory_id="t-000",
        env_id="PersonaGym/Chat-v0",
        policy="generic",
        seed=0,
        persona=persona,
        initial_state=_state(0.0, 0.7),
        final_state=_state(14.0, 1),
        turns=[_turn(0, 0.0, whole, []), _turn(1, 1, {**whole, "style": 0.5}, _events())],
        final_user=_user_turn(2, 0, kind="goodbye"),
        session_events=_events()[:2],
        total_reward=1,
        terminated=True,
        truncated=False,
        config={"max_turns": 8, "noise": {"layer": "surface", "p": 0.25}, "weights": [1, 2.0]},
        versions={"personagym": "0.1.0", "taxonomy": "2024-06"},
    )
    judged = rich.model_copy(update={
        "trajectory_id": "t-001",
        "turns": [_turn(0, 0.625, {**whole, "judge": 0.75}, [])],
        "total_reward": 0.625,
    })
    bare = Trajectory(
        trajectory_id="t-002", env_id="PersonaGym/Chat-v0", persona=persona,
        initial_state=_state(0.0, 0.7), final_state=_state(0.0, 0.7), turns=[],
        total_reward=0.0, terminated=False, truncated=True,
    )
    return [rich, judged, bare]


@pytest.fixture
def trajectories() -> list[Trajectory]:
    return _trajectories()


def _write(fmt: str, trajectories: list[Trajectory], path: Path) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    assert FORMATS[fmt][0](trajectories, path) == len(trajectories)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_gives_equal_trajectories(fmt: str, trajectories: list[Trajectory],
                                             tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / f"t.{fmt}"  # missing folders are made
    _write(fmt, trajectories, path)
    back = list(FORMATS[fmt][1](path))
    assert back == trajectories
    rich = back[0]
    assert rich.persona.attributes == {"diet": ["vegetarian", "nut_free"], "age_group": "25-34"}
    assert [e.before for e in rich.turns[1].events] == [None, ["jazz", "blues"], "satisfied"]
    assert rich.turns[0].reward_components == {"preference": 1.0, "constraint": 0.0, "style": 1.0,
                                               "profile": 0.0, "efficiency": -1.0}
    assert back[1].turns[0].reward_components["judge"] == 0.75


def test_empty_input_writes_readable_empty_files(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    for fmt, (write, read) in FORMATS.items():
        path = tmp_path / f"empty.{fmt}"
        assert write([], path) == 0
        assert list(read(path)) == []


def test_real_rollouts_round_trip(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    from personagym.rollout import rollout

    episodes = list(rollout("PersonaGym/Chat-v0", "generic", episodes=3, seed=0))
    for fmt, (write, read) in FORMATS.items():
        path = tmp_path / f"rollouts.{fmt}"
        write(episodes, path)
        assert list(read(path)) == episodes


# --------------------------------------------------------------------------- datasets


@pytest.mark.parametrize("fmt", FORMATS)
def test_datasets_loads_with_the_declared_types(fmt: str, trajectories: list[Trajectory],
                                                tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    path = tmp_path / f"t.{fmt}"
    _write(fmt, trajectories, path)
    ds = load_dataset(path, cache_dir=str(tmp_path / "cache"))  # format from the suffix
    features = trajectory_features()
    assert ds.features == features
    assert ds.data.schema.remove_metadata() == features.arrow_schema.remove_metadata()
    assert len(ds) == len(trajectories)
    first = ds[0]
    assert first["total_reward"] == 1.0 and isinstance(first["total_reward"], float)
    assert first["turns"][0]["reward_components"]["judge"] is None
    assert first["initial_state"]["exposure"] == [{"node": "music/jazz", "value": 0.0},
                                                  {"node": "movies/horror", "value": 1.0}]
    assert [from_row(row) for row in ds] == trajectories


def test_load_dataset_reads_a_parquet_suffix_in_any_case(trajectories: list[Trajectory], tmp_path: Path) -> None:
    """`rollout --out t.PARQUET` writes Parquet; it was read back as JSON lines."""
    pytest.importorskip("datasets")
    path = tmp_path / "t.PARQUET"
    _write("parquet", trajectories, path)
    ds = load_dataset(path, cache_dir=str(tmp_path / "cache"))
    assert [from_row(row) for row in ds] == trajectories


def test_whole_numbers_in_float_fields_stay_float64(trajectories: list[Trajectory], tmp_path: Path) -> None:
    """Without explicit Features, a first chunk with `1` would make the column int64."""
    pytest.importorskip("datasets")
    row = trajectories[0].model_dump(mode="json")
    row["total_reward"] = 1
    row["turns"][0]["reward"] = 0
    row["initial_state"]["exposure"][1]["value"] = 1
    path = tmp_path / "ints.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    ds = load_dataset([path], cache_dir=str(tmp_path / "cache"))
    assert ds.data.schema.field("total_reward").type == "double"
    assert ds.features["turns"].feature["reward"].dtype == "float64"
    assert from_row(ds[0]) == trajectories[0]


def test_load_dataset_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown format 'csv'; expected 'jsonl' or 'parquet'"):
        load_dataset(tmp_path / "t.csv", format="csv")  # type: ignore[arg-type]


def test_open_mappings_fail_loudly_with_the_field_path() -> None:
    pytest.importorskip("datasets")

    class Step(BaseModel):
        meta: dict[str, Any]

    class Episode(BaseModel):
        steps: list[Step]

    class Mixed(BaseModel):
        value: int | str | None

    with pytest.raises(TypeError, match=r"steps\[\]\.meta is a mapping with open keys"):
        record_features(Episode)
    with pytest.raises(TypeError, match=r"value is a union of 2 types"):
        record_features(Mixed)


# --------------------------------------------------------------------------- JSON schema


def test_every_jsonl_line_validates_against_the_shipped_schema(trajectories: list[Trajectory],
                                                               tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(JSON_SCHEMA_PATH.read_text(encoding="utf-8")))
    path = tmp_path / "t.jsonl"
    write_jsonl(trajectories, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(trajectories)
    for line in lines:
        validator.validate(json.loads(line))
    broken = json.loads(lines[0])
    broken["turns"][0]["reward"] = "high"
    assert not validator.is_valid(broken)


def test_shipped_schema_is_what_the_code_generates(tmp_path: Path) -> None:
    generated = export_json_schema(tmp_path / "schema.json")
    assert generated.read_bytes() == JSON_SCHEMA_PATH.read_bytes()
    assert json.loads(JSON_SCHEMA_PATH.read_text(encoding="utf-8")) == trajectory_json_schema()


# --------------------------------------------------------------------------- failures


def _raising_midway(trajectories: list[Trajectory]) -> Iterator[Trajectory]:
    yield trajectories[0]
    raise RuntimeError("generator died")


@pytest.mark.parametrize("fmt", FORMATS)
def test_interrupted_write_leaves_existing_file_untouched(fmt: str, trajectories: list[Trajectory],
                                                          tmp_path: Path) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"t.{fmt}"
    path.write_bytes(b"precious bytes\n")
    with pytest.raises(RuntimeError, match="generator died"):
        FORMATS[fmt][0](_raising_midway(trajectories), path)
    assert path.read_bytes() == b"precious bytes\n"
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_directory_is_refused_by_name_before_anything_is_written(fmt: str, trajectories: list[Trajectory],
                                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                    ) -> None:
    """`write_jsonl(ts, "out")` failed at the rename, naming its temporary file ('.out.<hex>.tmp' -> 'out'), and
    `write_jsonl(ts, ".")` with "PosixPath('.') has an empty name"."""
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    for path in ("out", tmp_path / "out", ".", ""):
        message = f"is a directory; expected a file path: {str(path)!r}"
        with pytest.raises(IsADirectoryError, match=re.escape(message)):
            FORMATS[fmt][0](trajectories[:1], path)
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and not any((tmp_path / "out").iterdir())


def test_writing_to_a_symbolic_link_writes_the_file_it_points_to(trajectories: list[Trajectory],
                                                                  tmp_path: Path) -> None:
    # `--out link.jsonl` replaced the link with a plain file and left the file it pointed to as it was
    target, link = tmp_path / "data" / "t.jsonl", tmp_path / "link.jsonl"
    target.parent.mkdir()
    target.write_text("old\n")
    link.symlink_to(target)
    write_jsonl(trajectories[:2], link)
    assert link.is_symlink() and [t.trajectory_id for t in read_jsonl(target)] == [
        t.trajectory_id for t in trajectories[:2]]
    assert sorted(p.name for p in target.parent.iterdir()) == ["t.jsonl"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_reward_component_is_refused_not_dropped(fmt: str, trajectories: list[Trajectory],
                                                         tmp_path: Path) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    bad = trajectories[0].model_copy(deep=True)
    bad.turns[1].reward_components["novelty"] = 0.5
    path = tmp_path / f"t.{fmt}"
    with pytest.raises(ValueError, match=r"'t-000' turns\[1\]\.reward_components has unknown.*'novelty'"):
        FORMATS[fmt][0]([trajectories[1], bad], path)
    assert list(tmp_path.iterdir()) == []


def test_writers_refuse_non_trajectories(trajectories: list[Trajectory], tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"item 1 is a dict, expected a Trajectory"):
        write_jsonl([trajectories[0], trajectories[0].model_dump()], tmp_path / "t.jsonl")  # type: ignore[list-item]


def test_a_byte_order_mark_is_skipped(trajectories: list[Trajectory], tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_jsonl(trajectories, path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as "UTF-8 with BOM" editors save it
    assert list(read_jsonl(path)) == trajectories


def test_corrupted_line_names_file_and_line(trajectories: list[Trajectory], tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_jsonl(trajectories, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][: len(lines[1]) // 2]  # a write cut short
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reader = read_jsonl(path)
    assert next(reader) == trajectories[0]
    with pytest.raises(ValueError, match=re.escape(f"{path}:2: not a valid trajectory")):
        next(reader)


def test_missing_pyarrow_says_how_to_install(monkeypatch: pytest.MonkeyPatch, trajectories: list[Trajectory],
                                             tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=re.escape("Parquet needs the 'pyarrow' package, which is not installed: "
                                                    "pip install 'personagym[parquet]'")):
        write_parquet(trajectories, tmp_path / "t.parquet")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- reading what others made


def test_pydantic_round_trips_of_a_trajectory(trajectories: list[Trajectory]) -> None:
    """JSON text needs no context; Python data in the serialised form says so or is refused with the fix."""
    for trajectory in trajectories:
        assert Trajectory.model_validate_json(trajectory.model_dump_json()) == trajectory
        assert Trajectory.model_validate(trajectory.model_dump(mode="json"), context=SERIALIZED) == trajectory
    with pytest.raises(ValidationError, match=r"config\n.*JSON-encoded text, the serialised form: .*"
                                              r"context=personagym\.records\.SERIALIZED"):
        Trajectory.model_validate(trajectories[0].model_dump(mode="json"))


def _damaged_line(tmp_path: Path, trajectories: list[Trajectory], damage: Callable[[dict[str, Any]], None]) -> Path:
    row = trajectories[0].model_dump(mode="json")
    damage(row)
    path = tmp_path / "damaged.jsonl"
    path.write_text(trajectories[1].model_dump_json() + "\n" + json.dumps(row) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("damage", "message"), [
    (lambda row: row["turns"][0].update(reward="high"),
     r"turns\[0\]\.reward: Input should be a valid number, unable to parse string as a number \(got 'high'\)"),
    (lambda row: row.update(schema_version="9.9"),
     r"schema_version: schema version '9\.9' cannot be read by this personagym, which reads 1\.0"),
    (lambda row: row["persona"]["attributes"][0].update(values=[], multi=False),
     r"persona\.attributes: single-valued attribute 'diet' should have exactly one value, got \[\]"),
    (lambda row: row["initial_state"]["exposure"][0].pop("value"),
     r"initial_state\.exposure: entry 0 should be an object with a string 'node', 'value', got \{'node': "),
    (lambda row: row["turns"][1]["user"]["intent"].update(slots=[{"name": "budget"}]),
     r"turns\[1\]\.user\.intent\.slots: entry 0 should be an object with a string 'name', 'value'"),
    (lambda row: [row.pop(k) for k in ("trajectory_id", "env_id", "persona", "turns")],
     r"trajectory_id: Field required; env_id: Field required; persona: Field required; and 1 more problem$"),
])
def test_a_bad_line_is_one_line_naming_file_line_field_value_and_expectation(
        trajectories: list[Trajectory], tmp_path: Path, damage: Callable[[dict[str, Any]], None],
        message: str) -> None:
    path = _damaged_line(tmp_path, trajectories, damage)
    reader = read_jsonl(path)
    assert next(reader) == trajectories[1]
    with pytest.raises(ValueError) as caught:
        next(reader)
    text = str(caught.value)
    assert "\n" not in text
    assert re.match(re.escape(f"{path}:2: not a valid trajectory: ") + message, text), text


def test_a_parquet_file_of_something_else_is_refused_by_its_columns(tmp_path: Path) -> None:
    """Even with no rows: it used to read as an empty file of trajectories."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"trajectory_id": pa.array([], pa.string()), "score": pa.array([], pa.float64())}), path)
    with pytest.raises(ValueError, match=re.escape(
            f"{path}: not a trajectory file: unexpected column(s) ['score'] and missing column(s) ['env_id', ")):
        list(read_parquet(path))


def test_a_file_that_is_not_parquet_is_named(trajectories: list[Trajectory], tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    write_parquet(trajectories, path)
    path.write_bytes(path.read_bytes()[:-100])  # cut short
    with pytest.raises(ValueError, match=re.escape(f"{path}: not a readable Parquet file: ")):
        list(read_parquet(path))


@pytest.mark.parametrize("fmt", FORMATS)
def test_non_finite_numbers_are_refused_and_the_old_file_kept(fmt: str, trajectories: list[Trajectory],
                                                              tmp_path: Path) -> None:
    """NaN set after validation used to be written (as null in JSON lines) and the file could not be read back."""
    path = tmp_path / f"t.{fmt}"
    _write(fmt, trajectories, path)
    before = path.read_bytes()
    bad = trajectories[0].model_copy(deep=True)
    bad.turns[1].reward_components["style"] = float("inf")  # the first of two, in the order of the fields
    bad.final_user.intent.slots["budget"] = "NaN"  # text is not a number
    bad.session_events[0].day = float("nan")
    with pytest.raises(ValueError, match=re.escape("trajectory 't-000' turns[1].reward_components.style is inf; ")):
        FORMATS[fmt][0]([trajectories[1], bad], path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_text_mentioning_nan_is_written(trajectories: list[Trajectory], tmp_path: Path) -> None:
    text = trajectories[0].model_copy(update={"trajectory_id": "NaN-Infinity"})
    write_jsonl([text], tmp_path / "t.jsonl")
    assert list(read_jsonl(tmp_path / "t.jsonl")) == [text]


def test_load_dataset_names_the_file_it_cannot_load(trajectories: list[Trajectory], tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), other)
    with pytest.raises(ValueError, match=re.escape(f"{other}: not a trajectory file: unexpected column(s) ['a']")):
        load_dataset(other, cache_dir=str(tmp_path / "cache"))
    cut = tmp_path / "cut.jsonl"
    cut.write_text(trajectories[0].model_dump_json()[:5000] + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"datasets could not load {cut} as trajectory jsonl files: ")
                       + r"JSON parse error.*; personagym\.data\.read_jsonl\(path\) names the file and line"):
        load_dataset(cut, cache_dir=str(tmp_path / "cache"))


def test_missing_datasets_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ImportError, match=re.escape("Loading trajectories with datasets (or making their Features) "
                                                    "needs the 'datasets' package, which is not installed: "
                                                    "pip install 'personagym[datasets]'")):
        trajectory_features()
