"""Trajectory files: JSON lines, Parquet and Hugging Face `datasets`, with one fixed schema.

A serialised trajectory (`Trajectory.model_dump(mode="json")`) has the same shape
on every line, so it is described once, by the pydantic JSON schema in
serialisation mode.  From that schema this module derives the published JSON
schema file, the `datasets.Features` and, from the Features, the Arrow schema of
the Parquet files: one source, so the three cannot disagree.

Writers are atomic (temporary file next to the target, fsync, `os.replace`): a
crash or a bad record midway leaves any existing file untouched.  pyarrow and
datasets are optional and imported only by the functions that need them.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from personagym.checks import require_module
from personagym.envs.rewards import COMPONENTS
from personagym.records import SERIALIZED, Trajectory
from personagym.suggest import describe_validation

if TYPE_CHECKING:
    import datasets

PathLike = str | os.PathLike[str]

#: The published JSON schema of one trajectory line, shipped with the package.
JSON_SCHEMA_PATH = Path(__file__).with_name("trajectory.schema.json")

#: Columns of `Turn.reward_components`: the env's components plus "judge", reserved
#: for an optional LLM-judge term, so adding it later does not change the schema.
REWARD_COMPONENTS: tuple[str, ...] = tuple(dict.fromkeys((*COMPONENTS, "judge")))

#: Trajectories per Parquet row group: bounds the memory a write or read holds.
ROW_GROUP_SIZE = 256
#: What needs pyarrow and datasets, as their missing-package errors say it (`require_module`).
_PARQUET = "Parquet"
_DATASETS = "Loading trajectories with datasets (or making their Features)"

_SCALARS = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool"}


# --------------------------------------------------------------------------- JSON lines


def write_jsonl(trajectories: Iterable[Trajectory], path: PathLike) -> int:
    """Write one `model_dump_json()` per line, atomically; return how many were written.

    A trajectory holding NaN or an infinity (set after validation) is refused,
    since its line could not be read back.
    """
    return write_lines((_finite_line(trajectory) for trajectory in _checked(trajectories)), path)


def _finite_line(trajectory: Trajectory) -> str:
    """The trajectory's JSON line, after checking it holds no NaN or infinity (records write them bare)."""
    line = trajectory.model_dump_json()
    if "NaN" in line or "Infinity" in line:  # rare (words in the text can match): look closer only then
        _refuse_non_finite(json.loads(line))
    return line


def _refuse_non_finite(row: Any, where: str = "") -> None:
    """Raise ValueError naming the trajectory and field of the first NaN or infinite number in a row, if any."""
    if isinstance(row, float) and not math.isfinite(row):
        raise ValueError(f"{where} is {row}; trajectory files and the trajectory schema hold finite numbers only")
    items = row.items() if isinstance(row, dict) else enumerate(row) if isinstance(row, list) else ()
    for key, item in items:
        try:
            _refuse_non_finite(item, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}".lstrip("."))
        except ValueError as err:
            if where:
                raise
            raise ValueError(f"trajectory {row.get('trajectory_id')!r} {err}") from None


def write_lines(lines: Iterable[str], path: PathLike) -> int:
    """Write each string as one line of `path`, atomically: all of them or, on any error, nothing.

    Returns the number of lines; the file that was at `path` stays as it was
    until the new one is whole on disk.
    """
    count = 0
    with atomic_path(path) as tmp, open(tmp, "x", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line)
            f.write("\n")
            count += 1
    return count


def read_jsonl(path: PathLike) -> Iterator[Trajectory]:
    """Yield the trajectories of a JSON-lines file; a bad line raises ValueError naming file, line and field.

    A UTF-8 byte-order mark at the start (editors on Windows write one) is skipped.
    """
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, start=1):
            if lineno == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line.strip():
                continue
            try:
                yield Trajectory.model_validate_json(line, context=SERIALIZED)
            except ValidationError as err:
                problems = describe_validation(err, limit=3)
                raise ValueError(f"{os.fspath(path)}:{lineno}: not a valid trajectory: {problems}") from err


# --------------------------------------------------------------------------- Parquet


