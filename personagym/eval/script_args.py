"""The command-line options the figure scripts in ``scripts/`` share: how many held-out episodes, and where to write."""

from __future__ import annotations

import argparse
from pathlib import Path

from personagym.checks import check_int


def episodes_and_out(doc: str, script: str, episodes: int, what: str) -> argparse.Namespace:
    """Parse ``--episodes`` (an int of at least 2: a 95% CI needs two episodes) and ``--out`` (default: the
    repository's ``docs/figures``, next to ``script``'s folder) for a script whose module docstring is `doc`;
    a bad value ends in one argparse error line."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--episodes", type=int, default=episodes, help=what)
    p.add_argument("--out", type=Path, default=Path(script).resolve().parents[1] / "docs" / "figures")
    args = p.parse_args()
    try:
        check_int("--episodes", args.episodes, 2, 1_000_000, why=" (a 95% CI needs two episodes)")
    except (TypeError, ValueError) as err:
        p.error(str(err))
    return args
