"""`python -m testing.simulation`: simulated workflow logs and their ground truth."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import load_config
from bot.console import warn
from bot.error_handler import EXIT_USAGE, error_boundary
from bot.errors import KnowledgeBaseError
from bot.knowledge.repository import load_knowledge_base
from testing.simulation.corpus import generate_knowledge_base
from testing.simulation.groundtruth import MANIFEST_NAME
from testing.simulation.scenario import Scenario
from testing.simulation.workload import simulate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m testing.simulation",
        description="Write workflow logs with planted regularities, and their ground truth.",
    )
    parser.add_argument(
        "--repo", type=Path, default=Path("."), metavar="DIR", help="the knowledge-base repository"
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="where the logs and manifest go"
    )
    parser.add_argument(
        "--events", type=int, required=True, metavar="N", help="how many distinct valid events"
    )
    parser.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default: 7)")
    parser.add_argument(
        "--files", type=int, default=1, metavar="K", help="split the workflows over K files"
    )
    parser.add_argument("--gzip", action="store_true", help="write .jsonl.gz files")
    parser.add_argument(
        "--messy",
        action="store_true",
        help="add re-delivered duplicates, out-of-order and malformed lines, revised solutions",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        metavar="PATH",
        help="the evaluation corpus folder, for --patterns (default: built-in charts)",
    )
    parser.add_argument(
        "--patterns",
        type=int,
        metavar="N",
        help="first generate a knowledge base of N patterns into --repo",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Generate the knowledge base when asked, then the logs; print what was written."""
    if args.patterns is not None:
        made, policies = generate_knowledge_base(args.corpus, args.patterns, args.repo)
        print(f"wrote {made} patterns and {policies} policies into {args.repo}")
    elif args.corpus is not None:
        warn("--corpus is only used with --patterns; ignored")
    config = load_config(args.repo)
    kb = load_knowledge_base(args.repo, config.paths.patterns, config.paths.policies)
    kb.require_valid()
    if not kb.patterns:
        raise KnowledgeBaseError(f"no patterns in {args.repo / config.paths.patterns}")
    scenario = Scenario.for_knowledge_base(kb)
    truth = simulate(
        kb,
        scenario,
        args.out,
        events=args.events,
        seed=args.seed,
        files=args.files,
        gzip=args.gzip,
        messy=args.messy,
    )
    for name in truth.files:
        path = args.out / name
        print(f"wrote {path} ({path.stat().st_size / 1_000_000:.2f} MB)")
    planted, controls = len(truth.planted()), len(truth.controls())
    print(f"{truth.events} events in {truth.workflows} workflows, {truth.lines} lines")
    print(
        f"wrote {args.out / MANIFEST_NAME} "
        f"({planted} planted regularities, {controls} negative controls)"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    with error_boundary() as result:
        result[0] = run(args)
    return result[0]


if __name__ == "__main__":
    sys.exit(main())
