"""The explicit-profile text format a policy may put before its answer.

RLPA/PPOpt-style policies state the profile they inferred, then answer:

    <profile>
    likes: Bebop, Thai Cuisine
    dislikes: Horror Films
    diet: vegan
    length_pref: brief
    </profile>
    Here are three ideas ...

One `key: value, value` pair per line (or separated by ';').  Keys are
persona attribute names, or ``likes`` / ``dislikes`` with taxonomy names,
aliases or ids.  This module only reads and writes the text; the env resolves
names against the taxonomy and scores the items.  It imports nothing else
from PersonaGym, so policies and envs can both use it.
"""

from __future__ import annotations

import re

_PROFILE = re.compile(r"^\s*<profile>(.*?)</profile>\s*", re.DOTALL | re.IGNORECASE)
INTEREST_KEYS = {"likes": "likes", "like": "likes", "dislikes": "dislikes", "dislike": "dislikes"}


def split_profile(action: str) -> tuple[str | None, str]:
    """(profile text or None, the answer after it) of an assistant action."""
    m = _PROFILE.match(action)
    if m is None:
        return None, action
    return m.group(1).strip(), action[m.end():]


def parse_profile(text: str) -> list[tuple[str, str]]:
    """(key, value) pairs of a profile text; keys lowercased, values stripped."""
    pairs: list[tuple[str, str]] = []
    for line in re.split(r"[\n;]", text):
        key, sep, values = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower().replace(" ", "_")
        key = INTEREST_KEYS.get(key, key)
        pairs.extend((key, v.strip()) for v in values.split(",") if v.strip())
    return pairs


def format_profile(pairs: list[tuple[str, str]]) -> str:
    """A `<profile>` block from (key, value) pairs, values of a key joined on one line."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    body = "\n".join(f"{k}: {', '.join(v)}" for k, v in grouped.items())
    return f"<profile>\n{body}\n</profile>\n"
