"""Floors for the ``recall`` export: how often chance and word overlap pick the right option.

A model evaluated on recall questions should beat both.  ``overlap`` picks the
option sharing the most words with the user's messages (ties to the first);
``chance`` is the expected accuracy of a uniform guess.  Reads an export made
with ``personagym export DIR --to recall --out FILE``; prints JSON.

    python scripts/recall_baseline.py recall.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

_WORD = re.compile(r"[a-z0-9']+")
#: A line announcing a session in a multi-session conversation (`personagym.records.session_marker`): not the
#: user's words ("1" of "--- session 1 ---" is no overlap with "Formula 1").
_MARKER = re.compile(r"^--- session \d+ ---$", re.MULTILINE)


def words(text: str) -> set[str]:
    """Lower-case words of a text."""
    return set(_WORD.findall(text.lower()))


def overlap_choice(row: dict) -> int:
    """The index of the option sharing the most words with the user's messages (session markers left out)."""
    said = set().union(*(words(_MARKER.sub("", m["content"])) for m in row["conversation"] if m["role"] == "user"))
    scores = [len(words(option) & said) / max(1, len(words(option))) for option in row["options"]]
    return max(range(len(scores)), key=lambda i: (scores[i], -i))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export", type=Path, help="a recall export (JSON lines)")
    args = parser.parse_args()
    if not args.export.is_file():
        parser.error(f"export {str(args.export)!r} is no file; make one with personagym export DIR --to recall")
    groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with open(args.export, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            try:
                row = json.loads(line)
                got = (1.0 / len(row["options"]), float(overlap_choice(row) == row["answer"]))
                kind, updated = row["kind"], row["updated"]
            except (ValueError, KeyError, TypeError, ZeroDivisionError) as err:
                parser.error(f"export {str(args.export)!r} line {number} is no recall question ({err!r})")
            for group in ("all", kind, *(["updated"] if updated else [])):
                groups[group].append(got)
    if not groups:
        parser.error(f"export {str(args.export)!r} holds no question")
    print(json.dumps({group: {"questions": len(got), "chance": round(sum(c for c, _ in got) / len(got), 3),
                              "overlap": round(sum(o for _, o in got) / len(got), 3)}
                      for group, got in groups.items()}, indent=2))


if __name__ == "__main__":
    main()
