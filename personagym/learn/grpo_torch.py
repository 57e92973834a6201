"""GRPO with gradient steps: a Hugging Face causal LM learns from PersonaGym's exact rewards, on a CPU.

`GRPOLoop` (grpo.py) samples groups of answers, scores each with the env's reward and normalises the
advantages within each group.  This module adds the two pieces that make it training rather than data flow:

- `TorchPolicy`, an `LLMBackend` that samples from a live ``transformers`` model, so every batch comes from
  the weights as they are now (on-policy; nothing is cached), and remembers the token ids it sampled;
- `GRPOTrainer`, which runs one loop iteration and then one AdamW step on GRPO's loss over its rows: for
  each answer, ``-advantage`` times the mean log-probability of its sampled tokens, averaged over the batch
  (a single update per batch, so the importance ratio is 1 and clipping never acts; no KL term, TRL's
  default ``beta=0``).

`evaluate_first_answers` measures a policy on held-out users: its greedy answer to each one's first
message, scored by the env; `evaluate_episodes` plays their whole episodes (a clarifying question is paid on
the first turn, and costs a turn of the episode).  torch and transformers come with the ``local`` extra and
are imported here only, when a `TorchPolicy` is made.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from personagym.checks import as_config, check_installed, check_int, check_number
from personagym.envs.chat import PersonaChatEnv
from personagym.envs.rewards import COMPONENTS
from personagym.learn.grpo import GRPOBatch, GRPOConfig, GRPOLoop, Message, fork_env, prompt_messages
from personagym.llm.local import swap_into_place
from personagym.llm.types import ChatRequest, Completion, Usage
from personagym.policies.llm_policy import DEFAULT_SYSTEM_PROMPT


@dataclass(frozen=True)
class TrainConfig:
    """The update: AdamW's ``learning_rate`` and ``weight_decay``, gradient norm clipped at ``max_grad_norm``,
    and ``micro_batch`` answers per forward pass (memory only: the step is the same for any size)."""

    learning_rate: float = 1e-5
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    micro_batch: int = 8

    def __post_init__(self) -> None:
        """Check every field (a bad value is named with what is expected)."""
        object.__setattr__(self, "learning_rate", check_number("learning_rate", self.learning_rate, 0.0, 1.0,
                                                               low_open=True))
        object.__setattr__(self, "weight_decay", check_number("weight_decay", self.weight_decay, 0.0, 1.0))
        object.__setattr__(self, "max_grad_norm", check_number("max_grad_norm", self.max_grad_norm, 0.0, 1e6,
                                                               low_open=True))
        object.__setattr__(self, "micro_batch", check_int("micro_batch", self.micro_batch, 1, 4096))


def check_torch_installed(needed_for: str = "TorchPolicy") -> None:
    """Raise `check_installed`'s ImportError unless what a `TorchPolicy` imports (torch, transformers: the local
    extra) is installed, so a script can refuse to start before it loads a model; `needed_for` is what the error
    says needs them."""
    for module in ("torch", "transformers"):
        check_installed(module, "local", needed_for)


class TorchPolicy:
    """An `LLMBackend` sampling from a ``transformers`` causal LM that is being trained.

    ``model`` is a Hugging Face model folder (e.g. `personagym.llm.local.resolve_local_model()`, the embedded
    SmolLM2).  Weights are kept in float32 (what AdamW updates); the forward passes run under bfloat16
    autocast when ``bf16`` (several times faster on CPUs with AMX or AVX-512 BF16).  A `generate` call is
    seeded from its requests' seeds, so the same requests to the same weights give the same answers (the
    requests of a batch are sampled together: a request's answer depends on its batch, as in vLLM).
    Structured outputs and stop strings are not supported: such a request is refused.
    """

    name = "torch"

    def __init__(self, model: str | Path, *, bf16: bool = True, max_batch: int = 16) -> None:
        check_torch_installed()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(model)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"model must be a Hugging Face model folder (with config.json), got "
                                    f"{str(model)!r}; `personagym models prepare` makes the embedded one")
        self.max_batch = check_int("max_batch", max_batch, 1, 4096)
        self.model = str(path)
        self.usage = Usage()
        self.bf16 = bool(bf16)
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.lm = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        self.lm.eval()
        self._sampled: dict[tuple[str, str], tuple[list[int], list[int]]] = {}

    # -- LLMBackend -------------------------------------------------------------------------
    async def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        """One completion per request, sampled from the current weights (greedy at temperature 0)."""
        started = time.perf_counter()
        self._sampled = {}
        out: list[Completion] = [Completion()] * len(requests)
        groups: dict[tuple[float, float, int], list[int]] = {}
        for i, request in enumerate(requests):
            if request.structured is not None or request.sampling.stop:
                raise ValueError(f"requests[{i}]: TorchPolicy samples plain text; structured outputs and stop "
                                 f"strings are not supported (got structured={request.structured!r}, "
                                 f"stop={request.sampling.stop!r})")
            s = request.sampling
            groups.setdefault((s.temperature, s.top_p, s.max_tokens), []).append(i)
        for (temperature, top_p, max_tokens), indices in groups.items():
            for lo in range(0, len(indices), self.max_batch):
                chunk = indices[lo:lo + self.max_batch]
                seeds = [requests[i].sampling.seed or 0 for i in chunk]
                seed = int(np.random.SeedSequence(seeds).generate_state(1, np.uint64)[0] >> np.uint64(1))
                texts = self._sample([self.prompt_text(requests[i].messages) for i in chunk],
                                     temperature, top_p, max_tokens, seed)
                for i, completion in zip(chunk, texts, strict=True):
                    out[i] = completion
        self.usage.requests += len(requests)
        self.usage.prompt_tokens += sum(c.prompt_tokens for c in out)
        self.usage.completion_tokens += sum(c.completion_tokens for c in out)
        self.usage.seconds += time.perf_counter() - started
        return out

    async def aclose(self) -> None:
        """Nothing to release (the model is an ordinary torch module)."""

    def save(self, folder: str | Path) -> Path:
        """Write the weights as they are now and the tokenizer as a Hugging Face model folder, which
        `TorchPolicy` and vLLM (``--backend vllm --model FOLDER``) load.

        The folder is written beside its place and renamed into it: a model folder saved before is replaced
        whole, and a failed save leaves it as it was.  An existing folder that is not a model folder (no
        config.json) and is not empty is refused, not replaced.
        """
        folder = check_save_folder(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
        try:
            self.lm.save_pretrained(tmp)
            self.tokenizer.save_pretrained(tmp)
            swap_into_place(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return folder

    # -- sampling ---------------------------------------------------------------------------
    def prompt_text(self, messages: Sequence[Any]) -> str:
        """The chat template applied to ``messages`` (`ChatMessage`s or role/content dicts), ready for an answer."""
        chat = [{"role": m["role"], "content": m["content"]} if isinstance(m, Mapping)
                else {"role": m.role, "content": m.content} for m in messages]
        return str(self.tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False))

    def sampled_ids(self, prompt: Sequence[Message], text: str) -> tuple[list[int], list[int]]:
        """The prompt's token ids and the sampled ids that decoded to ``text``, from the last `generate` call."""
        key = (self.prompt_text(prompt), text)
        if key not in self._sampled:
            raise KeyError(f"no answer {text!r:.60} to this prompt was sampled in the last generate call")
        return self._sampled[key]

    def _sample(self, prompts: list[str], temperature: float, top_p: float, max_tokens: int,
                seed: int) -> list[Completion]:
        torch = self._torch
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        width = batch["input_ids"].shape[1]
        options: dict[str, Any] = {"do_sample": False}
        if temperature > 0:
            options = {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
        with torch.random.fork_rng(), torch.no_grad(), self.autocast():
            torch.manual_seed(seed)
            generated = self.lm.generate(**batch, max_new_tokens=max_tokens, pad_token_id=self.tokenizer.pad_token_id,
                                         eos_token_id=self.tokenizer.eos_token_id, **options)
        eos = self.tokenizer.eos_token_id
        out = []
        for row, mask, prompt in zip(generated, batch["attention_mask"].bool(), prompts, strict=True):
            prompt_ids = row[:width][mask].tolist()  # the prompt's tokens as sampled from, without the padding
            ids = row[width:].tolist()
            stopped = eos in ids
            ids = ids[:ids.index(eos) + 1] if stopped else ids
            text = self.tokenizer.decode(ids, skip_special_tokens=True)
            self._sampled[(prompt, text)] = (prompt_ids, ids)
            out.append(Completion(text=text, finish_reason="stop" if stopped else "length",
                                  prompt_tokens=len(prompt_ids), completion_tokens=len(ids)))
        return out

    def autocast(self) -> Any:
        """bfloat16 autocast on the CPU when ``bf16``, else a no-op context."""
        return self._torch.autocast("cpu", dtype=self._torch.bfloat16, enabled=self.bf16)


def check_save_folder(folder: str | Path, name: str = "folder") -> Path:
    """``folder`` as a Path if a model may be saved there: a new path, an empty folder or a model folder saved
    before (which the save replaces); anything else is refused (FileExistsError), not replaced."""
    folder = Path(folder)
    if folder.exists() and not (folder / "config.json").is_file() and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(f"{name} {str(folder)!r} exists and is not a model folder (no config.json); "
                              f"expected a new path, an empty folder or a model folder saved before, to replace")
    return folder


@dataclass(frozen=True)
class TrainStep:
    """One iteration: the loop's batch (rows, rewards, advantages) and the update made from it."""

    batch: GRPOBatch
    loss: float
    grad_norm: float
    updated: bool  # False when every advantage was 0 (no learning signal: no step taken)
    seconds: float

    def summary(self) -> dict[str, float]:
        """The batch's figures with the update's, for a progress line or a CSV row."""
        return {**self.batch.summary(), "loss": self.loss, "grad_norm": self.grad_norm,
                "flat_groups": float(self.batch.flat_groups), "step_seconds": self.seconds}


class GRPOTrainer:
    """Sample with `GRPOLoop` from a `TorchPolicy`, then update its weights on the rows (see the module doc).

    ``envs`` are distinct template-mode `PersonaChatEnv`s (one prompt each, as for `GRPOLoop`); ``grpo`` and
    ``train`` are a `GRPOConfig` / `TrainConfig`, a dict of their fields or None (the defaults).
    """

    def __init__(self, policy: TorchPolicy, envs: Sequence[PersonaChatEnv],
                 grpo: GRPOConfig | Mapping[str, Any] | None = None,
                 train: TrainConfig | Mapping[str, Any] | None = None) -> None:
        if not isinstance(policy, TorchPolicy):
            raise TypeError(f"policy must be a TorchPolicy, got {type(policy).__name__}")
        self.policy = policy
        self.train = as_config(TrainConfig, train)
        self.loop = GRPOLoop(policy, envs, grpo)
        torch = policy._torch
        self.optimizer = torch.optim.AdamW(policy.lm.parameters(), lr=self.train.learning_rate,
                                           weight_decay=self.train.weight_decay)

    def step(self) -> TrainStep:
        """One iteration: sample and score a batch, then one gradient step on it (none if it has no signal)."""
        started = time.perf_counter()
        batch = self.loop.step()
        loss, grad_norm, updated = self.update(batch.rows)
        return TrainStep(batch, loss, grad_norm, updated, time.perf_counter() - started)

    def update(self, rows: Sequence[Mapping[str, Any]]) -> tuple[float, float, bool]:
        """One AdamW step on GRPO's loss over ``rows`` (sampled by the policy's last `generate` call).

        Returns (loss, gradient norm before clipping, whether a step was taken).
        """
        torch, policy = self.policy._torch, self.policy
        live = [row for row in rows if row["advantage"] != 0.0]
        if not live:
            return 0.0, 0.0, False
        policy.lm.train()
        self.optimizer.zero_grad(set_to_none=True)
        total = 0.0
        size = self.train.micro_batch
        for lo in range(0, len(live), size):
            part = live[lo:lo + size]
            sequences = [policy.sampled_ids(row["prompt"], row["completion"][0]["content"]) for row in part]
            advantages = torch.tensor([row["advantage"] for row in part], dtype=torch.float32)
            mean_logp = self._mean_logprobs(sequences)
            loss = -(advantages * mean_logp).sum() / len(rows)
            loss.backward()
            total += float(loss.detach())
        norm = float(torch.nn.utils.clip_grad_norm_(policy.lm.parameters(), self.train.max_grad_norm))
        self.optimizer.step()
        policy.lm.eval()
        return total, norm, True

    def _mean_logprobs(self, sequences: list[tuple[list[int], list[int]]]) -> Any:
        """Each sequence's mean log-probability of its answer tokens given its prompt (with gradients)."""
        torch, policy = self.policy._torch, self.policy
        # Left-padded as in sampling (positions count from each sequence's first token), so every answer ends
        # at the last column and only the last `longest + 1` positions need logits (the vocabulary projection
        # of the prompts is skipped: less time, and a fifth of the memory).
        width = max(len(p) + len(c) for p, c in sequences)
        longest = max(len(c) for _, c in sequences)
        ids = torch.full((len(sequences), width), policy.tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(sequences), width), dtype=torch.long)
        answer = torch.zeros((len(sequences), longest), dtype=torch.float32)
        for k, (prompt, completion) in enumerate(sequences):
            n = len(prompt) + len(completion)
            ids[k, width - n:] = torch.tensor(prompt + completion)
            attention[k, width - n:] = 1
            answer[k, longest - len(completion):] = 1.0
        positions = (attention.cumsum(-1) - 1).clamp(min=0)
        with policy.autocast():
            logits = policy.lm(input_ids=ids, attention_mask=attention, position_ids=positions,
                               logits_to_keep=longest + 1).logits
        # the logits at position t predict token t + 1: the last `longest` tokens from the `longest` before them
        logp = torch.log_softmax(logits[:, :-1].float(), dim=-1).gather(-1, ids[:, -longest:, None])[..., 0]
        return (logp * answer).sum(-1) / answer.sum(-1).clamp(min=1.0)


