"""`patternbot logs import-dot-ai`: dot-ai Solution records as workflow-log events."""

from __future__ import annotations

import argparse
import sys

from bot.atomicfile import write_atomically
from bot.commands.common import load_valid_knowledge_base
from bot.config import load_config
from bot.console import progress, warn
from bot.error_handler import EXIT_FAILURE, EXIT_OK
from bot.errors import UsageError
from bot.workflow.dotai_solutions import DescriptionMapper, event_line, import_solutions


def run(args: argparse.Namespace) -> int:
    for path in args.files:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
    config = load_config(args.repo)
    kb = load_valid_knowledge_base(config)
    from bot.api import Recommender

    with Recommender(config=config) as recommender:

        def retriever(intent: str) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
            found = recommender.recommend(intent).retrieval
            patterns = [(m.id, m.score) for m in found.patterns]
            return patterns, [(m.id, m.score) for m in found.policies]

        mapper = DescriptionMapper(kb, recommender.embedder, config.learning.duplicate_similarity)
        result = import_solutions(args.files, mapper, retriever, cluster=args.cluster)
    text = "".join(f"{event_line(event)}\n" for event in result.events)
    if args.output is None:
        sys.stdout.write(text)
    else:
        write_atomically(args.output, text)
    for problem in result.problems:
        warn(str(problem))
    for mapping in result.unmapped:
        closest = f" (closest cosine {mapping.score:.3f})" if mapping.score is not None else ""
        warn(f"no {mapping.item_type} matches the description {mapping.description!r}{closest}")
    where = f" to {args.output}" if args.output is not None else ""
    progress(
        f"imported {result.records} Solution record(s) ({result.pending} pending, no outcome yet): "
        f"{len(result.events)} events{where}; {len(result.unmapped)} description(s) unmapped, "
        f"{len(result.problems)} record problem(s)"
    )
    return EXIT_FAILURE if result.problems else EXIT_OK