def write_parquet(trajectories: Iterable[Trajectory], path: PathLike) -> int:
    """Write the serialised rows as Parquet with the schema of `trajectory_features()`, atomically.

    Streams in row groups of `ROW_GROUP_SIZE`, so a large run never sits in memory whole.
    """
    pa = require_module("pyarrow", "parquet", _PARQUET)
    pq = require_module("pyarrow.parquet", "parquet", _PARQUET)
    schema = trajectory_features().arrow_schema
    rows = (t.model_dump(mode="json") for t in _checked(trajectories))
    count = 0
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        while batch := list(islice(rows, ROW_GROUP_SIZE)):
            table = pa.Table.from_pylist(batch, schema=schema)
            if any(_has_non_finite(column) for column in table.columns):  # a row group at a time, in Arrow
                for row in batch:
                    _refuse_non_finite(row)
            writer.write_table(table)
            count += len(batch)
    return count


def _has_non_finite(array: Any) -> bool:
    """Whether a (nested) Arrow array holds a NaN or infinite float: a trajectory with one could not be read back."""
    pa = require_module("pyarrow", "parquet", _PARQUET)
    pc = require_module("pyarrow.compute", "parquet", _PARQUET)
    if isinstance(array, pa.ChunkedArray):
        return any(_has_non_finite(chunk) for chunk in array.chunks)
    if pa.types.is_floating(array.type):
        return pc.any(pc.invert(pc.is_finite(array))).as_py() is True
    if pa.types.is_struct(array.type) or pa.types.is_list(array.type):
        children = array.flatten()
        return any(_has_non_finite(child) for child in (children if isinstance(children, list) else [children]))
    return False


def read_parquet(path: PathLike) -> Iterator[Trajectory]:
    """Yield the trajectories of a Parquet file; a bad file or row raises ValueError naming file, row and field.

    The file's columns are checked before any row is read, so a Parquet file
    of something else is refused as such, even when it has no rows.
    """
    pq = require_module("pyarrow.parquet", "parquet", _PARQUET)
    try:
        file = pq.ParquetFile(path)
    except ValueError as err:  # pyarrow's ArrowInvalid: not Parquet, or cut short
        raise ValueError(f"{os.fspath(path)}: not a readable Parquet file: {err}") from err
    check_columns(path, file.schema_arrow.names)
    index = 0
    for batch in file.iter_batches(batch_size=ROW_GROUP_SIZE):
        for row in batch.to_pylist():
            try:
                yield from_row(row)
            except ValidationError as err:
                problems = describe_validation(err, limit=3)
                raise ValueError(f"{os.fspath(path)}: row {index}: not a valid trajectory: {problems}") from err
            index += 1


def check_columns(path: PathLike, columns: Sequence[str]) -> None:
    """Refuse a table whose top-level columns are not a trajectory's: naming the file, the odd and missing ones."""
    fields = Trajectory.model_fields
    unexpected = [c for c in columns if c not in fields]
    missing = [name for name, field in fields.items() if field.is_required() and name not in columns]
    if unexpected or missing:
        problems = [f"{label} {names}" for label, names in
                    (("unexpected column(s)", unexpected), ("missing column(s)", missing)) if names]
        raise ValueError(f"{os.fspath(path)}: not a trajectory file: {' and '.join(problems)}; expected the "
                         "columns of personagym.data.trajectory_features()")


def from_row(row: Mapping[str, Any]) -> Trajectory:
    """Rebuild a trajectory from a row as Arrow or `datasets` return it.

    Reward components are a struct with one column per known component, so a
    component a turn did not have comes back as None; it is dropped, not invented.
    """
    data = dict(row)
    if isinstance(data.get("turns"), list):
        data["turns"] = [_present_components(turn) for turn in data["turns"]]
    return Trajectory.model_validate(data, context=SERIALIZED)


def _present_components(turn: Any) -> Any:
    components = turn.get("reward_components") if isinstance(turn, dict) else None
    if not isinstance(components, dict):
        return turn
    return {**turn, "reward_components": {k: v for k, v in components.items() if v is not None}}


# --------------------------------------------------------------------------- datasets


