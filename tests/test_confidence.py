"""Confidence: Wilson lower bounds that respect sample size, with exact values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.learning.confidence import (
    DEFAULT_Z,
    excess_rate_confidence,
    wilson_lower_bound,
    wilson_upper_bound,
)


@pytest.mark.parametrize(
    ("hits", "cases", "z", "expected"),
    [
        (8, 10, 1.645, 0.5407687136381664),
        (8, 10, 1.96, 0.49015684672072346),
        (80, 100, 1.645, 0.7266890723138059),
        (80, 100, 1.96, 0.7111690380734976),
        (3, 3, 1.645, 0.5257600518749918),
        (3, 3, 1.96, 0.4384939195509822),
        (34, 40, 1.645, 0.7352442592684723),
        (0, 5, 1.645, 0.0),
        (0, 0, 1.645, 0.0),
    ],
)
def test_wilson_lower_bound_exact_values(hits: int, cases: int, z: float, expected: float) -> None:
    assert wilson_lower_bound(hits, cases, z) == pytest.approx(expected, abs=1e-12)


def test_default_z_is_one_sided_95_percent() -> None:
    assert DEFAULT_Z == 1.645
    assert wilson_lower_bound(8, 10) == wilson_lower_bound(8, 10, 1.645)


def test_small_samples_score_below_large_ones_with_the_same_proportion() -> None:
    assert wilson_lower_bound(8, 10) < wilson_lower_bound(80, 100)


@pytest.mark.parametrize("z", [1.645, 1.96])
def test_three_of_three_does_not_pass_the_default_threshold(z: float) -> None:
    assert wilson_lower_bound(3, 3, z) < 0.7


def test_upper_bound_mirrors_the_lower_bound() -> None:
    assert wilson_upper_bound(1, 20) == pytest.approx(0.1960253243631629, abs=1e-12)
    assert wilson_upper_bound(0, 0) == 1.0
    assert wilson_upper_bound(20, 20) == 1.0


def test_hits_above_cases_is_a_bug() -> None:
    with pytest.raises(ValueError, match=r"^hits \(5\) cannot exceed cases \(4\)$"):
        wilson_lower_bound(5, 4)


def test_excess_rate_confidence_exact_value() -> None:
    # 12 of 30 failed against 25 of 500 elsewhere: 1 - upper(25/500) / lower(12/30).
    expected = 1 - wilson_upper_bound(25, 500) / wilson_lower_bound(12, 30)
    assert excess_rate_confidence(12, 30, 25, 500) == pytest.approx(expected, abs=1e-12)
    assert excess_rate_confidence(12, 30, 25, 500) == pytest.approx(0.7432013742568717, abs=1e-12)


def test_excess_rate_confidence_is_zero_when_the_rate_is_no_worse() -> None:
    assert excess_rate_confidence(5, 100, 50, 1000) == 0.0
    assert excess_rate_confidence(0, 10, 5, 100) == 0.0


@given(st.integers(0, 500), st.integers(1, 500))
def test_bounds_are_ordered_and_in_range(hits: int, extra: int) -> None:
    cases = hits + extra
    lower, upper = wilson_lower_bound(hits, cases), wilson_upper_bound(hits, cases)
    assert 0.0 <= lower <= hits / cases <= upper <= 1.0


@given(st.integers(1, 200))
def test_more_evidence_at_the_same_proportion_never_lowers_confidence(n: int) -> None:
    assert wilson_lower_bound(4 * n, 5 * n) <= wilson_lower_bound(8 * n, 10 * n)
