"""`patternbot metrics`: aggregate workflow logs into usage metrics and store them in the index."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.config import Config, load_config
from bot.console import print_json, stdout_console, warn
from bot.error_handler import EXIT_FAILURE, EXIT_OK
from bot.errors import PatternbotError
from bot.knowledge.repository import load_knowledge_base
from bot.logs.usage import ItemUsage, UsageReport

if TYPE_CHECKING:
    from bot.index.store import Index

TOP_ADDITIONS = 3


def store_usage_metrics(index: Index, report: UsageReport) -> dict[str, int]:
    """Store each item's usageMetrics in its payload of an open index; points updated per kind."""
    return {
        "patterns": index.set_usage_metrics(
            "pattern", {i: u.usage_metrics() for i, u in report.patterns.items()}
        ),
        "policies": index.set_usage_metrics(
            "policy", {i: u.usage_metrics() for i, u in report.policies.items()}
        ),
    }


def write_usage_metrics(config: Config, report: UsageReport) -> dict[str, int]:
    """Open the configured index and store every item's usageMetrics in it."""
    from bot.index.store import open_index  # Qdrant loads only when the index is written

    with open_index(config) as index:
        return store_usage_metrics(index, report)


# The report fields --json prints; the others (co-usage, settings, weak intents) are for the
# learning stages, and dumping them (thousands of pairs) only to drop them would be wasted time.
_PRINTED_FIELDS = {
    "patterns", "policies", "rejected_lines", "duplicate_events", "anomalies", "window", "events",
    "workflows", "workflows_with_solution", "deployed_solutions",
}  # fmt: skip
_LEARNING_ITEM_FIELDS = ("errors", "failedByDay", "usesByDay")


def _report_data(report: UsageReport, nested: bool = True) -> dict[str, Any]:
    data = report.model_dump(mode="json", by_alias=True, include=_PRINTED_FIELDS)
    for items in (data["patterns"], data["policies"]):
        for item in items.values():
            # Learning inputs, not computed by this command (see AggregationOptions).
            for key in _LEARNING_ITEM_FIELDS:
                item.pop(key, None)
    result: dict[str, Any] = {
        "patterns": data["patterns"],
        "policies": data["policies"],
        "rejectedLines": data["rejectedLines"],
        "duplicateEvents": data["duplicateEvents"],
        "anomalies": data["anomalies"],
        "window": data["window"],
        "events": data["events"],
        "workflows": data["workflows"],
        "workflowsWithSolution": data["workflowsWithSolution"],
        "deployedSolutions": data["deployedSolutions"],
    }
    if nested:
        result["clusters"] = {
            name: _report_data(cluster, nested=False) for name, cluster in report.clusters.items()
        }
    return result


def _rate(item: ItemUsage) -> str:
    return "-" if item.success_rate is None else f"{item.success_rate:.0%}"


def _additions(item: ItemUsage) -> str:
    top = list(item.common_additions.items())[:TOP_ADDITIONS]
    return ", ".join(f"{kind} ({count})" for kind, count in top) or "-"


def _print_table(report: UsageReport, index_updates: dict[str, int] | None) -> None:
    from rich.table import Table  # only for the human table: JSON output never loads rich

    console = stdout_console()
    table = Table(title=f"Usage from {report.workflows} workflows ({report.events} events)")
    for column in ("kind", "id", "recommended", "used", "success", "top additions", "last used"):
        justify = "right" if column in ("recommended", "used", "success") else "left"
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for kind, items in (("pattern", report.patterns), ("policy", report.policies)):
        for item_id, item in items.items():
            last = item.last_used.strftime("%Y-%m-%d") if item.last_used else "-"
            table.add_row(
                kind,
                item_id,
                str(item.times_recommended),
                str(item.times_used),
                _rate(item),
                _additions(item) if kind == "pattern" else "",
                last,
            )
    console.print(table)
    for anomaly in report.anomalies:
        console.print(
            f"anomaly: {anomaly.kind} {anomaly.id} in {anomaly.workflows} workflow(s), "
            f"e.g. {anomaly.example_workflow}"
        )
    console.print(
        f"rejected lines: {report.rejected_lines}; duplicate events: {report.duplicate_events}"
    )
    if index_updates is not None:
        console.print(
            f"index: usage metrics written to {index_updates['patterns']} pattern(s) and "
            f"{index_updates['policies']} policy(ies)"
        )


def run(args: argparse.Namespace) -> int:
    config = load_config(args.repo)
    kb = load_knowledge_base(config.root, config.paths.patterns, config.paths.policies)
    if kb.problems:
        warn(f"the knowledge base has {len(kb.problems)} problem(s); run `patternbot validate`")
    from bot.logs.analysis import analyse_logs  # DuckDB loads only when logs are read

    report = analyse_logs(
        config,
        kb,
        args.logs,
        since=args.since,
        until=args.until,
        cluster=args.cluster,
        strict=args.strict,
        quarantine_path=args.quarantine,
        learning_inputs=False,
    )
    index_updates: dict[str, int] | None = None
    status = EXIT_OK
    if not args.no_index:
        try:
            index_updates = write_usage_metrics(config, report)
        except PatternbotError as exc:
            # The metrics are still printed: the index is derived state and can be rebuilt.
            warn(f"usage metrics were not written to the index: {exc}")
            status = EXIT_FAILURE
    if args.json:
        data = _report_data(report)
        data["indexUpdated"] = index_updates
        print_json(data)
    else:
        _print_table(report, index_updates)
    return status
