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
from typing import Any

import yaml

from personagym.records import AttributeValue, Persona
from personagym.simulators.persona import PersonaSchema, SchemaError
from personagym.simulators.sampler import PersonaSampler
from personagym.suggest import did_you_mean


class PPOptImportError(ValueError):
    """A file cannot be mapped into the schema (the message says which and why)."""


#: What a field must hold, as errors word it -> the Python types `json`/`yaml` give for it.
_KINDS: dict[str, tuple[type, ...]] = {
    "an object": (dict,),
    "a list": (list,),
    "a string": (str,),
    "an integer": (int,),
    "true or false": (bool,),
}


def describe(value: object) -> str:
    """A JSON/YAML value as an error names it: its kind and (shortened) text, e.g. 'a list ["a"]'."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)  # default: YAML can also give dates
    except ValueError:  # a YAML anchor that contains itself
        text = repr(value)
    text = text if len(text) <= 80 else text[:77] + "..."
    if value is None or isinstance(value, bool):
        return text
    kind = ("a number" if isinstance(value, int | float) else "a string" if isinstance(value, str)
            else "a list" if isinstance(value, list) else "an object" if isinstance(value, dict)
            else f"a {type(value).__name__}")
    return f"{kind} {text}"


def field_of(doc: dict[str, Any], key: str, expected: str, path: str = "") -> Any:
    """`doc[key]` when it is `expected` (a `_KINDS` name), None when absent; anything else is an error.

    PPOpt writes each field with one JSON type; a hand-edited or truncated
    file must be reported by field, value and expectation, not crash the
    batch.  An absent field means "not recorded" (null is not absent).
    """
    if key not in doc:
        return None
    value = doc[key]
    types = _KINDS[expected]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise PPOptImportError(f"{path}{key}: expected {expected}, got {describe(value)}")
    return value


def strings_of(doc: dict[str, Any], key: str, path: str = "") -> list[str]:
    """`doc[key]` as a list of strings ([] when absent); a string is refused, not split into letters."""
    items = field_of(doc, key, "a list", path) or []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise PPOptImportError(f"{path}{key}[{i}]: expected a string, got {describe(item)}")
    return items


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


def map_features(features: object, schema: PersonaSchema, key: str = "features") -> dict[str, AttributeValue]:
    """PPOpt `features` (read from field `key`) -> our attributes; errors name the dimension and value."""
    if not isinstance(features, dict):
        raise PPOptImportError(f"{key}: expected an object of dimension -> value, got {describe(features)}")
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


def check_bank(bank: object, schema: PersonaSchema) -> int:
    """Check that every dimension and value of a PPOpt persona bank maps; return the count."""
    if not isinstance(bank, dict):
        raise PPOptImportError(f"top level: expected a persona bank object with a 'dimensions' list, "
                               f"got {describe(bank)}")
    dims = field_of(bank, "dimensions", "a list")
    if dims is None:
        raise PPOptImportError("no 'dimensions' list (a PPOpt persona bank has one); "
                               f"keys are {', '.join(map(str, bank))}")
    for i, dim in enumerate(dims):
        name = field_of(dim, "name", "a string", f"dimensions[{i}].") if isinstance(dim, dict) else None
        values = field_of(dim, "values", "a list", f"dimensions[{i}].") if isinstance(dim, dict) else None
        if name is None or values is None:
            raise PPOptImportError(f"dimensions[{i}]: expected an object with a name and values, got {describe(dim)}")
        attr = _attribute_for(name, schema)
        missing = [str(v) for v in values if str(v) not in attr.values]
        if missing:
            raise PPOptImportError(f"dimension {name!r}: values {missing} have no value in attribute {attr.name!r}")
    return len(dims)


def persona_from_ppopt(doc: dict[str, Any], schema: PersonaSchema, sampler: PersonaSampler) -> Persona:
    """A Persona from a PPOpt persona or interaction document.

    Real data is kept as it is: a combination our coherence rules would never
    sample (a senior who is a tech beginner) is imported, and
    `schema.violations` reports it (`import_files` lists it as a warning).

    A persona file's ``persona_id`` is kept.  An interaction file records the
    persona as that conversation used it: PPOpt gives one persona a different
    ``domain`` per query, under the same id.  Its persona is therefore named
    ``<PPOpt id>-<our content id>``: the PPOpt persona stays recognisable, each
    distinct attribute set gets its own id (a persona bank keyed by id keeps
    them all), and the same file always gets the same id, whatever else is
    imported with it.
    """
    key = "features" if "features" in doc else "persona_features"
    if key not in doc:
        raise PPOptImportError("no 'features' or 'persona_features' object")
    attributes = map_features(doc[key], schema, key)
    persona = sampler.build(attributes, [], source="ppopt")
    pid = field_of(doc, "persona_id", "a string")
    if not pid:
        return persona
    return persona.model_copy(update={"persona_id": pid if key == "features" else f"{pid}-{persona.persona_id}"})


#: A document nested deeper than the parser's recursion allows (no PPOpt file nests more than a few levels).
_TOO_DEEP = "{} nested too deeply to parse; expected a PPOpt document (an object a few levels deep)"


def parse_document(text: str, yaml_bank: bool = False) -> Any:
    """A file's JSON document (YAML with `yaml_bank`); an empty or unparsable file is one line saying so.

    json's own message for an empty file is "Expecting value: line 1 column 1
    (char 0)", and YAML's errors span several lines with a caret drawing.
    """
    if not text.strip():
        raise PPOptImportError("empty file: expected a JSON object" if not yaml_bank else
                               "empty file: expected a YAML persona bank")
    if yaml_bank:
        try:
            return yaml.safe_load(text)
        except RecursionError:
            raise PPOptImportError(_TOO_DEEP.format("YAML")) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise PPOptImportError(f"not valid YAML{where}: {problem}") from None
    try:
        return json.loads(text)
    except RecursionError:  # json's parser recurses per level: '[' * 100_000 stopped the whole import
        raise PPOptImportError(_TOO_DEEP.format("JSON")) from None
    except json.JSONDecodeError as exc:
        lines = exc.msg == "Extra data" and exc.lineno > 1  # one JSON value per line
        hint = f"; a PPOpt file holds one JSON object, and this looks like JSON lines ({_jsonl_kind(text)})" \
            if lines else ""
        raise PPOptImportError(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}") from None


def _jsonl_kind(text: str) -> str:
    """What a JSON-lines file probably is, from its first line: PersonaGym personas or trajectories."""
    try:
        first = json.loads(text.split("\n", 1)[0])
    except json.JSONDecodeError:
        first = None
    if isinstance(first, dict) and "turns" not in first and {"persona_id", "attributes"} <= first.keys():
        return "PersonaGym personas, as `personagym personas sample` writes them: they need no import"
    return "a PersonaGym trajectory file? read it with personagym.data.read_jsonl"


def read_text(path: Path, expected: str = "a PPOpt JSON file") -> str:
    """A PPOpt file's text; a binary file (Parquet, an archive) is one line saying it is no JSON text.

    `expected` ends each error: what the command wanted this path to be.

    A UTF-8 byte-order mark at the start (editors on Windows write one) is dropped, as `read_jsonl` drops it:
    json refused such a file as "Unexpected UTF-8 BOM".
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:  # "[Errno 21] Is a directory: 'x'" said the path twice, in Python's words
        what = "it is a directory" if isinstance(err, IsADirectoryError) else \
            f"cannot read it ({(err.strerror or str(err)).lower()})"
        raise PPOptImportError(f"{what}; expected {expected}") from None
    try:
        return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        kind = " (a Parquet file: read trajectories with personagym.data.read_parquet)" if data[:4] == b"PAR1" else ""
        raise PPOptImportError(f"not UTF-8 text{kind}: expected {expected}") from None


