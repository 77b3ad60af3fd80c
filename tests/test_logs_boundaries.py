"""Nothing lost at the reader's edges: line feeds on every buffer boundary, over-long lines, a
damaged gzip file, timestamps that leave the calendar in UTC, repeated keys and deep nesting,
and the per-file invariant (lines in = accepted + rejected + blank, every byte accounted for)."""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from pathlib import Path

import duckdb
import pytest

from bot.config import Config
from bot.errors import LogFormatError, UsageError
from bot.logs.analysis import analyse_logs
from bot.logs.classify import check_every_byte_read, default_buffer_bytes, load_lines
from bot.logs.events import is_valid_line
from bot.logs.reader import LogFile
from bot.logs.sources import PlainFile
from tests.support.logs import line_of, make_kb, outcome, retrieved, write_log

KB = make_kb({"web": ["Deployment"]})
# The smallest reader: lines up to 30 bytes, a 64-byte buffer.
SMALL = 30


def _read_all(
    paths: list[Path], max_line_bytes: int = SMALL
) -> list[tuple[int, int, str | None, str | None]]:
    """(file index, line number, reason, text) of every rejected line of `paths`."""
    con = duckdb.connect()
    try:
        load_lines(con, [LogFile(p, p.name) for p in paths], max_line_bytes=max_line_bytes)
        return [
            (int(n), int(ln), reason, raw)
            for n, ln, reason, raw in con.execute(
                "SELECT file_index, ln, reason, raw FROM log_rejected ORDER BY file_index, ln"
            ).fetchall()
        ]
    finally:
        con.close()


def _read(path: Path, max_line_bytes: int = SMALL) -> list[tuple[int, str | None, str | None]]:
    """(line number, reason, text) of every rejected line of `path`."""
    return [(ln, reason, raw) for _, ln, reason, raw in _read_all([path], max_line_bytes)]


def test_line_feeds_on_every_buffer_boundary_lose_nothing(tmp_path: Path) -> None:
    buffer = default_buffer_bytes(SMALL)
    assert buffer == 64
    # Lines of 16 bytes (15 + LF) after a first line of `shift` bytes: for each shift the line
    # feeds sit at shift - 1 + 16k, so over all shifts a line feed sits on every byte position
    # modulo 16, and so on every boundary of any buffer (or half or quarter buffer) of 64 bytes.
    paths, expected = [], []
    for shift in range(1, 17):
        lines = ["s" * (shift - 1)] + [f"line {n:09d}" for n in range(40)]
        path = tmp_path / f"shift{shift}.jsonl"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        paths.append(path)
        # Not JSON, so every line is rejected and kept with its text; the first may be blank.
        expected += [(shift - 1, n, line) for n, line in enumerate(lines, start=1) if line]
    seen = _read_all(paths)
    assert [(index, ln, raw) for index, ln, _, raw in seen] == expected
    assert {reason for _, _, reason, _ in seen} == {"not valid JSON"}


