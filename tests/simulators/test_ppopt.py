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
    broken.write_text("{not json")
    report = import_files([good, misspelt, badvalue, broken], schema)
    assert [p.persona_id for p in report.personas] == ["x1"]
    reasons = {Path(f["file"]).name: f["reason"] for f in report.failed}
    assert "unknown PPOpt dimension 'tone_prf' (did you mean 'tone_pref'?)" in reasons["dim.json"]
    assert "unknown value 'wram' (did you mean 'warm'?)" in reasons["value.json"]
    assert "broken.json" in reasons


def test_map_features_rejects_non_objects(schema: PersonaSchema) -> None:
    with pytest.raises(PPOptImportError, match="features must be an object"):
        map_features(["tone_pref"], schema)  # type: ignore[arg-type]
