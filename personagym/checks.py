"""Argument checks shared by rollouts, the learners and their scripts; every error names the field, the value and
the range.  Also the one way to say an optional package is missing (`check_installed`, `require_module`): the
error names the package, what needed it and the ``pip install 'personagym[EXTRA]'`` that brings it.

A value's type is checked before it is compared, so a string or None is refused with the field's name
rather than failing inside a comparison.  Bools are not numbers here (``seed=True`` is a mistake, not seed
1); numpy's integers and floats are (and come back as Python's, which gymnasium and JSON need).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from collections.abc import Mapping
from dataclasses import fields
from numbers import Integral, Real
from types import ModuleType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from personagym.suggest import describe_validation, did_you_mean

Config = TypeVar("Config")


def check_int(name: str, value: object, low: int, high: int | None = None, why: str = "") -> int:
    """`value` as an int if it is an integer in ``[low, high]`` (no upper bound when `high` is None).

    `why`, if given, is added to the error to say what the range is for.
    """
    if isinstance(value, Integral) and not isinstance(value, bool):
        number = int(value)
        if number >= low and (high is None or number <= high):
            return number
    raise ValueError(f"{name} must be {_int_range(low, high)}{why}, got {value!r}")


def _int_range(low: int, high: int | None) -> str:
    """What `check_int` expects, in words: "a positive int", "an int >= 0", "an int in [1, 5]"."""
    if high is not None:
        return f"an int in [{low}, {high}]"
    return "a positive int" if low == 1 else f"an int >= {low}"


def check_number(name: str, value: object, low: float = -math.inf, high: float = math.inf, *,
                 low_open: bool = False, why: str = "") -> float:
    """`value` as a float if it is a finite real number in ``[low, high]`` (``(low, high]`` with `low_open`).

    NaN and infinities are refused even without bounds: a NaN learning rate or weight does not fail
    until the run has produced garbage.  `why`, if given, is added to the error.
    """
    if isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value):
        number = float(value)
        if (low < number if low_open else low <= number) and number <= high:
            return number
    raise ValueError(f"{name} must be {_number_range(low, high, low_open)}{why}, got {value!r}")


def _number_range(low: float, high: float, low_open: bool) -> str:
    """What `check_number` expects, in words: "a finite number > 0", "a number in (0, 2]"."""
    if math.isinf(high):
        return "a finite number" if math.isinf(low) else f"a finite number {'>' if low_open else '>='} {low:g}"
    return f"a number in {'(' if low_open else '['}{low:g}, {high:g}]"


def as_config(cls: type[Config], value: object, name: str = "config") -> Config:
    """A config (a dataclass or a pydantic model) from None (its defaults), an instance, or a dict of some of its
    fields; `name` is the option or argument the caller's user passed it as.

    An unknown key is refused, naming the closest field: a typo would otherwise leave a silent default.  A
    pydantic model's invalid value is a ValueError naming `name` and the field; a dataclass raises its own.
    """
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict or {cls.__name__}, got {type(value).__name__}")
    known = (list(cls.model_fields) if issubclass(cls, BaseModel)
             else [f.name for f in fields(cls)])  # type: ignore[arg-type]
    for key in value:
        if key not in known:
            raise ValueError(f"{name}: unknown {cls.__name__} field {key!r}{did_you_mean(str(key), known)}; "
                             f"expected one of {', '.join(known)}")
    try:
        return cls(**value)
    except ValidationError as exc:
        raise ValueError(f"invalid {name}: {describe_validation(exc)}") from None


def env_name(env: Any) -> str:
    """The env's registered id (e.g. "PersonaGym/Chat-v0"), else its class name: what errors call it."""
    spec = getattr(env, "spec", None)
    return spec.id if spec is not None else type(getattr(env, "unwrapped", env)).__name__


def missing_package(module: str, extra: str, needed_for: str, alternative: str = "") -> ImportError:
    """The error for optional package `module` not installed: it names the package, what needed it (`needed_for`,
    e.g. "--backend 'openai'") and the extra that installs it; `alternative` is added after the pip command
    (", or write .jsonl": another way round)."""
    return ImportError(f"{needed_for} needs the {module!r} package, which is not installed: "
                       f"pip install 'personagym[{extra}]'{alternative}")


def check_installed(module: str, extra: str, needed_for: str, alternative: str = "") -> None:
    """Raise `missing_package`'s ImportError unless `module`'s package is installed, so a run can fail before it
    starts rather than at its first use.

    Looked up, not imported: importing vllm or torch is seconds of work only to check a name.  A package hidden
    as Python hides one (``sys.modules[name] = None``) counts as missing.
    """
    if importlib.util.find_spec(module.partition(".")[0]) is None:
        raise missing_package(module.partition(".")[0], extra, needed_for, alternative)


def require_module(module: str, extra: str, needed_for: str, alternative: str = "") -> ModuleType:
    """Import optional module `module` (e.g. "pyarrow.parquet"), or raise `missing_package`'s ImportError for its
    package (the import's own error is its cause)."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise missing_package(module.partition(".")[0], extra, needed_for, alternative) from err