def test_events_on_every_buffer_boundary_all_count(tmp_path: Path, logs_config: Config) -> None:
    event = line_of(outcome("w0000", "e0000", "2026-03-01T10:00:00Z", "deployed"))
    width = len(event) + 1
    buffer = default_buffer_bytes(width)
    # First lines that put a line feed exactly on the first buffer boundary, half and quarter
    # of it (the raw-line test above covers every position), and no first line at all.
    for shift in sorted({0, *(edge % width for edge in (buffer // 4, buffer // 2, buffer))}):
        lines = ["x" * shift] if shift else []
        lines += [
            line_of(outcome(f"w{n:04d}", f"e{n:04d}", "2026-03-01T10:00:00Z", "deployed"))
            for n in range(60)
        ]
        path = write_log(tmp_path / f"e{shift}.jsonl", lines)
        report = analyse_logs(
            logs_config, KB, [str(path)], max_line_bytes=width, quarantine_path=tmp_path / "q"
        )
        assert (report.events, report.rejected_lines) == (60, 1 if shift else 0), shift


def test_an_over_long_line_is_rejected_and_quarantined_whole(
    tmp_path: Path, logs_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    good = line_of(outcome("w1", "e1", "2026-03-01T10:00:00Z", "deployed"))
    limit = len(good) + 10
    exactly = '"' + "a" * (limit - 2) + '"'  # JSON text of exactly `limit` bytes: not an object
    lines = [
        good,
        "{" + "x" * 3 * limit + "}",  # far too long: the reader skips it, Python reads it back
        "y" * (limit + 1),  # one byte over: the reader hands it over, the check rejects it
        exactly,
        line_of(outcome("w2", "e2", "2026-03-01T10:01:00Z", "deployed")),
        "not json",
    ]
    path = tmp_path / "long.jsonl"
    # CRLF on the exact-length line: the carriage return does not count.
    path.write_text("\n".join(lines[:3]) + "\n" + exactly + "\r\n" + "\n".join(lines[4:]) + "\n")
    quarantine = tmp_path / "q.jsonl"
    report = analyse_logs(
        logs_config, KB, [str(path)], quarantine_path=quarantine, max_line_bytes=limit
    )
    assert (report.events, report.rejected_lines) == (2, 4)
    records = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert [(r["source"], r["reason"], r["line"]) for r in records] == [
        (f"{path}:2", f"line longer than {limit} bytes", lines[1]),
        (f"{path}:3", f"line longer than {limit} bytes", lines[2]),
        (f"{path}:4", "not a JSON object", exactly),
        (f"{path}:6", "not valid JSON", "not json"),
    ]
    assert f"{path}:2: line longer than {limit} bytes" in capsys.readouterr().err


def _crc_damaged(data: bytes) -> bytes:
    """A gzip member whose stored CRC-32 does not match its content."""
    crc, size = struct.unpack("<II", data[-8:])
    return data[:-8] + struct.pack("<II", crc ^ 0xFFFFFFFF, size)


def test_a_gzip_file_with_a_crc_error_is_refused(tmp_path: Path, logs_config: Config) -> None:
    text = "".join(
        line_of(outcome(f"w{n}", f"e{n}", "2026-03-01T10:00:00Z", "deployed")) + "\n"
        for n in range(3000)
    ).encode()
    data = gzip.compress(text)
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(_crc_damaged(data))
    crc = zlib.crc32(text)
    with pytest.raises(LogFormatError) as caught:
        analyse_logs(logs_config, KB, [str(broken)])
    assert str(caught.value) == (
        f"{broken}: not a readable gzip file (truncated or corrupt: CRC check failed "
        f"{crc ^ 0xFFFFFFFF:#x} != {crc:#x}); the file was not read"
    )


def test_a_gzip_file_with_flipped_bytes_is_refused(tmp_path: Path, logs_config: Config) -> None:
    text = "".join(
        line_of(outcome(f"w{n}", f"e{n}", "2026-03-01T10:00:00Z", "deployed")) + "\n"
        for n in range(3000)
    ).encode()
    data = bytearray(gzip.compress(text))
    for offset in range(len(data) // 3, len(data) // 3 + 100):
        data[offset] ^= 0x55
    broken = tmp_path / "flipped.jsonl.gz"
    broken.write_bytes(bytes(data))
    with pytest.raises(LogFormatError) as caught:
        analyse_logs(logs_config, KB, [str(broken)])
    assert str(caught.value).startswith(f"{broken}: not a readable gzip file (truncated or corrupt")


@pytest.mark.parametrize("ts", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_timestamps_outside_the_calendar_in_utc_are_rejected(
    tmp_path: Path, logs_config: Config, ts: str
) -> None:
    bad = line_of(outcome("w1", "e1", ts, "deployed"))
    path = write_log(
        tmp_path / "t.jsonl", [bad, outcome("w2", "e2", "2026-03-01T10:00:00Z", "failed")]
    )
    quarantine = tmp_path / "q.jsonl"
    report = analyse_logs(logs_config, KB, [str(path)], quarantine_path=quarantine)
    assert (report.events, report.rejected_lines) == (1, 1)
    record = json.loads(quarantine.read_text(encoding="utf-8"))
    assert record["reason"] == f"'ts' is outside years 1-9999 in UTC: \"{ts}\""
    assert not is_valid_line(bad)


@pytest.mark.parametrize("flag", ["since", "until"])
def test_a_time_flag_outside_the_calendar_is_a_usage_error(
    tmp_path: Path, logs_config: Config, flag: str
) -> None:
    path = write_log(tmp_path / "t.jsonl", [])
    with pytest.raises(UsageError) as caught:
        analyse_logs(logs_config, KB, [str(path)], **{flag: "0001-01-01T00:00:00+01:00"})
    assert str(caught.value) == (
        f"--{flag}: '0001-01-01T00:00:00+01:00' is outside years 1-9999 in UTC"
    )


BASE = line_of(outcome("w", "e", "2026-03-01T10:00:00Z", "deployed"))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (BASE.replace('"status":"deployed"', '"status":"failed","status":"deployed"'),
         'duplicate key "status"'),
        (BASE.replace('{"v":1,', '{"v":1,"eventId":"other",'), 'duplicate key "eventId"'),
        (BASE.replace('"type":"outcome"', '"type":"solution"').replace(
            '"status":"deployed"', '"resources":[{"kind":"A","kind":"B"}]'),
         "duplicate key in a list item"),
        (BASE.replace('{"v":1,', '{"v":1,"deep":' + "[" * 65 + "]" * 65 + ","),
         "nested deeper than 64 levels"),
    ],
)  # fmt: skip
def test_repeated_keys_and_deep_nesting_are_rejected_like_the_reference_model(
    tmp_path: Path, line: str, reason: str
) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    assert _read(path, 1000) == [(1, reason, line)]
    assert not is_valid_line(line)


def test_nesting_up_to_the_limit_is_accepted(tmp_path: Path) -> None:
    line = BASE.replace('{"v":1,', '{"v":1,"deep":' + "[" * 63 + "]" * 63 + ",")
    path = tmp_path / "ok.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    assert _read(path, 1000) == []
    assert is_valid_line(line)


def test_the_invariant_fails_loudly_when_bytes_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(BASE + "\n" + BASE.replace('"e"', '"f"') + "\n", encoding="utf-8")
    con = duckdb.connect()
    try:
        load_lines(con, [LogFile(path, "a.jsonl")])
        # The same file as if the reader had dropped its last line: 1 line short.
        size = path.stat().st_size
        longer = PlainFile(LogFile(path, "a.jsonl"), path, size + len(BASE) + 1, 0, True, False)
        with pytest.raises(LogFormatError) as caught:
            check_every_byte_read(con, [longer], [])
    finally:
        con.close()
    assert str(caught.value) == (
        f"a.jsonl: the line reader did not account for the whole file ({size + len(BASE) + 1} "
        f"bytes; read 2 lines holding {size} bytes; 2 accepted + 0 rejected + 0 blank of 2 "
        "read); nothing was analysed (please report this)"
    )


def test_blank_lines_crlf_and_a_byte_order_mark_are_accounted_for(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode() + b"\r\n\r\n   \n\nnot json")
    assert _read(path, 1000) == [(5, "not valid JSON", "not json")]


@pytest.mark.parametrize(
    "intent",
    ["\\x01", "C:\\x01\\data", "a \\x01 and a \\t", "\x01"],
    ids=["backslash x01", "a Windows path", "two escapes", "a control character"],
)
def test_text_that_spells_a_control_character_is_read_whole(tmp_path: Path, intent: str) -> None:
    # The reader's column delimiter once was the four characters \x01, which cut a line holding
    # them in two and failed the whole run on the byte invariant.
    line = line_of(retrieved("w", "r", "2026-03-01T10:00:00Z", intent, {"web": 0.9}))
    assert "\\x01" in line or "\\u0001" in line
    path = tmp_path / "text.jsonl"
    path.write_text(line + "\n" + BASE + "\n", encoding="utf-8")
    assert _read(path, 1000) == []
    assert is_valid_line(line)


def test_a_raw_control_character_is_rejected_not_lost(tmp_path: Path) -> None:
    line = line_of(retrieved("w", "r", "2026-03-01T10:00:00Z", "a-b", {"web": 0.9}))
    line = line.replace("a-b", "a\x01b")
    path = tmp_path / "raw.jsonl"
    path.write_text(line + "\n" + BASE + "\n", encoding="utf-8")
    assert _read(path, 1000) == [(1, "not valid JSON", line)]
