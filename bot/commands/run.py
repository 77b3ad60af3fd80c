"""`patternbot run`: validate, sync, metrics, suggest and propose in one go (the scheduled job)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.commands.propose import exit_code, outcome_data, print_outcome, propose_report
from bot.config import Config, load_config
from bot.console import print_json, progress, warn
from bot.platform.all_platforms import check_platform
from bot.platform.markdown import code, inert
from bot.platform.results import ProposeOutcome

if TYPE_CHECKING:
    from bot.learning.engine import HeldBack


def default_logs(config: Config) -> list[str]:
    """paths.logs resolved against the repository (examples/logs unless configured)."""
    return [str(config.root / path) for path in config.paths.logs]


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.0%}"


def step_summary(
    outcome: ProposeOutcome,
    workflows: int,
    synced: str,
    figures: dict[str, Any] | None = None,
    held: Sequence[HeldBack] = (),
    min_confidence: float | None = None,
) -> str:
    """The Markdown written to $GITHUB_STEP_SUMMARY: what a reviewer can act on."""
    figures = figures or {}
    lines = [
        "## patternbot run",
        "",
        f"- Index: {inert(synced)}",
        f"- Workflows analysed: {workflows}",
        f"- Platform: {outcome.platform}, base {code(outcome.base)}"
        + (" (dry run)" if outcome.dry_run else ""),
    ]
    if outcome.dashboard_url:
        lines.append(f"- Dashboard: {outcome.dashboard_url} ({outcome.dashboard})")
    if outcome.stopped:
        lines.append(f"- **Stopped**: {inert(outcome.stopped)}")
    overall = figures.get("acceptanceOverall")
    if overall and overall.get("rate") is not None:
        decided = overall["accepted"] + overall["modified"] + overall["rejected"]
        lines.append(
            f"- Acceptance: {overall['accepted'] + overall['modified']} of {decided} decided "
            f"({overall['rate']:.0%}; target {overall['target']:.0%})"
        )
    for url in figures.get("acknowledgedRejections", []):
        lines.append(f"- Rejection read this run: {url}")
    thresholds: dict[str, float] = figures.get("thresholds", {})
    acceptance: dict[str, dict[str, Any]] = figures.get("acceptance", {})
    for kind, value in sorted(thresholds.items()):
        if min_confidence is not None and abs(value - min_confidence) > 1e-9:
            counts = acceptance.get(kind, {})
            lines.append(
                f"- Threshold {code(kind)}: {value:.2f} instead of {min_confidence:.2f} "
                f"({counts.get('accepted', 0)} accepted, {counts.get('modified', 0)} modified, "
                f"{counts.get('rejected', 0)} rejected)"
            )
    lines += ["", "| Status | Branch | Title | Details |", "| --- | --- | --- | --- |"]
    for result in outcome.results:
        details = " ".join(part for part in (inert(result.reason or ""), result.url or "") if part)
        lines.append(
            f"| {result.status.value} | {code(result.branch)} | {inert(result.title)} | {details} |"
        )
    if not outcome.results:
        lines.append("| none | | no suggestions this run | |")
    achieved: list[dict[str, Any]] = figures.get("achieved", [])
    if achieved:
        lines += [
            "",
            "### What accepted suggestions achieved",
            "",
            "| Pull request | Change | Uses since the merge | Success since | Before the merge "
            "| 3+ uses |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for item in achieved:
            reached = item["reachedThreeUses"]
            before = (
                "n/a"
                if item["usesBefore"] is None
                else f"{item['usesBefore']} uses, {_percent(item['successRateBefore'])}"
            )
            lines.append(
                f"| {item['url']} | {code(item['type'])} {code(item['target'])} "
                f"({item['outcome']}) | {item['uses']} | {_percent(item['successRate'])} "
                f"| {before} | {'n/a' if reached is None else ('yes' if reached else 'no')} |"
            )
    if held:
        lines += ["", "### Held back by the engine", ""]
        lines += [
            f"- {code(item.signal)} {code(item.item)}: {inert(item.reason)}"
            for item in sorted(held, key=lambda i: (i.signal, i.item, i.reason))
        ]
    return "\n".join(lines) + "\n"


def write_step_summary(path: str, text: str) -> str | None:
    """Append to $GITHUB_STEP_SUMMARY; a failure (full disk...) is a warning, never a crash."""
    try:
        with Path(path).open("a", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as exc:
        return f"could not write the step summary to {path}: {exc.strerror or exc}"
    return None


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
        text = step_summary(
            outcome,
            report.workflows,
            summary,
            figures,
            engine.held_back,
            config.learning.min_confidence,
        )
        problem = write_step_summary(summary_file, text)
        if problem:
            warn(problem)
    return exit_code(outcome)
