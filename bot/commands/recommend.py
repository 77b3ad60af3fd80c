"""`patternbot recommend`: the patterns and policies the index returns for an intent.

A cold process answers one intent: heavy imports wait until they are needed (rich only for the
tables, the log emitter only with --log) and the model loads without graph optimisation. Tools
that recommend often use the warm API in bot/api.py instead.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.api import Recommender
from bot.console import print_json, progress, stdout_console
from bot.error_handler import EXIT_OK

if TYPE_CHECKING:
    from rich.table import Table

    from bot.index.retrieval import Match


def _table(title: str, matches: list[Match]) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("score", justify="right")
    table.add_column("id")
    table.add_column("description")
    for match in matches:
        table.add_row(f"{match.score:.3f}", match.id, match.description)
    return table


def run(args: argparse.Namespace) -> int:
    with Recommender(args.repo, quick_start=True) as recommender:
        for warning in recommender.settings.warnings:
            print(warning, file=sys.stderr)
        result = recommender.recommend(
            args.intent,
            args.limit,
            log=args.log,
            workflow_id=args.workflow_id,
            workflow=args.workflow,
            cluster=args.cluster,
        )
    if args.json:
        print_json(result.to_data())
        return EXIT_OK
    console = stdout_console()
    console.print(_table("Patterns", result.retrieval.patterns))
    console.print(_table("Policies", result.retrieval.policies))
    if result.workflow_id:
        progress(f"logged to {args.log} as workflow {result.workflow_id}")
    return EXIT_OK
