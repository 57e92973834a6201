"""World data that every copy of an env shares.

An env holds per-episode state (the user, the dialogue, the generator) and
world data built once: the taxonomy, the persona schema, the analyzer, the
template bank, the noise and preference models, the sampler.  The world data
never changes after it is built (its caches memoise deterministic results), so
`copy.deepcopy` of an env copies the state and shares the world: a fork costs
the episode, not the 10 MB of taxonomy and phrase tables (160 ms before).
Branching rollouts, tree search and per-turn preference pairs fork an env at
every turn.

World data lives as long as its process, so a cache of it whose key is a
user's own (their attributes, the details of their requests) is an `LRUCache`:
keyed so, the template bank's caches grew with every user met (~110 MiB after
20,000 Chat-v0 episodes, most of them never read again).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from personagym.checks import check_int


class SharedOnCopy:
    """Mixin: `copy.copy` and `copy.deepcopy` return the object itself (immutable world data)."""

    __slots__ = ()

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self


class LRUCache(OrderedDict[Hashable, Any]):
    """A memo of deterministic results that keeps the `size` entries read or written last.

    `get` marks the entry as used and storing one past `size` drops the entry used longest ago, so the memo
    never holds more than `size` entries however many keys a long run meets; a dropped entry is worked out
    again when next asked for, to the same value.  A copy or a pickle is an empty memo of the same size.
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = check_int("size", size, 1)

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value stored for `key`, now the one used last; `default` if there is none."""
        try:
            value = self[key]
        except KeyError:
            return default
        self.move_to_end(key)
        return value

    def __setitem__(self, key: Hashable, value: Any) -> None:
        super().__setitem__(key, value)
        if len(self) > self.size:
            self.popitem(last=False)

    def __reduce__(self) -> tuple[type[LRUCache], tuple[int]]:
        return type(self), (self.size,)
