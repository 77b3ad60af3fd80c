"""Finding workflow log files: paths, directories, globs and standard input, in a stable order."""

from __future__ import annotations

import contextlib
import glob
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bot.errors import PatternbotError

LOG_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
STDIN = "-"
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class LogFile:
    """One file to read: where it is on disk and how messages name it (`shown:line: ...`)."""

    path: Path
    shown: str


def _is_log_file(path: Path) -> bool:
    return path.is_file() and path.name.endswith(LOG_SUFFIXES) and not path.name.startswith(".")


def _expand(argument: str) -> list[Path]:
    path = Path(argument)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if _is_log_file(p))
    if path.exists():
        return [path]
    if glob.has_magic(argument):
        matches = sorted(Path(p) for p in glob.glob(argument, recursive=True))
        return [p for p in matches if p.is_file()] or _missing(argument)
    return _missing(argument)


def _missing(argument: str) -> list[Path]:
    raise PatternbotError(f"no such log file or directory: {argument}")


def _spool(stream: BinaryIO, folder: Path) -> Path:
    # DuckDB reads files, so standard input is copied once into a private temporary file.
    target = folder / "stdin.jsonl"
    with target.open("wb") as out:
        shutil.copyfileobj(stream, out, length=1 << 20)
    return target


@contextlib.contextmanager
def log_files(arguments: Sequence[str], stdin: BinaryIO | None = None) -> Iterator[list[LogFile]]:
    """The files named by `arguments` (files, directories searched recursively, globs, '-').

    Each file appears once, in argument order then name order; standard input lives for the block.
    """
    with tempfile.TemporaryDirectory(prefix="patternbot-logs-") as spool_dir:
        found: list[LogFile] = []
        seen: set[Path] = set()
        for argument in arguments:
            if argument == STDIN:
                source = stdin if stdin is not None else sys.stdin.buffer
                found.append(LogFile(_spool(source, Path(spool_dir)), STDIN_NAME))
                continue
            for path in _expand(argument):
                key = path.resolve()
                if key not in seen:
                    seen.add(key)
                    found.append(LogFile(path, str(path)))
        yield found
