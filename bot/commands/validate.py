"""`patternbot validate`: check every pattern and policy file, reporting `file:line: message`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import load_config
from bot.console import print_json, warn
from bot.error_handler import EXIT_FAILURE, EXIT_OK
from bot.errors import KnowledgeBaseError
from bot.knowledge.repository import is_item_file_name, load_knowledge_base
from bot.yamlfile import Problem


def _in_scope(problem: Problem, files: list[Path], root: Path) -> bool:
    wanted = {str(path.resolve()) for path in files}
    return str((root / problem.path).resolve()) in wanted


def _under(path: Path, folders: set[Path]) -> bool:
    resolved = path.resolve()
    return any(folder == parent for parent in resolved.parents for folder in folders)


def run(args: argparse.Namespace) -> int:
    root: Path = args.repo
    if not root.is_dir():
        raise KnowledgeBaseError(f"{root}: no such directory")
    missing = [path for path in args.files if not path.exists()]
    if missing:
        # A misspelt path would otherwise check nothing and print "ok".
        raise KnowledgeBaseError(f"{missing[0]}: no such file")
    config = load_config(root)
    kb = load_knowledge_base(
        root, config.paths.patterns, config.paths.policies, state_dir=config.state_dir
    )
    problems = kb.problems
    notes = kb.notes
    if args.files:
        # pre-commit passes the changed files; duplicate ids still need the whole knowledge base.
        problems = [p for p in problems if _in_scope(p, args.files, root)]
        notes = [n for n in notes if _in_scope(n, args.files, root)]
        folders = {config.patterns_dir.resolve(), config.policies_dir.resolve()}
        for path in args.files:
            if not is_item_file_name(path.name) or not _under(path, folders):
                warn(
                    f"{path}: not checked (items are {config.paths.patterns}/**/<id>.yaml "
                    f"or {config.paths.policies}/**/<id>.yaml)"
                )
    if getattr(args, "verbose", False):
        for note in notes:
            print(f"patternbot: note: {note}", file=sys.stderr)
    if args.json:
        print_json(
            {
                "valid": not problems,
                "patterns": len(kb.patterns),
                "policies": len(kb.policies),
                "problems": [
                    {"path": p.path, "line": p.line, "message": p.message} for p in problems
                ],
            }
        )
    else:
        for problem in problems:
            print(problem)
        if problems:
            files = len({p.path for p in problems})
            print(f"{len(problems)} problem(s) in {files} file(s)")
        else:
            print(f"ok: {len(kb.patterns)} patterns, {len(kb.policies)} policies")
    return EXIT_FAILURE if problems else EXIT_OK
