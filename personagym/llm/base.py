"""`BaseBackend`: the one implementation of `generate()` that every backend shares.

A backend subclass only says how to make one attempt at one request
(`_complete_one`) and, optionally, how to make a first attempt at a whole batch
natively (`_complete_batch`, e.g. one `vllm.LLM.chat` call).  Everything else
lives here, once:

- cache lookup first (`ResponseCache`), successful completions stored after;
- a concurrency limit (`max_concurrency` attempts in flight) and a per-attempt timeout;
- retries with exponential backoff and jitter (tenacity) on transient failures
  (connection errors, timeouts, 5xx/429, reported by `_is_retryable`) and on
  rejected output (empty, not JSON for a json_schema request, not one of the
  choices, not matching the regex); client errors (4xx, bad prompts) fail at once;
- per-request isolation: a request that still fails gets a `Completion` whose
  `error` names its tag, the model, the attempts and the cause, and the rest of
  the batch is unaffected; nothing raises out of `generate` except cancellation;
- `usage` counters.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from personagym.llm.cache import ResponseCache
from personagym.llm.types import ChatRequest, Completion, LLMError, Usage

logger = logging.getLogger(__name__)


class TransientError(Exception):
    """A failure worth retrying (the server was busy, the connection dropped, no answer in time)."""


class BadOutputError(Exception):
    """The model answered, but the output is unusable for the request (empty, not JSON, off-constraint)."""


def check_output(request: ChatRequest, completion: Completion) -> None:
    """Raise `BadOutputError` when `completion` does not satisfy what `request` asked for.

    Why here and not trusted to the server: a server may ignore structured-output
    options, a proxy may cut a body short, and a tiny model may stop at
    `max_tokens` inside a JSON object.  Such output must never reach a record.
    """
    text = completion.text
    cut = f" (stopped at max_tokens={request.sampling.max_tokens})" if completion.truncated else ""
    if not text.strip():
        raise BadOutputError(f"empty completion (finish_reason={completion.finish_reason!r})")
    structured = request.structured
    if structured is None:
        return
    if structured.json_schema is not None:
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadOutputError(f"output is not valid JSON{cut}: {exc} in {_snippet(text)}") from None
    elif structured.choice is not None:
        if text not in structured.choice:
            raise BadOutputError(f"output {_snippet(text)} is not one of the choices {list(structured.choice)}{cut}")
    elif structured.regex is not None:
        try:
            pattern = re.compile(structured.regex)
        except re.error:
            return  # a dialect Python cannot read: the server's own constraint is all we have
        if pattern.fullmatch(text) is None:
            raise BadOutputError(f"output {_snippet(text)} does not match the regex {structured.regex!r}{cut}")


def raise_on_error(completions: Sequence[Completion]) -> None:
    """Raise `LLMError` naming the first failed request (and how many failed), for callers that want to stop."""
    failed = [c for c in completions if not c.ok]
    if failed:
        more = f" (and {len(failed) - 1} more failed requests)" if len(failed) > 1 else ""
        raise LLMError(f"{failed[0].error}{more}")


def _snippet(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _describe(exc: BaseException) -> str:
    """`Type: message`, followed by the underlying cause (e.g. "Connection refused") when there is one."""
    message = str(exc).strip()
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return f"{text} (caused by {_describe(cause)})" if cause is not None and cause is not exc else text


class BaseBackend:
    """Shared `generate()` over a single-attempt hook; see the module docstring for what it guarantees.

    Arguments:
        model: the model name sent to the server or loaded in-process (part of the cache key).
        max_concurrency: most attempts in flight at once (per event loop).
        timeout: seconds one attempt may take before it counts as a transient failure; None for no limit.
        max_attempts: attempts per request, the first included.
        backoff_initial, backoff_max: exponential backoff between attempts, in seconds, plus up to
            `backoff_initial` seconds of random jitter.
        cache: a `ResponseCache` or a path to its file; None for no cache.
    """

    name = "base"

    def __init__(
        self,
        model: str,
        *,
        max_concurrency: int = 16,
        timeout: float | None = 120.0,
        max_attempts: int = 4,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        cache: ResponseCache | str | Path | None = None,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ValueError(f"model must be a non-empty string; got {model!r}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1; got {max_concurrency!r}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds or None; got {timeout!r}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1; got {max_attempts!r}")
        if backoff_initial < 0 or backoff_max < backoff_initial:
            raise ValueError(
                f"backoff must satisfy 0 <= backoff_initial <= backoff_max; got {backoff_initial!r}, {backoff_max!r}"
            )
        self.model = model
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.cache = cache if isinstance(cache, ResponseCache) or cache is None else ResponseCache(cache)
        self.usage = Usage()
        self._semaphore_loop: asyncio.AbstractEventLoop | None = None
        self._semaphore_obj: asyncio.Semaphore | None = None

    # -- what subclasses provide -------------------------------------------------------------

    @property
    def cache_identity(self) -> str:
        """What, besides the request, determines a completion; subclasses add options that change the text."""
        return f"{self.name}:{self.model}"

    async def _complete_one(self, request: ChatRequest) -> Completion:
        """One attempt at one request; raise on failure (see `_is_retryable` for which failures are retried)."""
        raise NotImplementedError

    async def _complete_batch(self, requests: list[ChatRequest]) -> list[Completion | BaseException] | None:
        """A native first attempt at a whole batch, one outcome per request; None when the backend has none.

        If this raises, every request falls back to `_complete_one`, so one bad request cannot fail the batch.
        """
        return None

    def _is_retryable(self, exc: BaseException) -> bool:
        """Whether a failed attempt is worth repeating; subclasses add their client's transient errors."""
        return isinstance(exc, TransientError | BadOutputError | ConnectionError | TimeoutError)

    # -- the shared machinery ----------------------------------------------------------------

    async def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        """One completion per request, in order; a failed request has `error` set, the others are unaffected."""
        requests = _checked_requests(requests)
        started = time.perf_counter()
        keys = [request.cache_key(self.cache_identity) for request in requests]
        results: list[Completion | None] = [self._cached(key) for key in keys]
        pending = [i for i, result in enumerate(results) if result is None]
        first = await self._first_batch_attempt([requests[i] for i in pending]) if pending else None
        firsts = first if first is not None else [None] * len(pending)
        fresh = await asyncio.gather(
            *(self._fresh(i, requests[i], keys[i], outcome) for i, outcome in zip(pending, firsts, strict=True))
        )
        for i, completion in zip(pending, fresh, strict=True):
            results[i] = completion
        done = [c for c in results if c is not None]
        self._count(requests, done, time.perf_counter() - started)
        return done

    async def _fresh(
        self, index: int, request: ChatRequest, key: str, first: Completion | BaseException | None
    ) -> Completion:
        """Complete one request and cache it at once, so a run killed mid-batch keeps what was finished."""
        completion = await self._complete_with_retries(index, request, first)
        if completion.ok:
            self._store(key, completion)
        return completion

    def _cached(self, key: str) -> Completion | None:
        if self.cache is None:
            return None
        try:
            return self.cache.get(key)
        except sqlite3.Error as exc:  # a broken cache costs a model call, never a request
            logger.warning("LLM cache %s unreadable (%s): calling the model", self.cache.path, exc)
            return None

    def _store(self, key: str, completion: Completion) -> None:
        if self.cache is None:
            return
        try:
            self.cache.put(key, completion)
        except sqlite3.Error as exc:
            logger.warning("LLM cache %s not written (%s): the completion is returned uncached", self.cache.path, exc)

    async def _first_batch_attempt(self, requests: list[ChatRequest]) -> list[Completion | BaseException] | None:
        try:
            outcomes = await self._complete_batch(requests)
        except Exception as exc:
            logger.warning("%s batch of %d failed (%s); retrying request by request", self.name, len(requests), exc)
            return None
        if outcomes is None:
            return None
        if len(outcomes) != len(requests):
            raise RuntimeError(f"{type(self).__name__}._complete_batch returned {len(outcomes)} for {len(requests)}")
        return outcomes

    async def _complete_with_retries(
        self, index: int, request: ChatRequest, first: Completion | BaseException | None
    ) -> Completion:
        """Attempts until one passes `check_output`, a failure is not retryable, or `max_attempts` are spent."""
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential, wait_random

        attempts = 0
        if first is not None:
            attempts = 1
            try:
                return self._accepted(request, first, attempts)
            except Exception as exc:
                if not self._is_retryable(exc) or self.max_attempts == 1:
                    return self._failed(index, request, attempts, exc)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts - attempts),
            wait=wait_exponential(multiplier=self.backoff_initial, max=self.backoff_max)
            + wait_random(0, self.backoff_initial),
            retry=retry_if_exception(self._is_retryable),
            before_sleep=lambda state: logger.info(
                "retrying %s after: %s", _label(index, request), _describe(state.outcome.exception())
            ),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    completion = self._accepted(request, await self._attempt(request), attempts)
        except Exception as exc:
            return self._failed(index, request, attempts, exc)
        return completion

    async def _attempt(self, request: ChatRequest) -> Completion:
        async with self._semaphore():
            timer = asyncio.timeout(self.timeout)
            try:
                async with timer:
                    return await self._complete_one(request)
            except TimeoutError:
                if timer.expired():
                    raise TransientError(f"no answer within {self.timeout:g} s") from None
                raise

    def _accepted(self, request: ChatRequest, outcome: Completion | BaseException, attempts: int) -> Completion:
        """The outcome as a successful completion, or raise what went wrong (tokens are counted either way)."""
        if isinstance(outcome, BaseException):
            raise outcome
        self.usage.prompt_tokens += outcome.prompt_tokens
        self.usage.completion_tokens += outcome.completion_tokens
        check_output(request, outcome)
        return outcome.model_copy(update={"attempts": attempts, "cached": False, "error": None})

    def _failed(self, index: int, request: ChatRequest, attempts: int, exc: BaseException) -> Completion:
        message = f"LLM request {_label(index, request)} to {self.name} model {self.model!r} failed after {attempts} "
        message += f"attempt{'s' if attempts != 1 else ''}: {_describe(exc)}"
        logger.warning(message)
        return Completion(attempts=attempts, error=message)

    def _semaphore(self) -> asyncio.Semaphore:
        """The concurrency limit of the running event loop (a semaphore belongs to one loop)."""
        loop = asyncio.get_running_loop()
        if self._semaphore_obj is None or self._semaphore_loop is not loop:
            self._semaphore_obj = asyncio.Semaphore(self.max_concurrency)
            self._semaphore_loop = loop
        return self._semaphore_obj

    def _count(self, requests: list[ChatRequest], completions: list[Completion], seconds: float) -> None:
        usage = self.usage
        usage.requests += len(requests)
        usage.seconds += seconds
        for request, completion in zip(requests, completions, strict=True):
            usage.cached += completion.cached
            usage.failed += not completion.ok
            usage.retries += max(completion.attempts - 1, 0)
            kind = request.tag.split(maxsplit=1)[0] if request.tag.strip() else ""
            usage.by_tag[kind] = usage.by_tag.get(kind, 0) + 1

    async def aclose(self) -> None:
        """Close the cache; subclasses also release their clients or engines."""
        if self.cache is not None:
            self.cache.close()

    async def __aenter__(self) -> BaseBackend:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"


def _label(index: int, request: ChatRequest) -> str:
    return repr(request.tag) if request.tag else f"#{index} (untagged)"


def _checked_requests(requests: object) -> list[ChatRequest]:
    if isinstance(requests, ChatRequest | str | bytes) or not isinstance(requests, Sequence):
        raise TypeError(f"generate() takes a list of ChatRequest; got {type(requests).__name__}")
    for i, request in enumerate(requests):
        if not isinstance(request, ChatRequest):
            raise TypeError(f"generate() requests[{i}] must be a ChatRequest; got {type(request).__name__}")
    return list(requests)
