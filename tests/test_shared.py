"""`personagym.shared`: the memo that world data keeps of what users bring, bounded."""

from __future__ import annotations

import copy
import pickle

import pytest

from personagym.shared import LRUCache


def test_an_lru_cache_keeps_the_entries_used_last() -> None:
    """Reading an entry keeps it; storing one past the size drops the one used longest ago, and however many keys
    come the cache holds `size` entries."""
    cache = LRUCache(3)
    for key in "abc":
        cache[key] = key.upper()
    assert cache.get("a") == "A"  # now used last: "b" is the oldest
    cache["d"] = "D"
    assert list(cache) == ["c", "a", "d"]
    assert cache.get("b") is None and cache.get("b", "gone") == "gone"
    for n in range(1000):
        cache[n] = n
    assert len(cache) == 3 and list(cache) == [997, 998, 999]


def test_a_copied_or_pickled_lru_cache_is_empty_of_the_same_size() -> None:
    """A memo is rebuilt on demand: a copy or a pickle carries its bound, not its entries."""
    cache = LRUCache(2)
    cache["a"] = 1
    for twin in (copy.copy(cache), copy.deepcopy(cache), pickle.loads(pickle.dumps(cache))):
        assert type(twin) is LRUCache and twin.size == 2 and not twin


@pytest.mark.parametrize("size", [0, -1, True, 2.0, "8", None])
def test_an_lru_cache_needs_a_positive_int_size(size: object) -> None:
    with pytest.raises(ValueError, match=rf"size must be a positive int, got {size!r}"):
        LRUCache(size)  # type: ignore[arg-type]
