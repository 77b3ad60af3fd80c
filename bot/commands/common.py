"""What several commands share: a knowledge base that must validate, the index, the logs."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.config import Config
from bot.console import warn
from bot.errors import IndexUnavailableError
from bot.knowledge.repository import KnowledgeBase, load_knowledge_base
from bot.logs.usage import UsageReport

if TYPE_CHECKING:
    from bot.learning.dedupe import NearestIndex


def load_valid_knowledge_base(config: Config) -> KnowledgeBase:
    """The repository's knowledge base; KnowledgeBaseError when a file does not validate."""
    kb = load_knowledge_base(
        config.root, config.paths.patterns, config.paths.policies, state_dir=config.state_dir
    )
    kb.require_valid()
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


def analyse_from_args(
    config: Config,
    kb: KnowledgeBase,
    args: argparse.Namespace,
    logs: Sequence[str] | None = None,
    cluster: str | None = None,
) -> UsageReport:
    """The usage report for the command's --logs (or `logs`) and its shared log flags."""
    from bot.logs.analysis import analyse_logs

    return analyse_logs(
        config,
        kb,
        logs if logs is not None else args.logs,
        since=args.since,
        until=args.until,
        cluster=cluster,
        strict=args.strict,
        quarantine_path=args.quarantine,
    )