def import_files(paths: list[Path], schema: PersonaSchema) -> ImportReport:
    """Import PPOpt files; a file that cannot be mapped is reported, the others still import."""
    sampler = PersonaSampler(schema)
    report = ImportReport()
    for path in paths:
        try:
            bank = Path(path).suffix in (".yaml", ".yml")
            text = read_text(path, "a persona bank YAML file" if bank else "a PPOpt JSON file")
            if bank:
                n = check_bank(parse_document(text, yaml_bank=True), schema)
                report.files.append({"file": str(path), "status": "bank", "dimensions": n})
                continue
            doc = parse_document(text)
            if not isinstance(doc, dict):
                raise PPOptImportError(f"top level: expected an object (a PPOpt persona or interaction), "
                                       f"got {describe(doc)}")
            persona = persona_from_ppopt(doc, schema, sampler)
        except (OSError, PPOptImportError) as exc:
            report.files.append({"file": str(path), "status": "failed", "reason": str(exc)})
            continue
        report.personas.append(persona)
        report.files.append({"file": str(path), "status": "imported", "persona_id": persona.persona_id,
                             "attributes": len(persona.attributes),
                             "warnings": schema.violations(persona.attributes)})
    _warn_on_shared_ids(report)
    return report


def _warn_on_shared_ids(report: ImportReport) -> None:
    """Warn on each file whose persona_id another file of the batch gives to other attributes.

    Whatever reads a persona bank keys it by id (counts, grouping, seeds), so
    two personas under one id would silently become one; both are kept, as
    PPOpt wrote them, and each file names the others.
    """
    imported = [f for f in report.files if f["status"] == "imported"]
    by_id: dict[str, list[tuple[dict, Persona]]] = {}
    for entry, persona in zip(imported, report.personas, strict=True):
        by_id.setdefault(persona.persona_id, []).append((entry, persona))
    for pid, group in by_id.items():
        for entry, persona in group:
            others = [str(o["file"]) for o, p in group if p.attributes != persona.attributes]
            if others:
                entry["warnings"].append(f"persona_id {pid!r} is also imported with other attributes from "
                                         f"{', '.join(others)}")
