"""`patternbot recommend`: the patterns and policies the index returns for an intent."""

from __future__ import annotations

import argparse

from rich.table import Table

from bot.config import load_config
from bot.console import print_json, progress, stdout_console
from bot.error_handler import EXIT_OK
from bot.index.embeddings import load_embedder
from bot.index.retrieval import Match, Retrieval, require_index, retrieve
from bot.index.store import open_index
from bot.logs.emitter import WorkflowLog, new_workflow_id


def _table(title: str, matches: list[Match]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("score", justify="right")
    table.add_column("id")
    table.add_column("description")
    for match in matches:
        table.add_row(f"{match.score:.3f}", match.id, match.description)
    return table


def _log(args: argparse.Namespace, retrieval: Retrieval) -> str:
    workflow_id: str = args.workflow_id or new_workflow_id()
    WorkflowLog(args.log, cluster=args.cluster).retrieved(
        workflow_id,
        retrieval.intent,
        [(m.id, m.score) for m in retrieval.patterns],
        [(m.id, m.score) for m in retrieval.policies],
        workflow=args.workflow,
    )
    return workflow_id


def run(args: argparse.Namespace) -> int:
    config = load_config(args.repo)
    limit: int = args.limit if args.limit is not None else config.retrieval.limit
    with open_index(config) as index:
        # Checked before loading the model, so an empty index fails fast.
        require_index(index)
        retrieval = retrieve(
            index,
            load_embedder(config.embedding),
            args.intent,
            limit,
            include_deprecated=config.retrieval.include_deprecated,
        )
    workflow_id = _log(args, retrieval) if args.log else None
    if args.json:
        data = retrieval.to_data()
        if workflow_id:
            data["workflowId"] = workflow_id
        print_json(data)
        return EXIT_OK
    console = stdout_console()
    console.print(_table("Patterns", retrieval.patterns))
    console.print(_table("Policies", retrieval.policies))
    if workflow_id:
        progress(f"logged to {args.log} as workflow {workflow_id}")
    return EXIT_OK
