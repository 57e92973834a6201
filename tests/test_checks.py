"""The one way to say an optional package is missing: the package, what needed it and the pip command."""

from __future__ import annotations

import json
import re
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
