"""Train the embedded SmolLM2-135M with GRPO on PersonaGym's exact rewards, on a CPU, and measure it on held-out users.

    .venv/bin/python scripts/train_grpo_torch.py             # the documented run (docs/training.md), ~20 min

Each iteration samples ``--group-size`` answers for each of ``--prompts`` envs from the model as it is
(`personagym.learn.grpo_torch.TorchPolicy`), scores them with the env's reward, normalises advantages per
group and takes one AdamW step on GRPO's loss (`GRPOTrainer`).  Before and after training, the model's
greedy answer to the first message of each of ``--eval-episodes`` held-out users is scored the same way
(`evaluate_first_answers`): the same users both times, so the difference is paired.  The whole episodes of
the first ``--whole-episodes`` of them are scored too (`evaluate_episodes`), before and after, beside the
built-in ``generic``, ``popular`` and ``tracker`` policies on the same users.  Writes
``<out>/grpo_torch_curve.csv`` (per iteration: batch reward, loss, gradient norm, groups without signal),
``<out>/grpo_torch_curve.png`` and ``<out>/grpo_torch_summary.json``, and ``--rows`` (the sampled rows in
TRL's format, as scripts/train_grpo.py writes them) and ``--save`` (the trained model, a Hugging Face folder
that vLLM serves: ``personagym rollout --backend vllm --model DIR --policy llm``) if given.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import Any

import numpy as np

import personagym  # noqa: F401 - registers the env ids
from personagym.checks import check_int, check_number
from personagym.eval.script_args import mean_line, saved_figure, write_summary
from personagym.learn.grpo import GRPOConfig, make_text_env, write_jsonl
from personagym.learn.grpo_torch import (
    EpisodeScores,
    GRPOTrainer,
    TorchPolicy,
    TrainConfig,
    check_save_folder,
    check_torch_installed,
    evaluate_episodes,
    evaluate_first_answers,
)
from personagym.learn.reinforce import EVAL_SEED0, mean_ci
from personagym.llm.local import ModelNotPreparedError, resolve_local_model
from personagym.rollout import rollout

#: Built-in policies whose whole held-out episodes are scored beside the model's.
BASELINES = ("generic", "popular", "tracker")


def parse_args() -> argparse.Namespace:
    """Command-line options (the defaults are the documented run); every value is checked before the model loads."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", type=Path, help="a Hugging Face model folder (default: the embedded SmolLM2, prepared)")
    p.add_argument("--env-id", default="PersonaGym/Chat-v0", help="a text env id (a PersonaChatEnv)")
    p.add_argument("--iterations", type=int, default=40, help="gradient steps, one per sampled batch")
    p.add_argument("--prompts", type=int, default=4, help="envs (prompts) per iteration")
    p.add_argument("--group-size", type=int, default=8, help="answers sampled per prompt (G)")
    p.add_argument("--max-tokens", type=int, default=64, help="tokens per answer at most")
    p.add_argument("--temperature", type=float, default=0.7, help="sampling temperature of the training answers")
    p.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling of the training answers")
    p.add_argument("--history-turns", type=int, default=1, help="past exchanges in each prompt")
    p.add_argument("--learning-rate", type=float, default=5e-5, help="AdamW learning rate")
    p.add_argument("--eval-episodes", type=int, default=128, help="held-out users scored before and after")
    p.add_argument("--whole-episodes", type=int,
                   help="held-out users whose whole episodes are scored before and after (0: none; default: 64, "
                        "or --eval-episodes if fewer)")
    p.add_argument("--seed", type=int, default=0, help="seed of the training episodes and of sampling")
    p.add_argument("--out", type=Path, default=Path("docs/figures"), help="where the CSV, PNG and JSON go")
    p.add_argument("--rows", type=Path, help="also write every sampled row (JSON lines, TRL's format) here")
    p.add_argument("--save", type=Path, help="also save the trained model here (a Hugging Face model folder)")
    args = p.parse_args()
    try:
        check_int("--iterations", args.iterations, 1)
        check_int("--prompts", args.prompts, 1)
        check_int("--eval-episodes", args.eval_episodes, 2, why=" (a 95% CI needs two episodes)")
        if args.whole_episodes is None:
            args.whole_episodes = min(64, args.eval_episodes)
        if args.whole_episodes:
            check_int("--whole-episodes", args.whole_episodes, 2, args.eval_episodes,
                      why=" (0, or a 95% CI's two episodes up to --eval-episodes: the same held-out users)")
        args.grpo = GRPOConfig(group_size=args.group_size, max_tokens=args.max_tokens, temperature=args.temperature,
                               top_p=args.top_p, history_turns=args.history_turns, seed=args.seed)
        args.train = TrainConfig(learning_rate=check_number("--learning-rate", args.learning_rate, 0.0, 1.0,
                                                            low_open=True))
        make_text_env(args.env_id, "--env-id")
        args.model = args.model or resolve_local_model()
    except ModelNotPreparedError as exc:
        p.error(f"{exc} (or give --model)")
    except ValueError as exc:
        p.error(str(exc))
    if not (args.model / "config.json").is_file():
        p.error(f"--model {str(args.model)!r} is not a Hugging Face model folder (no config.json)")
    if args.rows is not None and args.rows.is_dir():
        p.error(f"--rows {str(args.rows)!r} is a directory; name a JSON-lines file")
    if args.save is not None:
        try:
            check_save_folder(args.save, "--save")
        except FileExistsError as exc:
            p.error(str(exc))
    try:  # last, so a run without torch still has its arguments checked; before `main` would fail importing it
        check_torch_installed("Training the model")
    except ImportError as exc:
        p.error(str(exc))
    return args


