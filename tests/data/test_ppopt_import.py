"""Import of PPOpt interaction files as trajectories: malformed files, noise records, hints."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from personagym.data.ppopt_import import import_conversations
from personagym.simulators.persona import PersonaSchema
from personagym.simulators.ppopt import import_files

REF = Path(__file__).resolve().parents[3] / "shared" / "reference" / "ppopt"
needs_ref = pytest.mark.skipif(not REF.exists(), reason="../shared/reference/ppopt not beside the repo")

#: A small interaction in PPOpt's layout: the first user message unchanged, the second noised.
DOC: dict[str, Any] = {
    "sample_id": "s1",
    "persona_id": "p1",
    "persona_features": {"tone_pref": "warm"},
    "full_conversation": [
        {"role": "user", "content": "A pasta recipe?", "metadata": {"clean_version": "A pasta recipe?"}},
        {"role": "assistant", "content": "Try a Greek pasta salad."},
        {"role": "user", "content": "thx, shorter plz", "metadata": {"clean_version": "Thanks, make it shorter."}},
        {"role": "assistant", "content": "Pasta, feta, olives."},
    ],
    "metadata": {
        "conversation_ended": True,
        "semantic_noise": {"initial_query": {"layer": "skipped", "layer_index": 0, "applied_strategies": []}},
        "noisy_versions": {"followups": [{"turn": 1, "semantic_noise": {
            "layer": "surface_noise", "layer_index": 1,
            "applied_strategies": ["typo_misspelling", "colloquial_speech"]}}]},
        "assistant_model": {"provider": "openai", "model": "gpt-4o-mini"},
    },
}


def variant(edit: str, value: Any) -> dict[str, Any]:
    """DOC with the value at a dotted path (numbers index lists) set to `value`."""
    doc = copy.deepcopy(DOC)
    *parents, last = [int(k) if k.isdigit() else k for k in edit.split(".")]
    node: Any = doc
    for key in parents:
        node = node[key]
    node[last] = value
    return doc


def write(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_the_small_interaction_imports_with_its_noise(tmp_path: Path) -> None:
    result = import_conversations([write(tmp_path, "good.json", DOC)])
    assert not result.failed
    (trajectory,) = result.trajectories
    first, second = (t.user for t in trajectory.turns)
    assert (first.noise.layer, first.noise.strategies, first.noise.written_by) == ("none", [], "template")
    assert second.noise.layer == "surface" and second.noise.strategies == ["typo_misspelling", "colloquial_speech"]
    assert second.noise.written_by == "llm"  # PPOpt's semantic distractor is an LLM
    assert (second.text, second.clean_text, second.rendered_by) == ("thx, shorter plz", "Thanks, make it shorter.",
                                                                     "ppopt")
    assert trajectory.policy == "gpt-4o-mini" and trajectory.terminated
    # no goodbye was said, so none is scored: each answer costs its turn, the last one too
    assert [t.reward_components["efficiency"] for t in trajectory.turns] == [-0.5, -0.5]


@pytest.mark.parametrize(("edit", "value", "reason"), [
    ("metadata", None, "metadata: expected an object, got null"),
    ("metadata", "x", 'metadata: expected an object, got a string "x"'),
    ("metadata.semantic_noise", None, "metadata.semantic_noise: expected an object, got null"),
    ("metadata.semantic_noise.initial_query", [], "metadata.semantic_noise.initial_query: expected an object, "
                                                  "got a list []"),
    ("metadata.noisy_versions", [], "metadata.noisy_versions: expected an object, got a list []"),
    ("metadata.noisy_versions.followups", {}, "metadata.noisy_versions.followups: expected a list, got an object {}"),
    ("metadata.noisy_versions.followups.0", "turn 1", 'metadata.noisy_versions.followups[0]: expected an object, '
                                                      'got a string "turn 1"'),
    ("metadata.noisy_versions.followups.0.turn", "1", 'metadata.noisy_versions.followups[0].turn: expected an '
                                                      'integer, got a string "1"'),
    ("metadata.noisy_versions.followups.0.semantic_noise", None,
     "metadata.noisy_versions.followups[0].semantic_noise: expected an object, got null"),
    ("metadata.conversation_ended", "no", 'metadata.conversation_ended: expected true or false, got a string "no"'),
    ("metadata.assistant_model", "gpt", 'metadata.assistant_model: expected an object, got a string "gpt"'),
    ("metadata.assistant_model.model", 4, "metadata.assistant_model.model: expected a string, got a number 4"),
    ("full_conversation.2.metadata", "x", 'full_conversation[2].metadata: expected an object, got a string "x"'),
    ("full_conversation.2.metadata.clean_version", 3,
     "full_conversation[2].metadata.clean_version: expected a string, got a number 3"),
    ("sample_id", ["s"], 'sample_id: expected a string, got a list ["s"]'),
    ("persona_features", None, "persona_features: expected an object of dimension -> value, got null"),
])
def test_a_malformed_file_is_reported_and_the_rest_import(tmp_path: Path, edit: str, value: Any, reason: str) -> None:
    files = [write(tmp_path, "bad.json", variant(edit, value)), write(tmp_path, "good.json", DOC)]
    result = import_conversations(files)
    assert [f["reason"] for f in result.failed] == [reason]
    assert [t.trajectory_id for t in result.trajectories] == ["s1"]


def test_a_file_whose_top_level_is_a_list_is_reported(tmp_path: Path) -> None:
    result = import_conversations([write(tmp_path, "list.json", [DOC])])
    assert result.failed[0]["reason"].startswith("top level: expected an object (a PPOpt interaction), got a list [")


def test_applied_strategies_must_be_a_list_of_names(tmp_path: Path) -> None:
    where = "metadata.noisy_versions.followups.0.semantic_noise.applied_strategies"
    text = write(tmp_path, "text.json", variant(where, "abc"))
    number = write(tmp_path, "number.json", variant(where, ["typo_misspelling", 2]))
    result = import_conversations([text, number])
    path = "metadata.noisy_versions.followups[0].semantic_noise.applied_strategies"
    assert [f["reason"] for f in result.failed] == [
        f'{path}: expected a list, got a string "abc"',
        f"{path}[1]: expected a string, got a number 2",
    ]


def test_an_unknown_noise_layer_is_reported_with_the_known_names(tmp_path: Path) -> None:
    where = "metadata.semantic_noise.initial_query"
    result = import_conversations([write(tmp_path, "layer.json", variant(f"{where}.layer", "surface_nosie"))])
    (reason,) = [f["reason"] for f in result.failed]
    assert reason.startswith(f"{where}.layer: unknown noise layer 'surface_nosie' (did you mean 'surface_noise'?); "
                             "expected one of ")
    assert all(name in reason for name in ("surface_noise", "incomplete_info", "semantic_ambiguity", "skipped"))


def test_layer_spellings_ppopt_writes(tmp_path: Path) -> None:
    where = "metadata.noisy_versions.followups.0.semantic_noise"
    error = variant(f"{where}.layer", "error")  # PPOpt's distractor failed and left the text as it was
    by_index = variant(where, {"layer_index": 2, "applied_strategies": ["missing_slots"]})
    bad_index = variant(where, {"layer_index": 7})
    neither = variant(where, {"applied_strategies": []})
    result = import_conversations([write(tmp_path, n, {**d, "sample_id": n}) for n, d in [
        ("error.json", error), ("index.json", by_index), ("bad.json", bad_index), ("neither.json", neither)]])
    assert [t.turns[1].user.noise.layer for t in result.trajectories] == ["none", "incomplete"]
    expected = ("expected a layer (one of none, skipped, error, surface_noise, surface, incomplete_info, incomplete, "
                "semantic_ambiguity, ambiguity) or a layer_index (one of 0, 1, 2, 3)")
    assert [f["reason"] for f in result.failed] == [
        f"metadata.noisy_versions.followups[0].semantic_noise: no 'layer' and layer_index 7; {expected}",
        f"metadata.noisy_versions.followups[0].semantic_noise: no 'layer' and no layer_index; {expected}"]


def test_a_persona_bank_yaml_gets_a_hint(tmp_path: Path) -> None:
    bank = tmp_path / "persona.yaml"
    bank.write_text("dimensions:\n  - name: tone_pref\n    values: [warm]\n")
    other = tmp_path / "other.yaml"
    other.write_text("layer_weights:\n  surface_noise: 1.0\n")
    reasons = [f["reason"] for f in import_conversations([bank, other]).failed]
    assert reasons[0] == ("not a JSON interaction file "
                          "(a PPOpt persona bank: check it with `personagym personas import`)")
    assert reasons[1] == "not valid JSON at line 1, column 1: Expecting value"


def test_a_trajectory_file_given_for_import_is_named_for_what_it_is(tmp_path: Path) -> None:
    """A PersonaGym shard passed by mistake: "'utf-8' codec can't decode byte 0xa0" and "Extra data" said neither
    what the file looked like nor what was expected."""
    from personagym.data import write_jsonl, write_parquet
    from personagym.rollout import rollout

    trajectories = list(rollout("PersonaGym/Chat-v0", "generic", episodes=2, seed=0))
    write_jsonl(trajectories, tmp_path / "shard.jsonl")
    write_parquet(trajectories, tmp_path / "shard.parquet")
    reasons = [f["reason"] for f in import_conversations([tmp_path / "shard.parquet", tmp_path / "shard.jsonl"]).failed]
    assert reasons[0] == ("not UTF-8 text (a Parquet file: read trajectories with personagym.data.read_parquet): "
                          "expected a PPOpt JSON file")
    assert reasons[1].startswith("not valid JSON at line 2, column 1: Extra data; a PPOpt file holds one JSON "
                                 "object, and this looks like JSON lines (a PersonaGym trajectory file?")


def test_a_path_that_cannot_be_read_is_reported_in_words(tmp_path: Path) -> None:
    """A directory or a missing file: "[Errno 21] Is a directory: 'x'" was Python's wording, path included."""
    reasons = [f["reason"] for f in import_conversations([tmp_path, tmp_path / "missing.json"]).failed]
    assert reasons == ["it is a directory; expected a PPOpt JSON file",
                       "cannot read it (no such file or directory); expected a PPOpt JSON file"]


