"""Generation with executor="ray": the same bytes as local processes, failures reported by shard.

The tests that need Ray are skipped when it is not installed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from personagym.data.generate import GenerationError, generate, load_manifest, persona_seed, shard_paths
from personagym.data.stats import dataset_stats
from personagym.data.tally import Tally
from tests.data.gen_policy import FAIL_PERSONA_SEED

REPO = Path(__file__).resolve().parents[2]
POLICY = "tests.data.gen_policy:ControlledPolicy"
SMALL = {"personas": 12, "episodes_per_persona": 2, "shard_size": 4, "policy": POLICY, "seed": 7, "fmt": "jsonl"}
#: Runs with this seed fail on persona 6 (shard 1): every Ray worker gets FAIL_PERSONA_SEED for it.
FAILING_SEED = 11


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[ModuleType]:
    """One local Ray instance (2 CPUs) for the module; generate() uses it and leaves it running."""
    ray = pytest.importorskip("ray")
    env_vars = {FAIL_PERSONA_SEED: str(persona_seed(FAILING_SEED, 6)),
                "PYTHONPATH": os.pathsep.join(p for p in (os.fspath(REPO), os.environ.get("PYTHONPATH")) if p)}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env_vars})
    try:
        yield ray
    finally:
        ray.shutdown()


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_ray_writes_the_same_files_as_local_processes(ray_instance: ModuleType, tmp_path: Path) -> None:
    tally = Tally()
    manifest = generate(tmp_path / "ray", executor="ray", workers=2, tally=tally, **SMALL)
    local = generate(tmp_path / "local", **SMALL)
    assert manifest.complete and manifest.counts["trajectories"] == 24 and len(manifest.shards) == 3
    assert [s.sha256 for s in manifest.shards] == [s.sha256 for s in local.shards]
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")  # shards and manifest, byte for byte
    assert ray_instance.is_initialized()  # an instance generate() did not start is left running
    assert tally.shards == {0, 1, 2}  # Ray tasks count what they write, like local workers
    assert dataset_stats(tmp_path / "ray", tally=tally) == dataset_stats(tmp_path / "local")


def test_a_failing_ray_task_fails_the_run_naming_the_shard(ray_instance: ModuleType, tmp_path: Path) -> None:
    config = {**SMALL, "seed": FAILING_SEED}
    with pytest.raises(GenerationError, match=r"shard 1 \(personas 4-7, shard-00001\.jsonl\): EpisodeError: "
                                              r"persona 6 episode 0 .*planned failure.*resume=True"):
        generate(tmp_path / "ray", executor="ray", workers=2, **config)
    manifest = load_manifest(tmp_path / "ray")
    assert not manifest.complete and 1 not in manifest.committed()
    assert len(shard_paths(tmp_path / "ray", allow_incomplete=True)) == manifest.counts["shards_committed"]
    # resumed with the local executor (the executor is not part of the config), it gives the local run's bytes
    generate(tmp_path / "ray", resume=True, **config)
    generate(tmp_path / "local", **config)
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")


def test_an_unknown_executor_or_a_stray_address_fails_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown executor 'rey' \(did you mean 'ray'\?\)"):
        generate(tmp_path / "x", executor="rey", **SMALL)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"ray_address='ray://head:10001' needs executor='ray'"):
        generate(tmp_path / "x", ray_address="ray://head:10001", **SMALL)
    assert not (tmp_path / "x").exists()


def test_a_missing_ray_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(ImportError, match=r"^executor='ray' needs the 'ray' package, which is not installed: "
                                          r"pip install 'personagym\[ray\]'$"):
        generate(tmp_path / "x", executor="ray", **SMALL)
    assert not (tmp_path / "x").exists()
