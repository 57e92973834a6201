"""Sharded generation: kill -9 and resume, worker-count independence, bad configs, crashes, disk errors."""

from __future__ import annotations

import errno
import gc
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from personagym.data import generate as gen
from personagym.data.generate import (
    MANIFEST,
    GenerateConfig,
    GenerationError,
    Manifest,
    generate,
    load_manifest,
    persona_seed,
    read_generated,
    shard_paths,
)
from personagym.data.tally import Tally
from tests.data.gen_policy import DELAY, EXIT_PERSONA_SEED, FAIL_PERSONA_SEED

REPO = Path(__file__).resolve().parents[2]
POLICY = "tests.data.gen_policy:ControlledPolicy"
SMALL = {"personas": 40, "episodes_per_persona": 2, "shard_size": 8, "policy": POLICY, "seed": 7}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Uninterrupted single-worker runs of the small config, per format."""
    out = {}
    for fmt in ("jsonl", "parquet"):
        out[fmt] = tmp_path_factory.mktemp(f"ref-{fmt}")
        generate(out[fmt], fmt=fmt, **SMALL)
    return out


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def _committed(directory: Path) -> int:
    try:
        return load_manifest(directory).counts["shards_committed"]
    except (FileNotFoundError, ValueError):  # not written yet
        return -1


def _children(pid: int) -> list[int]:
    """Child processes of `pid` (Linux /proc; empty elsewhere)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _run_and_kill(out: Path, fmt: str, *, resume: bool, after_shards: int, workers: int = 1) -> None:
    """Run generate() in a real subprocess and SIGKILL it once the manifest shows `after_shards` shards.

    With several workers, the worker processes must exit by themselves once their parent is gone.
    """
    code = (f"from personagym.data.generate import generate; "
            f"generate({os.fspath(out)!r}, fmt={fmt!r}, resume={resume}, workers={workers}, **{SMALL!r})")
    env = {**os.environ, DELAY: "0.004", "PYTHONPATH": os.fspath(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while _committed(out) < after_shards:
        if proc.poll() is not None:
            pytest.fail(f"generator exited ({proc.returncode}) before {after_shards} shards: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no {after_shards} committed shards in {out} after 30 s")
        time.sleep(0.005)
    workers_pids = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    deadline = time.monotonic() + 10
    while any(_running(p) for p in workers_pids):
        assert time.monotonic() < deadline, "worker processes outlived their killed parent"
        time.sleep(0.05)
    assert not load_manifest(out).complete, "the run finished before it was killed; the test proves nothing"


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_kill_and_resume_gives_the_uninterrupted_files(tmp_path: Path, reference: dict[str, Path], fmt: str) -> None:
    out = tmp_path / "run"
    _run_and_kill(out, fmt, resume=False, after_shards=0)  # killed right after the first manifest
    _run_and_kill(out, fmt, resume=True, after_shards=1, workers=2)
    _run_and_kill(out, fmt, resume=True, after_shards=3)
    manifest = generate(out, fmt=fmt, resume=True, **SMALL)
    assert manifest.complete and manifest.counts["trajectories"] == 80
    assert _files(out) == _files(reference[fmt])  # byte-identical shards and manifest, no stray temp files
    ids = [t.trajectory_id for t in read_generated(out)]
    assert len(set(ids)) == 80 and set(ids) == {t.trajectory_id for t in read_generated(reference[fmt])}


def test_crash_between_shard_rename_and_manifest_commit_is_redone(tmp_path: Path, reference: dict[str, Path]) -> None:
    out = tmp_path / "run"
    out.mkdir()
    for name, data in _files(reference["jsonl"]).items():
        (out / name).write_bytes(data)
    manifest = Manifest.load(out)
    manifest.drop(4)  # shard 4's file is in place but was never recorded
    manifest.write(out)
    (out / f".shard-00002.jsonl.{'ab' * 16}.tmp").write_text("half a shard")
    (out / f".{MANIFEST}.{'cd' * 16}.tmp").write_text("{")
    # and the card a killed run was writing, and one of its plots (they were left behind)
    (out / f".README.md.{'ef' * 16}.tmp").write_text("# half a card")
    (out / "card").mkdir()
    (out / "card" / f".turns_per_dialog.png.{'01' * 16}.tmp").write_bytes(b"\x89PNG")
    generate(out, fmt="jsonl", resume=True, **SMALL)
    assert not list((out / "card").iterdir())
    (out / "card").rmdir()
    assert _files(out) == _files(reference["jsonl"])


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_resume_redoes_a_corrupt_or_missing_shard(tmp_path: Path, reference: dict[str, Path], damage: str) -> None:
    out = tmp_path / "run"
    out.mkdir()
    for name, data in _files(reference["parquet"]).items():
        (out / name).write_bytes(data)
    shard = out / "shard-00002.parquet"
    if damage == "corrupt":
        shard.write_bytes(shard.read_bytes()[:-100] + b"\0" * 100)
    else:
        shard.unlink()
    with pytest.raises(ValueError, match=r"shard-00002\.parquet does not match the sha256"):
        shard_paths(out)
    generate(out, fmt="parquet", resume=True, **SMALL)
    assert _files(out) == _files(reference["parquet"])


def test_reading_checks_each_shard_as_it_reaches_it(tmp_path: Path, reference: dict[str, Path]) -> None:
    # streaming starts after one shard's hash, not the whole run's; a damaged shard stops it where it lies
    for name, data in _files(reference["jsonl"]).items():
        (tmp_path / name).write_bytes(data)
    manifest = load_manifest(tmp_path)
    last = tmp_path / manifest.shards[-1].file
    last.write_bytes(last.read_bytes()[:-10] + b" " * 10)
    read = read_generated(tmp_path)
    expected = list(read_generated(reference["jsonl"]))
    before_last = sum(s.trajectories for s in manifest.shards[:-1])
    assert [next(read) for _ in range(before_last)] == expected[:before_last]
    with pytest.raises(ValueError, match=rf"{last.name} does not match the sha256"):
        next(read)


def test_two_workers_write_the_same_files_as_one(tmp_path: Path, reference: dict[str, Path]) -> None:
    generate(tmp_path, fmt="parquet", workers=2, **SMALL)
    assert _files(tmp_path) == _files(reference["parquet"])


def test_the_parent_holds_a_bounded_number_of_shard_results(tmp_path: Path) -> None:
    # a finished future holds its shard's counts until committed: a parent slower than its workers
    # (here it sleeps in every progress call) must not hold every finished shard (GBs at 1M trajectories)
    live: list[int] = []

    def slow_progress(done: int, total: int) -> None:
        live.append(sum(isinstance(o, Tally) for o in gc.get_objects()))
        time.sleep(0.3)

    tally = Tally()
    generate(tmp_path, fmt="jsonl", workers=2, tally=tally, progress=slow_progress, **{**SMALL, "personas": 96})
    assert len(tally.shards) == 12 and len(live) == 13
    assert max(live) <= 1 + gen.IN_FLIGHT_PER_WORKER * 2  # the run's tally and the shards in flight


def test_a_failing_worker_fails_the_run_naming_the_shard(
        tmp_path: Path, reference: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAIL_PERSONA_SEED, str(persona_seed(SMALL["seed"], 19)))  # persona 19 is in shard 2
    with pytest.raises(GenerationError, match=r"shard 2 \(personas 16-23, shard-00002\.parquet\): .*persona 19 "
                                              r"episode 0 .*planned failure.*resume=True"):
        generate(tmp_path, fmt="parquet", workers=2, **SMALL)
    manifest = load_manifest(tmp_path)
    assert not manifest.complete and 2 not in manifest.committed()
    assert len(shard_paths(tmp_path, allow_incomplete=True)) == manifest.counts["shards_committed"]
    with pytest.raises(ValueError, match=r"incomplete: shards .*2.* are not committed"):
        list(read_generated(tmp_path))
    monkeypatch.delenv(FAIL_PERSONA_SEED)
    generate(tmp_path, fmt="parquet", resume=True, **SMALL)
    assert _files(tmp_path) == _files(reference["parquet"])


def test_a_dead_worker_is_reported_once_for_all_the_shards_it_failed(
        tmp_path: Path, reference: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXIT_PERSONA_SEED, str(persona_seed(SMALL["seed"], 19)))  # persona 19 is in shard 2
    with pytest.raises(GenerationError) as caught:
        generate(tmp_path, fmt="jsonl", workers=2, **SMALL)
    message = str(caught.value)
    # the pool fails every shard still pending with the same error: it is stated once, with the shards it hit
    assert message.count("BrokenProcessPool") == 1, message
    assert "a worker process died" in message and "resume=True" in message
    manifest = load_manifest(tmp_path)
    assert 2 not in manifest.committed()
    assert 2 in _named_shards(message.split("BrokenProcessPool")[0]), message  # shard 2 is among those named
    for record in manifest.shards:  # every committed shard is whole on disk
        assert gen._sha256(tmp_path / record.file) == record.sha256
    # a shard the live worker finished just as the pool broke may be on disk, uncommitted: resume redoes it
    monkeypatch.delenv(EXIT_PERSONA_SEED)
    generate(tmp_path, fmt="jsonl", resume=True, **SMALL)
    assert _files(tmp_path) == _files(reference["jsonl"])


def test_a_pool_that_broke_between_waits_fails_the_shard_being_submitted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A worker can die after the parent's last wait: its next submit raises at once, not through a future.
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    with pytest.raises(BrokenProcessPool):
        pool.submit(os._exit, 1).result()
    monkeypatch.setattr(gen, "worker_pool", lambda workers: pool)
    config = gen._config(env_id="PersonaGym/Chat-v0", personas=16, episodes_per_persona=1, seed=0,
                         shard_size=8, format="jsonl", policy="generic")
    committed: list[int] = []
    failures = gen._run_shards(tmp_path, config, [0, 1], 2, lambda built: committed.append(built[0].index), False)
    assert failures == {0: gen.WORKER_DIED} and committed == []
    assert gen._failure_report(config, failures).startswith("shard 0 (personas 0-7, shard-00000.jsonl): BrokenProc")


def _named_shards(report: str) -> set[int]:
    """The shard indices a failure report names: 'shard 2 (' or 'N shards (0-3, 7; ...'."""
    spans = re.search(r"\d+ shards \(([\d, -]+);", report)
    if not spans:
        single = re.search(r"shard (\d+) \(", report)
        assert single, report
        return {int(single.group(1))}
    named: set[int] = set()
    for part in spans.group(1).split(", "):
        a, _, b = part.partition("-")
        named.update(range(int(a), int(b or a) + 1))
    return named


def test_failures_are_grouped_by_error() -> None:
    config = gen._config(env_id="PersonaGym/Chat-v0", policy="generic", personas=4000, episodes_per_persona=1,
                         seed=0, shard_size=10, format="jsonl")
    failures = {i: gen.WORKER_DIED for i in range(3, 400)} | {1: "EpisodeError: persona 12 episode 0: boom"}
    report = gen._failure_report(config, failures)
    assert report == ("shard 1 (personas 10-19, shard-00001.jsonl): EpisodeError: persona 12 episode 0: boom; "
                      f"397 shards (3-399; the first is shard 3 (personas 30-39, shard-00003.jsonl)): "
                      f"{gen.WORKER_DIED}")
    first, rest = report.split("; ", 1)
    assert _named_shards(first) == {1} and _named_shards(rest) == set(range(3, 400))


def test_a_disk_error_names_the_path_and_keeps_the_manifest_consistent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = gen._WRITERS["jsonl"]

    def full_disk(trajectories, path):
        if path.name == "shard-00002.jsonl":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(trajectories, path)

    monkeypatch.setitem(gen._WRITERS, "jsonl", full_disk)
    with pytest.raises(GenerationError, match=r"cannot write .*shard-00002\.jsonl: No space left on device"):
        generate(tmp_path, fmt="jsonl", **SMALL)
    manifest = load_manifest(tmp_path)
    assert [s.index for s in manifest.shards] == [0, 1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "shard-00000.jsonl", "shard-00001.jsonl"]


def test_a_manifest_write_error_names_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = Manifest.write

    def failing_write(self: Manifest, out_dir) -> None:
        calls.append(1)
        if len(calls) == 3:  # the initial manifest, shard 0, then shard 1 fails
            raise OSError(errno.EIO, "Input/output error")
        real(self, out_dir)

    monkeypatch.setattr(Manifest, "write", failing_write)
    with pytest.raises(GenerationError, match=r"cannot write .*manifest\.json: Input/output error"):
        generate(tmp_path, fmt="jsonl", **SMALL)
    monkeypatch.undo()
    assert [s.index for s in load_manifest(tmp_path).shards] == [0]
    assert len(shard_paths(tmp_path, allow_incomplete=True)) == 1


def test_resume_with_another_config_names_the_differences(tmp_path: Path, reference: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match=r"different config \(policy='tests\.data\.gen_policy:ControlledPolicy' "
                                         r"there, 'generic' now, seed=7 there, 8 now\)"):
        generate(reference["jsonl"], fmt="jsonl", resume=True, **{**SMALL, "policy": "generic", "seed": 8})
    with pytest.raises(ValueError, match=r"fmt='jsonl' there, 'parquet' now"):
        generate(reference["jsonl"], fmt="parquet", resume=True, **SMALL)


def test_a_non_empty_directory_needs_resume(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    # no manifest: no run to resume, so resume=True is not suggested (it is refused, below)
    with pytest.raises(FileExistsError, match=r"is not empty \(1 entry, e\.g\. 'notes\.txt'\); it holds no "
                                              r"manifest\.json, so no run to resume: choose an empty directory$"):
        generate(tmp_path, fmt="jsonl", **SMALL)
    with pytest.raises(FileExistsError, match=r"no manifest\.json but holds \['notes\.txt'\]"):
        generate(tmp_path, fmt="jsonl", resume=True, **SMALL)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(("change", "message"), [
    ({"env_id": "PersonaGym/Chat-v1"}, r"unknown env id 'PersonaGym/Chat-v1' \(did you mean 'PersonaGym/Chat-v0'\?\)"),
    ({"policy": "generik"}, r"unknown policy 'generik' \(did you mean 'generic'\?\)"),
    ({"personas": 0}, r"personas=0: Input should be greater than or equal to 1"),
    ({"episodes_per_persona": -1}, r"episodes_per_persona=-1: Input should be greater than or equal to 1"),
    ({"shard_size": 2.5}, r"shard_size=2\.5: Input should be a valid integer"),
    ({"fmt": "csv"}, r"fmt='csv': Input should be 'parquet' or 'jsonl'"),
    ({"seed": -3}, r"seed=-3: Input should be greater than or equal to 0"),
    ({"workers": 0}, r"workers must be a positive int, got 0"),
    # it started that many processes (min(workers, shards): a big run could reach thousands)
    ({"workers": 100_000}, r"workers: 100,000 worker processes are too many here; expected 1 to \d+ \(4 per CPU"),
    ({"workers": True}, r"workers must be a positive int, got True"),
    # accepted, a manifest written, then its first shard ran until killed
    ({"episodes_per_persona": 10**12}, r"personas=40 x episodes_per_persona=1000000000000 makes "
                                        r"40,000,000,000,000 trajectories; expected at most 1,000,000,000"),
    ({"backend": "opnai"}, r"unknown kind 'opnai' \(did you mean 'openai'\?\)"),
    ({"backend": "openai"}, r"backend kind 'openai' needs model \(the served model name\)"),
    ({"backend": "local", "base_url": "http://127.0.0.1:9/v1"}, r"'local' runs the model in-process"),
    # it failed in the worker, after the manifest was written, and the advised --resume refused the fixed URL
    ({"backend": "openai", "model": "m", "base_url": "notaurl"}, r"base_url must be an http\(s\) URL .* got 'notaurl'"),
    ({"policy": "llm"}, r"the LLM policy needs an LLM backend"),
    ({"max_turns": 0}, r"max_turns=0: Input should be greater than or equal to 1"),
])
def test_an_invalid_config_fails_before_any_work(tmp_path: Path, change: dict, message: str) -> None:
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=message):
        generate(out, **{"fmt": "jsonl", **SMALL, **change})
    assert not out.exists()


def test_seeds_fix_each_persona_across_its_episodes(reference: dict[str, Path]) -> None:
    trajectories = list(read_generated(reference["jsonl"]))
    for k in (0, 39):
        first, second = trajectories[2 * k], trajectories[2 * k + 1]
        assert first.persona == second.persona and first.persona.seed == persona_seed(SMALL["seed"], k)
        assert first.seed != second.seed and first.turns[0].user.text != second.turns[0].user.text


def test_template_mode_config_hash_is_unchanged_by_the_llm_fields() -> None:
    config = GenerateConfig(env_id="PersonaGym/Chat-v0", policy="generic", personas=3, episodes_per_persona=1,
                            seed=0, shard_size=256, format="jsonl")
    # the hash a template-mode run had before the backend, model and base_url fields existed
    assert config.digest() == "44af346a4c8b66da48f85de7a7bcfa4f9dd925768b6d52ac83433d5c8c5b2fab"
    assert config.model_copy(update={"backend": "openai", "model": "m"}).digest() != config.digest()
    assert config.model_copy(update={"max_turns": 2}).digest() != config.digest()


def test_max_turns_caps_every_session_and_is_part_of_the_config(tmp_path: Path) -> None:
    generate(tmp_path, personas=3, episodes_per_persona=2, env_id="PersonaGym/LongTerm-v0", max_turns=2,
             fmt="jsonl", seed=3)
    manifest = load_manifest(tmp_path)
    assert manifest.config.max_turns == 2 and manifest.complete
    for trajectory in read_generated(tmp_path):
        sessions = [turn.session for turn in trajectory.turns]
        assert max(sessions.count(s) for s in set(sessions)) <= 2 and len(set(sessions)) > 1
        assert trajectory.config["max_turns"] == 2
    with pytest.raises(ValueError, match=r"different config \(max_turns=2 there, 3 now\)"):
        generate(tmp_path, personas=3, episodes_per_persona=2, env_id="PersonaGym/LongTerm-v0", max_turns=3,
                 fmt="jsonl", seed=3, resume=True)


@pytest.mark.llm
def test_llm_mode_generation_against_a_server(tmp_path: Path, vllm_server) -> None:
    llm = {"backend": "openai", "model": vllm_server.served_model_name, "base_url": vllm_server.base_url}
    manifest = generate(tmp_path / "run", personas=2, episodes_per_persona=1, shard_size=1, fmt="jsonl",
                        env_id="PersonaGym/ChatClean-v0", policy="llm", workers=2, max_turns=2, **llm)
    assert manifest.complete and manifest.config.backend == "openai"
    trajectories = list(read_generated(tmp_path / "run"))
    assert len(trajectories) == 2
    # every answer is the server's (a failed request of the llm policy fails the shard) and every user turn went
    # to it; whether the 135M model's reply kept the turn's facts varies from run to run (two workers batch their
    # requests differently, and vLLM on a CPU is not batch-invariant: none of 6 in one CI run), so that the
    # server writes users' words is tested in tests/envs/test_llm_mode.py, which plays episodes until it does
    users = [u for t in trajectories for u in t.user_turns()]
    assert users and {u.rendered_by for u in users} <= {"llm", "template_fallback"}
    assert all(t.assistant.strip() for tr in trajectories for t in tr.turns)
    assert all(t.policy == "llm" and t.config["llm"]["backend"] == "openai" for t in trajectories)


def test_an_unknown_or_damaged_manifest_is_one_clear_error(tmp_path: Path) -> None:
    run = {"personas": 2, "episodes_per_persona": 1, "fmt": "jsonl"}
    generate(tmp_path, **run)
    manifest = tmp_path / MANIFEST
    text = manifest.read_text()
    manifest.write_text(text.replace('"manifest_version": 1', '"manifest_version": 2'))
    for read in (lambda: load_manifest(tmp_path), lambda: generate(tmp_path, resume=True, **run)):
        with pytest.raises(ValueError, match=r"manifest_version 2 is not supported: personagym .* reads version 1"):
            read()
    manifest.write_text(text[:300])
    with pytest.raises(ValueError, match=r"not a valid generation manifest \(Invalid JSON: .*\); the run cannot be"):
        load_manifest(tmp_path)


def test_ctrl_c_inside_a_shard_is_an_interruption_not_a_failed_shard(tmp_path: Path, monkeypatch) -> None:
    """Pydantic turns a KeyboardInterrupt raised in its serializer into its own error: Ctrl-C during a one-worker
    run was now and then reported as "shard 5 failed: PydanticSerializationError ... KeyboardInterrupt" (exit 1)."""
    def build(*args: object) -> None:
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt as err:  # what pydantic does with it
            raise ValueError("Error calling function `_values_out`: KeyboardInterrupt") from err

    monkeypatch.setattr(gen, "_build_shard", build)
    config = gen._config(personas=4, episodes_per_persona=1, env_id="PersonaGym/Chat-v0", policy="generic",
                         shard_size=2, seed=0, format="jsonl")
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        gen._run_shards(tmp_path, config, [0, 1], 1, lambda built: None, False)
    assert signal.getsignal(signal.SIGINT) is before
    # a failure with no Ctrl-C is still the shard's
    monkeypatch.setattr(gen, "_build_shard", lambda *args: (_ for _ in ()).throw(ValueError("disk on fire")))
    assert gen._run_shards(tmp_path, config, [0, 1], 1, lambda built: None, False) == {0: "ValueError: disk on fire"}
    with pytest.raises(ValueError, match=r"^invalid generation config: fmt: required$"):
        gen._config(personas=4, episodes_per_persona=1, env_id="PersonaGym/Chat-v0", policy="generic", seed=0,
                    shard_size=2)


def test_resume_after_the_env_defaults_changed_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same config hash and version, another persona sampler: resuming would mix two populations."""
    make = gen.make_env
    with monkeypatch.context() as m:
        m.setattr(gen, "make_env", lambda env_id, **kw: make(env_id, sampler={"value_weights": "uniform"}, **kw))
        generate(tmp_path, personas=4, shard_size=2, fmt="jsonl")
    manifest = gen.load_manifest(tmp_path)
    (tmp_path / manifest.shards[1].file).unlink()
    manifest.drop(1)
    manifest.write(tmp_path)
    with pytest.raises(ValueError, match=r"another env config .*sampler\.value_weights: 'uniform' there, "
                                         r"'population' now"):
        generate(tmp_path, personas=4, shard_size=2, fmt="jsonl", resume=True)


def test_resume_with_other_code_is_refused_and_the_card_names_the_code(tmp_path: Path) -> None:
    """The version (0.1.0) stood for every change of the simulator, the sampler and the reward: the manifest
    records a digest of the code that wrote the shards, a resume with other code is refused, and the card's
    claim to reproduce the shards names the digest."""
    from personagym.data.stats import write_card

    generate(tmp_path, personas=4, shard_size=2, fmt="jsonl")
    manifest = gen.load_manifest(tmp_path)
    assert manifest.code_digest == gen.code_digest() and re.fullmatch(r"[0-9a-f]{16}", manifest.code_digest)
    card = write_card(tmp_path, plots=False)
    assert f"code digest `{manifest.code_digest}`" in card.read_text(encoding="utf-8")
    (tmp_path / manifest.shards[1].file).unlink()
    manifest.drop(1)
    manifest.code_digest = "0" * 16
    manifest.write(tmp_path)
    with pytest.raises(ValueError, match=r"generated by other code of personagym .* \(code digest 0{16} there, "):
        generate(tmp_path, personas=4, shard_size=2, fmt="jsonl", resume=True)
    # a manifest from before the digest was recorded is read back without one, not with this code's
    raw = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    del raw["code_digest"]
    (tmp_path / "manifest.json").write_text(json.dumps(raw), encoding="utf-8")
    assert gen.load_manifest(tmp_path).code_digest is None


def test_a_uniform_population_is_generated_and_reproduced(tmp_path: Path) -> None:
    """`value_weights="uniform"` (`--value-weights uniform`) makes the env draw every value alike; it is part
    of the config, so the card's command reproduces it."""
    from personagym.data.stats import write_card

    generate(tmp_path / "u", personas=60, shard_size=30, fmt="jsonl", value_weights="uniform")
    generate(tmp_path / "p", personas=60, shard_size=30, fmt="jsonl")
    assert gen.load_manifest(tmp_path / "u").config.value_weights == "uniform"
    uniform = list(read_generated(tmp_path / "u"))
    assert {t.config["sampler"]["value_weights"] for t in uniform} == {"uniform"}
    population = list(read_generated(tmp_path / "p"))
    assert [t.persona.persona_id for t in uniform] != [t.persona.persona_id for t in population]
    assert "--value-weights uniform" in write_card(tmp_path / "u", plots=False).read_text(encoding="utf-8")
    with pytest.raises(ValueError, match=r"value_weights='uniformly': Input should be 'population' or 'uniform'"):
        generate(tmp_path / "x", personas=2, fmt="jsonl", value_weights="uniformly")


def test_a_run_is_refused_while_another_process_writes_in_the_directory(tmp_path: Path) -> None:
    """Two runs in one directory each kept their own manifest and replaced the other's (one reported success
    while the manifest on disk lacked its shards), and a resumed run deleted the other's temporary files."""
    run = {"personas": 2, "episodes_per_persona": 1, "fmt": "jsonl"}
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()", os.fspath(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        for resume in (False, True):
            with pytest.raises(gen.DirectoryBusyError, match="is being written by another process"):
                generate(tmp_path, resume=resume, **run)
        assert list(tmp_path.iterdir()) == []
    finally:
        holder.stdin.close()
        holder.wait()
        holder.stdout.close()
    assert generate(tmp_path, **run).complete  # the lock went with the process that held it


def test_a_manifest_whose_config_was_edited_is_refused(tmp_path: Path) -> None:
    """A hand-edited config kept the old config_hash: stats wrote a card claiming seed 7 for seed-0 shards, and
    --resume said "a different config ()", naming no difference."""
    run = {"personas": 2, "episodes_per_persona": 1, "fmt": "jsonl"}
    generate(tmp_path, **run)
    path = tmp_path / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["config"]["seed"] = 7
    path.write_text(json.dumps(manifest))
    for read in (lambda: load_manifest(tmp_path), lambda: generate(tmp_path, resume=True, **run)):
        with pytest.raises(ValueError, match=r"config_hash [0-9a-f]{16}\.\.\. is not the hash of the config"):
            read()


def test_more_shards_than_a_run_can_list_fail_before_any_work(tmp_path: Path) -> None:
    """--personas 10**23 listed 4e20 shards to do, after writing a manifest, until the kernel killed it (24 GB)."""
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"makes 390,625,000,000,000,000,000 shards; expected at most 1,000,000"):
        generate(out, personas=10**23)
    with pytest.raises(ValueError, match=r"shard_size=1 makes 1,000,001 shards"):
        generate(out, personas=gen.MAX_SHARDS + 1, shard_size=1)
    assert not out.exists()
    assert GenerateConfig(env_id="e", policy="p", personas=gen.MAX_SHARDS, episodes_per_persona=1, seed=0,
                          shard_size=1, format="jsonl").shards == gen.MAX_SHARDS


def test_the_trajectory_bound_is_personas_times_episodes() -> None:
    """The bound counts the whole run, not one option: 10**6 personas x 1,001 episodes is over it, 1,000 is not."""
    config = {"env_id": "e", "policy": "p", "seed": 0, "shard_size": 256, "format": "jsonl"}
    assert GenerateConfig(**config, personas=10**6, episodes_per_persona=1000).trajectories == gen.MAX_TRAJECTORIES
    with pytest.raises(ValueError, match=r"makes 1,001,000,000 trajectories; expected at most 1,000,000,000"):
        GenerateConfig(**config, personas=10**6, episodes_per_persona=1001)


def test_the_worker_bound_follows_the_cpus_this_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """4 workers per usable CPU; a Ray cluster's workers are not bounded by this machine's CPUs."""
    monkeypatch.setattr(gen, "usable_cpus", lambda: 3)
    assert gen.max_workers() == 12
    assert gen.check_workers(np.int64(12)) == 12 and type(gen.check_workers(np.int64(12))) is int
    with pytest.raises(ValueError, match=r"^--workers: 13 worker processes are too many here; expected 1 to 12 "
                                         r"\(4 per CPU this process may use, of which there are 3\)"):
        gen.check_workers(13, name="--workers")
    gen.check_workers(10_000, local=False)
    with pytest.raises(ValueError, match=r"workers must be a positive int, got 0"):
        gen.check_workers(0, local=False)
    if hasattr(os, "sched_getaffinity"):
        monkeypatch.undo()
        assert gen.usable_cpus() == len(os.sched_getaffinity(0))


def test_parquet_without_pyarrow_fails_before_the_directory_is_made(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=re.escape("fmt='parquet' needs the 'pyarrow' package, which is not "
                                                    "installed: pip install 'personagym[parquet]' "
                                                    "(or use fmt='jsonl')")):
        generate(tmp_path / "x", personas=1, fmt="parquet")
    assert not (tmp_path / "x").exists()
