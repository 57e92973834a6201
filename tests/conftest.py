"""Shared fixtures.

The shipped taxonomy and schema are loaded once per test session.  LLM fixtures
start each engine at most once per session (each takes ~20 s and ~4 GiB):
`vllm_server` (a real vLLM OpenAI-compatible server on 127.0.0.1) with
`openai_backend` talking to it, and `vllm_backend` (an in-process engine), all
on the embedded SmolLM2 model.  Drive their async calls with `llm_runner.run(...)`:
one event loop for the whole session, as the backends' clients expect.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from personagym.llm.cache import ResponseCache
from personagym.llm.openai_backend import OpenAIBackend
from personagym.llm.runner import LoopRunner
from personagym.llm.server import VLLMServer
from personagym.llm.vllm_backend import VLLMBackend
from personagym.simulators.persona import PersonaSchema, load_schema
from personagym.simulators.taxonomy import Taxonomy, load_taxonomy


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="session")
def schema() -> PersonaSchema:
    return load_schema()


@pytest.fixture(scope="session")
def local_model_dir() -> Path:
    """The embedded model's Hugging Face folder, converted once into the default models home if needed."""
    from personagym.llm.local import prepare_model

    return prepare_model()


@pytest.fixture(scope="session")
def llm_runner() -> Iterator[LoopRunner]:
    """One event loop for the session's LLM calls (clients and semaphores belong to a loop)."""
    runner = LoopRunner()
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def vllm_server(local_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    """A vLLM OpenAI-compatible server on 127.0.0.1 serving the embedded model; stopped at session end."""
    log_path = tmp_path_factory.mktemp("vllm-server") / "server.log"
    server = VLLMServer(local_model_dir, log_path=log_path, startup_timeout=900).start()  # slow on a busy machine
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openai_backend(vllm_server: VLLMServer, llm_runner: LoopRunner) -> Iterator[OpenAIBackend]:
    """An `OpenAIBackend` (no cache) on the session's vLLM server."""
    backend = OpenAIBackend(vllm_server.served_model_name, base_url=vllm_server.base_url, max_concurrency=32)
    yield backend
    llm_runner.run(backend.aclose())


@pytest.fixture(scope="session")
def vllm_backend(local_model_dir: Path, llm_runner: LoopRunner) -> Iterator[VLLMBackend]:
    """An in-process `VLLMBackend` (no cache) on the embedded model, its engine started once."""
    backend = VLLMBackend(local_model_dir, max_concurrency=32)
    backend.start()
    yield backend
    llm_runner.run(backend.aclose())


@pytest.fixture
def replaying_vllm_backend(vllm_backend: VLLMBackend, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> Iterator[VLLMBackend]:
    """`vllm_backend` with a fresh on-disk cache for one test, so a repeated request replays the first words.

    vLLM on a CPU is not batch-invariant (a request batched with other neighbours can come out
    differently), so a test that checks PersonaGym sends the same requests twice compares cache hits.
    """
    cache = ResponseCache(tmp_path / "llm.sqlite")
    monkeypatch.setattr(vllm_backend, "cache", cache)
    yield vllm_backend
    cache.close()
