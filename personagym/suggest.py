"""Helpers for error messages: 'did you mean ...?' hints, pydantic errors in one line.

No dependencies, so every layer can use them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean ...?)' suffix naming the closest candidate, or ''."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe_validation(exc: Any) -> str:
    """A pydantic ValidationError as one line: each bad field, the problem and the value given.

    A model-level check has no field and its message already says what is
    wrong; long values are cut so a bad persona does not print pages.
    """
    parts = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        field = ".".join(map(str, err["loc"]))
        if not field:
            parts.append(msg)
        elif err["type"] == "missing":  # the "input" of a missing field is its parent: not worth printing
            parts.append(f"{field}: {msg}")
        else:
            given = repr(err.get("input"))
            parts.append(f"{field}: {msg} (got {given if len(given) <= 80 else given[:77] + '...'})")
    return "; ".join(parts)
