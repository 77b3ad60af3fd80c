"""Preparing log files for the line reader: one plain file per log, and the byte facts that prove
afterwards that every byte of it was read.

A `.gz` file is decompressed here, by Python's gzip module, into a private folder: it checks each
member's CRC-32 and length, so a damaged archive is refused with its name instead of being read
as garbage lines. A carriage return that no line feed follows is refused with `file:line` (no
reader can split such a file into exact lines). What is measured here (size, carriage returns,
a final line feed, a byte-order mark) is what the line-count invariant in bot/logs/classify.py
compares with what DuckDB read.
"""

from __future__ import annotations

import gzip
import mmap
import re
import shutil
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import LogFormatError
from bot.logs.reader import LogFile

BOM = b"\xef\xbb\xbf"
_LONE_CR = re.compile(rb"\r(?!\n)")
_CHUNK = 64 << 20


@dataclass(frozen=True)
class PlainFile:
    """A log as plain text on disk, with what its bytes must add up to."""

    log: LogFile  # as the user named it (messages say `log.shown:line`)
    path: Path  # the text to read: the file itself, or its decompressed copy
    size: int
    carriage_returns: int  # each one is followed by a line feed (others are refused)
    ends_with_newline: bool
    bom: bool  # starts with a UTF-8 byte-order mark, which the reader skips


def _decompress(log: LogFile, target: Path) -> None:
    try:
        with gzip.open(log.path, "rb") as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, length=1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        # gzip.BadGzipFile (bad header, CRC or length check) is an OSError; EOFError: truncated.
        detail = str(exc) or type(exc).__name__
        raise LogFormatError(
            f"{log.shown}: not a readable gzip file (truncated or corrupt: {detail}); "
            "the file was not read"
        ) from exc


def _lone_cr_line(data: mmap.mmap) -> int | None:
    found = _LONE_CR.search(data)
    if found is None:
        return None
    return bytes(memoryview(data)[: found.start()]).count(b"\n") + 1


def _facts(log: LogFile, path: Path) -> PlainFile:
    size = path.stat().st_size
    if size == 0:
        return PlainFile(log, path, 0, 0, False, False)
    with path.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        carriage_returns = 0
        if data.find(b"\r") >= 0:  # the common case, an LF file: one memchr over the whole file
            line = _lone_cr_line(data)
            if line is not None:
                raise LogFormatError(
                    f"{log.shown}:{line}: carriage return without a line feed (classic Mac line "
                    "endings or a damaged line); convert the file to LF line endings, for "
                    "example with `tr '\\r' '\\n'`, and run again"
                )
            view = memoryview(data)
            carriage_returns = sum(
                bytes(view[start : start + _CHUNK]).count(b"\r") for start in range(0, size, _CHUNK)
            )
            view.release()
        return PlainFile(log, path, size, carriage_returns, data[size - 1] == 0x0A, data[:3] == BOM)


def prepare(files: Sequence[LogFile], folder: Path) -> list[PlainFile]:
    """Each file as plain text (`.gz` decompressed into `folder`), with its byte facts.

    Raises LogFormatError for a damaged gzip file or a lone carriage return.
    """
    prepared = []
    for number, log in enumerate(files):
        path = log.path
        if path.name.endswith(".gz"):
            path = folder / f"{number}.jsonl"
            _decompress(log, path)
        try:
            prepared.append(_facts(log, path))
        except OSError as exc:
            raise LogFormatError(f"{log.shown}: cannot be read: {exc.strerror}") from exc
    return prepared
