"""The dashboard: one issue (or local file) rewritten in place each run, never duplicated.

Its text is a pure function of the run's data in a stable order, so an unchanged run edits
nothing. Untrusted text goes through bot.platform.markdown. Boxes a reviewer ticks are honoured by
the next run (bot.platform.requests).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.config import Config
from bot.logs.usage import ItemUsage, UsageReport
from bot.platform.base import OPEN_STATUSES, Platform, Proposal, ProposalStatus
from bot.platform.feedback import (
    TARGET_ACCEPTANCE,
    Decision,
    TypeAcceptance,
    overall_acceptance,
    rejection_bar,
)
from bot.platform.markdown import code, inert
from bot.platform.requests import checkbox
from bot.platform.results import ProposalResult, ProposeOutcome

if TYPE_CHECKING:
    from bot.platform.proposer import Feedback

DASHBOARD_TITLE = "patternbot dashboard"
DASHBOARD_LABEL = "patternbot-dashboard"
RECENTLY_CLOSED = 10
# The PRD's success criterion for a pattern created from a suggestion.
CREATED_PATTERN_USES = 3


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _health(items: Mapping[str, ItemUsage], noun: str) -> list[str]:
    if not items:
        return [f"No {noun} usage in this run's logs."]
    lines = [
        f"| {noun.capitalize()} | Recommended | Used | Success rate | Deployed | Failed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for item_id, usage in sorted(items.items()):
        lines.append(
            f"| {code(item_id)} | {usage.times_recommended} | {usage.times_used} "
            f"| {_rate(usage.success_rate)} | {usage.deployed} | {usage.failed} |"
        )
    return lines


def _standing(status: ProposalStatus) -> str:
    """How an open pull request stands, not what this run did to it: re-runs draw the same."""
    if status in (ProposalStatus.CONFLICT, ProposalStatus.BLOCKED_HUMAN_EDITS):
        return status.value
    return "open"


def _link(row: ProposalResult) -> str:
    return f" {row.url}" if row.url else ""


def _reason(reason: str | None) -> str:
    return f" — {inert(reason)}" if reason else ""


@dataclass(frozen=True)
class UsesBetween:
    """An item's uses over some days, and the success rate of those that ended."""

    uses: int = 0
    deployed: int = 0
    failed: int = 0

    @property
    def success_rate(self) -> float | None:
        decided = self.deployed + self.failed
        return self.deployed / decided if decided else None

    @classmethod
    def of(
        cls, usage: ItemUsage, *, since: str | None = None, before: str | None = None
    ) -> UsesBetween:
        """Uses on days from `since` (inclusive) and before `before` (exclusive), ISO dates."""
        chosen = [
            uses
            for day, uses in usage.uses_by_day.items()
            if (since is None or day >= since) and (before is None or day < before)
        ]
        return cls(
            sum(u.used for u in chosen),
            sum(u.deployed for u in chosen),
            sum(u.failed for u in chosen),
        )


@dataclass(frozen=True)
class Achievement:
    """What one merged suggestion's item did in the analysed logs since the merge (and before)."""

    decision: Decision
    since: UsesBetween
    before: UsesBetween | None  # updates only: the same item before the merge
    reached_target: bool | None  # created patterns only: used 3+ times since the merge

    def to_data(self) -> dict[str, Any]:
        def rate(figures: UsesBetween | None) -> float | None:
            value = figures.success_rate if figures else None
            return None if value is None else round(value, 4)

        return {
            "url": self.decision.url,
            "type": self.decision.type,
            "target": self.decision.target,
            "outcome": self.decision.outcome,
            "mergedAt": self.decision.decided_at,
            "uses": self.since.uses,
            "successRate": rate(self.since),
            "usesBefore": self.before.uses if self.before else None,
            "successRateBefore": rate(self.before),
            "reachedThreeUses": self.reached_target,
        }


