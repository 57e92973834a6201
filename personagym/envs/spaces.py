"""Spaces for real text.

Gymnasium's `Text` admits only its charset (letters and digits by default), so
real messages with punctuation, newlines or accents fail `contains`.
`UnicodeText` admits any string within its length bounds and samples from a
charset of printable ASCII, whitespace and a few non-ASCII characters.

`AsyncVectorEnv` (shared memory on, its default) cannot carry `Text`
observations: it stores characters as charset indices (a KeyError for any
other character) and reads the buffer into strings once, when the vector env
is built, so later steps would show stale text.  `UnicodeText` registers its
own shared memory instead: code points, -1 after the end, read through a live
`TextRows` view (as Box observations are live numpy views).

Flattening (`FlattenObservation`, `gymnasium.spaces.flatten`) has the same
limit: `Text` flattens to charset indices, a KeyError for any other
character.  `UnicodeText` flattens to code points, `FLAT_PAD` after the end.
"""

from __future__ import annotations

import multiprocessing
import string
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any, overload

import numpy as np
from gymnasium.spaces import Box, Text
from gymnasium.spaces.utils import flatten, flatten_space, unflatten
from gymnasium.vector.utils import create_shared_memory, read_from_shared_memory, write_to_shared_memory

SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " \n" + "éüñç—’😊"
#: A flattened string's value after its end: one past the last code point (`Text` pads with len(charset)).
FLAT_PAD = 0x110000


class UnicodeText(Text):
    """A Text space that contains any str of length in [min_length, max_length]."""

    def __init__(self, max_length: int, *, min_length: int = 0, seed: Any = None) -> None:
        super().__init__(max_length, min_length=min_length, charset=SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        """True for any string of Unicode text within the length bounds, whatever its characters."""
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length and unicode_problem(x) is None

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )

    def __hash__(self) -> int:
        return hash((UnicodeText, self.min_length, self.max_length))


def unicode_problem(text: str) -> str | None:
    """Why `text` is not Unicode text that can be written (UTF-8, JSON, Arrow), or None if it is.

    A Python str can hold lone surrogates (bytes decoded with
    ``errors="surrogateescape"``, a broken JSON escape); a trajectory holding
    one cannot be written, so the shard or file it belongs to would fail.
    """
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a lone surrogate {text[exc.start]!r} at position {exc.start} is not Unicode text"
    return None


class TextRows(Sequence[str]):
    """The strings of a shared-memory text buffer (one row per env), decoded when read.

    A live view: after the next step it shows the new messages, like the numpy
    views `AsyncVectorEnv` gives for Box observations.  ``copy.deepcopy`` (what
    the vector env does with ``copy=True``, its default) returns a plain tuple.
    """

    def __init__(self, codes: np.ndarray) -> None:
        self._codes = codes  # (n, max_length) int32 code points, -1 after each string's end

    def __len__(self) -> int:
        return len(self._codes)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...
    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        row = self._codes[index]
        ends = np.flatnonzero(row < 0)
        row = row[: ends[0]] if ends.size else row
        return row.astype("<u4").tobytes().decode("utf-32-le")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and not isinstance(other, str) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __repr__(self) -> str:
        return f"TextRows({tuple(self)!r})"


@create_shared_memory.register(UnicodeText)
def _create_unicode_shared_memory(space: UnicodeText, n: int = 1, ctx: ModuleType = multiprocessing) -> Any:
    return ctx.Array(np.dtype(np.int32).char, n * space.max_length)  # type: ignore[attr-defined]


@read_from_shared_memory.register(UnicodeText)
def _read_unicode_from_shared_memory(space: UnicodeText, shared_memory: Any, n: int = 1) -> TextRows:
    codes = np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape((n, space.max_length))
    return TextRows(codes)


@write_to_shared_memory.register(UnicodeText)
def _write_unicode_to_shared_memory(space: UnicodeText, index: int, value: str, shared_memory: Any) -> None:
    codes = code_points(space, value, "observation")
    size = space.max_length
    row = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)[index * size : (index + 1) * size]
    row[: len(codes)] = codes
    row[len(codes) :] = -1


def code_points(space: UnicodeText, value: object, what: str) -> np.ndarray:
    """The code points of `value`, a str in `space`; else a ValueError naming `what` and the problem."""
    if not isinstance(value, str) or not space.contains(value):
        problem = unicode_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise ValueError(f"{what} must be Unicode text: {problem}")
        got = f"str of length {len(value)}" if isinstance(value, str) else type(value).__name__
        raise ValueError(f"{what} must be a str of at most {space.max_length} characters, got {got}")
    return np.frombuffer(value.encode("utf-32-le"), dtype="<i4")


@flatten_space.register(UnicodeText)
def _flatten_unicode_space(space: UnicodeText) -> Box:
    return Box(low=0, high=FLAT_PAD, shape=(space.max_length,), dtype=np.int32)


@flatten.register(UnicodeText)
def _flatten_unicode(space: UnicodeText, x: str) -> np.ndarray:
    flat = np.full(space.max_length, FLAT_PAD, dtype=np.int32)
    codes = code_points(space, x, "text to flatten")
    flat[: len(codes)] = codes
    return flat


@unflatten.register(UnicodeText)
def _unflatten_unicode(space: UnicodeText, x: np.ndarray) -> str:
    codes = np.asarray(x).astype(np.int64)  # a flattened Dict is float when it holds a float Box
    ends = np.flatnonzero(codes >= FLAT_PAD)
    codes = codes[: ends[0]] if ends.size else codes
    # a Box sample may hold surrogate code points, which no str of the space holds: they read as U+FFFD
    return codes.astype("<u4").tobytes().decode("utf-32-le", errors="replace")
