"""Spaces for real text.

Gymnasium's `Text` admits only its charset (letters and digits by default), so
real messages with punctuation, newlines or accents fail `contains`.
`UnicodeText` admits any string within its length bounds and samples from a
charset of printable ASCII, whitespace and a few non-ASCII characters.
"""

from __future__ import annotations

import string
from typing import Any

from gymnasium.spaces import Text

SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " \n" + "éüñç—’😊"


class UnicodeText(Text):
    """A Text space that contains any str of length in [min_length, max_length]."""

    def __init__(self, max_length: int, *, min_length: int = 0, seed: Any = None) -> None:
        super().__init__(max_length, min_length=min_length, charset=SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        """True for any string within the length bounds, whatever its characters."""
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

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
