"""Run the GRPO data loop (`personagym.learn.grpo`) with an LLM policy and write the batch in TRL's format.

    .venv/bin/python scripts/train_grpo.py                       # in-process vLLM on the embedded model
    .venv/bin/python scripts/train_grpo.py --backend openai --base-url http://127.0.0.1:8000/v1 --model NAME

Each iteration samples ``--group-size`` answers for each of ``--prompts`` envs in one batched call,
scores every answer with the env's exact reward, normalises advantages per group, appends the rows to
``--out`` (JSON lines, TRL's conversational prompt/completion plus reward and advantage) and moves every
env on along its best answer.  No gradient step is taken: scripts/train_grpo_torch.py trains the embedded
model on a CPU, and docs/training.md says what a GPU run adds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import cast

import personagym  # noqa: F401 - registers the env ids
from personagym.checks import check_int
from personagym.envs.chat import PersonaChatEnv
from personagym.learn.grpo import ADVANCE_MODES, GRPOConfig, GRPOLoop, make_text_env, write_jsonl
from personagym.llm.registry import COMMAND_LINE_NAMES, check_backend_args, make_backend
from personagym.llm.runner import LoopRunner
from personagym.llm.types import LLMBackend


def parse_args() -> argparse.Namespace:
    """Command-line options (the defaults are the documented CPU run)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--backend", choices=("local", "vllm", "openai"), default="local", help="where the policy runs")
    p.add_argument("--model", help="model folder (vllm), served model name (openai), embedded model name (local)")
    p.add_argument("--base-url", help="the OpenAI-compatible server (openai), e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--env-id", default="PersonaGym/Chat-v0", help="a text env id (a PersonaChatEnv)")
    p.add_argument("--iterations", type=int, default=2, help="sampling rounds, each a batch of rows")
    p.add_argument("--prompts", type=int, default=4, help="envs (prompts) per iteration")
    p.add_argument("--group-size", type=int, default=4, help="answers sampled per prompt (G)")
    p.add_argument("--max-tokens", type=int, default=96, help="tokens per sampled answer at most")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    p.add_argument("--advance", choices=ADVANCE_MODES, default="best", help="which answer moves an env on")
    p.add_argument("--seed", type=int, default=0, help="seed of the envs' episodes and of sampling")
    p.add_argument("--out", type=Path, default=Path("out/grpo_batch.jsonl"), help="the rows, as JSON lines")
    args = p.parse_args()
    try:  # the loop's, the env's and the backend's own checks (its packages too), before an engine is started
        check_int("--iterations", args.iterations, 1)
        check_int("--prompts", args.prompts, 1)
        args.config = GRPOConfig(group_size=args.group_size, temperature=args.temperature,
                                 max_tokens=args.max_tokens, advance=args.advance, seed=args.seed)
        check_backend_args(args.backend, model=args.model, base_url=args.base_url, names=COMMAND_LINE_NAMES)
        make_envs(args.env_id, 1)
    except (ValueError, ImportError) as exc:
        p.error(str(exc))
    if args.out.is_dir():
        p.error(f"--out {str(args.out)!r} is a directory; name a JSON-lines file")
    return args


def make_envs(env_id: str, n: int) -> list[PersonaChatEnv]:
    """``n`` template-mode text envs of ``env_id`` (unwrapped: the loop copies them to score answers)."""
    return [make_text_env(env_id, "--env-id") for _ in range(n)]


def start_engine(backend: LLMBackend) -> float:
    """Start an in-process engine now, so its start-up is not counted as generation time; seconds taken."""
    started = time.perf_counter()
    start = getattr(backend, "start", None)
    if callable(start):
        start()
    return time.perf_counter() - started


def main() -> None:
    """Build the backend and envs, run the iterations, write the rows and print per-iteration figures.

    The rows are written at the end, in one atomic write: a run that fails
    leaves the file at ``--out`` as it was, and a run in which every request
    failed writes nothing and exits with status 1.
    """
    args = parse_args()
    envs = make_envs(args.env_id, args.prompts)
    # only the "template" kind (not among the choices) makes no backend
    backend = cast(LLMBackend, make_backend(args.backend, model=args.model, base_url=args.base_url))
    runner = LoopRunner()
    try:
        print(f"{args.backend} backend {backend.model!r}: engine ready in {start_engine(backend):.1f}s")
        loop = GRPOLoop(backend, envs, args.config, runner=runner)
        rows: list[dict] = []
        tokens, seconds, failed = 0, 0.0, 0
        for _ in range(args.iterations):
            batch = loop.step()
            rows += batch.rows
            tokens, seconds, failed = tokens + batch.completion_tokens, seconds + batch.seconds, failed + batch.failed
            if not batch.rows:
                print(f"iteration {batch.iteration}: every one of the {batch.failed} requests failed")
                continue
            s = batch.summary()
            print(f"iteration {batch.iteration}: {len(batch.rows)} rows, reward {s['reward_mean']:+.3f} "
                  f"± {s['reward_std']:.3f}, advantage {s['advantage_mean']:+.2e} ± {s['advantage_std']:.3f}, "
                  f"{batch.flat_groups}/{args.prompts} flat groups, {batch.truncated} cut at max_tokens, "
                  f"{batch.failed} failed; {batch.completion_tokens} tokens in {batch.generate_seconds:.1f}s "
                  f"({batch.tokens_per_second:.0f} tok/s), iteration {batch.seconds:.1f}s")
        if not rows:
            sys.exit(f"error: every one of the {failed} requests failed (see the errors above); "
                     f"{args.out} was not written")
        write_jsonl(rows, args.out)
        print(f"wrote {len(rows)} rows to {args.out}; {tokens} completion tokens in {seconds:.1f}s of iterations")
    finally:
        runner.run(backend.aclose())
        runner.close()


if __name__ == "__main__":
    main()
