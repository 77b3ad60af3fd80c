"""`patternbot new pattern|policy ID`: write a valid, commented skeleton at the item's path."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bot.config import load_config
from bot.error_handler import EXIT_OK
from bot.errors import KnowledgeBaseError, UsageError
from bot.knowledge.repository import item_files
from bot.knowledge.schema import id_problem
from bot.knowledge.skeleton import ItemType, skeleton_text


def _existing(folders: list[Path], item_id: str) -> Path | None:
    for folder in folders:
        for path in item_files(folder):
            if path.stem == item_id:
                return path
    return None


def run(args: argparse.Namespace) -> int:
    item_type: ItemType = args.type
    item_id: str = args.id
    problem = id_problem(item_id)
    if problem:
        raise UsageError(f"{item_id!r} is not a valid id: {problem}")
    root: Path = args.repo
    if not root.is_dir():
        raise KnowledgeBaseError(f"{root}: no such directory")
    config = load_config(root)
    folder = config.patterns_dir if item_type == "pattern" else config.policies_dir
    existing = _existing([config.patterns_dir, config.policies_dir], item_id)
    if existing is not None:
        # Ids are unique across patterns and policies.
        raise KnowledgeBaseError(f"{existing}: id {item_id!r} already exists; pick another id")
    schema = root / "schemas" / f"{item_type}.schema.json"
    modeline = Path(os.path.relpath(schema, folder)).as_posix() if schema.is_file() else None
    path = folder / f"{item_id}.yaml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as stream:
            stream.write(skeleton_text(item_type, item_id, modeline))
    except OSError as exc:
        raise KnowledgeBaseError(f"{path}: cannot write: {exc.strerror}") from exc
    print(f"wrote {path}: fill in the description, triggers and rationale, then run")
    print("`patternbot validate`; git will record who added it and when")
    return EXIT_OK
