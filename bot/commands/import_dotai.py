"""`patternbot import dot-ai`: bring a dot-ai pattern and policy store (Qdrant) into YAML files."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from bot.config import load_config
from bot.console import print_json, warn
from bot.error_handler import EXIT_FAILURE, EXIT_OK
from bot.errors import IndexUnavailableError, KnowledgeBaseError, UsageError
from bot.knowledge.dotai_import import (
    DotAiPoint,
    ItemType,
    plan_import,
    points_from_client,
    points_from_export,
    write_plan,
)


def _read_export(path: Path, collections: dict[ItemType, str]) -> list[DotAiPoint]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KnowledgeBaseError(f"{path}: cannot read: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KnowledgeBaseError(f"{path}: not a JSON export: {exc}") from exc
    return points_from_export(data, collections, str(path))


def _read_qdrant(url: str, api_key: str | None, collections: dict[ItemType, str]) -> list[Any]:
    # Imported here: qdrant-client costs half a second and only this source needs it.
    from qdrant_client import QdrantClient

    if api_key and url.startswith("http://"):
        warn("--api-key is sent over plain http; use an https:// URL outside a trusted network")
    try:
        with warnings.catch_warnings():
            # qdrant-client warns about the same thing as a Python warning; said once above.
            warnings.simplefilter("ignore", UserWarning)
            client = QdrantClient(url=url, api_key=api_key, check_compatibility=False, timeout=30)
    except Exception as exc:  # qdrant-client raises plain ValueErrors for bad URLs
        raise UsageError(f"--qdrant-url {url!r}: {exc}") from exc
    try:
        return points_from_client(client, collections)
    except KnowledgeBaseError:
        raise
    except Exception as exc:
        # Connection refused, TLS, authentication: the server's side, said in one line.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise IndexUnavailableError(f"cannot read from Qdrant at {url}: {reason}") from exc
    finally:
        client.close()


def run(args: argparse.Namespace) -> int:
    if (args.qdrant_url is None) == (args.file is None):
        raise UsageError("give either --qdrant-url URL or --file EXPORT.json")
    config = load_config(args.repo)
    collections: dict[ItemType, str] = {
        "pattern": args.patterns_collection,
        "policy": args.policies_collection,
    }
    if args.file is not None:
        points = _read_export(args.file, collections)
    else:
        points = _read_qdrant(args.qdrant_url, args.api_key, collections)
    plan = plan_import(config.root, config.paths.patterns, config.paths.policies, points)
    if plan.problems:
        for problem in plan.problems:
            print(problem)
        print(
            f"{len(plan.problems)} problem(s) in {len(points)} dot-ai item(s); nothing was written"
        )
        return EXIT_FAILURE
    written = [] if args.dry_run else write_plan(config.root, plan)
    if args.json:
        print_json(
            {
                "dryRun": args.dry_run,
                "files": [
                    {
                        "path": planned.relative,
                        "status": planned.status,
                        "dotaiId": planned.point.point_id,
                        "notes": planned.notes,
                    }
                    for planned in plan.files
                ],
            }
        )
        return EXIT_OK
    for planned in plan.files:
        if planned.status != "unchanged":
            print(f"{planned.status} {planned.relative}")
        for note in planned.notes:
            print(f"patternbot: note: {planned.relative}: {note}", file=sys.stderr)
    verb = "would import" if args.dry_run else "imported"
    print(
        f"{verb} {len(plan.files)} dot-ai item(s): {plan.count('added')} added, "
        f"{plan.count('updated')} updated, {plan.count('unchanged')} unchanged"
        + ("" if args.dry_run or written else "; nothing to write")
    )
    return EXIT_OK
