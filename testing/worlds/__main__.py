"""`python -m testing.worlds`: write an evaluation world's knowledge base, logs and ground truth."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from testing.simulation.groundtruth import MANIFEST_NAME
from testing.worlds import WORLD_NAMES, CorpusMissing, generate, load_world, write_repo


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m testing.worlds",
        description="Write a world built from the evaluation corpus: repository, logs, truth.",
    )
    parser.add_argument("world", choices=WORLD_NAMES)
    parser.add_argument("--repo", type=Path, required=True, help="where the knowledge base goes")
    parser.add_argument("--out", type=Path, required=True, help="where logs and truth go")
    parser.add_argument("--events", type=int, default=45_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--files", type=int, default=1)
    parser.add_argument("--corpus", type=Path, help="corpus folder (else $PATTERNBOT_CORPUS)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        world = load_world(args.world, args.corpus)
    except CorpusMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_repo(world, args.repo)
    truth, _ = generate(world, args.out, events=args.events, seed=args.seed, files=args.files)
    print(
        f"wrote {len(world.patterns)} patterns and {len(world.policies)} policies into {args.repo}"
    )
    print(f"{truth.events} events in {truth.workflows} workflows into {args.out}")
    print(
        f"wrote {args.out / MANIFEST_NAME} ({len(truth.planted())} planted, "
        f"{len(truth.controls())} negative controls)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
