"""Helpers for input checks and their messages: 'did you mean ...?' hints, pydantic errors in one line,
numeric config fields that refuse what is not a number.

Nothing of ours is imported, so every layer can use them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from numbers import Integral, Real
from typing import Annotated, Any

from pydantic import BeforeValidator


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean ...?)' suffix naming the closest candidate, case aside ("CHAT": 'chat'), or ''."""
    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


def describe_validation(exc: Any, names: Mapping[str, str] | None = None, limit: int | None = None) -> str:
    """A pydantic ValidationError as one line: each bad field (``turns[0].reward``), the problem and the value given.

    A model-level check has no field and its message already says what is
    wrong; nor is the value repeated after a message that already quotes it
    ("... got 2.0"), nor for a missing field (its "input" is the parent) or
    bad JSON (the whole text).  Long values are cut so a bad persona does not
    print pages.  `names` renames top-level fields as the caller's user knows
    them (a command's options: ``{"rate": "--noise-rate"}``).  With `limit`,
    only the first `limit` problems are spelt out and the rest counted (a file
    of something else has one per missing field).
    """
    parts = []
    errors = exc.errors(include_url=False)
    for err in errors[:limit]:
        msg = err["msg"].removeprefix("Value error, ")
        loc = [str(part) for part in err["loc"]]
        if loc and names:
            loc[0] = names.get(loc[0], loc[0])
        field = "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in loc).lstrip(".")
        value = err.get("input")
        given = repr(value)
        if not field:
            parts.append(msg)
        elif err["type"] in ("missing", "json_invalid") or f"got {value}" in msg or f"got {given}" in msg:
            parts.append(f"{field}: {msg}")
        else:
            parts.append(f"{field}: {msg} (got {given if len(given) <= 80 else given[:77] + '...'})")
    more = len(errors) - len(parts)
    return "; ".join(parts) + (f"; and {more} more problem{'s' if more > 1 else ''}" if more > 0 else "")


def _kind(value: object) -> str:
    """What a value is, as an error names it: 'a bool', 'a string', 'a float', 'None'."""
    if value is None:
        return "None"
    if isinstance(value, str | bytes):
        return "a string"
    name = type(value).__name__.rstrip("_")  # numpy 1's bool_ is a bool
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _numbers_only(expected: str, accepted: type) -> Callable[[object], object]:
    """A before-validator that passes instances of `accepted` (bools excluded) and refuses anything else."""

    def check(value: object) -> object:
        if isinstance(value, accepted) and not isinstance(value, bool):
            return value
        raise ValueError(f"expected {expected}, not {_kind(value)}")

    return check


#: A float field of a config model.  Pydantic's lax mode would read True as 1.0 and "0.3" as 0.3, so a flag
#: or a quoted number given by mistake would configure the simulator silently; only real numbers pass (ints,
#: floats and numpy's), as JSON and YAML load them.
ConfigFloat = Annotated[float, BeforeValidator(_numbers_only("a number", Real))]

#: An int field of a config model: integers only (numpy's included), not bools, strings or floats.
ConfigInt = Annotated[int, BeforeValidator(_numbers_only("an integer", Integral))]