def load_dataset(
    path_or_paths: PathLike | Sequence[PathLike],
    format: Literal["jsonl", "parquet"] | None = None,
    **kwargs: Any,
) -> datasets.Dataset:
    """Load trajectory files with `datasets`, typed by `trajectory_features()`, never by inference.

    A directory made by `personagym generate` stands for its shards (`shard_paths`: each checked against its
    sha256 first).  The format is taken from the file suffix (``.parquet`` in any case, else JSON lines) unless
    given.  Extra keyword arguments (``cache_dir``, ``num_proc``, ...) go to
    `datasets.load_dataset`.
    """
    builders = {"jsonl": "json", "parquet": "parquet"}
    single = isinstance(path_or_paths, str | os.PathLike)
    if single and os.path.isdir(path_or_paths):
        from personagym.data.generate import MANIFEST, shard_paths

        if not os.path.isfile(os.path.join(path_or_paths, MANIFEST)):
            raise ValueError(f"{os.fspath(path_or_paths)} is a directory without a {MANIFEST}: pass trajectory "
                             "files, or a directory made by `personagym generate`")
        path_or_paths, single = [os.fspath(p) for p in shard_paths(path_or_paths)], False
    files = [os.fspath(path_or_paths)] if single else [os.fspath(p) for p in path_or_paths]
    if format is None:
        format = "parquet" if files and all(f.lower().endswith(".parquet") for f in files) else "jsonl"
    if format not in builders:
        raise ValueError(f"unknown format {format!r}; expected 'jsonl' or 'parquet'")
    ds = require_module("datasets", "datasets", _DATASETS)
    if format == "parquet":  # a footer read each: a file of something else is named before datasets casts it
        pq = require_module("pyarrow.parquet", "parquet", _PARQUET)
        for file in filter(os.path.isfile, files):  # globs and remote paths are left to datasets
            try:
                columns = pq.read_schema(file).names
            except ValueError as err:  # pyarrow's ArrowInvalid: not Parquet, or cut short
                raise ValueError(f"{file}: not a readable Parquet file: {err}") from err
            check_columns(file, columns)
    try:
        return ds.load_dataset(
            builders[format], data_files=files, features=trajectory_features(), split="train", **kwargs
        )
    except ds.exceptions.DatasetGenerationError as err:
        reason = str(err.__cause__ or err).strip().splitlines()[0]
        raise ValueError(
            f"datasets could not load {', '.join(files[:3])}{' ...' if len(files) > 3 else ''} as trajectory "
            f"{format} files: {reason}; personagym.data.read_{format}(path) names the file and line or row at fault"
        ) from err


def trajectory_features() -> datasets.Features:
    """The `datasets.Features` of a serialised trajectory row (see `record_features`)."""
    return record_features(Trajectory)


def record_features(model: type[BaseModel]) -> datasets.Features:
    """Derive `datasets.Features` from a record's JSON schema in serialisation mode.

    Objects become dicts of features, arrays `datasets.List`, nullable values their
    non-null type, enums their base type.  Mappings with open keys cannot be Arrow
    columns; those the records have are described by `_open_mapping_features`, and
    any other construct raises `TypeError` naming the field, so a change to the
    records cannot silently change a column type.
    """
    ds = require_module("datasets", "datasets", _DATASETS)
    schema = model.model_json_schema(mode="serialization")
    builder = _FeatureBuilder(ds, schema.get("$defs", {}), _open_mapping_features(ds))
    return ds.Features(builder.fields(schema, ""))


def _open_mapping_features(ds: ModuleType) -> dict[str, Any]:
    """Fixed shapes of the record fields whose JSON schema is an open mapping, by `Model.field`.

    Their serialisers (in `personagym.records`) emit these exact entries;
    reward components become one float column per component.
    """
    string, number = ds.Value("string"), ds.Value("float64")
    attributes = ds.List({"name": string, "values": ds.List(string), "multi": ds.Value("bool")})
    return {
        "Persona.attributes": attributes,
        "PreferenceState.attributes": attributes,
        "PreferenceState.exposure": ds.List({"node": string, "value": number}),
        "Intent.slots": ds.List({"name": string, "value": string}),
        "Turn.reward_components": dict.fromkeys(REWARD_COMPONENTS, number),
    }


