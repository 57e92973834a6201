"""The one way to say an optional package is missing: the package, what needed it and the pip command."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from personagym.checks import check_installed, missing_package, require_module

PYARROW_MISSING = ("--out 'x.parquet': Parquet needs the 'pyarrow' package, which is not installed: "
                   "pip install 'personagym[parquet]', or write .jsonl")


def test_missing_package_names_the_package_what_needed_it_and_the_extra() -> None:
    error = missing_package("pyarrow", "parquet", "--out 'x.parquet': Parquet", ", or write .jsonl")
    assert isinstance(error, ImportError) and str(error) == PYARROW_MISSING


def test_check_installed_refuses_a_hidden_package_and_passes_an_installed_one(monkeypatch: pytest.MonkeyPatch) -> None:
    check_installed("json", "none", "this")  # installed: nothing raised
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # hidden as Python hides one: find_spec finds nothing
    with pytest.raises(ImportError, match=f"^{re.escape(PYARROW_MISSING)}$"):
        check_installed("pyarrow.parquet", "parquet", "--out 'x.parquet': Parquet", ", or write .jsonl")


def test_require_module_imports_or_names_the_package_with_the_import_error_as_cause(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert require_module("json", "none", "this") is json
    monkeypatch.setitem(sys.modules, "matplotlib.ticker", None)
    with pytest.raises(ImportError, match=r"^Plotting needs the 'matplotlib' package, which is not installed: "
                                          r"pip install 'personagym\[datasets\]'$") as info:
        require_module("matplotlib.ticker", "datasets", "Plotting")
    assert isinstance(info.value.__cause__, ImportError)


@pytest.mark.parametrize(("hidden", "code", "message"), [
    ("pettingzoo", "import personagym; personagym.PersonaChatParallelEnv",
     "PersonaChatParallelEnv needs the 'pettingzoo' package, which is not installed: "
     "pip install 'personagym[multiagent]'"),
    ("autogen_agentchat", "from personagym.agents.user import UserSimulatorAgent",
     "personagym.agents (AutoGen agents) needs the 'autogen_agentchat' package, which is not installed: "
     "pip install 'personagym[llm]'"),
])
def test_the_multi_agent_env_and_the_autogen_agents_name_their_extra_when_it_is_missing(
        hidden: str, code: str, message: str) -> None:
    """Both were "No module named ..." alone: the extra to install went unsaid."""
    proc = subprocess.run([sys.executable, "-c", f"import sys; sys.modules[{hidden!r}] = None; {code}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr.rstrip().endswith(f"ImportError: {message}"), proc.stderr
