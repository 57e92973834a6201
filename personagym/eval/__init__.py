"""Metrics and reports over trajectory records: summaries with confidence intervals, paired comparisons."""

from personagym.eval.summary import compare, mean_ci, paired_difference, rounded, summarize

__all__ = ["compare", "mean_ci", "paired_difference", "rounded", "summarize"]
