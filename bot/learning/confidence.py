"""Confidence that respects sample size: lower confidence bounds on observed proportions."""

from __future__ import annotations

import functools
import math

# One-sided 95%: we only ever ask "is the proportion at least this high?".
DEFAULT_Z = 1.645


def wilson_lower_bound(hits: int, cases: int, z: float = DEFAULT_Z) -> float:
    """The Wilson score interval's lower bound on hits/cases; 0.0 when there are no cases."""
    if cases <= 0 or hits <= 0:
        return 0.0
    if hits > cases:
        raise ValueError(f"hits ({hits}) cannot exceed cases ({cases})")
    p = hits / cases
    z2 = z * z
    centre = p + z2 / (2 * cases)
    margin = z * math.sqrt(p * (1 - p) / cases + z2 / (4 * cases * cases))
    return max(0.0, (centre - margin) / (1 + z2 / cases))


def wilson_upper_bound(hits: int, cases: int, z: float = DEFAULT_Z) -> float:
    """The Wilson score interval's upper bound on hits/cases; 1.0 when there are no cases."""
    if cases <= 0:
        return 1.0
    return 1.0 - wilson_lower_bound(cases - hits, cases, z)


def excess_rate_confidence(
    hits: int, cases: int, base_hits: int, base_cases: int, z: float = DEFAULT_Z
) -> float:
    """A lower bound on the share of a rate that the baseline rate does not explain.

    1 - upper(baseline) / lower(rate): at 0.75, at least three quarters of the failures are beyond
    what the baseline failure rate predicts, even at the pessimistic ends of both intervals.
    """
    lower = wilson_lower_bound(hits, cases, z)
    if lower <= 0.0:
        return 0.0
    upper_base = wilson_upper_bound(base_hits, base_cases, z) if base_cases else 1.0
    return max(0.0, min(1.0, 1.0 - upper_base / lower))


@functools.lru_cache(maxsize=64)
def _decimals(value: float) -> int:
    """Decimals needed to write `value` exactly (at least 2, at most 6)."""
    for decimals in range(2, 7):
        if abs(round(value, decimals) - value) < 1e-12:
            return decimals
    return 6


def floor_to(value: float, decimals: int) -> float:
    """`value` rounded down to `decimals`: a figure below a threshold never reaches it in print."""
    scale = 10.0**decimals
    return math.floor(value * scale + 1e-9) / scale


def shown_below(value: float, threshold: float) -> tuple[str, str]:
    """`value` and `threshold` as text, precise enough that the first reads lower than the second.

    0.8496 against 0.85 gives ("0.8496", "0.85"), never ("0.85", "0.85"): more decimals until the
    rounded value is below the threshold, then rounding down at six decimals.
    """
    decimals = _decimals(threshold)
    limit = f"{threshold:.{decimals}f}"
    for places in range(decimals, 7):
        if round(value, places) < threshold:
            return f"{value:.{places}f}", limit
    return f"{floor_to(value, 6):.6f}", limit
