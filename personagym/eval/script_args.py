"""What the figure scripts in ``scripts/`` share: their command-line options (how many held-out episodes, and where
to write), how they write their summary and how they draw their figures."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

from personagym.checks import check_int
from personagym.eval.summary import rounded


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


def write_summary(out: Path, name: str, summary: dict[str, Any]) -> Path:
    """Write `summary`, its floats rounded (`rounded`), as indented JSON to ``out/name`` and return the path; a NaN
    or an infinity is refused (``ValueError``), since a figure that is not a number is a bug, not a figure."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_text(json.dumps(rounded(summary), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


@contextmanager
def saved_figure(path: Path, *, title: str, xlabel: str, ylabel: str, **legend: Any) -> Iterator[Axes]:
    """Yield the axes of a figure in the scripts' style (7 x 4.2 inches); once the block has drawn on them, title and
    label them, add the legend (`legend`: its keyword arguments) and save the figure as a 130-dpi PNG at `path`.

    A `matplotlib.figure.Figure` of its own, not pyplot's: no backend to choose, no figure to close.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2))
    ax = fig.add_subplot()
    yield ax
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(**legend)
    fig.tight_layout()
    fig.savefig(path, dpi=130)


def mean_line(ax: Axes, mean: float, ci: float, color: str, label: str) -> None:
    """A held-out mean as a dashed horizontal line, its 95% confidence interval as a band around it."""
    ax.axhline(mean, color=color, ls="--", lw=1.2, label=label)
    ax.axhspan(mean - ci, mean + ci, color=color, alpha=0.12)
