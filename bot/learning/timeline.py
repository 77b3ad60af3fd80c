"""Time: regularities newly adopted in the recent window, and regularities that have stopped.

Every signal is measured again on the report's recent period (the last learning.recentDays days)
and on the time before it. The recent window is a second look at the same logs, so it is judged at
alpha/2 (Bonferroni over the two looks).

- Adopted: a finding that did not pass over the whole window is, in the recent window, above its
  earlier rate beyond doubt (the earlier Wilson upper bound is below the recent lower bound) and
  what most recent cases do (recent lower bound >= 0.5). Its confidence is the excess-rate bound
  of the recent over the earlier rate (the share of the recent hits the earlier rate cannot
  explain), not the recent share's own bound: a fixed window dilutes an adoption younger than the
  window with the cases before its onset (95% of uses since day 67 reads as 72% of the last 30
  days). It is proposed with the recent figures and the timeline in its evidence.
- Stopped: a finding that passed over the whole window fails in the recent window and its recent
  rate is below the earlier one beyond doubt. It is held back: old data alone proposes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.learning.confidence import (
    excess_rate_confidence,
    wilson_lower_bound,
    wilson_upper_bound,
)
from bot.learning.findings import Finding, SignalContext
from bot.learning.outcomes import bonferroni_z
from bot.learning.scope import Verdict
from bot.learning.signal import Signal
from bot.learning.wording import percent
from bot.logs.usage import UsageReport

RECENT, EARLIER = "recent", "earlier"
LOOKS = 2  # the whole window and the recent one
MAJORITY = 0.5  # an adoption is what most recent cases do

Key = tuple[str, ...]


@dataclass
class TimeLook:
    """What the recent window changes: findings adopted in it, and passing ones that stopped."""

    adopted: list[Finding]
    stopped: list[tuple[Finding, str]]


def _figures(finding: Finding | None, report: UsageReport) -> dict[str, Any]:
    window = report.window
    return {
        "start": window.start.isoformat() if window.start else None,
        "end": window.end.isoformat() if window.end else None,
        "hits": finding.hits if finding else 0,
        "cases": finding.cases if finding else 0,
        "frequency": round(finding.frequency, 4) if finding and finding.frequency else 0.0,
    }


def _phrase(finding: Finding | None) -> str:
    if finding is None or not finding.cases:
        return "none"
    return f"{percent(finding.frequency)} ({finding.hits} of {finding.cases})"


def timeline_phrase(details: dict[str, Any]) -> str:
    """`newly adopted: 92% (46 of 50) in the last 30 days against 0% (0 of 80) before`."""
    line = details["timeline"]
    recent, earlier = line[RECENT], line[EARLIER]

    def shown(figures: dict[str, Any]) -> str:
        if not figures["cases"]:
            return "none"
        return f"{percent(figures['frequency'])} ({figures['hits']} of {figures['cases']})"

    return (
        f"newly adopted: {shown(recent)} in the last {line['recentDays']} days "
        f"against {shown(earlier)} before"
    )


def _significantly_above(high: Finding, low: Finding | None, z: float) -> bool:
    if low is None or low.cases <= 0:
        return True
    return wilson_upper_bound(low.hits, low.cases, z) < wilson_lower_bound(high.hits, high.cases, z)


def look_at_time(
    signal: Signal,
    ctx: SignalContext,
    report: UsageReport,
    selected: list[Finding],
    overall: list[Finding],
    verdict: Verdict,
    z: float,
) -> TimeLook:
    """Findings adopted in the recent window and selected findings that stopped in it."""
    look = TimeLook(adopted=[], stopped=[])
    recent_report, earlier_report = report.periods.get(RECENT), report.periods.get(EARLIER)
    if recent_report is None or earlier_report is None:
        return look
    recent = {f.key: f for f in signal.measure(ctx, recent_report)}
    earlier = {f.key: f for f in signal.measure(ctx, earlier_report)}
    whole = {f.key: f for f in overall}

    def at(findings: dict[Key, Finding], period: UsageReport, key: Key) -> Finding | None:
        return findings.get(key) or signal.unseen(ctx, period, key)

    def timeline(key: Key, now: Finding | None, before: Finding | None) -> dict[str, Any]:
        return {
            "recentDays": ctx.settings.recent_days,
            RECENT: _figures(now, recent_report),
            EARLIER: _figures(before, earlier_report),
            "whole": _figures(whole.get(key), report),
        }

    selected_keys = {f.key for f in selected if f.cluster is None}
    for finding in selected:
        if finding.cluster is not None:
            continue
        now = at(recent, recent_report, finding.key)
        before = at(earlier, earlier_report, finding.key)
        if now is None or before is None or not now.cases:
            continue
        if _significantly_above(before, now, z) and verdict(now) is not None:
            finding.details["timeline"] = timeline(finding.key, now, before)
            look.stopped.append(
                (
                    finding,
                    f"stopped: {_phrase(now)} in the last {ctx.settings.recent_days} days "
                    f"against {_phrase(before)} before",
                )
            )
    z_recent = bonferroni_z(z, LOOKS)
    for key, now in sorted(recent.items()):
        if key in selected_keys or not now.cases:
            continue
        before = at(earlier, earlier_report, key)
        if not _significantly_above(now, before, z_recent):
            continue
        if wilson_lower_bound(now.hits, now.cases, z_recent) < MAJORITY:
            continue
        if before is not None and before.cases > 0:
            measured = "excess over the earlier rate"
            now.confidence = excess_rate_confidence(
                now.hits, now.cases, before.hits, before.cases, z_recent
            )
        else:
            # Nothing before to compare with (say, a pattern first used recently): the recent
            # share is judged on its own.
            measured = "recent share"
            now.confidence = signal.confidence(now, z_recent)
        if verdict(now) is None:
            now.details["timeline"] = timeline(key, now, before)
            now.details["adoption"] = {
                "confidence": measured,
                "z": round(z_recent, 4),
                "signalConfidence": round(signal.confidence(now, z_recent), 4),
            }
            look.adopted.append(now)
    return look
