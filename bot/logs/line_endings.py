"""Refusing log files with a lone carriage return, which no reader can split into exact lines.

DuckDB's line reader takes a CR that no LF follows as a line break and drops the character after
it, so such a file could not be quarantined byte for byte. JSON writers escape CR inside strings,
so a lone CR only comes from classic-Mac line endings or corruption: the file is refused, with
where and how to fix it, before anything is read.
"""

from __future__ import annotations

import gzip
import mmap
import re
import zlib
from collections.abc import Sequence

from bot.errors import LogFormatError
from bot.logs.reader import LogFile

_LONE_CR = re.compile(rb"\r(?!\n)")


def _lone_cr_in_bytes(data: bytes | mmap.mmap) -> int | None:
    """The 1-based line of the first CR not followed by LF in `data`, or None."""
    if data.find(b"\r") < 0:  # the common case, an LF file: one memchr over the whole file
        return None
    found = _LONE_CR.search(data)
    # memoryview gives bytes and mmap the same read-only API for counting the lines before it.
    return None if found is None else bytes(memoryview(data)[: found.start()]).count(b"\n") + 1


def _lone_cr_line(log: LogFile) -> int | None:
    if log.path.name.endswith(".gz"):
        with gzip.open(log.path, "rb") as stream:
            return _lone_cr_in_bytes(stream.read())
    with log.path.open("rb") as stream:
        if log.path.stat().st_size == 0:
            return None
        with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return _lone_cr_in_bytes(mapped)


def check_line_endings(files: Sequence[LogFile]) -> None:
    """Raise LogFormatError naming `file:line` when a file holds a lone carriage return."""
    for log in files:
        try:
            line = _lone_cr_line(log)
        except (OSError, EOFError, zlib.error):
            continue  # unreadable or broken gzip: the reader reports it with its own message
        if line is not None:
            raise LogFormatError(
                f"{log.shown}:{line}: carriage return without a line feed (classic Mac line "
                "endings or a damaged line); convert the file to LF line endings, for example "
                "with `tr '\\r' '\\n'`, and run again"
            )
