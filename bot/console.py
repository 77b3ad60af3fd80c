"""Output helpers: JSON on stdout for machines, rich tables for people, warnings on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console


def stdout_console() -> Console:
    """A console for human-readable output (plain text when not a terminal)."""
    return Console(highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Print data as indented JSON on standard output."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def warn(message: str) -> None:
    """A one-line warning on standard error."""
    print(f"patternbot: warning: {message}", file=sys.stderr)


def progress(message: str) -> None:
    """A progress line on standard error, so standard output stays clean for --json."""
    print(f"patternbot: {message}", file=sys.stderr, flush=True)
