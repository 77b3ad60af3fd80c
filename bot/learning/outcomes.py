"""What failed outcomes say beyond a rate: bursts that hit every pattern, dominant errors."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from statistics import NormalDist

from bot.learning.confidence import wilson_lower_bound, wilson_upper_bound
from bot.logs.usage import ItemUsage, UsageReport

MAX_ERRORS = 3


@functools.lru_cache(maxsize=1024)
def bonferroni_z(z: float, tests: int) -> float:
    """The one-sided z that keeps the error rate of `z` over `tests` tests (Bonferroni)."""
    if tests <= 1:
        return z
    alpha = 1.0 - NormalDist().cdf(z)
    return NormalDist().inv_cdf(1.0 - alpha / tests)


@dataclass(frozen=True)
class BurstExclusion:
    """Failures on burst days, removed from a pattern's and the other patterns' figures."""

    days: list[str]
    own_failed: int  # the pattern's failed workflows on those days
    others_failed: int  # the other patterns' failed uses on those days


def burst_days(report: UsageReport, usage: ItemUsage, z: float) -> list[str]:
    """Days whose failure rate, without this pattern's failures, stands out from the other days.

    Such a day is an outage that hit every pattern at once: the other workflows that day failed
    more often than the rest of the window allows (Wilson bounds, Bonferroni-corrected over the
    days tested), so the pattern's failures on it are not evidence against the pattern.
    """
    days = report.outcomes_by_day
    total_failed = sum(d.failed for d in days.values())
    total_cases = sum(d.failed + d.deployed for d in days.values())
    z_days = bonferroni_z(z, len(days))
    found = []
    for day, outcome in sorted(days.items()):
        own = min(usage.failed_by_day.get(day, 0), outcome.failed)
        others_failed = outcome.failed - own
        others_cases = outcome.failed + outcome.deployed - own
        rest_failed = total_failed - outcome.failed
        rest_cases = total_cases - outcome.failed - outcome.deployed
        if others_failed <= 0 or rest_cases <= 0:
            continue
        if wilson_lower_bound(others_failed, others_cases, z_days) > wilson_upper_bound(
            rest_failed, rest_cases, z_days
        ):
            found.append(day)
    return found


def failed_by_day_over_patterns(report: UsageReport) -> dict[str, int]:
    """Failed uses per day summed over all patterns (a workflow counts once per pattern used)."""
    totals: dict[str, int] = {}
    for usage in report.patterns.values():
        for day, failed in usage.failed_by_day.items():
            totals[day] = totals.get(day, 0) + failed
    return totals


def burst_exclusion(
    report: UsageReport, usage: ItemUsage, totals_by_day: dict[str, int], z: float
) -> BurstExclusion:
    """The failures to set aside for one pattern: its own and the others' on burst days."""
    days = burst_days(report, usage, z)
    own = sum(usage.failed_by_day.get(day, 0) for day in days)
    others = sum(totals_by_day.get(day, 0) for day in days) - own
    return BurstExclusion(days=days, own_failed=own, others_failed=max(0, others))


def dominant_errors(usage: ItemUsage) -> list[dict[str, object]]:
    """The most common normalised error texts with their counts and share of the failures."""
    ranked = sorted(usage.errors.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_ERRORS]
    failed = max(usage.failed, 1)
    return [
        {"error": text, "failed": count, "share": round(min(count, failed) / failed, 4)}
        for text, count in ranked
        if count > 0
    ]
