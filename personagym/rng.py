"""One random tree: every draw in PersonaGym comes from generators spawned here.

A seed becomes a `numpy.random.SeedSequence`; each component (persona sampler,
preference process, noise model, renderer, ...) gets its own child generator, so
adding draws to one component never shifts another's stream.  `Draws` wraps a
generator with a block buffer of uniforms: scalar draws through numpy cost
microseconds each, which the template hot path cannot afford.
"""

from __future__ import annotations

import copy
from bisect import bisect_right
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")

#: The largest seed: records keep seeds as int64 (Parquet and `datasets` could not hold 2**63).
MAX_SEED = 2**63 - 1

#: Named child streams, in a fixed order: the index of a name is its spawn key.
STREAMS: tuple[str, ...] = ("persona", "preferences", "user", "noise", "policy", "env")


def seed_sequence(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    """Turn a user seed into a SeedSequence (None draws fresh OS entropy)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is not None and (not isinstance(seed, int | np.integer) or isinstance(seed, bool)):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}: {seed!r}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an int in [0, 2**63 - 1] (records keep seeds as int64), got {seed}")
    return np.random.SeedSequence(seed)


def stream(seed: int | np.random.SeedSequence | None, name: str) -> np.random.Generator:
    """The generator of one named component under `seed`."""
    if name not in STREAMS:
        raise ValueError(f"unknown random stream {name!r}; expected one of {', '.join(STREAMS)}")
    ss = seed_sequence(seed)
    child = np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, STREAMS.index(name)))
    return np.random.Generator(np.random.PCG64(child))


class Draws:
    """Fast scalar draws from a numpy Generator, read from a block of uniforms.

    Deterministic for a given generator state: the block is refilled from the
    generator only, so two `Draws` over equal generators yield equal sequences
    (whatever the block size: refilling only decides when uniforms are made).
    Blocks start at `first` uniforms and double up to `block`, so a short-lived
    `Draws` (one persona, one episode) does not pay for thousands of uniforms
    it never reads.
    """

    __slots__ = ("_block", "_buf", "_i", "_next", "gen")

    def __init__(self, gen: np.random.Generator, block: int = 2048, first: int = 64) -> None:
        self.gen = gen
        self._block = block
        self._next = min(block, first)
        self._buf: list[float] = []
        self._i = 0

    def fork(self) -> Draws:
        """An independent copy that yields what this one will next, without advancing it (for previews)."""
        twin = Draws(copy.deepcopy(self.gen), self._block)
        twin._next, twin._buf, twin._i = self._next, self._buf, self._i  # the block is replaced, never mutated
        return twin

    def _refill(self, n: int) -> list[float]:
        """At least `n` fresh uniforms from the generator; the next block is twice as large."""
        size = self._next
        self._next = min(size * 2, self._block)
        return self.gen.random(max(size, n)).tolist()

    def random(self) -> float:
        """A uniform float in [0, 1)."""
        i = self._i
        if i >= len(self._buf):
            self._buf = self._refill(1)
            i = 0
        self._i = i + 1
        return self._buf[i]

    def randoms(self, n: int) -> list[float]:
        """`n` uniform floats in [0, 1): the next `n` values `random()` would return."""
        i, buf = self._i, self._buf
        if i + n > len(buf):  # keep the unread rest, then the generator's next values
            buf = self._buf = buf[i:] + self._refill(n)
            i = 0
        self._i = i + n
        return buf[i : i + n]

    # The draws below inline `random()`: they run tens of times per env step, and a
    # second Python call would cost as much as the rest of the draw.
    def index(self, n: int) -> int:
        """A uniform integer in [0, n)."""
        i = self._i
        if i >= len(self._buf):
            self._buf = self._refill(1)
            i = 0
        self._i = i + 1
        return int(self._buf[i] * n)

    def choice(self, seq: Sequence[T]) -> T:
        """A uniform element of a non-empty sequence."""
        i = self._i
        if i >= len(self._buf):
            self._buf = self._refill(1)
            i = 0
        self._i = i + 1
        return seq[int(self._buf[i] * len(seq))]

    def chance(self, p: float) -> bool:
        """True with probability p."""
        return self.random() < p

    def weighted(self, cum_weights: Sequence[float]) -> int:
        """An index drawn with the given cumulative (unnormalised) weights."""
        return bisect_right(cum_weights, self.random() * cum_weights[-1])

    def uniform(self, low: float, high: float) -> float:
        """A uniform float in [low, high)."""
        return low + (high - low) * self.random()
