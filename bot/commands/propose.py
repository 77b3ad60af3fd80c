"""`patternbot propose`: one branch and one pull request per suggestion, on GitHub or locally."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Mapping
from typing import Any

from bot.config import Config, load_config
from bot.console import print_json, stdout_console, warn
from bot.error_handler import EXIT_FAILURE, EXIT_OK
from bot.knowledge.repository import KnowledgeBase
from bot.learning.engine import SuggestionRun
from bot.logs.usage import UsageReport
from bot.platform.all_platforms import check_platform, open_platform
from bot.platform.dashboard import achievements
from bot.platform.feedback import TARGET_ACCEPTANCE, overall_acceptance
from bot.platform.gitrepo import GitRepo
from bot.platform.proposer import propose, read_feedback
from bot.platform.results import ProposeOutcome


def propose_report(
    config: Config,
    kb: KnowledgeBase,
    report: UsageReport,
    *,
    platform_name: str | None,
    dry_run: bool,
    index: Any = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[ProposeOutcome, SuggestionRun, dict[str, Any]]:
    """Suggest from `report` with the platform's decision history, then propose."""
    from bot.commands.common import open_optional_index
    from bot.index.embeddings import load_embedder
    from bot.learning.claude import drafter_from_environment
    from bot.learning.engine import suggest

    environ = os.environ if environ is None else environ
    repo = GitRepo(config.root)
    platform = open_platform(platform_name, config, repo, environ)
    feedback = read_feedback(config, platform)
    embedder = load_embedder(config.embedding)
    with contextlib.ExitStack() as stack:
        if index is None:
            index = open_optional_index(config, stack)
        engine = suggest(
            config, kb, report,
            embedder=embedder, index=index, history=feedback.history,
            min_confidence=min(feedback.thresholds.values()),
            drafter=drafter_from_environment(config, environ),
        )  # fmt: skip
    held = [item.model_dump(mode="json", by_alias=True) for item in engine.held_back]
    outcome = propose(
        config,
        platform,
        repo,
        engine.suggestions,
        feedback,
        report=report,
        dry_run=dry_run,
        held_back={item.fingerprint: item.reason for item in engine.held_back if item.fingerprint},
        engine_held=held,
        item_files=kb.files,
    )
    for message in [*engine.warnings, *outcome.warnings]:
        warn(message)
    figures = {
        "acceptance": {kind: value.to_data() for kind, value in feedback.acceptance.items()},
        "acceptanceOverall": {
            **overall_acceptance(feedback.acceptance).to_data(),
            "target": TARGET_ACCEPTANCE,
        },
        "achieved": [item.to_data() for item in achievements(feedback.decisions, report)],
        "thresholds": feedback.thresholds,
        "acknowledgedRejections": outcome.acknowledged,
    }
    return outcome, engine, figures


def outcome_data(
    outcome: ProposeOutcome, engine: SuggestionRun, figures: dict[str, Any]
) -> dict[str, Any]:
    """The JSON document `propose --json` and `run --json` print."""
    return {
        "platform": outcome.platform,
        "base": outcome.base,
        "dryRun": outcome.dry_run,
        "proposals": [result.to_data() for result in outcome.results],
        "heldBack": [held.model_dump(mode="json", by_alias=True) for held in engine.held_back],
        "counts": outcome.counts(),
        "dashboard": outcome.dashboard,
        "dashboardUrl": outcome.dashboard_url,
        "dashboardPreview": outcome.dashboard_body if outcome.dry_run else None,
        "stopped": outcome.stopped,
        "warnings": [*engine.warnings, *outcome.warnings],
        **figures,
    }


def print_outcome(outcome: ProposeOutcome, engine: SuggestionRun) -> None:
    """The proposals one per line for people (CI logs stay readable), with previews in a dry run."""
    console = stdout_console()
    mode = " (dry run: nothing was changed)" if outcome.dry_run else ""
    console.print(f"Proposals on {outcome.platform}, base {outcome.base}{mode}:", markup=False)
    if not outcome.results:
        console.print("  no suggestions to propose")
    for result in outcome.results:
        console.print(f"  {result.status.value:<20} {result.branch}", markup=False)
        console.print(
            f"  {'':<20} {result.title} (confidence {result.confidence:.2f})", markup=False
        )
        if result.suggestion is not None:
            console.print(f"  {'':<20} why: {result.suggestion.reason}", markup=False)
        for detail in (result.reason, result.url):
            if detail:
                console.print(f"  {'':<20} {detail}", markup=False)
    if outcome.dry_run:
        for result in outcome.results:
            if result.diff:
                console.print(f"\n{result.title} ({result.branch})", markup=False)
                console.print(result.diff, markup=False, end="")
            if result.body:
                console.print(f"\n--- pull request body: {result.branch} ---", markup=False)
                console.print(result.body, markup=False, end="")
        if outcome.dashboard_body:
            console.print("\n--- dashboard ---", markup=False)
            console.print(outcome.dashboard_body, markup=False, end="")
    counts = ", ".join(f"{count} {status}" for status, count in sorted(outcome.counts().items()))
    held = len(engine.held_back)
    console.print(f"{counts or 'nothing proposed'}; {held} held back by the engine", markup=False)
    if outcome.dashboard:
        console.print(f"dashboard: {outcome.dashboard}")
    if (
        outcome.platform == "local"
        and not outcome.dry_run
        and any(r.status in ("created", "updated", "recreated") for r in outcome.results)
    ):
        console.print(
            f"review: git diff {outcome.base}...<branch>; accept: git merge <branch>; "
            "reject: git branch -D <branch> (docs/pull-requests.md)",
            markup=False,
        )


def exit_code(outcome: ProposeOutcome) -> int:
    """1 when the run stopped early or a proposal failed, else 0."""
    if outcome.stopped is not None:
        pending = [r.branch for r in outcome.results if r.status == "pending"]
        warn(f"stopped: {outcome.stopped}; {len(pending)} pending: {', '.join(pending)}")
        return EXIT_FAILURE
    failed = [r for r in outcome.results if r.status == "failed"]
    for result in failed:
        warn(f"{result.branch}: {result.reason}")
    return EXIT_FAILURE if failed else EXIT_OK


def run(args: argparse.Namespace) -> int:
    from bot.commands.common import analyse_from_args, load_valid_knowledge_base

    check_platform(args.platform, os.environ)
    config = load_config(args.repo)
    kb = load_valid_knowledge_base(config)
    report = analyse_from_args(config, kb, args)
    outcome, engine, figures = propose_report(
        config, kb, report, platform_name=args.platform, dry_run=args.dry_run
    )
    if args.json:
        print_json(outcome_data(outcome, engine, figures))
    else:
        print_outcome(outcome, engine)
    return exit_code(outcome)
