"""Sharded, resumable dataset generation: many personas, many episodes, nothing lost.

Work is cut into shards by persona: shard ``i`` always holds personas
``[i * shard_size, (i + 1) * shard_size)`` and all their episodes, and every
seed is derived from ``(seed, persona index)`` with `numpy.random.SeedSequence`
spawn keys (see `SEEDING`), so the files are the same whatever the number of
workers or the order in which shards finish.

A shard is committed in two steps.  Its file is written to a temporary file in
the output directory, fsynced and renamed over ``shard-NNNNN.<fmt>`` (the
atomic writers of `personagym.data.trajectories`); then the parent process
records it in ``manifest.json`` (also replaced atomically) with its sha256,
size, trajectory count and seeds.  Only shards in the manifest count: after a
crash, ``resume=True`` keeps those whose checksum still matches and redoes the
rest, which gives the same bytes again.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import logging
import multiprocessing
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from personagym import __version__
from personagym.checks import check_installed, check_int, require_module
from personagym.data.tally import Tally, node_valued_attributes
from personagym.data.trajectories import (
    atomic_path,
    read_jsonl,
    read_parquet,
    temporary_pattern,
    write_jsonl,
    write_parquet,
)
from personagym.llm.registry import check_backend_args
from personagym.policies import Policy, make_policy
from personagym.policies.llm_policy import LLM_POLICIES
from personagym.records import Persona, Trajectory
from personagym.rollout import make_env, run_episode
from personagym.simulators.sampler import ValueWeights
from personagym.suggest import describe_validation, did_you_mean

PathLike = str | os.PathLike[str]
Format = Literal["parquet", "jsonl"]
Executor = Literal["local", "ray"]
EXECUTORS = ("local", "ray")
#: Called with (trajectories committed, trajectories planned) at the start and after each commit.
ProgressCallback = Callable[[int, int], None]
#: A shard's error when its worker process died (the pool reports no more than that).
WORKER_DIED = ("BrokenProcessPool: a worker process died (killed, out of memory, or the calling script lacks the "
               "`if __name__ == \"__main__\":` guard that spawned workers need)")

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
DEFAULT_SHARD_SIZE = 256
#: Most shards one run may have: the run lists the shards still to do, and the manifest records each one.
MAX_SHARDS = 1_000_000
#: Most trajectories one run may have (personas x episodes per persona).  10**9 is about 12 days of two workers
#: (972 trajectories/s) and 37 TB of JSON lines; a count typed with a few zeros too many (--episodes-per-persona
#: 10**12) was accepted, wrote a manifest and then ran in its first shard until killed.
MAX_TRAJECTORIES = 1_000_000_000
#: Local worker processes per CPU this process may use, at most (`check_workers`): more only share the CPUs, and
#: --workers 100000 tried to start that many processes.  Four leave room for workers that mostly wait (on an
#: LLM server, with --backend openai).
WORKERS_PER_CPU = 4
IN_FLIGHT_PER_WORKER = 2  # shards submitted per local worker: one running, one queued while the parent commits
_WRITERS = {"parquet": write_parquet, "jsonl": write_jsonl}
_READERS = {"parquet": read_parquet, "jsonl": read_jsonl}
#: Temporary files our atomic writers leave behind when a process is killed mid-write.
#: The folder of the dataset card's plots (`personagym.data.stats.write_card`).
PLOTS_DIR = "card"
#: A temporary file `atomic_path` names (`temporary_pattern`) of a shard, the manifest, the card or a plot.
_TEMP_FILE = temporary_pattern(r"shard-\d+\.(parquet|jsonl)|manifest\.json|README\.md|[\w-]+\.png")
#: A temporary file of the card or of one of its plots alone (`personagym.data.stats.write_card`).
CARD_TEMP_FILE = temporary_pattern(r"README\.md|[\w-]+\.png")

#: How every seed derives from the run's seed (recorded in the manifest).
SEEDING = (
    "persona k: SeedSequence(seed, spawn_key=(0, k, 0)); episode j of persona k: "
    "SeedSequence(seed, spawn_key=(0, k, 1, j)); policy of shard i: SeedSequence(seed, spawn_key=(1, i)); "
    "each used as int(generate_state(1, uint64)[0] >> 1); a built-in policy is reseeded at each episode and "
    "draws from the episode seed's policy stream, SeedSequence(episode seed, spawn_key=(4,))"
)

log = logging.getLogger(__name__)


class GenerationError(RuntimeError):
    """A run stopped before every shard was committed; the message names the shards and the cause."""


class DirectoryBusyError(GenerationError):
    """Another process is writing in the generation directory (a `generate` run or a card being written)."""


class EpisodeError(RuntimeError):
    """An episode raised; the message names the persona index, episode index and seed."""


# --------------------------------------------------------------------------- seeds


def _derived_seed(seed: int, *key: int) -> int:
    """A non-negative int64 seed from the node `key` of the seed tree rooted at `seed`."""
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def persona_seed(seed: int, k: int) -> int:
    """The seed persona `k` is sampled from (`PersonaSampler.sample`)."""
    return _derived_seed(seed, 0, k, 0)


def episode_seed(seed: int, k: int, j: int) -> int:
    """The `env.reset` seed of episode `j` of persona `k`."""
    return _derived_seed(seed, 0, k, 1, j)


def policy_seed(seed: int, shard: int) -> int:
    """The seed the policy of shard `shard` is built with (one policy per shard)."""
    return _derived_seed(seed, 1, shard)


# --------------------------------------------------------------------------- records


class GenerateConfig(BaseModel):
    """What determines the content of a generated dataset (and so its config hash).

    `workers` is not part of it: any worker count gives the same files.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    env_id: str
    policy: str
    personas: int = Field(ge=1)
    episodes_per_persona: int = Field(ge=1)
    seed: int = Field(ge=0)
    shard_size: int = Field(ge=1, description="personas per shard")
    format: Format
    backend: str = Field("template", description="LLM mode: template (none), local, vllm or openai")
    model: str | None = Field(None, description="the LLM backend's model (vllm: a folder; openai: served name)")
    base_url: str | None = Field(None, description="API root of the OpenAI-compatible server (openai)")
    max_turns: int | None = Field(None, ge=1, description="answers per session (None: the env's own)")
    value_weights: ValueWeights = Field(
        "population", description="how the persona sampler draws attribute values (`SamplerConfig.value_weights`)")

    @model_validator(mode="after")
    def _bounded(self) -> GenerateConfig:
        """Refuse more than `MAX_SHARDS` shards or `MAX_TRAJECTORIES` trajectories before any work: --personas
        10**23 listed 4e20 shards to do and was killed for want of memory (24 GB) after writing a manifest, and
        --episodes-per-persona 10**12 ran in its first shard until killed."""
        if self.shards > MAX_SHARDS:
            raise ValueError(f"personas={self.personas} in shards of shard_size={self.shard_size} makes "
                             f"{self.shards:,} shards; expected at most {MAX_SHARDS:,} (fewer personas or a larger "
                             "shard_size)")
        if self.trajectories > MAX_TRAJECTORIES:
            raise ValueError(f"personas={self.personas} x episodes_per_persona={self.episodes_per_persona} makes "
                             f"{self.trajectories:,} trajectories; expected at most {MAX_TRAJECTORIES:,} (fewer "
                             "personas or episodes_per_persona)")
        return self

    @property
    def template_kwargs(self) -> dict[str, Any]:
        """The env's arguments beyond its id that start no LLM engine: the turn limit and the persona sampler's
        value weights, where not the env's own."""
        kwargs: dict[str, Any] = {} if self.max_turns is None else {"max_turns": self.max_turns}
        if self.value_weights != "population":
            kwargs["sampler"] = {"value_weights": self.value_weights}
        return kwargs

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """The env's arguments beyond its id: `template_kwargs`, and the LLM-mode ones if not template."""
        kwargs = self.template_kwargs
        if self.backend != "template":
            kwargs.update(backend=self.backend, model=self.model, base_url=self.base_url)
        return kwargs

    @property
    def shards(self) -> int:
        """Number of shards the run is cut into."""
        return -(-self.personas // self.shard_size)  # exact for any int (a float division rounds past 2**53)

    @property
    def trajectories(self) -> int:
        """Number of trajectories the run produces."""
        return self.personas * self.episodes_per_persona

    def persona_range(self, shard: int) -> tuple[int, int]:
        """[start, stop) of the persona indices shard `shard` holds."""
        return shard * self.shard_size, min((shard + 1) * self.shard_size, self.personas)

    def shard_file(self, shard: int) -> str:
        """File name of shard `shard` (zero-padded so names sort in shard order)."""
        width = max(5, len(str(self.shards - 1)))
        return f"shard-{shard:0{width}d}.{self.format}"

    def digest(self) -> str:
        """sha256 of the canonical JSON of the config (fields at their defaults left out, so the LLM fields
        added later leave the hash of a template-mode run as it was)."""
        return hashlib.sha256(json.dumps(self.model_dump(exclude_defaults=True), sort_keys=True).encode()).hexdigest()


class ShardRecord(BaseModel):
    """One committed shard as the manifest records it."""

    model_config = ConfigDict(extra="forbid")

    index: int
    file: str
    personas: tuple[int, int] = Field(description="[start, stop) persona indices")
    trajectories: int
    bytes: int
    sha256: str
    policy_seed: int = Field(description="persona and episode seeds follow from the root seed (see seeding)")


#: What building a shard gives the committing process: its manifest record and, if asked for, its counts.
BuiltShard = tuple[ShardRecord, Tally | None]


@functools.cache
def code_digest() -> str:
    """The first 16 hex digits of a sha256 over the installed package's code and data files (paths and bytes):
    what made a dataset, more exactly than the version (0.1.0 stood for every change of the simulator, the
    sampler and the reward alike)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _CODE_SUFFIXES
                       and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


#: The files `code_digest` reads: the package's modules and the data they load.
_CODE_SUFFIXES = frozenset({".py", ".json", ".txt", ".yaml"})


class Manifest(BaseModel):
    """The state of a generation directory: config, committed shards, counts.

    Written atomically after every commit, so it always describes files that exist
    whole on disk.
    """

    model_config = ConfigDict(extra="forbid")

    manifest_version: int = MANIFEST_VERSION
    personagym_version: str = __version__
    #: `code_digest()` of the code that wrote the shards (None in manifests from before it was recorded: read
    #: back, such a manifest must not claim this code's digest)
    code_digest: str | None = None
    config: GenerateConfig
    config_hash: str
    seeding: str = SEEDING
    complete: bool = False
    counts: dict[str, int] = Field(default_factory=dict)
    shards: list[ShardRecord] = Field(default_factory=list, description="committed shards by index")

    @field_validator("manifest_version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        """Refuse another manifest layout: its fields may not mean what this version reads them as."""
        if version != MANIFEST_VERSION:
            raise ValueError(f"manifest_version {version} is not supported: personagym {__version__} reads "
                             f"version {MANIFEST_VERSION}")
        return version

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        """Refuse shard records that contradict the config or each other, and stored counts that do not follow
        from them: a reader trusting them counted a shard twice, or two too few, into a wrong card that replaced
        the good one."""
        cfg, seen = self.config, set()
        if self.config_hash != cfg.digest():  # a hand-edited config (or hash): the shards' seeds are not its own
            raise ValueError(f"config_hash {self.config_hash[:16]}... is not the hash of the config recorded with "
                             f"it ({cfg.digest()[:16]}...); expected the manifest as `generate` wrote it")
        for r in self.shards:
            where = f"shards[index={r.index}]"
            if not 0 <= r.index < cfg.shards:
                raise ValueError(f"{where}: no such shard; expected an index in 0..{cfg.shards - 1}")
            if r.index in seen:
                raise ValueError(f"{where}: recorded twice")
            seen.add(r.index)
            start, stop = cfg.persona_range(r.index)
            expected = {"file": cfg.shard_file(r.index), "personas": (start, stop),
                        "trajectories": (stop - start) * cfg.episodes_per_persona}
            for name, value in expected.items():
                if getattr(r, name) != value:
                    raise ValueError(f"{where}.{name} is {getattr(r, name)!r}; the config gives {value!r}")
        stored = dict(self.counts), self.complete
        self._recount()
        if stored[0] and stored != (self.counts, self.complete):
            raise ValueError(f"counts {stored[0]} and complete={stored[1]} do not follow from the shard records "
                             f"({self.counts}, complete={self.complete})")
        return self

    @classmethod
    def new(cls, config: GenerateConfig) -> Manifest:
        """An empty manifest for a fresh run, with the digest of the code that runs it."""
        return cls(config=config, config_hash=config.digest(), code_digest=code_digest())

    @classmethod
    def load(cls, out_dir: PathLike) -> Manifest:
        """Read ``out_dir/manifest.json``; an unreadable or invalid one raises naming the file."""
        path = Path(out_dir) / MANIFEST
        try:
            return cls.model_validate_json(path.read_bytes())
        except ValidationError as err:
            raise ValueError(f"{path} is not a valid generation manifest ({describe_validation(err)}); the run "
                             "cannot be read or resumed without it: restore it, or generate into a new directory") \
                from None

    def write(self, out_dir: PathLike) -> None:
        """Replace ``out_dir/manifest.json`` atomically."""
        with atomic_path(Path(out_dir) / MANIFEST) as tmp:
            tmp.write_text(self.model_dump_json(indent=1) + "\n", encoding="utf-8", newline="\n")

    def committed(self) -> dict[int, ShardRecord]:
        """Committed shards by index."""
        return {s.index: s for s in self.shards}

    def commit(self, record: ShardRecord) -> None:
        """Record a shard (replacing an earlier record of the same index)."""
        self.shards = sorted([*(s for s in self.shards if s.index != record.index), record], key=lambda s: s.index)
        self._recount()

    def drop(self, index: int) -> None:
        """Forget a shard (its file is missing or corrupt and will be redone)."""
        self.shards = [s for s in self.shards if s.index != index]
        self._recount()

    def _recount(self) -> Manifest:
        self.counts = {
            "shards": self.config.shards,
            "shards_committed": len(self.shards),
            "personas": sum(s.personas[1] - s.personas[0] for s in self.shards),
            "trajectories": sum(s.trajectories for s in self.shards),
            "trajectories_planned": self.config.trajectories,
        }
        self.complete = len(self.shards) == self.config.shards
        return self


# --------------------------------------------------------------------------- public API


def generate(
    out_dir: PathLike,
    *,
    personas: int,
    episodes_per_persona: int = 1,
    env_id: str = "PersonaGym/Chat-v0",
    policy: str = "generic",
    seed: int = 0,
    workers: int = 1,
    shard_size: int = DEFAULT_SHARD_SIZE,
    fmt: Format = "parquet",
    resume: bool = False,
    progress: ProgressCallback | None = None,
    executor: Executor = "local",
    ray_address: str | None = None,
    tally: Tally | None = None,
    backend: str = "template",
    model: str | None = None,
    base_url: str | None = None,
    max_turns: int | None = None,
    value_weights: str = "population",
) -> Manifest:
    """Generate `personas` x `episodes_per_persona` trajectories into shards under `out_dir`.

    `shard_size` counts personas (a persona's episodes stay in one shard, so its
    sessions can be exported together).  Without `resume`, `out_dir` must be
    empty or absent; with it, a run started with the same config is continued:
    committed shards whose checksum matches are kept, the others redone.  The
    config is checked (env id, policy, ranges) before any work starts.
    ``workers > 1`` builds shards in that many spawned processes; the parent
    commits them as they finish (a script that calls this needs the usual
    ``if __name__ == "__main__":`` guard).  `progress` is called with (trajectories
    committed, trajectories planned) at the start and after each commit.

    ``executor="ray"`` builds every shard in a Ray task instead (at most `workers`
    at a time); the parent still commits shards and the manifest, so the files are
    byte-identical to a local run.  It uses the Ray instance this process is
    already connected to, else connects to `ray_address` (a cluster, whose nodes
    must all see `out_dir`), else starts a local instance with `workers` CPUs; it
    shuts down only what it started.  The executor is not part of the config, so
    a run may be resumed with another one.

    With a `tally` (`personagym.data.tally.Tally`), the workers also count what
    they write (the statistics of the dataset card) and each shard's counts are
    merged into it as the shard is committed; `write_card(out_dir, tally=tally)`
    then reads no shard this call wrote.

    `backend`, `model` and `base_url` turn on LLM mode (`personagym.llm.make_backend`):
    each shard's env gets its own backend, so with "local" or "vllm" every
    worker process loads its own engine (one worker is the usual choice), and
    with "openai" the workers share the server.  They are part of the config,
    as is `max_turns` (answers per session; None keeps the env's own limit), and `value_weights` (how the
    persona sampler draws attribute values: "population" or "uniform", `SamplerConfig.value_weights`).

    Raises `GenerationError` if a shard fails or a file cannot be written; the
    manifest then lists exactly the shards that are whole on disk.
    """
    config = _config(env_id=env_id, policy=policy, personas=personas, episodes_per_persona=episodes_per_persona,
                     seed=seed, shard_size=shard_size, format=fmt, backend=backend, model=model, base_url=base_url,
                     max_turns=max_turns, value_weights=value_weights)
    if tally is not None and not isinstance(tally, Tally):
        raise TypeError(f"tally must be a personagym.data.tally.Tally or None, got {type(tally).__name__}")
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}{did_you_mean(str(executor), EXECUTORS)}; "
                         f"expected one of {', '.join(EXECUTORS)}")
    if ray_address is not None and executor != "ray":
        raise ValueError(f"ray_address={ray_address!r} needs executor='ray'")
    ray_module = _import_ray() if executor == "ray" else None
    # a Ray cluster's CPUs are not this machine's: there `workers` bounds the shards in flight, queued by Ray
    local = ray_module is None or (ray_address is None and not ray_module.is_initialized())
    workers = check_workers(workers, local=local)
    _check_runnable(config)
    out = Path(out_dir)
    with _ray_session(executor, ray_address, workers) as ray, writing_in(out):
        manifest = _prepare(out, config, resume)
        todo = [i for i in range(config.shards) if i not in manifest.committed()]
        if progress is not None:
            progress(manifest.counts["trajectories"], config.trajectories)

        def commit(built: BuiltShard) -> None:
            record, counts = built
            manifest.commit(record)
            _write_manifest(manifest, out)
            if tally is not None and counts is not None:
                tally.merge(counts)
            if progress is not None:
                progress(manifest.counts["trajectories"], config.trajectories)

        count = tally is not None
        if ray is None:
            failures = _run_shards(out, config, todo, min(workers, max(len(todo), 1)), commit, count)
        else:
            failures = _run_shards_ray(ray, out, config, todo, workers, commit, count)
    if failures:
        raise GenerationError(
            f"generation in {out} failed: {_failure_report(config, failures)}. "
            f"{manifest.counts['shards_committed']} of {config.shards} "
            f"shards are committed in {MANIFEST}; fix the cause and run again with resume=True")
    return manifest


@contextmanager
def writing_in(out: Path, make: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on the generation directory `out` while the block runs; yield whether it is held.

    With `make`, a missing `out` is made first; without it, a missing one is
    left missing and the block runs unlocked (it fails on its own, naming the
    directory: `personagym stats typo` made a folder ``typo``).

    Two runs writing in one directory at once each kept its own manifest and
    replaced the other's (a run reported success while the manifest on disk
    lacked shards it committed), and a resumed run deleted the other's
    temporary files as strays.  The lock is an `flock` on the directory
    itself, so it adds no file and is released when the process dies, even by
    kill -9.  A filesystem without locks is written without one (and False is
    yielded: a temporary file there may be another process's).
    """
    if make:
        if out.exists() and not out.is_dir():
            raise NotADirectoryError(f"output path {out} exists and is not a directory")
        out.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no flock
        fcntl = None
    if fcntl is None or not out.is_dir():
        yield False
        return
    fd = os.open(out, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = True
        except OSError as err:
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                log.warning("cannot lock %s (%s); writing in it without a lock", out, err.strerror or err)
                locked = False
            else:
                raise DirectoryBusyError(f"{out} is being written by another process (a `generate` run or its "
                                         "card); wait for it to finish, or use another directory") from None
        yield locked
    finally:
        os.close(fd)  # releases the lock


def load_manifest(out_dir: PathLike) -> Manifest:
    """The manifest of a generation directory (raises if there is none)."""
    path = Path(out_dir)
    if not path.exists():
        if path.is_symlink():  # a link loop or a dangling link "did not exist", though the link does
            raise FileNotFoundError(f"{out_dir} is a symbolic link that leads to nothing (a loop, or a missing "
                                    "path); expected a generation directory")
        raise FileNotFoundError(f"{out_dir} does not exist; expected a generation directory")
    if not path.is_dir():
        raise NotADirectoryError(f"{out_dir} is a file, not a generation directory (one `personagym generate` made)")
    if not (path / MANIFEST).is_file():
        raise FileNotFoundError(f"{path / MANIFEST} not found: {out_dir} is not a generation directory")
    return Manifest.load(out_dir)


def read_shard(path: PathLike, fmt: Format, sha256: str | None = None) -> Iterator[Trajectory]:
    """The trajectories of one shard file; with `sha256`, the file is checked against it first."""
    if sha256 is not None:
        _verify_shard(Path(path), sha256)
    return _READERS[fmt](path)


def _verify_shard(path: Path, sha256: str) -> None:
    """Raise unless the file exists with this sha256 (as the manifest recorded it)."""
    if _sha256_or_none(path) != sha256:
        raise ValueError(f"{path} does not match the sha256 in {MANIFEST} (missing or corrupt); "
                         "regenerate it with generate(..., resume=True)")


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where there is one (`taskset`, a container's cpuset),
    which `os.cpu_count` ignores, else the machine's count; at least 1."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def max_workers() -> int:
    """The most local worker processes a run or `dataset_stats` takes: `WORKERS_PER_CPU` per usable CPU."""
    return WORKERS_PER_CPU * usable_cpus()


def check_workers(workers: object, *, local: bool = True, name: str = "workers") -> int:
    """`workers` as an int; ValueError unless it is an int from 1 to `max_workers()` (with `local`; else any positive
    int).

    Refused rather than capped, before any work: a count far above the CPUs is a typo or a misunderstanding, and
    no count changes what is written, only how many processes share the CPUs.  `name` is how the caller's user
    spells the setting (``--workers`` on the command line).
    """
    workers = check_int(name, workers, 1)
    if local and workers > max_workers():
        cpus = usable_cpus()
        raise ValueError(f"{name}: {workers:,} worker processes are too many here; expected 1 to {max_workers()} "
                         f"({WORKERS_PER_CPU} per CPU this process may use, of which there "
                         f"{'is 1' if cpus == 1 else f'are {cpus}'}): more processes only share the CPUs")
    return workers


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """`workers` spawned processes that exit when this process dies (callers need the ``__main__`` guard)."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_exit_with_parent, initargs=(os.getpid(),))


def shard_paths(out_dir: PathLike, *, allow_incomplete: bool = False, verify: bool = True) -> list[Path]:
    """Paths of the committed shards in shard order, checked against their sha256.

    An incomplete run raises (naming the missing shards) unless `allow_incomplete`;
    a shard whose bytes no longer match the manifest always raises.
    """
    shards = _committed_shards(Path(out_dir), load_manifest(out_dir), allow_incomplete)
    if verify:
        for path, sha256 in shards:
            _verify_shard(path, sha256)
    return [path for path, _ in shards]


def read_generated(out_dir: PathLike, *, allow_incomplete: bool = False) -> Iterator[Trajectory]:
    """Every trajectory of a generation directory, shard by shard, in persona and episode order.

    Each shard is checked against its sha256 just before it is read, so the
    first trajectory comes after one shard's hash rather than the whole run's
    (about 40 s at 1M trajectories); a damaged shard raises when it is reached.
    An incomplete run raises before the first trajectory, as `shard_paths` does.
    """
    manifest = load_manifest(out_dir)
    reader = _READERS[manifest.config.format]
    for path, sha256 in _committed_shards(Path(out_dir), manifest, allow_incomplete):
        _verify_shard(path, sha256)
        yield from reader(path)


def _committed_shards(out: Path, manifest: Manifest, allow_incomplete: bool) -> list[tuple[Path, str]]:
    """(path, sha256) of each committed shard in shard order; raises for an incomplete run unless allowed."""
    committed = manifest.committed()
    if not manifest.complete and not allow_incomplete:
        missing = [i for i in range(manifest.config.shards) if i not in committed]
        raise ValueError(f"{out} is incomplete: shards {_span(missing)} of {manifest.config.shards} are not "
                         f"committed; finish it with generate(..., resume=True) or pass allow_incomplete=True")
    return [(out / record.file, record.sha256) for record in committed.values()]


# --------------------------------------------------------------------------- preparation


def _config(**values: Any) -> GenerateConfig:
    try:
        return GenerateConfig(**values)
    except ValidationError as exc:
        def name(e: Any) -> str:
            return "fmt" if e["loc"][0] == "format" else str(e["loc"][0])

        # a missing field's "input" is the whole config: name the field alone; an error of the whole config
        # (no loc, as `GenerateConfig._bounded` raises) names its fields itself
        problems = "; ".join(f"{name(e)}: required" if e["type"] == "missing" else
                             str(e["msg"]).removeprefix("Value error, ") if not e["loc"] else
                             f"{name(e)}={e.get('input')!r}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"invalid generation config: {problems}") from None


def _check_runnable(config: GenerateConfig) -> None:
    """Build the env and a policy once, so a bad id or policy fails before any file is written."""
    if config.format == "parquet":
        check_installed("pyarrow", "parquet", "fmt='parquet'", " (or use fmt='jsonl')")
    check_backend_args(config.backend, model=config.model, base_url=config.base_url)
    env = make_env(config.env_id, **config.template_kwargs)  # no engine is started to check the names
    try:
        if not hasattr(env.unwrapped, "sampler"):
            raise ValueError(f"env_id {config.env_id!r} has no persona sampler (it is not a text chat env); generate() "
                             "needs one, such as PersonaGym/Chat-v0 or PersonaGym/LongTerm-v0")
        if config.backend == "template" or config.policy not in LLM_POLICIES:
            make_policy(config.policy, env=env, seed=0)
    finally:
        env.close()


def remove_stray_temporaries(out: Path, pattern: re.Pattern[str] = _TEMP_FILE) -> None:
    """Remove the temporary files matching `pattern` that a killed write left in the generation directory `out`
    and its plots folder.  Call it only under the directory's lock (`writing_in`), or where no other process can
    write there, so that none of them is another process's."""
    for folder in (out, out / PLOTS_DIR):
        if not folder.is_dir():
            continue
        for stray in folder.iterdir():
            if pattern.match(stray.name):
                log.info("removing stray temporary file %s", stray)
                stray.unlink(missing_ok=True)


def _prepare(out: Path, config: GenerateConfig, resume: bool) -> Manifest:
    """Create or check `out` and return the manifest the run continues from (written to disk)."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"output path {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    if resume:  # what a killed run was writing: a shard, the manifest, the card or its plots (in card/)
        remove_stray_temporaries(out)
    entries = sorted(p.name for p in out.iterdir())
    if not resume and entries:
        # "pass resume=True" only where there is a run to resume: without a manifest, resuming is refused too
        what = ("pass resume=True to continue the run there, or choose an empty directory"
                if (out / MANIFEST).exists() else
                f"it holds no {MANIFEST}, so no run to resume: choose an empty directory")
        many = "entry" if len(entries) == 1 else "entries"
        raise FileExistsError(f"output directory {out} is not empty ({len(entries)} {many}, e.g. {entries[0]!r}); "
                              f"{what}")
    if not (out / MANIFEST).exists():
        if entries:
            raise FileExistsError(f"cannot resume in {out}: it has no {MANIFEST} but holds {entries[:3]}; "
                                  "choose an empty directory")
        manifest = Manifest.new(config)
    else:
        manifest = Manifest.load(out)
        _check_same_run(manifest, config, out)
        for record in manifest.shards:
            if _sha256_or_none(out / record.file) != record.sha256:
                log.warning("shard %d (%s) is missing or does not match its sha256; redoing it",
                            record.index, record.file)
                manifest.drop(record.index)
        _check_same_env(manifest, config, out)
    _write_manifest(manifest, out)
    return manifest


#: Env config keys `_check_same_env` leaves out: set by how an episode is run, or describing an LLM engine.
_RUN_KEYS = ("persona_given", "llm")


def _check_same_env(manifest: Manifest, config: GenerateConfig, out: Path) -> None:
    """Refuse to resume when the env would now record another config than the committed shards' trajectories.

    The config hash and the package version miss a change of the env's defaults (the persona sampler's
    value_weights became "population" within 0.1.0): a run started before it and resumed after mixed
    uniform and population personas under one manifest.  The first trajectory of the first committed shard
    is compared with a fresh env's `config()`.
    """
    if not manifest.shards:
        return
    record = manifest.shards[0]
    first = next(iter(_READERS[config.format](out / record.file)), None)
    if first is None:
        return
    env = make_env(config.env_id, **config.template_kwargs)
    try:
        if not callable(getattr(env.unwrapped, "config", None)):
            return
        now = {k: v for k, v in env.unwrapped.config().items() if k not in _RUN_KEYS}
    finally:
        env.close()
    before = {k: v for k, v in first.config.items() if k not in _RUN_KEYS}
    if before != now:
        diffs = sorted(_config_diffs(before, now))
        raise ValueError(f"cannot resume in {out}: its trajectories were made with another env config than this "
                         f"personagym's ({'; '.join(diffs[:4])}{'; ...' if len(diffs) > 4 else ''}); the new shards "
                         "would not match the old ones — generate into a new directory")


def _config_diffs(before: Any, now: Any, path: str = "") -> list[str]:
    """'sampler.value_weights: absent there, 'population' now' for each leaf that differs."""
    if isinstance(before, dict) and isinstance(now, dict):
        return [d for k in sorted(set(before) | set(now), key=str)
                for d in _config_diffs(before.get(k, _ABSENT), now.get(k, _ABSENT), f"{path}.{k}" if path else k)]
    if before == now:
        return []
    show = lambda v: "absent" if v is _ABSENT else repr(v)  # noqa: E731
    return [f"{path}: {show(before)} there, {show(now)} now"]


_ABSENT = object()


def _check_same_run(manifest: Manifest, config: GenerateConfig, out: Path) -> None:
    """Refuse to resume a run made with another config or package version, naming the differences."""
    if manifest.config_hash != config.digest():
        before, now = manifest.config.model_dump(), config.model_dump()
        diffs = ", ".join(f"{'fmt' if k == 'format' else k}={before[k]!r} there, {now[k]!r} now"
                          for k in now if before[k] != now[k])
        raise ValueError(f"cannot resume in {out}: it was generated with a different config ({diffs}); "
                         "use the same settings or an empty directory")
    if manifest.personagym_version != __version__:
        raise ValueError(f"cannot resume in {out}: it was generated by personagym {manifest.personagym_version}, "
                         f"this is {__version__}; the shards would not match — use that version or a new directory")
    if manifest.code_digest is not None and manifest.code_digest != code_digest():
        raise ValueError(f"cannot resume in {out}: it was generated by other code of personagym {__version__} (code "
                         f"digest {manifest.code_digest} there, {code_digest()} now); the shards would not match "
                         "— use that code or a new directory")


def _write_manifest(manifest: Manifest, out: Path) -> None:
    try:
        manifest.write(out)
    except OSError as err:
        raise GenerationError(f"cannot write {out / MANIFEST}: {err.strerror or err}; the previous manifest and "
                              "its shards are intact — fix the cause and run again with resume=True") from err


# --------------------------------------------------------------------------- running shards


def _run_shards(out: Path, config: GenerateConfig, todo: list[int], workers: int,
                commit: Callable[[BuiltShard], None], count: bool) -> dict[int, str]:
    """Build the shards in `todo`, committing each as it finishes; return {shard: error} of failures.

    After the first failure no new shard starts; shards already running finish
    and are committed.  A failure to write the manifest propagates at once.
    """
    failures: dict[int, str] = {}
    if workers == 1:
        with _noting_interrupts() as interrupted:
            for index in todo:
                try:
                    built = _build_shard(os.fspath(out), index, config.model_dump(), count)
                except Exception as err:  # reported by shard, like a worker's failure
                    if interrupted:  # Ctrl-C inside a pydantic serializer comes out as its error
                        raise KeyboardInterrupt from err
                    return {index: f"{type(err).__name__}: {err}"}
                commit(built)
        return failures
    out_dir, cfg = os.fspath(out), config.model_dump()
    pending, running = list(reversed(todo)), dict[Future[BuiltShard], int]()
    pool = worker_pool(workers)
    try:
        while pending or running:
            # a bounded window: a finished future holds its shard's counts until committed, and
            # a parent slower than its workers would otherwise hold every finished shard at once
            while pending and not failures and len(running) < IN_FLIGHT_PER_WORKER * workers:
                index = pending.pop()
                try:
                    running[pool.submit(_build_shard, out_dir, index, cfg, count)] = index
                except BrokenProcessPool:  # a worker died after the last wait: its futures fail next
                    failures[index] = WORKER_DIED
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=running.__getitem__):
                index = running.pop(future)
                try:
                    built = future.result()
                except Exception as err:  # a failure inside a worker, or a dead worker (fails every running shard)
                    died = isinstance(err, BrokenProcessPool)
                    failures[index] = WORKER_DIED if died else f"{type(err).__name__}: {err}"
                    continue
                commit(built)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return failures


@contextmanager
def _noting_interrupts() -> Iterator[list[bool]]:
    """A list that holds True once Ctrl-C was pressed in this block (SIGINT then acts as before).

    Pydantic turns a KeyboardInterrupt raised inside its serializer into a
    `PydanticSerializationError`: without this, an interrupted generation was
    now and then reported as a failed shard (exit 1) instead of as
    interrupted.  Outside the main thread, where no handler can be set, the
    list stays empty.
    """
    noted: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    previous = signal.getsignal(signal.SIGINT)

    def note(signum: int, frame: Any) -> None:
        if previous == signal.SIG_IGN:
            return
        noted.append(True)
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


def _failure_report(config: GenerateConfig, failures: dict[int, str]) -> str:
    """The failed shards grouped by error, each error once (a dead worker fails every pending shard alike)."""
    groups: dict[str, list[int]] = {}
    for index, err in sorted(failures.items()):
        groups.setdefault(err, []).append(index)
    parts = []
    for err, indices in groups.items():
        a, b = config.persona_range(indices[0])
        first = f"shard {indices[0]} (personas {a}-{b - 1}, {config.shard_file(indices[0])})"
        where = first if len(indices) == 1 else f"{len(indices)} shards ({_span(indices)}; the first is {first})"
        parts.append(f"{where}: {err}")
    return "; ".join(parts)


def _import_ray() -> Any:
    """Ray, imported on first use (it is optional and slow to import)."""
    return require_module("ray", "ray", "executor='ray'")


def _check_answers(address: str, timeout: float = 10.0) -> None:
    """Fail fast unless something accepts a TCP connection at a ``host:port`` Ray address.

    Against an address where nothing listens, `ray.init` retries for many
    minutes and ignores Ctrl-C.  Other forms ("auto", "local") are left to Ray.
    """
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise GenerationError(f"cannot connect to the Ray cluster at {address!r}: nothing answers at "
                              f"{host}:{port} ({err.strerror or type(err).__name__})") from err


@contextmanager
def _ray_session(executor: str, address: str | None, workers: int) -> Iterator[Any]:
    """Yield the ray module, connected, for executor "ray" (else None); shut down only what was started here."""
    if executor != "ray":
        yield None
        return
    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        if address is not None:
            _check_answers(address)
        try:
            if address is not None:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        except Exception as err:
            where = f"connect to the Ray cluster at {address!r}" if address else "start a local Ray instance"
            raise GenerationError(f"cannot {where}: {type(err).__name__}: {err}") from err
    elif address is not None:
        log.warning("Ray is already initialized in this process; using that instance, not %r", address)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def _run_shards_ray(ray: Any, out: Path, config: GenerateConfig, todo: list[int], workers: int,
                    commit: Callable[[BuiltShard], None], count: bool) -> dict[int, str]:
    """`_run_shards` with Ray tasks: at most `workers` shards in flight, each committed by this process.

    After the first failure no new shard starts; shards already running finish and
    are committed.  A shard file the driver cannot see (no storage shared with the
    node that wrote it) counts as a failure.
    """
    build = ray.remote(_build_shard)
    out_dir, cfg = os.fspath(out.resolve()), config.model_dump()
    pending, running, failures = list(reversed(todo)), {}, {}
    while pending or running:
        while pending and not failures and len(running) < workers:
            index = pending.pop()
            running[build.remote(out_dir, index, cfg, count)] = index
        if not running:
            break
        [done], _ = ray.wait(list(running), num_returns=1)
        index = running.pop(done)
        try:
            built = ray.get(done)
        except Exception as err:  # a task's exception (RayTaskError wraps it) or a lost worker / node
            cause = getattr(err, "cause", None)
            cause = cause if isinstance(cause, BaseException) else err
            failures[index] = f"{type(cause).__name__}: {cause}"
            continue
        record = built[0]
        if _sha256_or_none(out / record.file) != record.sha256:
            failures[index] = (f"{out / record.file} written by a Ray worker is missing or differs here; "
                               "out_dir must be on storage shared by every Ray node")
            continue
        commit(built)
    return failures


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: exit once the parent is gone.

    A killed parent cannot stop its pool, and the workers would otherwise wait on
    the task queue forever.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _build_shard(out_dir: str, index: int, config: dict[str, Any], count: bool = False) -> BuiltShard:
    """Generate and write shard `index` of a run (a top-level function, so spawned workers can run it).

    One env and one policy serve the whole shard.  Returns the shard's manifest
    record and, if `count`, the `Tally` of its trajectories.  Raises
    `EpisodeError` naming the episode that failed, or `GenerationError` naming
    the file that could not be written; the shard file is then left as it was.
    """
    cfg = GenerateConfig(**config)
    start, stop = cfg.persona_range(index)
    path = Path(out_dir) / cfg.shard_file(index)
    env = make_env(cfg.env_id, **cfg.env_kwargs)
    tally = Tally.of_shard(index, cfg.digest()) if count else None
    try:
        seed = policy_seed(cfg.seed, index)
        agent = make_policy(cfg.policy, env=env, seed=seed)
        episodes = _episodes(env, agent, cfg, start, stop)
        if tally is not None:
            unwrapped = env.unwrapped
            episodes = tally.counting(episodes, unwrapped.taxonomy, node_valued_attributes(unwrapped.schema))
        try:
            written = _WRITERS[cfg.format](episodes, path)
            digest, size = _sha256(path), path.stat().st_size
        except OSError as err:
            raise GenerationError(f"cannot write {path}: {err.strerror or err}") from err
    finally:
        env.close()
    return ShardRecord(index=index, file=path.name, personas=(start, stop), trajectories=written, bytes=size,
                       sha256=digest, policy_seed=seed), tally


def _episodes(env: gym.Env, agent: Policy, cfg: GenerateConfig, start: int, stop: int) -> Iterator[Trajectory]:
    """The trajectories of personas [start, stop), each persona fixed across its episodes."""
    sampler = env.unwrapped.sampler
    for k in range(start, stop):
        persona: Persona | None = None
        for j in range(cfg.episodes_per_persona):
            seed = episode_seed(cfg.seed, k, j)
            try:
                if persona is None:
                    persona = sampler.sample(persona_seed(cfg.seed, k))
                trajectory = run_episode(env, agent, seed, cfg.policy, options={"persona": persona})
            except Exception as err:
                raise EpisodeError(f"persona {k} episode {j} (seed {seed}): {type(err).__name__}: {err}") from err
            yield trajectory


# --------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_or_none(path: Path) -> str | None:
    try:
        return _sha256(path)
    except FileNotFoundError:
        return None


def _span(indices: list[int]) -> str:
    """'0-3, 7' for [0, 1, 2, 3, 7]."""
    parts, i = [], 0
    while i < len(indices):
        j = i
        while j + 1 < len(indices) and indices[j + 1] == indices[j] + 1:
            j += 1
        parts.append(str(indices[i]) if i == j else f"{indices[i]}-{indices[j]}")
        i = j + 1
    return ", ".join(parts)
