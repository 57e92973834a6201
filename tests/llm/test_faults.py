"""Faults between `OpenAIBackend` and a real vLLM server: retried, then a clear error, never wrong text.

A fault-injecting proxy on 127.0.0.1 (`faultproxy.FaultProxy`) sits between the
backend and the session's vLLM server; a dedicated small server is killed in the
middle of a batch (the session's server is never killed).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from personagym.llm import (
    ChatMessage,
    ChatRequest,
    Completion,
    OpenAIBackend,
    ResponseCache,
    Sampling,
    StructuredOutput,
    VLLMServer,
)
from personagym.llm.runner import LoopRunner
from personagym.llm.server import free_port
from tests.llm.faultproxy import FaultProxy

pytestmark = pytest.mark.llm

SCHEMA = {"type": "object", "properties": {"mood": {"enum": ["happy", "sad"]}}, "required": ["mood"]}
ATTEMPTS = 3


def chat(text: str, tag: str, *, json_schema: dict[str, object] | None = None, max_tokens: int = 24) -> ChatRequest:
    return ChatRequest(
        messages=(ChatMessage(role="user", content=text),),
        sampling=Sampling(max_tokens=max_tokens, seed=3),
        structured=StructuredOutput(json_schema=json_schema) if json_schema else None,
        tag=tag,
    )


@pytest.fixture(scope="module")
def proxy(vllm_server: VLLMServer) -> Iterator[FaultProxy]:
    proxy = FaultProxy(vllm_server.host, vllm_server.port).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def flaky(proxy: FaultProxy, vllm_server: VLLMServer, llm_runner: LoopRunner) -> Iterator[OpenAIBackend]:
    """A backend behind the proxy, with a short timeout and backoff; the proxy's faults are cleared after."""
    backend = OpenAIBackend(
        vllm_server.served_model_name, base_url=proxy.base_url, timeout=120.0,
        max_attempts=ATTEMPTS, backoff_initial=0.05, backoff_max=0.2,
    )  # fmt: skip
    yield backend
    proxy.clear()
    llm_runner.run(backend.aclose())


def assert_failed(completion: Completion, tag: str, attempts: int, cause: str) -> None:
    assert not completion.ok and completion.text == "" and completion.attempts == attempts
    assert completion.error is not None
    error = completion.error
    assert error.startswith(f"LLM request {tag!r} to openai model "), error
    assert f"failed after {attempts} attempt" in error and re.search(cause, error), error


@pytest.mark.parametrize("fault", ["500", "hang", "drop", "empty", "truncate", "garbage"])
def test_transient_fault_is_retried_and_gives_the_unfaulted_text(
    fault: str, flaky: OpenAIBackend, proxy: FaultProxy, openai_backend: OpenAIBackend, llm_runner: LoopRunner
) -> None:
    request = chat(f"FAULT-{fault} Tell me about rivers.", f"fault {fault}")
    if fault == "hang":  # the proxy answers nothing: the attempt must time out, the retry must not
        started = time.monotonic()
        llm_runner.run(openai_backend.generate([request]))
        flaky.timeout = max(3.0, 5 * (time.monotonic() - started))
    proxy.fail(f"FAULT-{fault}", fault)
    out = llm_runner.run(flaky.generate([request]))[0]
    assert (f"FAULT-{fault}", fault) in proxy.applied
    assert out.ok and out.attempts == 2 and flaky.usage.retries == 1
    # the very words the server sent for the unfaulted attempt (a second generation could differ: vLLM on a
    # CPU is not batch-invariant, and a warm prefix cache changes the numerics)
    sent = proxy.passed_answer(f"FAULT-{fault}")
    assert out.text == sent["choices"][0]["message"]["content"] and out.text
    assert out.completion_tokens == sent["usage"]["completion_tokens"]


def test_malformed_json_is_retried_for_a_json_schema_request(
    flaky: OpenAIBackend, proxy: FaultProxy, llm_runner: LoopRunner
) -> None:
    proxy.fail("FAULT-json-once", "badjson")
    proxy.fail("FAULT-json-always", "badjson", always=True)
    batch = [
        chat("FAULT-json-once How do you feel? Answer as JSON.", "json once", json_schema=SCHEMA),
        chat("FAULT-json-always How do you feel? Answer as JSON.", "json always", json_schema=SCHEMA),
        chat("How do you feel? Answer as JSON.", "json clean", json_schema=SCHEMA),
    ]
    once, always, clean = llm_runner.run(flaky.generate(batch))
    assert once.ok and once.attempts == 2 and json.loads(once.text)["mood"] in ("happy", "sad")
    assert_failed(
        always, "json always", ATTEMPTS, r"BadOutputError: output is not valid JSON: .* in '\{\"name\": \"Al'"
    )
    assert clean.ok and clean.attempts == 1 and json.loads(clean.text)["mood"] in ("happy", "sad")


