"""Paired change and its 95 % CI against hand computation and published worked examples."""

from __future__ import annotations

from math import sqrt

import pytest

from bot.datarights.paired_stats import (
    mean_difference,
    paired_proportion_difference,
    t_quantile,
    wilson,
)


def test_t_quantiles_match_the_tables() -> None:
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-4)
    assert t_quantile(0.975, 2) == pytest.approx(4.3027, abs=1e-4)
    assert t_quantile(0.975, 9) == pytest.approx(2.2622, abs=1e-4)
    assert t_quantile(0.975, 30) == pytest.approx(2.0423, abs=1e-4)


def test_mean_difference_by_hand() -> None:
    # differences 1, 2, 3: mean 2, s = 1, half-width t(0.975, 2) * 1 / sqrt(3)
    found = mean_difference([1.0, 2.0, 3.0])
    assert found is not None
    half = 4.302652729911275 / sqrt(3)
    assert (found.estimate, found.low, found.high) == pytest.approx((2, 2 - half, 2 + half))


def test_mean_difference_matches_students_sleep_data() -> None:
    # Cushny & Peebles via Student (1908): extra sleep, drug 2 minus drug 1, ten patients.
    # R: t.test(extra ~ group, data = sleep, paired = TRUE): 1.58, 95 % CI 0.7001142 2.4598858
    diffs = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]
    found = mean_difference(diffs)
    assert found is not None
    assert found.estimate == pytest.approx(1.58)
    assert found.low == pytest.approx(0.7001142, abs=1e-6)
    assert found.high == pytest.approx(2.4598858, abs=1e-6)


def test_no_interval_without_two_pairs() -> None:
    assert mean_difference([]) is None
    assert mean_difference([3.0]) is None
    assert paired_proportion_difference(0, 0, 0, 0) is None


def test_wilson_matches_newcombe_1998() -> None:
    # Newcombe, Stat Med 1998;17:857, table I: 15/148, 0/20, 1/29
    assert wilson(15, 148) == pytest.approx((0.0624, 0.1605), abs=1e-4)
    assert wilson(0, 20) == pytest.approx((0.0, 0.1611), abs=1e-4)
    assert wilson(1, 29) == pytest.approx((0.0061, 0.1718), abs=1e-4)


def test_paired_proportions_match_the_textbook() -> None:
    # Fagerland, Lydersen, Laake, Statistical Analysis of Contingency Tables (2017), ch. 8:
    # complete response before (columns) and after (rows) consolidation therapy, Cavo 2012:
    # 59 both, 6 after only, 16 before only, 80 neither: -0.0621 (-0.1186 to -0.0046)
    found = paired_proportion_difference(59, 6, 16, 80)
    assert found is not None
    assert found.estimate == pytest.approx(-10 / 161)
    assert found.low == pytest.approx(-0.1186, abs=1e-4)
    assert found.high == pytest.approx(-0.0046, abs=1e-4)


def test_paired_proportions_by_hand_with_no_correlation_term() -> None:
    # both=0, after only=5, before only=0, neither=5: AD - BC = 0, so phi = 0 and the
    # interval is the square-and-add of the two Wilson intervals (0.5 and 0 of 10).
    found = paired_proportion_difference(0, 5, 0, 5)
    assert found is not None
    after_low, after_high = wilson(5, 10)
    before_low, before_high = wilson(0, 10)
    assert found.estimate == 0.5
    assert found.low == pytest.approx(0.5 - sqrt((0.5 - after_low) ** 2 + before_high**2))
    assert found.high == pytest.approx(0.5 + sqrt((0 - before_low) ** 2 + (after_high - 0.5) ** 2))


def test_paired_proportion_interval_stays_inside_minus_one_to_one() -> None:
    found = paired_proportion_difference(0, 12, 0, 0)
    assert found is not None and found.estimate == 1.0
    assert -1.0 <= found.low < 1.0 and found.high == 1.0
