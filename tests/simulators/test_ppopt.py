"""Import of PPOpt personas, interaction files and the persona bank."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from personagym.simulators.persona import PersonaSchema
from personagym.simulators.ppopt import PPOptImportError, check_bank, import_files, map_features

REF = Path(__file__).resolve().parents[3] / "shared" / "reference" / "ppopt"
needs_ref = pytest.mark.skipif(not REF.exists(), reason="../shared/reference/ppopt not beside the repo")


def test_every_ppopt_dimension_maps_to_one_attribute(schema: PersonaSchema) -> None:
    assert len(schema.by_ppopt) == 33


@needs_ref
def test_bank_maps_every_dimension_and_value(schema: PersonaSchema) -> None:
    bank = yaml.safe_load((REF / "persona.yaml").read_text())
    assert check_bank(bank, schema) == 33


@needs_ref
def test_sample_personas_import_with_every_dimension_mapped(schema: PersonaSchema) -> None:
    files = sorted(REF.glob("persona_*.json"))
    assert len(files) == 3
    report = import_files(files, schema)
    assert not report.failed
    for path, persona in zip(files, report.personas, strict=True):
        doc = json.loads(path.read_text())
        assert persona.persona_id == doc["persona_id"]
        for dim, value in doc["features"].items():
            assert persona.attributes[schema.by_ppopt[dim].name] == value
        assert persona.source == "ppopt"


@needs_ref
def test_interaction_files_import_their_persona(schema: PersonaSchema) -> None:
    files = sorted(REF.glob("interaction_*.json"))
    report = import_files(files, schema)
    assert not report.failed and len(report.personas) == len(files)


def test_incoherent_real_data_imports_with_a_warning(schema: PersonaSchema, tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"features": {"age_band": "u18", "seniority": "director_plus"}}))
    numeric = tmp_path / "numeric.json"
    numeric.write_text(json.dumps({"features": {"age_band": 2534}}))
    report = import_files([path, numeric], schema)
    assert not report.failed
    assert "age_band=u18 is incompatible with seniority=director_plus" in report.files[0]["warnings"]
    assert report.personas[1].attributes == {"age_band": "2534"}


def test_bad_files_are_reported_and_the_rest_import(schema: PersonaSchema, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"persona_id": "x1", "features": {"tone_pref": "warm"}}))
    misspelt = tmp_path / "dim.json"
    misspelt.write_text(json.dumps({"features": {"tone_prf": "warm"}}))
    badvalue = tmp_path / "value.json"
    badvalue.write_text(json.dumps({"features": {"tone_pref": "wram"}}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"features":\n  {not json')
    empty = tmp_path / "empty.json"
    empty.write_text("\n")
    bank = tmp_path / "bank.yaml"
    bank.write_text("dimensions:\n  - name: [tone\n")
    report = import_files([good, misspelt, badvalue, broken, empty, bank], schema)
    assert [p.persona_id for p in report.personas] == ["x1"]
    reasons = {Path(f["file"]).name: f["reason"] for f in report.failed}
    assert "unknown PPOpt dimension 'tone_prf' (did you mean 'tone_pref'?)" in reasons["dim.json"]
    assert "unknown value 'wram' (did you mean 'warm'?)" in reasons["value.json"]
    assert reasons["broken.json"] == ("not valid JSON at line 2, column 4: "
                                      "Expecting property name enclosed in double quotes")
    assert reasons["empty.json"] == "empty file: expected a JSON object"  # json says "Expecting value: line 1 ..."
    assert reasons["bank.yaml"].startswith("not valid YAML at line 3, column 1: ") and "\n" not in reasons["bank.yaml"]


def test_map_features_rejects_non_objects(schema: PersonaSchema) -> None:
    expected = r'^features: expected an object of dimension -> value, got a list \["tone_pref"\]$'
    with pytest.raises(PPOptImportError, match=expected):
        map_features(["tone_pref"], schema)  # type: ignore[arg-type]


def test_files_of_the_wrong_shape_are_reported_and_the_rest_import(schema: PersonaSchema, tmp_path: Path) -> None:
    files = {
        "good.json": '{"persona_id": "x1", "features": {"tone_pref": "warm"}}',
        "list.json": '[{"persona_id": "a", "features": {"tone_pref": "friendly"}}]',
        "null_features.json": '{"features": null}',
        "list_features.json": '{"persona_features": ["tone_pref"]}',
        "no_features.json": '{"persona_id": "a"}',
        "id.json": '{"persona_id": ["a"], "features": {"tone_pref": "warm"}}',
        "value.json": '{"features": {"tone_pref": ["warm"]}}',
        "scalar_dims.yaml": "dimensions:\n - 3\n",
        "no_name.yaml": "dimensions:\n - values: [warm]\n",
        "number_name.yaml": "dimensions:\n - name: 7\n   values: [warm]\n",
        "string_values.yaml": "dimensions:\n - name: tone_pref\n   values: warm\n",
        "null_values.yaml": "dimensions:\n - name: tone_pref\n   values:\n",
        "list_bank.yaml": "- name: tone_pref\n",
        "empty.yaml": "",
        "strategy.yaml": "layer_weights:\n  surface_noise: 1.0\n",
        "text_dims.yaml": "dimensions: tone_pref\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    report = import_files([tmp_path / name for name in files], schema)
    assert [p.persona_id for p in report.personas] == ["x1"]
    reasons = {Path(f["file"]).name: f["reason"] for f in report.failed}
    assert reasons == {
        "list.json": 'top level: expected an object (a PPOpt persona or interaction), '
                     'got a list [{"persona_id": "a", "features": {"tone_pref": "friendly"}}]',
        "null_features.json": "features: expected an object of dimension -> value, got null",
        "list_features.json": 'persona_features: expected an object of dimension -> value, got a list ["tone_pref"]',
        "no_features.json": "no 'features' or 'persona_features' object",
        "id.json": 'persona_id: expected a string, got a list ["a"]',
        "value.json": "dimension 'tone_pref': attribute 'tone_pref': expected one value, got ['warm']",
        "scalar_dims.yaml": "dimensions[0]: expected an object with a name and values, got a number 3",
        "no_name.yaml": 'dimensions[0]: expected an object with a name and values, got an object {"values": ["warm"]}',
        "number_name.yaml": "dimensions[0].name: expected a string, got a number 7",
        "string_values.yaml": 'dimensions[0].values: expected a list, got a string "warm"',
        "null_values.yaml": "dimensions[0].values: expected a list, got null",
        "list_bank.yaml": 'top level: expected a persona bank object with a \'dimensions\' list, '
                          'got a list [{"name": "tone_pref"}]',
        "empty.yaml": "empty file: expected a YAML persona bank",
        "strategy.yaml": "no 'dimensions' list (a PPOpt persona bank has one); keys are layer_weights",
        "text_dims.yaml": 'dimensions: expected a list, got a string "tone_pref"',
    }


def test_a_persona_id_imported_twice_with_different_attributes_is_a_warning(
        schema: PersonaSchema, tmp_path: Path) -> None:
    warm, brief, same = tmp_path / "warm.json", tmp_path / "brief.json", tmp_path / "same.json"
    warm.write_text(json.dumps({"persona_id": "x1", "features": {"tone_pref": "warm"}}))
    brief.write_text(json.dumps({"persona_id": "x1", "features": {"tone_pref": "neutral"}}))
    same.write_text(warm.read_text())
    report = import_files([warm, brief, same], schema)
    assert not report.failed and [p.persona_id for p in report.personas] == ["x1"] * 3
    warnings = [f["warnings"] for f in report.files]
    assert warnings[0] == warnings[2] == [f"persona_id 'x1' is also imported with other attributes from {brief}"]
    assert warnings[1] == [f"persona_id 'x1' is also imported with other attributes from {warm}, {same}"]


@needs_ref
def test_interaction_personas_get_distinct_ids_that_keep_ppopt_s(schema: PersonaSchema) -> None:
    files = sorted(REF.glob("interaction_*.json"))
    report = import_files(files, schema)
    ids = [p.persona_id for p in report.personas]
    assert len(set(ids)) == 3 and len({p.attributes["domain"] for p in report.personas}) == 3
    for path, pid in zip(files, ids, strict=True):
        assert pid.startswith(json.loads(path.read_text())["persona_id"] + "-p_")
        assert [p.persona_id for p in import_files([path], schema).personas] == [pid]  # not batch-dependent
    assert not any(f["warnings"] for f in report.files)