def plot(curve: np.ndarray, before: tuple[float, float], after: tuple[float, float], model: str, path: Path) -> None:
    """The batches' mean reward (and a moving mean), with the held-out greedy reward before and after training."""
    with saved_figure(path, title=f"GRPO on {model}, CPU: reward of the first answers",
                      xlabel="iteration (one AdamW step each)", ylabel="reward of an answer", fontsize=7,
                      loc="lower right") as ax:
        ax.plot(curve[:, 0], curve[:, 1], lw=0.7, alpha=0.45, color="C0", label="batch mean reward (sampled answers)")
        window = np.ones(min(10, len(curve))) / min(10, len(curve))
        if len(curve) >= len(window):
            ax.plot(curve[len(window) - 1:, 0], np.convolve(curve[:, 1], window, mode="valid"), lw=2, color="C0",
                    label=f"moving mean of {len(window)} batches")
        for (m, ci), color, name in ((before, "k", "before training"), (after, "C2", "after training")):
            mean_line(ax, m, ci, color, f"{name}, greedy: {m:.3f} ± {ci:.3f} (held-out)")


def compare_episodes(before: EpisodeScores, after: EpisodeScores, env_id: str, seeds: range) -> dict[str, Any]:
    """Whole held-out episodes before and after training (mean and 95% CI of the return, the paired gain, the
    mean length) with the `BASELINES` on the same users (episode i of a rollout is reset with seed + i)."""
    return {"episodes": len(seeds), "before": mean_ci(before.returns), "after": mean_ci(after.returns),
            "paired_gain": mean_ci(after.returns - before.returns),
            "turns_before": float(before.turns.mean()), "turns_after": float(after.turns.mean()),
            **{name: mean_ci(np.array([trajectory.total_reward
                                       for trajectory in rollout(env_id, name, episodes=len(seeds), seed=seeds.start)]))
               for name in BASELINES}}