def evaluate_first_answers(policy: TorchPolicy, env: PersonaChatEnv, seeds: Sequence[int], *,
                           max_tokens: int = 96, system_prompt: str = DEFAULT_SYSTEM_PROMPT) -> np.ndarray:
    """The env's reward for the policy's greedy answer to the first message of each seed's episode.

    Same seeds and same weights give the same rewards: a paired comparison of two checkpoints.
    """
    return evaluate_episodes(policy, env, seeds, max_tokens=max_tokens, system_prompt=system_prompt,
                             max_answers=1).returns


@dataclass(frozen=True)
class EpisodeScores:
    """Whole held-out episodes answered greedily: per episode its return, its reward components summed over
    its turns (columns in `COMPONENTS` order), its length and the answers given."""

    returns: np.ndarray
    components: np.ndarray
    turns: np.ndarray
    answers: list[list[str]]


def evaluate_episodes(policy: TorchPolicy, env: PersonaChatEnv, seeds: Sequence[int], *, max_tokens: int = 96,
                      history_turns: int = 1, system_prompt: str = DEFAULT_SYSTEM_PROMPT,
                      max_answers: int | None = None) -> EpisodeScores:
    """Each seed's whole episode with the policy's greedy answers, prompted as in training (`prompt_messages`
    with the last ``history_turns`` exchanges): what the first answer's reward cannot tell, whether asking
    first pays over the episode.

    The episodes run in lockstep, every turn's answers of those still going in one `generate` call (a few
    batches of shrinking size instead of one call per answer).  Same seeds and weights, same scores.
    ``max_answers`` ends each episode's evaluation after that many answers (None: at its end).
    """
    if not isinstance(env, PersonaChatEnv):
        raise TypeError(f"env must be a PersonaChatEnv (use env.unwrapped), got {type(env).__name__}")
    seeds = [check_int(f"seeds[{i}]", s, 0, 2**32 - 1) for i, s in enumerate(seeds)]
    if not seeds:
        raise ValueError("seeds must hold at least one env seed, got none")
    check_int("history_turns", history_turns, 0)
    if max_answers is not None:
        check_int("max_answers", max_answers, 1)
    envs, observations = [], []
    for seed in seeds:
        observation, _ = env.reset(seed=seed)
        envs.append(fork_env(env))
        observations.append(observation)
    returns = np.zeros(len(seeds))
    components = np.zeros((len(seeds), len(COMPONENTS)))
    answers: list[list[str]] = [[] for _ in seeds]
    histories: list[list[tuple[str, str]]] = [[] for _ in seeds]
    running = list(range(len(seeds)))
    while running:
        requests = [ChatRequest.model_validate({
            "messages": prompt_messages(observations[k]["message"], histories[k], system_prompt=system_prompt,
                                        history_turns=history_turns),
            "sampling": {"temperature": 0.0, "max_tokens": max_tokens, "seed": seeds[k]}}) for k in running]
        completions = asyncio.run(policy.generate(requests))
        still = []
        for k, completion in zip(running, completions, strict=True):
            observation, reward, terminated, truncated, info = envs[k].step(completion.text)
            returns[k] += float(reward)
            components[k] += [info["reward_components"][name] for name in COMPONENTS]
            answers[k].append(completion.text)
            histories[k].append((observations[k]["message"], completion.text))
            observations[k] = observation
            if not (terminated or truncated or len(answers[k]) == max_answers):
                still.append(k)
        running = still
    return EpisodeScores(returns, components, np.array([len(a) for a in answers]), answers)
