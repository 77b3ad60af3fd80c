"""`patternbot run`: validate, sync, metrics, suggest and propose in one go (the scheduled job)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bot.commands.propose import exit_code, outcome_data, print_outcome, propose_report
from bot.config import Config, load_config
from bot.console import print_json, progress
from bot.platform.all_platforms import check_platform
from bot.platform.proposer import ProposeOutcome


def default_logs(config: Config) -> list[str]:
    """paths.logs resolved against the repository (examples/logs unless configured)."""
    return [str(config.root / path) for path in config.paths.logs]


def step_summary(outcome: ProposeOutcome, workflows: int, synced: str) -> str:
    """The Markdown written to $GITHUB_STEP_SUMMARY."""
    lines = [
        "## patternbot run",
        "",
        f"- Index: {synced}",
        f"- Workflows analysed: {workflows}",
        f"- Platform: {outcome.platform}, base `{outcome.base}`"
        + (" (dry run)" if outcome.dry_run else ""),
    ]
    if outcome.stopped:
        lines.append(f"- **Stopped**: {outcome.stopped}")
    lines += ["", "| Status | Branch | Title | Details |", "| --- | --- | --- | --- |"]
    for result in outcome.results:
        details = " ".join(part for part in (result.reason, result.url) if part)
        lines.append(
            f"| {result.status} | `{result.branch}` | {result.title} "
            f"| {details.replace('|', '/')} |"
        )
    if not outcome.results:
        lines.append("| none | | no suggestions this run | |")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from bot.commands.common import analyse_from_args, load_valid_knowledge_base
    from bot.commands.metrics import store_usage_metrics
    from bot.index.embeddings import load_embedder
    from bot.index.store import open_index
    from bot.index.sync import sync_index

    check_platform(args.platform, os.environ)
    config = load_config(args.repo)
    progress("validate: checking patterns and policies")
    kb = load_valid_knowledge_base(config)
    progress(f"validate: {len(kb.patterns)} patterns, {len(kb.policies)} policies")
    logs = args.logs or default_logs(config)
    report = analyse_from_args(config, kb, args, logs)
    progress(f"metrics: {report.workflows} workflows, {report.events} events")
    if args.dry_run:
        # A dry run leaves even the derived index alone; the engine compares drafts with the
        # knowledge base directly instead.
        summary = "not synced (dry run)"
        progress(f"sync: {summary}")
        progress("suggest and propose")
        outcome, engine, figures = propose_report(
            config, kb, report, platform_name=args.platform, dry_run=True, index=None
        )
    else:
        embedder = load_embedder(config.embedding)
        with open_index(config) as index:
            synced = sync_index(index, embedder, kb)
            if synced.rebuilt:
                progress(f"rebuilt the index from git: {synced.rebuilt}")
            summary = (
                f"{synced.added} added, {synced.updated} updated, {synced.removed} removed, "
                f"{synced.unchanged} unchanged"
            )
            progress(f"sync: {summary}")
            written = store_usage_metrics(index, report)
            progress(f"metrics: usage metrics written to {sum(written.values())} index points")
            progress("suggest and propose")
            outcome, engine, figures = propose_report(
                config, kb, report, platform_name=args.platform, dry_run=False, index=index
            )
    if args.json:
        print_json(outcome_data(outcome, engine, figures))
    else:
        print_outcome(outcome, engine)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with Path(summary_file).open("a", encoding="utf-8") as stream:
            stream.write(step_summary(outcome, report.workflows, summary))
    return exit_code(outcome)
