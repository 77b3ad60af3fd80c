"""Keeping rejected log lines: each goes verbatim into a JSON Lines quarantine file, never lost."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.errors import PatternbotError


@dataclass(frozen=True)
class RejectedLine:
    """A log line that is not a valid v1 event: where it was, why, and its exact text."""

    source: str  # "file:line"
    reason: str
    line: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


def default_quarantine_path(state_dir: Path, now: dt.datetime | None = None) -> Path:
    """`<state>/quarantine/<UTC time>.jsonl`, not yet existing."""
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = state_dir / "quarantine"
    path = folder / f"{stamp}.jsonl"
    counter = 2
    while path.exists():
        path = folder / f"{stamp}-{counter}.jsonl"
        counter += 1
    return path


def write_quarantine(lines: Iterable[RejectedLine], path: Path) -> int:
    """Append each rejected line to `path` as {"source", "reason", "line"}; returns how many."""
    written = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            for rejected in lines:
                record = {
                    "source": rejected.source,
                    "reason": rejected.reason,
                    "line": rejected.line,
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += 1
    except OSError as exc:
        raise PatternbotError(f"{path}: cannot write the quarantine file: {exc.strerror}") from exc
    return written
