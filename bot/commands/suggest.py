"""`patternbot suggest`: evidence-backed suggestions from workflow logs, as a table or JSON."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from bot.commands.common import analyse_from_args, load_valid_knowledge_base, open_optional_index
from bot.config import load_config
from bot.console import print_json, stdout_console, warn
from bot.error_handler import EXIT_OK
from bot.errors import UsageError
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import Suggestion


def _check_args(args: argparse.Namespace) -> None:
    if args.min_confidence is not None and not 0.0 <= args.min_confidence <= 1.0:
        raise UsageError(f"--min-confidence must be between 0 and 1, not {args.min_confidence:g}")
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, not {args.limit}")


def suggestion_row(suggestion: Suggestion) -> dict[str, Any]:
    """A suggestion as JSON data with every field, camelCase."""
    data: dict[str, Any] = suggestion.model_dump(mode="json", by_alias=True)
    return data


def run(args: argparse.Namespace) -> int:
    _check_args(args)
    from bot.index.embeddings import load_embedder
    from bot.learning.claude import drafter_from_environment
    from bot.learning.engine import suggest

    config = load_config(args.repo)
    kb = load_valid_knowledge_base(config)
    report = analyse_from_args(config, kb, args)
    embedder = load_embedder(config.embedding)
    with contextlib.ExitStack() as stack:
        index = open_optional_index(config, stack)
        result = suggest(
            config, kb, report,
            embedder=embedder, index=index, history=InMemoryDecisionHistory(),
            min_confidence=args.min_confidence, limit=args.limit,
            drafter=drafter_from_environment(config),
        )  # fmt: skip
    # The engine returns warnings; this is the one place they are printed (standard error).
    for message in result.warnings:
        warn(message)
    if args.json:
        print_json(
            {
                "suggestions": [suggestion_row(s) for s in result.suggestions],
                "heldBack": [h.model_dump(mode="json", by_alias=True) for h in result.held_back],
                "warnings": result.warnings,
                "draftedBy": result.drafted_by,
                "modelSeconds": result.model_seconds,
            }
        )
        return EXIT_OK
    console = stdout_console()
    if not result.suggestions:
        console.print(f"no suggestions ({len(result.held_back)} held back)")
        return EXIT_OK
    from rich.table import Table  # only for the human table: JSON output never loads rich

    table = Table("#", "type", "target/id", "confidence", "reason", show_lines=False)
    for number, suggestion in enumerate(result.suggestions, start=1):
        table.add_row(
            str(number),
            suggestion.type.value,
            suggestion.item_id,
            f"{suggestion.confidence:.2f}",
            suggestion.reason,
        )
    console.print(table)
    console.print(
        f"{len(result.suggestions)} suggestion(s), {len(result.held_back)} held back; "
        "--json shows drafts and evidence"
    )
    return EXIT_OK
