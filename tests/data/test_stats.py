"""Dataset statistics and the dataset card of a generated directory."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from personagym.data.generate import generate, load_manifest, persona_seed, read_generated
from personagym.data.stats import dataset_stats, write_card
from personagym.data.tally import Tally
from tests.data.gen_policy import FAIL_PERSONA_SEED


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    generate(out, personas=12, episodes_per_persona=2, shard_size=5, seed=1, fmt="jsonl")
    return out


def test_stats_agree_with_the_trajectories(run: Path) -> None:
    stats = dataset_stats(run)
    trajectories = list(read_generated(run))
    users = [u for t in trajectories for u in [*(turn.user for turn in t.turns), t.final_user] if u is not None]
    assert stats["trajectories"] == 24 and stats["personas"] == 12
    assert stats["user_utterances"] == len(users)
    turns = stats["turns_per_dialog"]
    assert sum(turns["histogram"].values()) == 24
    assert turns["mean"] == pytest.approx(sum(len(t.turns) for t in trajectories) / 24, abs=1e-4)
    assert sum(stats["pkis_per_dialog"]["histogram"].values()) == 24
    assert sum(stats["pki_kinds"].values()) == sum(len(u.pkis) for u in users)
    assert sum(stats["noise_layers"].values()) == len(users)
    words = [w for u in users for w in re.findall(r"\w+", u.text.lower())]
    assert stats["vocabulary_size"] == len(set(words))
    assert stats["distinct_1"] == pytest.approx(len(set(words)) / len(words), abs=1e-4)
    assert 0 < stats["distinct_1"] < stats["distinct_2"] <= 1
    coverage = stats["category_coverage"]
    assert coverage["categories"] == len(coverage["pkis"]) == 30
    assert coverage["covered_by_interests"] == sum(1 for v in coverage["interests"].values() if v)
    assert sum(coverage["interests"].values()) == sum(len(t.persona.interests) for t in trajectories[::2])


def test_stats_read_by_worker_processes_are_the_same(run: Path, tmp_path: Path) -> None:
    assert dataset_stats(run, workers=2) == dataset_stats(run)
    # each worker checks the sha256 of the shards it reads
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    last = sorted(copy.glob("shard-*.jsonl"))[-1]
    last.write_text(last.read_text().replace('"policy":"generic"', '"policy":"genetic"', 1))
    with pytest.raises(ValueError, match=rf"{last.name} does not match the sha256"):
        dataset_stats(copy, workers=2)
    with pytest.raises(ValueError, match=r"workers must be a positive int, got 0"):
        dataset_stats(run, workers=0)


@pytest.mark.parametrize(("fmt", "workers"), [("jsonl", 1), ("parquet", 2)])
def test_counts_kept_while_generating_give_the_same_stats_without_reading(
        tmp_path: Path, run: Path, fmt: str, workers: int) -> None:
    tally = Tally()
    generate(tmp_path, personas=12, episodes_per_persona=2, shard_size=5, seed=1, fmt=fmt, workers=workers,
             tally=tally)
    assert tally.shards == {0, 1, 2} and len(tally.turns) == 24
    expected, card = dataset_stats(tmp_path), write_card(tmp_path, plots=False).read_text()
    assert {k: v for k, v in expected.items() if k != "config"} == \
        {k: v for k, v in dataset_stats(run).items() if k != "config"}  # the same trajectories in either format
    for shard in tmp_path.glob(f"shard-*.{fmt}"):  # the tally's shards are not read again
        shard.write_bytes(b"not a shard")
    assert dataset_stats(tmp_path, tally=tally) == expected
    assert write_card(tmp_path, plots=False, tally=tally).read_text() == card


def test_a_resumed_run_reads_only_the_shards_of_the_earlier_run(
        tmp_path: Path, run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAIL_PERSONA_SEED, str(persona_seed(1, 7)))  # persona 7 is in shard 1
    kwargs = {"personas": 12, "episodes_per_persona": 2, "shard_size": 5, "seed": 1, "fmt": "jsonl",
              "policy": "tests.data.gen_policy:ControlledPolicy"}
    first = Tally()
    with pytest.raises(Exception, match="planned failure"):
        generate(tmp_path, tally=first, **kwargs)
    assert first.shards == set(load_manifest(tmp_path).committed()) == {0}
    monkeypatch.delenv(FAIL_PERSONA_SEED)
    second = Tally()
    generate(tmp_path, resume=True, tally=second, **kwargs)
    assert second.shards == {1, 2}
    assert dataset_stats(tmp_path, tally=second) == dataset_stats(tmp_path)
    with pytest.raises(ValueError, match=r"shards \[1, 2\] are counted twice"):
        Tally().merge(second).merge(second)
    with pytest.raises(ValueError, match="counts shards of another run"):
        dataset_stats(run, tally=second)
    with pytest.raises(TypeError, match="tally must be a personagym.data.tally.Tally, got dict"):
        dataset_stats(run, tally={})  # type: ignore[arg-type]


def test_card_has_the_config_stats_and_plots(run: Path) -> None:
    pytest.importorskip("matplotlib")
    card = write_card(run)
    text = card.read_text()
    assert text.startswith("---\nconfigs:\n- config_name: default\n  data_files: \"shard-*.jsonl\"")
    assert "| trajectories | 24 |" in text and '"episodes_per_persona": 2' in text
    images = re.findall(r"!\[[^\]]+\]\((card/[a-z_]+\.png)\)", text)
    assert len(images) == 5
    for image in images:
        assert (run / image).read_bytes().startswith(b"\x89PNG")


def test_card_without_matplotlib_says_how_to_get_it(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install matplotlib \(or write_card\(\.\.\., plots=False\)\)"):
        write_card(run)
    assert "## Distributions" not in write_card(run, plots=False).read_text()
