"""`patternbot sync`: mirror the patterns and policies of the repository into the Qdrant index."""

from __future__ import annotations

import argparse

from bot.config import load_config
from bot.console import print_json, progress
from bot.error_handler import EXIT_OK
from bot.index.embeddings import load_embedder
from bot.index.store import open_index
from bot.index.sync import sync_index
from bot.knowledge.repository import load_knowledge_base


def run(args: argparse.Namespace) -> int:
    config = load_config(args.repo)
    kb = load_knowledge_base(
        config.root, config.paths.patterns, config.paths.policies, state_dir=config.state_dir
    )
    with open_index(config) as index:
        report = sync_index(
            index,
            load_embedder(config.embedding),
            kb,
            rebuild=args.rebuild,
            prune=args.prune,
        )
    if report.rebuilt:
        # A rebuild re-embeds everything and was perhaps not asked for: never do it silently.
        progress(f"rebuilt the index from git: {report.rebuilt}")
    if args.json:
        print_json(report.to_data())
    else:
        print(
            f"synced {index.location}: {report.added} added, {report.updated} updated, "
            f"{report.removed} removed, {report.unchanged} unchanged"
        )
    return EXIT_OK
