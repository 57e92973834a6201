"""Run the GRPO data loop (`personagym.learn.grpo`) with an LLM policy and write the batch in TRL's format.

    .venv/bin/python scripts/train_grpo.py                       # in-process vLLM on the embedded model
    .venv/bin/python scripts/train_grpo.py --backend openai --base-url http://127.0.0.1:8000/v1 --model NAME

Each iteration samples ``--group-size`` answers for each of ``--prompts`` envs in one batched call,
scores every answer with the env's exact reward, normalises advantages per group, appends the rows to
``--out`` (JSON lines, TRL's conversational prompt/completion plus reward and advantage) and moves every
env on along its best answer.  No gradient step is taken (see docs/training.md for what a GPU run adds).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import cast

import gymnasium as gym

import personagym  # noqa: F401 - registers the env ids
from personagym.envs.chat import PersonaChatEnv
from personagym.learn.grpo import ADVANCE_MODES, GRPOConfig, GRPOLoop, write_jsonl
from personagym.llm.registry import make_backend
from personagym.llm.runner import LoopRunner
from personagym.llm.types import LLMBackend


def parse_args() -> argparse.Namespace:
    """Command-line options (the defaults are the documented CPU run)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=("local", "vllm", "openai"), default="local", help="where the policy runs")
    p.add_argument("--model", help="model folder (vllm), served model name (openai), embedded model name (local)")
    p.add_argument("--base-url", help="the OpenAI-compatible server (openai), e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--env-id", default="PersonaGym/Chat-v0", help="a text env id (a PersonaChatEnv)")
    p.add_argument("--iterations", type=int, default=2)
    p.add_argument("--prompts", type=int, default=4, help="envs (prompts) per iteration")
    p.add_argument("--group-size", type=int, default=4, help="answers sampled per prompt (G)")
    p.add_argument("--max-tokens", type=int, default=96)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--advance", choices=ADVANCE_MODES, default="best", help="which answer moves an env on")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("out/grpo_batch.jsonl"))
    args = p.parse_args()
    for name in ("iterations", "prompts"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    try:  # the loop's own checks (names as in GRPOConfig), before an engine is started
        args.config = GRPOConfig(group_size=args.group_size, temperature=args.temperature,
                                 max_tokens=args.max_tokens, advance=args.advance, seed=args.seed)
    except ValueError as exc:
        p.error(str(exc))
    return args


def make_envs(env_id: str, n: int) -> list[PersonaChatEnv]:
    """``n`` template-mode text envs of ``env_id`` (unwrapped: the loop copies them to score answers)."""
    envs = [gym.make(env_id).unwrapped for _ in range(n)]
    if not isinstance(envs[0], PersonaChatEnv):
        raise ValueError(f"--env-id {env_id!r} is not a text env (PersonaChatEnv); try PersonaGym/Chat-v0")
    return envs  # type: ignore[return-value]


def start_engine(backend: LLMBackend) -> float:
    """Start an in-process engine now, so its start-up is not counted as generation time; seconds taken."""
    started = time.perf_counter()
    start = getattr(backend, "start", None)
    if callable(start):
        start()
    return time.perf_counter() - started


def main() -> None:
    """Build the backend and envs, run the iterations, write the rows and print per-iteration figures."""
    args = parse_args()
    envs = make_envs(args.env_id, args.prompts)
    # only the "template" kind (not among the choices) makes no backend
    backend = cast(LLMBackend, make_backend(args.backend, model=args.model, base_url=args.base_url))
    runner = LoopRunner()
    try:
        print(f"{args.backend} backend {backend.model!r}: engine ready in {start_engine(backend):.1f}s")
        loop = GRPOLoop(backend, envs, args.config, runner=runner)
        args.out.unlink(missing_ok=True)
        rows, tokens, seconds = 0, 0, 0.0
        for _ in range(args.iterations):
            batch = loop.step()
            write_jsonl(batch.rows, args.out, append=True)
            s = batch.summary()
            rows, tokens, seconds = rows + len(batch.rows), tokens + batch.completion_tokens, seconds + batch.seconds
            print(f"iteration {batch.iteration}: {len(batch.rows)} rows, reward {s['reward_mean']:+.3f} "
                  f"± {s['reward_std']:.3f}, advantage {s['advantage_mean']:+.2e} ± {s['advantage_std']:.3f}, "
                  f"{batch.flat_groups}/{args.prompts} flat groups, {batch.truncated} cut at max_tokens, "
                  f"{batch.failed} failed; {batch.completion_tokens} tokens in {batch.generate_seconds:.1f}s "
                  f"({batch.tokens_per_second:.0f} tok/s), iteration {batch.seconds:.1f}s")
        print(f"wrote {rows} rows to {args.out}; {tokens} completion tokens in {seconds:.1f}s of iterations")
    finally:
        runner.run(backend.aclose())
        runner.close()


if __name__ == "__main__":
    main()
