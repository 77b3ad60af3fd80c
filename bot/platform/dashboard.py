"""The dashboard issue: pattern health and every suggestion's state, rewritten in place each run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.logs.usage import UsageReport
from bot.platform.feedback import Decision, TypeAcceptance

DASHBOARD_TITLE = "patternbot dashboard"
DASHBOARD_LABEL = "patternbot-dashboard"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _health(report: UsageReport | None) -> list[str]:
    if report is None or not report.patterns:
        return ["No usage report for this run."]
    lines = [
        "| Pattern | Recommended | Used | Success rate | Deployed | Failed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for item_id, usage in sorted(report.patterns.items()):
        lines.append(
            f"| `{item_id}` | {usage.times_recommended} | {usage.times_used} "
            f"| {_rate(usage.success_rate)} "
            f"| {usage.deployed} | {usage.failed} |"
        )
    return lines


def _list(rows: Sequence[Mapping[str, Any]], empty: str) -> list[str]:
    if not rows:
        return [empty]
    return [
        f"- `{row['branch']}` — {row['title']}"
        + (f" ({row['reason']})" if row.get("reason") else "")
        + (f" {row['url']}" if row.get("url") else "")
        for row in rows
    ]


def render_dashboard(
    report: UsageReport | None,
    results: Sequence[Mapping[str, Any]],
    decisions: Iterable[Decision],
    acceptance: Mapping[str, TypeAcceptance],
    thresholds: Mapping[str, float],
) -> str:
    """The dashboard's Markdown: deterministic, so an unchanged run leaves the issue unchanged."""
    by_status: dict[str, list[Mapping[str, Any]]] = {}
    for row in results:
        by_status.setdefault(str(row["status"]), []).append(row)
    open_rows = [
        row
        for status in ("created", "updated", "unchanged", "skipped_human_edits")
        for row in by_status.get(status, [])
    ]
    window = ""
    if report is not None and report.window.start and report.window.end:
        start, end = report.window.start.date(), report.window.end.date()
        window = f" Logs from {start} to {end}, {report.workflows} workflows."
    lines = [
        f"Kept up to date by patternbot on every run; edits here are overwritten.{window}",
        "",
        "## Pattern health",
        "",
    ]
    lines += _health(report)
    lines += ["", "## Open suggestions", "", *_list(open_rows, "None.")]
    lines += ["", "## Pending (held back)", "", *_list(by_status.get("held_back", []), "None.")]
    lines += ["", "## Rate-limited (waiting for a free slot)", ""]
    lines += _list(by_status.get("rate_limited", []) + by_status.get("pending", []), "None.")
    rejected = [decision for decision in decisions if decision.outcome == "rejected"]
    lines += ["", "## Rejected", ""]
    lines += [
        f"- `{d.type}` `{d.target}` ({d.hits} of {d.cases} cases) {d.url}" for d in rejected
    ] or ["None."]
    lines += [
        "",
        "## Acceptance",
        "",
        "| Type | Accepted | Modified | Rejected | Rate | Threshold |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for kind, figures in acceptance.items():
        lines.append(
            f"| `{kind}` | {figures.accepted} | {figures.modified} | {figures.rejected} "
            f"| {_rate(figures.rate)} "
            f"| {thresholds.get(kind, 0.0):.2f} |"
        )
    return "\n".join(lines) + "\n"
