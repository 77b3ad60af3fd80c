"""The logs stage other stages call: read workflow logs, set bad lines aside, aggregate the rest."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import duckdb

from bot.config import Config, MetricsConfig
from bot.console import warn
from bot.errors import LogFormatError, UsageError
from bot.knowledge.repository import KnowledgeBase
from bot.logs.aggregate import AggregationOptions, aggregate_usage, deduplicate
from bot.logs.classify import MAX_LINE_BYTES, load_lines
from bot.logs.quarantine import RejectedLine, default_quarantine_path, write_quarantine
from bot.logs.reader import LogFile, log_files
from bot.logs.redact import redact
from bot.logs.usage import UsageReport

# How many rejected lines and conflicting event ids are shown one by one before a summary.
SHOWN_PROBLEMS = 5

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_REJECTED = """
SELECT s.shown || ':' || r.ln, r.reason, r.raw
FROM log_rejected r JOIN log_sources s USING (file_index)
ORDER BY r.file_index, r.ln
"""


def parse_time(value: str | dt.datetime | None, option: str) -> dt.datetime | None:
    """A --since/--until value as a UTC time: a date (midnight UTC) or an RFC 3339 time."""
    if value is None or isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value is not None else None
    text = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is None and _DATE.match(text):
        parsed = parsed.replace(tzinfo=dt.UTC)
    if parsed is None or parsed.tzinfo is None:
        raise UsageError(
            f"{option}: {value!r} is not a date (2026-01-31) or an RFC 3339 time "
            "(2026-01-31T12:00:00Z)"
        )
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise UsageError(f"{option}: {value!r} is outside years 1-9999 in UTC") from exc


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def connect(settings: MetricsConfig, spill_dir: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for the logs: `metrics.threads` threads (default: every available
    CPU), at most `metrics.memoryLimit` of memory, spilling past it into `spill_dir`."""
    con = duckdb.connect(
        ":memory:",
        config={
            "threads": settings.threads or available_cpus(),
            "memory_limit": settings.memory_limit,
            "temp_directory": spill_dir,
            # Line numbers come from the scan order, so it must be kept.
            "preserve_insertion_order": True,
        },
    )
    # DuckDB draws a progress bar on standard output for long queries; that is --json's stream.
    con.execute("SET enable_progress_bar = false")
    return con


def _rejected(con: duckdb.DuckDBPyConnection) -> Iterator[RejectedLine]:
    cursor = con.execute(_REJECTED)
    while batch := cursor.fetchmany(10_000):
        for source, reason, line in batch:
            # Reasons quote the offending value: redacted like any log text. The line itself
            # is kept verbatim in the quarantine file (a local file; nothing is lost).
            yield RejectedLine(str(source), redact(str(reason)), str(line))


def _set_aside_rejected(
    con: duckdb.DuckDBPyConnection, config: Config, strict: bool, quarantine_path: Path | None
) -> int:
    first = con.execute(_REJECTED + " LIMIT ?", [SHOWN_PROBLEMS]).fetchall()
    if not first:
        return 0
    if strict:
        source, reason, _ = first[0]
        raise LogFormatError(f"{source}: {redact(str(reason))}")
    path = quarantine_path or default_quarantine_path(config.state_dir)
    count = write_quarantine(_rejected(con), path)
    for source, reason, _ in first:
        warn(f"{source}: {redact(str(reason))}")
    more = f" ({count - len(first)} more not shown)" if count > len(first) else ""
    warn(f"{count} log line(s) rejected{more}; kept in {path}")
    return count


def _warn_conflicts(conflicts: Sequence[str]) -> None:
    for event_id in conflicts[:SHOWN_PROBLEMS]:
        warn(
            f"event {redact(event_id)!r} was delivered with different content; "
            "kept the first by time"
        )
    if len(conflicts) > SHOWN_PROBLEMS:
        warn(f"{len(conflicts)} event ids were delivered with different content")


def analyse_files(
    config: Config,
    kb: KnowledgeBase,
    files: Sequence[LogFile],
    options: AggregationOptions,
    *,
    strict: bool = False,
    quarantine_path: Path | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> UsageReport:
    """The usage report of already-resolved log files (see analyse_logs)."""
    with tempfile.TemporaryDirectory(prefix="patternbot-duckdb-") as spill_dir:
        con = connect(config.metrics, spill_dir)
        try:
            load_lines(con, files, max_line_bytes=max_line_bytes)
            # Only the load needs the scan order (line numbers); every later query orders
            # explicitly, and without the constraint DuckDB may run them on both threads.
            con.execute("SET preserve_insertion_order = false")
            con.execute("CREATE OR REPLACE TEMP TABLE log_sources (file_index INT, shown VARCHAR)")
            if files:
                con.executemany(
                    "INSERT INTO log_sources VALUES (?, ?)",
                    [(i, f.shown) for i, f in enumerate(files)],
                )
            rejected = _set_aside_rejected(con, config, strict, quarantine_path)
            duplicates = deduplicate(con)
            _warn_conflicts(duplicates.conflicts)
            report = aggregate_usage(con, kb, options)
        finally:
            con.close()
    report.rejected_lines = rejected
    report.duplicate_events = duplicates.duplicates
    return report


def analyse_logs(
    config: Config,
    kb: KnowledgeBase,
    log_paths: Sequence[str],
    *,
    since: str | dt.datetime | None = None,
    until: str | dt.datetime | None = None,
    cluster: str | None = None,
    strict: bool = False,
    quarantine_path: Path | None = None,
    stdin: BinaryIO | None = None,
    learning_inputs: bool = True,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> UsageReport:
    """Usage metrics for every pattern and policy of `kb` from the workflow logs at `log_paths`.

    Rejected lines are warned about and quarantined (fatal with `strict`); duplicates count once.
    Without `learning_inputs` only what `patternbot metrics` shows is computed (see
    AggregationOptions).
    """
    options = AggregationOptions(
        since=parse_time(since, "--since"),
        until=parse_time(until, "--until"),
        cluster=cluster,
        strong_match_threshold=config.learning.strong_match_threshold,
        weak_match_threshold=config.metrics.weak_match_threshold,
        max_evidence_intents=config.metrics.max_evidence_intents,
        max_intent_length=config.metrics.max_intent_length,
        recent_days=config.learning.recent_days,
        learning_inputs=learning_inputs,
    )
    with log_files(log_paths, stdin) as files:
        return analyse_files(
            config,
            kb,
            files,
            options,
            strict=strict,
            quarantine_path=quarantine_path,
            max_line_bytes=max_line_bytes,
        )
