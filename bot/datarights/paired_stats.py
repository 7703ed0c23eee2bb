"""Paired change with a 95 % confidence interval: means by Student's t, proportions by Newcombe.

Invariant: pure arithmetic on numbers handed in (no I/O, no clock); a change on fewer than
two pairs has no interval, and the caller decides what may be shown (small-number rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import sqrt
from statistics import NormalDist, mean, stdev

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval ``[low, high]``."""

    estimate: float
    low: float
    high: float


def t_quantile(probability: float, df: int) -> float:
    """Student's t quantile; scipy imported on first use (it costs every CLI call ~0.5 s)."""
    from scipy.special import stdtrit

    return float(stdtrit(df, probability))


def mean_difference(
    differences: Sequence[float], confidence: float = CONFIDENCE
) -> Interval | None:
    """Mean of paired differences, CI ``mean ± t(1-α/2, n-1) · s/√n``; None under two pairs."""
    n = len(differences)
    if n < 2:
        return None
    centre = mean(differences)
    half = t_quantile(1 - (1 - confidence) / 2, n - 1) * stdev(differences) / sqrt(n)
    return Interval(centre, centre - half, centre + half)


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a proportion (no continuity correction)."""
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def paired_proportion_difference(
    both: int, after_only: int, before_only: int, neither: int, confidence: float = CONFIDENCE
) -> Interval | None:
    """``P(yes after) - P(yes before)`` for paired yes/no answers, Newcombe's hybrid score
    interval (Stat Med 1998;17:2635, method 10, φ corrected as in Altman et al., Statistics
    with Confidence, 2000, ch. 6); None when there are no pairs."""
    n = both + after_only + before_only + neither
    if n == 0:
        return None
    p_after, p_before = (both + after_only) / n, (both + before_only) / n
    low_after, high_after = wilson(both + after_only, n, confidence)
    low_before, high_before = wilson(both + before_only, n, confidence)
    margins = (
        (both + after_only)
        * (before_only + neither)
        * (both + before_only)
        * (after_only + neither)
    )
    cross = both * neither - after_only * before_only
    corrected = cross - n / 2 if cross > n / 2 else (cross if cross < 0 else 0.0)
    phi = corrected / sqrt(margins) if margins > 0 else 0.0
    change = p_after - p_before
    below = sqrt(
        (p_after - low_after) ** 2
        - 2 * phi * (p_after - low_after) * (high_before - p_before)
        + (high_before - p_before) ** 2
    )
    above = sqrt(
        (p_before - low_before) ** 2
        - 2 * phi * (p_before - low_before) * (high_after - p_after)
        + (high_after - p_after) ** 2
    )
    return Interval(change, max(-1.0, change - below), min(1.0, change + above))
