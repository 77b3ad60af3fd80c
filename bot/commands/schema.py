"""`patternbot schema`: write or check the JSON Schema files editors validate YAML with."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.error_handler import EXIT_FAILURE, EXIT_OK
from bot.errors import PatternbotError
from bot.knowledge.jsonschema import pattern_json_schema, policy_json_schema, schema_text


def _workflow_log_schema() -> dict[str, Any]:
    # Imported here so the knowledge-base schemas do not depend on the log models being importable.
    from bot.logs.jsonschema import workflow_log_json_schema

    return workflow_log_json_schema()


SCHEMA_FILES: dict[str, Callable[[], dict[str, Any]]] = {
    "pattern.schema.json": pattern_json_schema,
    "policy.schema.json": policy_json_schema,
    "workflow-log-v1.schema.json": _workflow_log_schema,
}


def expected_files() -> dict[str, str]:
    """File name -> the text it should hold, for every published schema."""
    return {name: schema_text(build()) for name, build in SCHEMA_FILES.items()}


def stale_files(out: Path) -> list[Path]:
    """The schema files under `out` that are missing or differ from what the models generate."""
    stale = []
    for name, text in expected_files().items():
        path = out / name
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        except OSError as exc:
            raise PatternbotError(f"{path}: cannot read: {exc.strerror}") from exc
        if current != text:
            stale.append(path)
    return stale


def write_files(out: Path) -> list[Path]:
    """Write every schema file under `out`; returns the files whose content changed."""
    changed = stale_files(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in expected_files().items():
            if out / name in changed:
                (out / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PatternbotError(f"{out}: cannot write: {exc.strerror}") from exc
    return changed


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    if args.check:
        stale = stale_files(out)
        for path in stale:
            state = "missing" if not path.exists() else "out of date"
            print(f"{path}: {state}; run `patternbot schema --out {out}` and commit the result")
        if stale:
            return EXIT_FAILURE
        print(f"ok: {len(SCHEMA_FILES)} schema files in {out} are current")
        return EXIT_OK
    changed = write_files(out)
    for path in changed:
        print(f"wrote {path}")
    if not changed:
        print(f"ok: {len(SCHEMA_FILES)} schema files in {out} were already current")
    return EXIT_OK
