"""Writing simulated events as JSON Lines: several files, gzip, and deliberate mess on request."""

from __future__ import annotations

import gzip
import heapq
import io
import json
import random
import uuid
from collections import Counter, deque
from pathlib import Path
from typing import IO, Any

from testing.simulation.groundtruth import MessyCounts

LOG_STEM = "workflows"
DUPLICATE_RATE = 0.01  # events re-delivered (the same line again, later, maybe in another file)
OUT_OF_ORDER_RATE = 0.02  # lines swapped with one of the few lines before them
MALFORMED_RATE = 0.001  # broken lines inserted among the events
_REORDER_WINDOW = 8
_BUFFER_BYTES = 1 << 20

MALFORMED_REASONS = (
    "truncated",
    "not_an_object",
    "missing_field",
    "no_utc_offset",
    "bad_status",
    "unknown_type",
    "unknown_version",
    "stray_text",
)


def log_file_names(files: int, *, gzip_all: bool, messy: bool) -> list[str]:
    """The file names a simulation writes; with mess, every second file of several is gzipped."""
    names = []
    for index in range(files):
        stem = LOG_STEM if files == 1 else f"{LOG_STEM}-{index + 1:02d}"
        zipped = gzip_all or (messy and files > 1 and index % 2 == 1)
        names.append(f"{stem}.jsonl.gz" if zipped else f"{stem}.jsonl")
    return names


def remove_previous_output(out_dir: Path) -> None:
    """Delete the log files an earlier simulation wrote into `out_dir` (and nothing else)."""
    for pattern in (
        f"{LOG_STEM}.jsonl",
        f"{LOG_STEM}.jsonl.gz",
        f"{LOG_STEM}-*.jsonl",
        f"{LOG_STEM}-*.jsonl.gz",
    ):
        for path in out_dir.glob(pattern):
            path.unlink()


def dumps(event: dict[str, Any]) -> str:
    """One event as a compact JSON line (without the newline)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def _open(path: Path) -> tuple[IO[str], IO[bytes] | None]:
    """A text stream for `path`, and the raw file to close after it when gzip does not own it."""
    if path.name.endswith(".gz"):
        raw = path.open("wb")
        # No file name and mtime 0 in the header, so the same seed gives the same bytes.
        zipped = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
        buffered = io.BufferedWriter(zipped, buffer_size=_BUFFER_BYTES)
        return io.TextIOWrapper(buffered, encoding="utf-8", newline="\n"), raw
    return path.open("w", encoding="utf-8", newline="\n", buffering=_BUFFER_BYTES), None


def malformed_line(event: dict[str, Any], reason: str, rng: random.Random) -> str:
    """A broken copy of `event` that a v1 log reader must reject, for the given reason."""
    broken = dict(event, eventId=f"ev-{uuid.UUID(int=rng.getrandbits(128), version=4)}")
    if reason == "truncated":
        text = dumps(broken)
        return text[: len(text) // 2]
    if reason == "not_an_object":
        return dumps([broken["type"], broken["eventId"]])  # type: ignore[arg-type]
    if reason == "missing_field":
        del broken["workflowId"]
    elif reason == "no_utc_offset":
        broken["ts"] = str(broken["ts"]).removesuffix("Z")
    elif reason == "bad_status":
        broken.update(type="outcome", status="succeeded")
    elif reason == "unknown_type":
        broken["type"] = "deleted"
    elif reason == "unknown_version":
        broken["v"] = 2
    elif reason == "stray_text":
        return "INFO workflow tool started (pid 4242)"
    return dumps(broken)


class LogWriter:
    """Streams lines into the log files; with `messy`, re-delivers, reorders and breaks a few."""

    def __init__(self, out_dir: Path, names: list[str], *, messy: bool, rng: random.Random) -> None:
        self.paths = [out_dir / name for name in names]
        opened = [_open(path) for path in self.paths]
        self._streams = [stream for stream, _ in opened]
        self._raw_files = [raw for _, raw in opened if raw is not None]
        self._messy = messy
        self._rng = rng
        self._recent: list[deque[str]] = [deque() for _ in names]
        # Re-deliveries waiting for their turn: (release at this line number, order, line).
        self._pending: list[list[tuple[int, int, str]]] = [[] for _ in names]
        self._written = [0] * len(names)
        self._order = 0
        self.lines = 0
        self.counts = MessyCounts()
        self._malformed: Counter[str] = Counter()

    def write(self, file_index: int, events: list[dict[str, Any]]) -> None:
        """Write one workflow's events (in order) to one file."""
        for event in events:
            line = dumps(event)
            self._emit(file_index, line)
            if not self._messy:
                continue
            rng = self._rng
            if rng.random() < DUPLICATE_RATE:
                target = rng.randrange(len(self.paths))
                self._order += 1
                heapq.heappush(
                    self._pending[target],
                    (self._written[target] + rng.randint(1, 400), self._order, line),
                )
                self.counts.duplicates += 1
            if rng.random() < MALFORMED_RATE:
                reason = MALFORMED_REASONS[self.counts.malformed % len(MALFORMED_REASONS)]
                self._emit(file_index, malformed_line(event, reason, rng))
                self.counts.malformed += 1
                self._malformed[reason] += 1

    def _emit(self, file_index: int, line: str) -> None:
        recent = self._recent[file_index]
        recent.append(line)
        if self._messy and len(recent) > 1 and self._rng.random() < OUT_OF_ORDER_RATE:
            other = self._rng.randrange(max(0, len(recent) - _REORDER_WINDOW), len(recent) - 1)
            recent[other], recent[-1] = recent[-1], recent[other]
            self.counts.out_of_order += 1
        while len(recent) > _REORDER_WINDOW:
            self._put(file_index, recent.popleft())

    def _put(self, file_index: int, line: str) -> None:
        stream = self._streams[file_index]
        stream.write(line + "\n")
        self._written[file_index] += 1
        self.lines += 1
        pending = self._pending[file_index]
        while pending and pending[0][0] <= self._written[file_index]:
            _, _, again = heapq.heappop(pending)
            stream.write(again + "\n")
            self._written[file_index] += 1
            self.lines += 1

    def close(self) -> MessyCounts:
        """Flush everything still held back and close the files; returns the mess counts."""
        for index, stream in enumerate(self._streams):
            recent = self._recent[index]
            while recent:
                self._put(index, recent.popleft())
            for _, _, again in sorted(self._pending[index]):
                stream.write(again + "\n")
                self.lines += 1
            self._pending[index].clear()
            stream.close()
        for raw in self._raw_files:
            raw.close()
        self.counts.malformed_by_reason = dict(sorted(self._malformed.items()))
        return self.counts