def test_a_missing_persona_bank_is_named_as_one(tmp_path: Path, schema: PersonaSchema) -> None:
    """`personas import` reads persona bank YAML too: a missing bank.yaml was "expected a PPOpt JSON file"."""
    reasons = [f["reason"] for f in import_files([tmp_path / "bank.yaml", tmp_path / "p.json"], schema).failed]
    assert reasons == ["cannot read it (no such file or directory); expected a persona bank YAML file",
                       "cannot read it (no such file or directory); expected a PPOpt JSON file"]


def test_personas_of_personagym_are_named_as_such(tmp_path: Path, schema: PersonaSchema) -> None:
    """`personas sample`'s output given to `personas import` was called "a PersonaGym trajectory file?"."""
    from personagym.simulators.sampler import PersonaSampler

    sampler = PersonaSampler(schema)
    (tmp_path / "p.jsonl").write_text("".join(sampler.sample(i).model_dump_json() + "\n" for i in range(2)))
    (reason,) = [f["reason"] for f in import_files([tmp_path / "p.jsonl"], schema).failed]
    assert reason.endswith("looks like JSON lines (PersonaGym personas, as `personagym personas sample` writes "
                           "them: they need no import)"), reason


@needs_ref
def test_reference_personas_match_those_of_personas_import(schema: PersonaSchema) -> None:
    files = sorted(REF.glob("interaction_*.json"))
    trajectories = import_conversations(files, schema).trajectories
    assert [t.persona.persona_id for t in trajectories] == [p.persona_id for p in import_files(files, schema).personas]


def test_a_deeply_nested_file_is_reported_and_the_others_still_import(tmp_path: Path, schema: PersonaSchema) -> None:
    """json's parser recursed once per level: '[' * 100_000 raised RecursionError and stopped the whole import,
    so the good files beside it were not written either.  The same goes for a persona bank's YAML."""
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    good = write(tmp_path, "good.json", DOC)
    result = import_conversations([deep, good])
    assert [f["file"] for f in result.failed] == [str(deep)]
    assert "JSON nested too deeply to parse" in result.failed[0]["reason"]
    assert len(result.trajectories) == 1
    bank = tmp_path / "deep.yaml"
    bank.write_text("- " * 3000)
    report = import_files([bank], schema)
    assert "YAML nested too deeply to parse" in report.failed[0]["reason"]


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    """A file saved by an editor that writes a UTF-8 BOM imports as the file without it (json refused it)."""
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(DOC).encode())
    result = import_conversations([path])
    assert not result.failed and result.trajectories[0].trajectory_id == "s1"