def achievements(decisions: Iterable[Decision], report: UsageReport | None) -> list[Achievement]:
    """Per merged suggestion (latest per fingerprint), its item's uses since the merge day.

    For an update, the same figures before the merge day come alongside. A merge without a known
    date counts every analysed day as "since".
    """
    latest: dict[str, Decision] = {}
    for decision in decisions:
        latest[decision.fingerprint] = decision
    found = []
    for decision in sorted(latest.values(), key=lambda d: d.number):
        if decision.outcome == "rejected":
            continue
        items = (
            {}
            if report is None
            else (report.policies if decision.type == "create_policy" else report.patterns)
        )
        usage = items.get(decision.target, ItemUsage())
        merged_day = decision.decided_at[:10] if decision.decided_at else None
        since = UsesBetween.of(usage, since=merged_day)
        created = decision.type in ("create_pattern", "create_policy")
        before = None if created or merged_day is None else UsesBetween.of(usage, before=merged_day)
        found.append(
            Achievement(
                decision,
                since,
                before,
                since.uses >= CREATED_PATTERN_USES if decision.type == "create_pattern" else None,
            )
        )
    return found


def _acceptance(
    acceptance: Mapping[str, TypeAcceptance], thresholds: Mapping[str, float]
) -> list[str]:
    lines = [
        "| Type | Accepted | Modified | Rejected | Rate | Threshold |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for kind, figures in sorted(acceptance.items()):
        lines.append(
            f"| {code(kind)} | {figures.accepted} | {figures.modified} | {figures.rejected} "
            f"| {_rate(figures.rate)} | {thresholds.get(kind, 0.0):.2f} |"
        )
    total = overall_acceptance(acceptance)
    verdict = (
        "no decisions yet"
        if total.rate is None
        else ("meets" if total.rate >= TARGET_ACCEPTANCE else "below")
        + f" the {TARGET_ACCEPTANCE:.0%} target"
    )
    lines += [
        "",
        f"Overall: {total.accepted + total.modified} of {total.decided} decided suggestions "
        f"accepted or modified ({_rate(total.rate)}; {verdict}).",
    ]
    return lines


def _achieved(found: Sequence[Achievement]) -> list[str]:
    if not found:
        return ["No suggestion merged yet."]
    lines = [
        "| Pull request | Change | Merged | Uses since | Success since | Before the merge "
        "| 3+ uses |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for item in found:
        d = item.decision
        target = "n/a" if item.reached_target is None else ("yes" if item.reached_target else "no")
        merged = (d.decided_at or "")[:10] or "n/a"
        before = (
            "n/a"
            if item.before is None
            else f"{item.before.uses} uses, {_rate(item.before.success_rate)}"
        )
        lines.append(
            f"| {d.url} | {code(d.type)} {code(d.target)} ({d.outcome}) | {merged} "
            f"| {item.since.uses} | {_rate(item.since.success_rate)} | {before} | {target} |"
        )
    lines += [
        "",
        "Uses count the workflows whose solution used the item on or after the day of the merge; "
        "for an update, the same item before that day is shown beside them.",
    ]
    return lines


def _recently_closed(results: Sequence[ProposalResult], proposals: Sequence[Proposal]) -> list[str]:
    rows: dict[str, tuple[int, str]] = {}
    for proposal in proposals:
        metadata = proposal.metadata
        if proposal.state == "closed" and metadata is not None and metadata.closed_reason:
            rows[proposal.url] = (
                proposal.number,
                f"- {proposal.url} {inert(proposal.title)}{_reason(metadata.closed_reason)}",
            )
    for row in results:
        if row.status is ProposalStatus.CLOSED_OBSOLETE and row.url:
            line = f"- {row.url} {inert(row.title)}{_reason(row.reason)}"
            rows[row.url] = (row.number or 0, line)
    ordered = sorted(rows.values(), key=lambda item: -item[0])[:RECENTLY_CLOSED]
    return [line for _, line in ordered] or ["None."]


def render_dashboard(
    report: UsageReport | None,
    results: Sequence[ProposalResult],
    feedback: Feedback,
    engine_held: Sequence[Mapping[str, Any]] = (),
    base: str = "main",
    growth: float = 1.5,
) -> str:
    """The dashboard's Markdown: deterministic, so an unchanged run leaves the issue unchanged."""
    window = ""
    if report is not None and report.window.start and report.window.end:
        start, end = report.window.start.date(), report.window.end.date()
        window = f" Logs from {start} to {end}, {report.workflows} workflows."
    lines = [
        f"Kept up to date by patternbot on every run; edits here are overwritten, ticked boxes "
        f"are honoured by the next run. Closing this issue switches the dashboard off.{window}",
        "",
        "## Open suggestion pull requests",
        "",
    ]
    open_rows = sorted(
        (row for row in results if row.status in OPEN_STATUSES),
        key=lambda row: (row.number or 0, row.branch),
    )
    lines += [
        checkbox(
            "recreate",
            row.fingerprint,
            f"**{_standing(row.status)}** {inert(row.title)} (confidence {row.confidence:.2f})"
            f"{_link(row)}{_reason(row.reason)} — tick to rebuild the branch from {code(base)}",
        )
        for row in open_rows
    ] or ["None."]
    lines += ["", "## Awaiting a free slot", ""]
    limited = sorted(
        (row for row in results if row.status is ProposalStatus.RATE_LIMITED),
        key=lambda row: (-row.confidence, row.branch),
    )
    lines += [
        checkbox(
            "open-now",
            row.fingerprint,
            f"{inert(row.title)} (confidence {row.confidence:.2f}){_reason(row.reason)} "
            "— tick to open it now",
        )
        for row in limited
    ] or ["None."]
    lines += ["", "## Held back", ""]
    held = [
        f"- {inert(row.title)} (confidence {row.confidence:.2f}){_reason(row.reason)}"
        for row in sorted(
            (r for r in results if r.status is ProposalStatus.HELD_BACK),
            key=lambda r: (r.type, r.target, r.fingerprint),
        )
    ]
    held += [
        f"- {code(str(item.get('signal', '')))} {code(str(item.get('item', '')))} "
        f"({item.get('hits', 0)} of {item.get('cases', 0)}, confidence "
        f"{float(item.get('confidence', 0.0)):.2f}){_reason(str(item.get('reason', '')))}"
        for item in sorted(
            engine_held,
            key=lambda i: (str(i.get("signal")), str(i.get("item")), str(i.get("reason"))),
        )
    ]
    lines += held or ["None."]
    lines += ["", "## Rejected", ""]
    latest: dict[str, Decision] = {}
    for decision in feedback.decisions:
        latest[decision.fingerprint] = decision
    open_fps = {row.fingerprint for row in open_rows}
    rejected = [
        d
        for d in sorted(latest.values(), key=lambda d: d.number)
        if d.outcome == "rejected" and d.fingerprint not in open_fps
    ]
    lines += [
        checkbox(
            "repropose",
            d.fingerprint,
            f"{code(d.type)} {code(d.target)} rejected in {d.url}; comes back when "
            f"{rejection_bar(d, growth)} — tick to propose it again now",
        )
        for d in rejected
    ] or ["None."]
    lines += ["", "## Recently closed as obsolete", ""]
    lines += _recently_closed(results, feedback.proposals)
    lines += ["", "## What accepted suggestions achieved", ""]
    lines += _achieved(achievements(feedback.decisions, report))
    lines += ["", "## Acceptance", ""]
    lines += _acceptance(feedback.acceptance, feedback.thresholds)
    lines += ["", "## Pattern health", ""]
    lines += _health(report.patterns if report else {}, "pattern")
    lines += ["", "## Policy health", ""]
    lines += _health(report.policies if report else {}, "policy")
    return "\n".join(lines) + "\n"


def publish_dashboard(
    config: Config,
    platform: Platform,
    outcome: ProposeOutcome,
    feedback: Feedback,
    report: UsageReport | None,
    engine_held: Sequence[Mapping[str, Any]],
) -> None:
    """Write the dashboard; a closed one stays closed unless proposals.reopenDashboard.

    A dry run only renders it (`outcome.dashboard_body`), so the preview shows it too.
    """
    body = render_dashboard(
        report,
        outcome.results,
        feedback,
        engine_held,
        outcome.base,
        config.learning.resubmit_growth,
    )
    outcome.dashboard_body = body
    if outcome.dry_run:
        return
    status = platform.upsert_dashboard(
        DASHBOARD_TITLE,
        body,
        [DASHBOARD_LABEL],
        reopen=config.proposals.reopen_dashboard,
    )
    outcome.dashboard = status
    if feedback.dashboard is not None and status != "created":
        outcome.dashboard_url = feedback.dashboard.url
    elif status != "off":
        found = platform.find_dashboard(DASHBOARD_TITLE, [DASHBOARD_LABEL])
        outcome.dashboard_url = found.url if found else None
