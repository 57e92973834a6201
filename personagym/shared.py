"""World data that every copy of an env shares.

An env holds per-episode state (the user, the dialogue, the generator) and
world data built once: the taxonomy, the persona schema, the analyzer, the
template bank, the noise and preference models, the sampler.  The world data
never changes after it is built (its caches memoise deterministic results), so
`copy.deepcopy` of an env copies the state and shares the world: a fork costs
the episode, not the 10 MB of taxonomy and phrase tables (160 ms before).
Branching rollouts, tree search and per-turn preference pairs fork an env at
every turn.
"""

from __future__ import annotations

from typing import Any


class SharedOnCopy:
    """Mixin: `copy.copy` and `copy.deepcopy` return the object itself (immutable world data)."""

    __slots__ = ()

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self
