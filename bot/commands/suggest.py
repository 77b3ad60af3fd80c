"""`patternbot suggest`: evidence-backed suggestions from workflow logs, as a table or JSON."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from rich.table import Table

from bot.config import Config, load_config
from bot.console import print_json, stdout_console, warn
from bot.error_handler import EXIT_OK
from bot.errors import IndexUnavailableError, KnowledgeBaseError, UsageError
from bot.knowledge.repository import KnowledgeBase, load_knowledge_base
from bot.learning.dedupe import NearestIndex
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import Suggestion


def load_valid_knowledge_base(config: Config) -> KnowledgeBase:
    """The repository's knowledge base; KnowledgeBaseError when a file does not validate."""
    kb = load_knowledge_base(config.root, config.paths.patterns, config.paths.policies)
    if kb.problems:
        first = kb.problems[0]
        more = f" (and {len(kb.problems) - 1} more)" if len(kb.problems) > 1 else ""
        raise KnowledgeBaseError(f"{first}{more}; run `patternbot validate` for the full list")
    return kb


def open_optional_index(config: Config, stack: contextlib.ExitStack) -> NearestIndex | None:
    """The configured index if there is one, else None (reading never creates a local index)."""
    from bot.index.store import open_index

    if config.index.url is None and not config.qdrant_path.exists():
        return None
    try:
        return stack.enter_context(open_index(config))
    except IndexUnavailableError as exc:
        # Deduplication can embed the knowledge base directly; the index only saves that work.
        warn(f"{exc}; comparing drafts with the knowledge base directly")
        return None


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
    from bot.logs.analysis import analyse_logs

    config = load_config(args.repo)
    kb = load_valid_knowledge_base(config)
    report = analyse_logs(
        config, kb, args.logs, since=args.since, until=args.until,
        strict=args.strict, quarantine_path=args.quarantine,
    )  # fmt: skip
    embedder = load_embedder(config.embedding)
    with contextlib.ExitStack() as stack:
        index = open_optional_index(config, stack)
        result = suggest(
            config, kb, report,
            embedder=embedder, index=index, history=InMemoryDecisionHistory(),
            min_confidence=args.min_confidence, limit=args.limit,
            drafter=drafter_from_environment(config),
        )  # fmt: skip
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