def test_persistent_server_errors_fail_alone_and_resume_from_the_cache(
    flaky: OpenAIBackend, proxy: FaultProxy, llm_runner: LoopRunner, tmp_path: Path
) -> None:
    flaky.cache = cache = ResponseCache(tmp_path / "llm.sqlite")  # closed by the fixture's aclose()
    proxy.fail("FAULT-down", "500", always=True)
    batch = [chat(f"Say hello to friend {i}.", f"hello {i}") for i in range(4)]
    batch[1] = chat("FAULT-down Say hello to friend 1.", "hello 1")
    out = llm_runner.run(flaky.generate(batch))
    assert_failed(out[1], "hello 1", ATTEMPTS, r"InternalServerError: Error code: 500 - .*injected 500")
    assert all(c.ok for i, c in enumerate(out) if i != 1)
    assert len(cache) == 3  # the failure is not cached: the next run retries it
    proxy.clear()
    rerun = llm_runner.run(flaky.generate(batch))
    assert [c.cached for c in rerun] == [True, False, True, True] and all(c.ok for c in rerun)
    assert [c.text for i, c in enumerate(rerun) if i != 1] == [c.text for i, c in enumerate(out) if i != 1]


def test_client_errors_are_not_retried(flaky: OpenAIBackend, proxy: FaultProxy, llm_runner: LoopRunner) -> None:
    proxy.fail("FAULT-400", "400", "400", "400")
    out = llm_runner.run(flaky.generate([chat("FAULT-400 hi", "bad request")]))[0]
    assert_failed(out, "bad request", 1, r"BadRequestError: Error code: 400")
    assert proxy.applied.count(("FAULT-400", "400")) == 1


def test_server_down_gives_a_clear_error_per_request(llm_runner: LoopRunner) -> None:
    backend = OpenAIBackend("m", base_url=f"http://127.0.0.1:{free_port()}/v1", max_attempts=2, backoff_initial=0.05)
    out = llm_runner.run(backend.generate([chat("hi", "down 0"), chat("hello", "down 1")]))
    for i, completion in enumerate(out):
        assert_failed(completion, f"down {i}", 2, r"APIConnectionError: Connection error\. \(caused by .*Connect")
    assert backend.usage.failed == 2 and backend.usage.retries == 2


def _requests_running(server: VLLMServer) -> float:
    with urllib.request.urlopen(f"http://{server.host}:{server.port}/metrics", timeout=2) as response:
        metrics = response.read().decode()
    found = re.search(r"^vllm:num_requests_running\{[^}]*\} ([0-9.]+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_server_killed_mid_batch(local_model_dir: Path, llm_runner: LoopRunner, tmp_path: Path) -> None:
    """Every request in flight when the server dies gets a clear error; finished ones keep their whole text."""
    server = VLLMServer(local_model_dir, max_model_len=512, log_path=tmp_path / "server.log",
                        startup_timeout=900).start()
    try:
        backend = OpenAIBackend(
            server.served_model_name, base_url=server.base_url, timeout=30.0,
            max_attempts=ATTEMPTS, backoff_initial=0.1, backoff_max=0.3,
        )  # fmt: skip
        batch = [
            chat(f"Write a long story about a dragon named Drak{i}.", f"story {i}", max_tokens=300) for i in range(8)
        ]

        async def run_and_kill() -> list[Completion]:
            generating = asyncio.create_task(backend.generate(batch))
            deadline = time.monotonic() + 60
            while await asyncio.to_thread(_requests_running, server) < 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)
            server.kill()
            return await generating

        out = llm_runner.run(run_and_kill())
        llm_runner.run(backend.aclose())
    finally:
        server.stop()
    assert not server.is_running()
    failed = [i for i, c in enumerate(out) if not c.ok]
    assert failed, "the server was killed after the batch finished: nothing was tested"
    for i in failed:
        assert_failed(out[i], f"story {i}", ATTEMPTS, r"APIConnectionError: Connection error")
    for completion in (c for c in out if c.ok):
        assert completion.text.strip() and completion.finish_reason in ("stop", "length")
        assert completion.completion_tokens > 0


def test_server_that_dies_while_starting_reports_its_log(local_model_dir: Path, tmp_path: Path) -> None:
    server = VLLMServer(local_model_dir, extra_args=["--no-such-option"], log_path=tmp_path / "server.log")
    with pytest.raises(
        RuntimeError, match=r"(?s)vLLM server exited with code \d+ while starting; log tail:.*no-such-option"
    ):
        server.start()
    assert not server.is_running()
