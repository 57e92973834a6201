"""Summaries and paired comparisons of rollouts, read from the trajectory records."""

from __future__ import annotations

import math

import pytest

from personagym.eval import compare, paired_difference, summarize
from personagym.rollout import compare_policies, rollout


@pytest.fixture(scope="module")
def runs() -> dict[str, list]:
    return {p: list(rollout("PersonaGym/Chat-v0", p, episodes=80, seed=7)) for p in ("generic", "tracker", "random")}


def test_a_paired_difference_is_the_difference_of_the_means_with_a_tighter_interval(runs: dict[str, list]) -> None:
    """Pairing takes out what the users contribute: the tracker and generic meet the same users, so the interval
    of their paired difference is narrower than that of two independent means."""
    tracker, generic = summarize(runs["tracker"])["reward"], summarize(runs["generic"])["reward"]
    diff = paired_difference(runs["tracker"], runs["generic"])
    assert diff["mean"] == pytest.approx(tracker["mean"] - generic["mean"])
    assert diff["ci95"] < math.hypot(tracker["ci95"], generic["ci95"])
    assert diff["beyond_ci"] == (abs(diff["mean"]) > diff["ci95"])


def test_compare_puts_the_baseline_first_and_differences_after(runs: dict[str, list]) -> None:
    result = compare(runs)
    assert result["baseline"] == "generic" and list(result["policies"]) == ["generic", "tracker", "random"]
    assert "difference" not in result["policies"]["generic"]
    assert result["policies"]["tracker"]["difference"]["beyond_ci"]  # the tracker beats generic, paired
    assert result["policies"]["random"]["difference"]["mean"] < 0


def test_runs_of_other_episodes_are_refused(runs: dict[str, list]) -> None:
    other = list(rollout("PersonaGym/Chat-v0", "generic", episodes=80, seed=8))
    with pytest.raises(ValueError, match=r"paired runs need the same episodes: episode 0 is PersonaGym/Chat-v0 seed "
                                         r"8 against PersonaGym/Chat-v0 seed 7"):
        paired_difference(other, runs["generic"])
    with pytest.raises(ValueError, match="paired runs need the same episodes: 79 against 80"):
        paired_difference(runs["tracker"][:-1], runs["generic"])
    with pytest.raises(ValueError, match="a comparison needs two or more runs, got 1"):
        compare({"generic": runs["generic"]})
    with pytest.raises(ValueError, match="policy 'generic' is given twice"):
        compare_policies("PersonaGym/Chat-v0", ["generic", "generic"], episodes=2)
    # one episode gave NaN intervals; the command line already asked for two
    with pytest.raises(ValueError, match=r"episodes must be an int >= 2 \(a 95% CI needs two episodes\), got 1"):
        compare_policies("PersonaGym/Chat-v0", ["generic", "tracker"], episodes=1)


def test_a_figure_script_summary_is_rounded_json_and_a_nan_is_refused_before_the_file_is_touched(tmp_path) -> None:
    from personagym.eval.script_args import write_summary

    path = write_summary(tmp_path / "figures", "summary.json", {"mean": 1 / 3, "per_seed": [2 / 3, 1.0]})
    assert path == tmp_path / "figures" / "summary.json"
    written = path.read_text(encoding="utf-8")
    assert written == '{\n  "mean": 0.333333,\n  "per_seed": [\n    0.666667,\n    1.0\n  ]\n}\n'
    with pytest.raises(ValueError, match="not JSON compliant"):
        write_summary(tmp_path / "figures", "summary.json", {"mean": math.nan})
    assert '"mean": 0.333333' in path.read_text(encoding="utf-8")
