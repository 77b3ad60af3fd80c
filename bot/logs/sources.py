"""Preparing log files for the line reader: one plain file per log, and the byte facts that prove
afterwards that every byte of it was read.

A `.gz` file is decompressed here, by Python's gzip module, into a private folder: it checks each
member's CRC-32 and length, so a damaged archive is refused with its name instead of being read
as garbage lines. A carriage return that no line feed follows is refused with `file:line` (no
reader can split such a file into exact lines). What is measured here (size, carriage returns,
a final line feed, a byte-order mark) is what the line-count invariant in bot/logs/classify.py
compares with what DuckDB read.

DuckDB's line reader is single-threaded per file (see bot/logs/classify.py), so a large file is
also split here, at line feeds, into pieces that are read side by side: one big log, the common
case, then uses every thread. Each piece knows the log it came from and how many lines come before
it, so messages still say `file:line` of the original; the byte facts hold per piece.
"""

from __future__ import annotations

import gzip
import itertools
import mmap
import os
import re
import shutil
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.errors import LogFormatError
from bot.logs.reader import LogFile

BOM = b"\xef\xbb\xbf"
_LONE_CR = re.compile(rb"\r(?!\n)")
_CHUNK = 64 << 20
# Files smaller than this are never split: their pieces would cost more to write than they save.
MIN_PIECE_BYTES = 16 << 20


@dataclass(frozen=True)
class PlainFile:
    """A log as plain text on disk, with what its bytes must add up to."""

    log: LogFile  # as the user named it (messages say `log.shown:line`)
    path: Path  # the text to read: the file itself, or its decompressed copy
    size: int
    carriage_returns: int  # each one is followed by a line feed (others are refused)
    ends_with_newline: bool
    bom: bool  # starts with a UTF-8 byte-order mark, which the reader skips
    origin: int = 0  # the index of the log file this is (a piece of)
    part: int = 0  # which piece of that log, from 0 (0 also for a log read whole)
    # The lines of that log before this piece: known once the pieces before it are read
    # (bot/logs/classify.py counts them), 0 until then.
    first_line: int = 0

    @property
    def shown(self) -> str:
        """How messages name it: the log's name, and where a piece starts."""
        if self.part == 0:
            return self.log.shown
        return f"{self.log.shown} (the part from line {self.first_line + 1})"


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
            carriage_returns = _count(data, b"\r", 0, size)
        return PlainFile(log, path, size, carriage_returns, data[size - 1] == 0x0A, data[:3] == BOM)


def _count(data: mmap.mmap, byte: bytes, start: int, end: int) -> int:
    view = memoryview(data)
    try:
        return sum(
            bytes(view[at : min(at + _CHUNK, end)]).count(byte) for at in range(start, end, _CHUNK)
        )
    finally:
        view.release()


def _copy(source: int, target: Path, start: int, length: int) -> None:
    """Bytes [start, start + length) of the open file `source` into `target` (in the kernel where
    the platform can: os.copy_file_range is Linux's)."""
    with target.open("wb") as out:
        while length > 0:
            if hasattr(os, "copy_file_range"):
                copied = os.copy_file_range(source, out.fileno(), length, start)
            else:
                copied = out.write(os.pread(source, min(length, _CHUNK), start))
            if copied == 0:
                raise OSError(f"{target}: the source ended early")
            start, length = start + copied, length - copied


def _split(whole: PlainFile, pieces: int, folder: Path, number: int) -> list[PlainFile]:
    """`whole` as up to `pieces` files of about equal size, cut after line feeds."""
    with (
        whole.path.open("rb") as stream,
        mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data,
    ):
        cuts = [0]
        for k in range(1, pieces):
            feed = data.find(b"\n", max(k * whole.size // pieces, cuts[-1]))
            if feed < 0 or feed + 1 >= whole.size:
                break
            if feed + 1 > cuts[-1]:
                cuts.append(feed + 1)
        cuts.append(whole.size)
        if len(cuts) == 2:
            return [whole]
        found = []
        for k, (start, end) in enumerate(itertools.pairwise(cuts)):
            path = folder / f"{number}.part{k}.jsonl"
            _copy(stream.fileno(), path, start, end - start)
            last = end == whole.size
            returns = _count(data, b"\r", start, end) if whole.carriage_returns else 0
            found.append(
                PlainFile(
                    whole.log,
                    path,
                    end - start,
                    returns,
                    whole.ends_with_newline if last else True,
                    whole.bom and start == 0,
                    whole.origin,
                    k,
                )
            )
        return found


def prepare(
    files: Sequence[LogFile],
    folder: Path,
    *,
    pieces: int = 1,
    min_piece_bytes: int = MIN_PIECE_BYTES,
) -> list[PlainFile]:
    """Each file as plain text (`.gz` decompressed into `folder`), with its byte facts; large
    files split into pieces so that there are about `pieces` in all.

    Raises LogFormatError for a damaged gzip file or a lone carriage return.
    """
    whole_files = []
    for number, log in enumerate(files):
        path = log.path
        if path.name.endswith(".gz"):
            path = folder / f"{number}.jsonl"
            _decompress(log, path)
        try:
            facts = _facts(log, path)
        except OSError as exc:
            raise LogFormatError(f"{log.shown}: cannot be read: {exc.strerror}") from exc
        whole_files.append(replace(facts, origin=number))
    share = sum(f.size for f in whole_files) / max(pieces, 1)
    prepared = []
    for number, whole in enumerate(whole_files):
        count = round(whole.size / share) if share else 1
        if count > 1 and whole.size >= min_piece_bytes:
            try:
                prepared.extend(_split(whole, count, folder, number))
            except OSError as exc:
                raise LogFormatError(f"{whole.log.shown}: cannot be read: {exc}") from exc
        else:
            prepared.append(whole)
    return prepared
