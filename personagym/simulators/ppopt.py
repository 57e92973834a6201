"""Import of PPOpt (PersonaGym/PersonaAtlas seed system) personas into our schema.

PPOpt describes a persona by up to 33 categorical dimensions (`persona.yaml`,
its persona bank).  Each dimension maps to exactly one attribute of our schema
(the attribute's ``ppopt`` field) whose domain holds every PPOpt value.  Three
kinds of file are read: persona files (``features``), interaction files
(``persona_features``) and the persona bank itself, which yields no persona
but is checked dimension by dimension and value by value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from personagym.records import AttributeValue, Persona
from personagym.simulators.persona import PersonaSchema, SchemaError
from personagym.simulators.sampler import PersonaSampler
from personagym.suggest import did_you_mean


class PPOptImportError(ValueError):
    """A file cannot be mapped into the schema (the message says which and why)."""


@dataclass
class ImportReport:
    """Outcome of importing several files: personas, per-file results, failures."""

    personas: list[Persona] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> list[dict]:
        """Files that could not be mapped, each with its reason."""
        return [f for f in self.files if f["status"] == "failed"]


def _attribute_for(dim: object, schema: PersonaSchema):
    attr = schema.by_ppopt.get(dim)  # type: ignore[arg-type]
    if attr is None:
        raise PPOptImportError(
            f"unknown PPOpt dimension {dim!r}{did_you_mean(str(dim), list(schema.by_ppopt))}"
        )
    return attr


def map_features(features: dict, schema: PersonaSchema) -> dict[str, AttributeValue]:
    """PPOpt `features` -> our attributes; errors name the dimension and value."""
    if not isinstance(features, dict):
        raise PPOptImportError(
            f"features must be an object of dimension -> value, got {type(features).__name__}"
        )
    out: dict[str, AttributeValue] = {}
    for dim, value in features.items():
        attr = _attribute_for(dim, schema)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # PPOpt's YAML writes age bands as numbers (2534)
        try:
            attr.check(value)
        except SchemaError as exc:
            raise PPOptImportError(f"dimension {dim!r}: {exc}") from None
        out[attr.name] = value
    return out


def check_bank(bank: dict, schema: PersonaSchema) -> int:
    """Check that every dimension and value of a PPOpt persona bank maps; return the count."""
    dims = bank.get("dimensions") if isinstance(bank, dict) else None
    if not isinstance(dims, list):
        raise PPOptImportError("persona bank has no 'dimensions' list")
    for dim in dims:
        attr = _attribute_for(dim.get("name"), schema)
        missing = [str(v) for v in dim.get("values", []) if str(v) not in attr.values]
        if missing:
            raise PPOptImportError(
                f"dimension {dim.get('name')!r}: values {missing} have no value in attribute {attr.name!r}"
            )
    return len(dims)


def persona_from_ppopt(doc: dict, schema: PersonaSchema, sampler: PersonaSampler) -> Persona:
    """A Persona from a PPOpt persona or interaction document.

    Real data is kept as it is: a combination our coherence rules would never
    sample (a senior who is a tech beginner) is imported, and
    `schema.violations` reports it (`import_files` lists it as a warning).
    """
    features = doc.get("features", doc.get("persona_features"))
    if features is None:
        raise PPOptImportError("no 'features' or 'persona_features' object")
    attributes = map_features(features, schema)
    persona = sampler.build(attributes, [], source="ppopt")
    pid = doc.get("persona_id")
    return persona.model_copy(update={"persona_id": str(pid)}) if pid else persona


def import_files(paths: list[Path], schema: PersonaSchema) -> ImportReport:
    """Import PPOpt files; a file that cannot be mapped is reported, the others still import."""
    sampler = PersonaSampler(schema)
    report = ImportReport()
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
            if Path(path).suffix in (".yaml", ".yml"):
                n = check_bank(yaml.safe_load(text), schema)
                report.files.append({"file": str(path), "status": "bank", "dimensions": n})
                continue
            doc = json.loads(text)
            persona = persona_from_ppopt(doc, schema, sampler)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError, PPOptImportError) as exc:
            report.files.append({"file": str(path), "status": "failed", "reason": str(exc)})
            continue
        report.personas.append(persona)
        report.files.append({"file": str(path), "status": "imported", "persona_id": persona.persona_id,
                             "attributes": len(persona.attributes),
                             "warnings": schema.violations(persona.attributes)})
    return report