def main() -> None:
    """Evaluate, train, evaluate again; save the curve and the summary and print the comparison."""
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    policy = TorchPolicy(args.model)
    scorer = make_text_env(args.env_id, "--env-id")
    eval_seeds = range(EVAL_SEED0, EVAL_SEED0 + args.eval_episodes)
    before = evaluate_first_answers(policy, scorer, eval_seeds, max_tokens=args.max_tokens)
    print(f"before training: held-out reward {before.mean():+.3f} ({len(before)} first answers, greedy)")
    whole = eval_seeds[:args.whole_episodes]
    episodes_before = evaluate_episodes(policy, scorer, whole, max_tokens=args.max_tokens,
                                        history_turns=args.history_turns) if whole else None
    if episodes_before is not None:
        print(f"before training: held-out return {episodes_before.returns.mean():+.3f} ({len(whole)} whole episodes)")
    trainer = GRPOTrainer(policy, [make_text_env(args.env_id, "--env-id") for _ in range(args.prompts)], args.grpo,
                          args.train)
    curve, rows, steps = [], [], 0
    for _ in range(args.iterations):
        step = trainer.step()
        s = step.summary()
        steps += step.updated
        rows += step.batch.rows
        curve.append((step.batch.iteration, s["reward_mean"], s["loss"], s["grad_norm"], step.batch.flat_groups))
        print(f"iteration {step.batch.iteration}: reward {s['reward_mean']:+.3f} ± {s['reward_std']:.3f}, "
              f"loss {s['loss']:+.4f}, grad norm {s['grad_norm']:.2f}, {step.batch.flat_groups}/{args.prompts} "
              f"flat groups, {step.seconds:.1f}s", flush=True)
    after = evaluate_first_answers(policy, scorer, eval_seeds, max_tokens=args.max_tokens)
    episodes = {} if episodes_before is None else compare_episodes(
        episodes_before, evaluate_episodes(policy, scorer, whole, max_tokens=args.max_tokens,
                                           history_turns=args.history_turns), args.env_id, whole)
    gain = mean_ci(after - before)
    table = np.array(curve, dtype=np.float64)
    with (args.out / "grpo_torch_curve.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["iteration", "batch_mean_reward", "loss", "grad_norm", "flat_groups"])
        writer.writerows([int(i), round(r, 6), round(loss, 6), round(norm, 6), int(flat)]
                         for i, r, loss, norm, flat in curve)
    plot(table, mean_ci(before), mean_ci(after), args.model.name, args.out / "grpo_torch_curve.png")
    summary = {
        "env_id": args.env_id, "model": args.model.name, "iterations": args.iterations, "gradient_steps": steps,
        "answers_sampled": len(rows), "prompts": args.prompts, "group_size": args.group_size,
        "max_tokens": args.max_tokens, "temperature": args.temperature, "top_p": args.top_p,
        "history_turns": args.history_turns, "learning_rate": args.learning_rate,
        "seed": args.seed, "eval_seeds": [eval_seeds.start, eval_seeds.stop],
        "before": mean_ci(before), "after": mean_ci(after), "paired_gain": gain,
        "first_batches_reward": float(table[:10, 1].mean()), "last_batches_reward": float(table[-10:, 1].mean()),
        "whole_episodes": episodes,
    }
    write_summary(args.out, "grpo_torch_summary.json", summary)
    if args.rows is not None:
        write_jsonl(rows, args.rows)
    if args.save is not None:
        policy.save(args.save)
    print(f"held-out reward of the greedy first answer: before {before.mean():+.3f}, after {after.mean():+.3f}; "
          f"paired gain {gain[0]:+.3f} ± {gain[1]:.3f} (95% CI, {len(before)} users)")
    if episodes:
        baselines = ", ".join(f"{name} {episodes[name][0]:+.3f}" for name in BASELINES)
        print(f"held-out return of {episodes['episodes']} whole episodes: before {episodes['before'][0]:+.3f}, "
              f"after {episodes['after'][0]:+.3f}; paired gain {episodes['paired_gain'][0]:+.3f} ± "
              f"{episodes['paired_gain'][1]:.3f}; {baselines}")
    print(f"{steps} gradient steps on {len(rows)} sampled answers; wall time {time.perf_counter() - started:.0f}s")
    extra = [str(path) for path in (args.rows, args.save) if path is not None]
    print(f"wrote {args.out}/grpo_torch_curve.csv, grpo_torch_curve.png, grpo_torch_summary.json"
          + "".join(f", {path}" for path in extra))


if __name__ == "__main__":
    main()