class _FeatureBuilder:
    """Walks a JSON schema and returns the matching `datasets` features."""

    def __init__(self, ds: ModuleType, defs: Mapping[str, Any], overrides: Mapping[str, Any]) -> None:
        self.ds = ds
        self.defs = defs
        self.overrides = overrides

    def feature(self, node: Mapping[str, Any], path: str) -> Any:
        node = self._resolve(node, path)
        kind = node.get("type")
        if kind == "object":
            return self.fields(node, path)
        if kind == "array" and "items" in node:
            return self.ds.List(self.feature(node["items"], f"{path}[]"))
        if kind in _SCALARS:
            return self.ds.Value(_SCALARS[kind])
        raise TypeError(f"cannot map the JSON schema of {path or '<root>'} to an Arrow type: {dict(node)}")

    def fields(self, node: Mapping[str, Any], path: str) -> dict[str, Any]:
        node = self._resolve(node, path)
        if "properties" not in node or node.get("additionalProperties", False) is not False:
            raise TypeError(
                f"{path or '<root>'} is a mapping with open keys, which has no fixed Arrow type: "
                f"{dict(node)}; give it a fixed shape in _open_mapping_features"
            )
        model = node.get("title", "")
        out = {}
        for name, prop in node["properties"].items():
            field_path = f"{path}.{name}" if path else name
            override = self.overrides.get(f"{model}.{name}")
            out[name] = override if override is not None else self.feature(prop, field_path)
        return out

    def _resolve(self, node: Mapping[str, Any], path: str) -> Mapping[str, Any]:
        """Follow a `$ref` and unwrap `T | None` (Arrow columns are nullable anyway)."""
        if "$ref" in node:
            return self._resolve(self.defs[node["$ref"].rsplit("/", 1)[-1]], path)
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            if len(options) != 1:
                raise TypeError(f"{path} is a union of {len(options)} types, which has no Arrow type")
            return self._resolve(options[0], path)
        return node


# --------------------------------------------------------------------------- JSON schema


def trajectory_json_schema() -> dict[str, Any]:
    """The JSON schema every serialised trajectory line validates against."""
    return Trajectory.model_json_schema(mode="serialization")


def export_json_schema(path: PathLike) -> Path:
    """Write the trajectory JSON schema (pretty, sorted keys) atomically; return the path."""
    text = json.dumps(trajectory_json_schema(), indent=2, sort_keys=True) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)


# --------------------------------------------------------------------------- helpers


def _checked(trajectories: Iterable[Trajectory]) -> Iterator[Trajectory]:
    """Pass trajectories through, refusing what the fixed row schema would lose."""
    for i, trajectory in enumerate(trajectories):
        if not isinstance(trajectory, Trajectory):
            raise TypeError(f"item {i} is a {type(trajectory).__name__}, expected a Trajectory")
        for j, turn in enumerate(trajectory.turns):
            unknown = sorted(set(turn.reward_components) - set(REWARD_COMPONENTS))
            if unknown:
                raise ValueError(
                    f"trajectory {trajectory.trajectory_id!r} turns[{j}].reward_components has unknown "
                    f"component(s) {unknown}; the row schema has {', '.join(REWARD_COMPONENTS)}"
                )
        yield trajectory


def temporary_for(target: Path) -> Path:
    """A new name for the temporary file `atomic_path` writes `target` through: hidden, beside it,
    ``.NAME.HEX.tmp`` (HEX a fresh uuid4's 32 hexadecimal digits), so no two writes share one."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")


def temporary_pattern(names: str) -> re.Pattern[str]:
    """The names `temporary_for` gives the temporary files of the files whose names match the regular
    expression `names` (``re.escape(name)`` for one file): what a killed write leaves behind."""
    return re.compile(rf"^\.({names})\.[0-9a-f]{{32}}\.tmp$")


@contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; move it over `path` only if the block succeeds.

    Missing parent folders are made first.  On any exception the temporary
    file is removed and `path` is left as it was.  A symbolic link is written
    through: the file it points to is replaced, the link stays.  A directory (or "") is refused before
    anything is written: it failed at the rename, naming the temporary file ('.out.<hex>.tmp' -> 'out'), or, for
    ".", with "PosixPath('.') has an empty name".
    """
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory; expected a file path", str(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_for(target)
    try:
        yield tmp
        _fsync(tmp, os.O_RDWR)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if os.name == "posix":  # make the rename itself durable
        _fsync(target.parent, os.O_RDONLY | os.O_DIRECTORY)


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
