"""The fast check reads ids, words and times as VARCHAR: a line whose value there is not a JSON
string must still get the field-by-field verdict, even when spaces make it exactly as long as the
compact line the fast check counts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from bot.logs.classify import load_lines
from bot.logs.events import is_valid_line
from bot.logs.reader import LogFile
from tests.support.logs import line_of, outcome, write_log

GOOD = line_of(outcome("w1", "e1", "2026-03-01T10:00:00Z", "failed", cluster="prod"))

# JSON values that are not strings, written as DuckDB gives them when read as VARCHAR.
NOT_STRINGS = [
    "5", "-5", "0", "1.5", "1.5e999", "12345678901234567890123", "true", "false", "[1]",
    '{"a":"b"}', "[]", "{}", "NaN", "nan", "Infinity", "inf", "INF", "-Infinity",
]  # fmt: skip


def _verdicts(path: Path) -> tuple[list[tuple[int, str | None]], set[int]]:
    """(line number, reason) of every line, and the lines the fast check accepted."""
    con = duckdb.connect()
    try:
        load_lines(con, [LogFile(path, path.name)])
        rows = con.execute("SELECT rn, reason FROM log_lines ORDER BY rn").fetchall()
        tables = {
            name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        rechecked: set[int] = set()
        if "log_rechecked" in tables:
            rechecked = {rn for (rn,) in con.execute("SELECT rn FROM log_rechecked").fetchall()}
    finally:
        con.close()
    return [(int(rn), reason) for rn, reason in rows], {int(rn) for rn, _ in rows} - rechecked


def _with(key: str, value: str) -> str:
    """GOOD with the raw JSON `value` for `key`."""
    start = GOOD.index(f'"{key}":') + len(key) + 3
    return GOOD[:start] + value + GOOD[GOOD.index(",", start) :]


def _padded(key: str, value: str) -> str:
    """GOOD with the raw JSON `value` for `key`, and spaces that make it as long as the line
    holding the string of the same text (which the fast check counts)."""
    line = _with(key, value)
    return "{" + " " * (len(_with(key, f'"{value}"')) - len(line)) + line[1:]


@pytest.mark.parametrize("key", ["eventId", "workflowId", "cluster", "workflow", "type", "ts"])
def test_a_value_that_is_not_a_string_gets_the_field_checks_verdict(
    tmp_path: Path, key: str
) -> None:
    lines = [GOOD] + [_padded(key, value) for value in NOT_STRINGS]
    assert [len(line) for line in lines[1:]] == [len(_with(key, f'"{v}"')) for v in NOT_STRINGS]
    verdicts, accepted = _verdicts(write_log(tmp_path / "a.jsonl", lines))
    assert accepted == {1}
    assert [reason is None for _, reason in verdicts] == [is_valid_line(line) for line in lines]
    assert [reason is None for _, reason in verdicts] == [True] + [False] * len(NOT_STRINGS)


def test_a_quoted_version_is_left_to_the_field_checks(tmp_path: Path) -> None:
    quoted = GOOD.replace('"v":1', '"v":"1"')
    verdicts, accepted = _verdicts(write_log(tmp_path / "a.jsonl", [GOOD, quoted]))
    assert accepted == {1}
    assert verdicts == [(1, None), (2, 'unsupported version v="1" (this reader knows v=1)')]


def test_ids_that_start_with_a_digit_or_spell_a_word_take_the_fast_check(tmp_path: Path) -> None:
    ids = ["3f2a9c1e-8b7d-4c6e-9f00-1a2b3c4d5e6f", "12345678-aaaa", "1e5x", "truth", "info"]
    lines = [GOOD.replace('"e1"', f'"{event_id}"') for event_id in ids]
    lines += [GOOD.replace('"e1"', f'"{event_id}"') for event_id in ("123", "1.5", "-x", "NaN")]
    verdicts, accepted = _verdicts(write_log(tmp_path / "a.jsonl", lines))
    # Strings that a number, a list or inf/nan could have produced are left to the field checks,
    # which accept them all the same.
    assert accepted == {1, 2, 3, 4, 5}
    assert verdicts == [(n, None) for n in range(1, 10)]
