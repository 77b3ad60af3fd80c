"""Large logs are read in pieces, side by side: the same verdicts, line numbers, order and byte
accounting as reading each file whole (bot/logs/sources.py)."""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bot.errors import LogFormatError
from bot.logs.classify import check_every_byte_read, load_lines
from bot.logs.reader import LogFile
from bot.logs.sources import prepare
from tests.support.logs import line_of, outcome, solution

NEVER = 1 << 40  # a minimum piece size no test file reaches: files are read whole


def _event(n: int) -> str:
    if n % 2:
        return line_of(outcome(f"w{n}", f"e{n}", "2026-03-01T10:00:00Z", "deployed"))
    return line_of(solution(f"w{n}", f"s{n}", "2026-03-01T09:00:00Z", ["web"], ["Deployment"]))


def _mixed_log(path: Path, lines: int) -> list[str]:
    """A log of valid events with rejected, blank, over-long and CRLF-ended lines among them, a
    byte-order mark, and a last line without a line feed."""
    texts = []
    for n in range(lines):
        if n % 7 == 3:
            texts.append(f"not json {n}")
        elif n % 11 == 5:
            texts.append("")
        elif n % 13 == 6:
            texts.append("x" * 900)  # longer than the reader's limit below
        else:
            texts.append(_event(n))
    body = b"\xef\xbb\xbf"
    for n, text in enumerate(texts):
        ending = b"\r\n" if n % 5 == 0 else b"\n"
        body += text.encode() + (ending if n < len(texts) - 1 else b"")
    path.write_bytes(body)
    return texts


def _load(paths: list[Path], min_piece_bytes: int) -> dict[str, Any]:
    con = duckdb.connect(config={"threads": 2})
    try:
        load_lines(
            con,
            [LogFile(p, p.name) for p in paths],
            max_line_bytes=600,
            min_piece_bytes=min_piece_bytes,
        )
        pieces = con.execute("SELECT count(*) FROM log_pieces").fetchall()[0][0]
        return {
            "pieces": pieces,
            "rejected": con.execute(
                "SELECT file_index, ln, reason, raw FROM log_rejected ORDER BY file_index, ln"
            ).fetchall(),
            "accepted": con.execute(
                "SELECT event_id FROM log_lines WHERE reason IS NULL AND NOT blank ORDER BY rn"
            ).fetchall(),
            "blank": con.execute("SELECT count(*) FROM log_lines WHERE blank").fetchall(),
        }
    finally:
        con.close()


def test_a_file_read_in_pieces_gives_what_it_gives_whole(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    texts = _mixed_log(first, 400)
    others = _mixed_log(second, 50)
    whole = _load([first, second], NEVER)
    pieces = _load([first, second], 1)

    assert (whole["pieces"], pieces["pieces"]) == (2, 8)
    assert pieces["rejected"] == whole["rejected"]
    assert pieces["accepted"] == whole["accepted"]
    assert pieces["blank"] == whole["blank"]
    # Line numbers are those of the original files.
    expected_first = [
        (0, n + 1, "not valid JSON" if text.startswith("not") else "line longer than 600 bytes",
         text)
        for n, text in enumerate(texts)
        if text.startswith(("not", "x"))
    ]  # fmt: skip
    assert [row for row in pieces["rejected"] if row[0] == 0] == expected_first
    assert len(pieces["accepted"]) == sum(1 for t in texts + others if t.startswith("{"))


def test_pieces_are_cut_after_line_feeds_and_add_up_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    texts = _mixed_log(path, 300)
    data = path.read_bytes()
    found = prepare([LogFile(path, "a.jsonl")], tmp_path, pieces=4, min_piece_bytes=1)

    assert len(found) == 4
    assert b"".join(p.path.read_bytes() for p in found) == data
    assert [p.origin for p in found] == [0, 0, 0, 0]
    assert all(p.path.read_bytes().endswith(b"\n") for p in found[:-1])
    assert [p.bom for p in found] == [True, False, False, False]
    assert [p.ends_with_newline for p in found] == [True, True, True, False]
    assert [p.part for p in found] == [0, 1, 2, 3]
    assert sum(p.carriage_returns for p in found) == data.count(b"\r")
    assert sum(p.path.read_bytes().count(b"\n") for p in found) + 1 == len(texts)
    # Small files and a fair share stay whole.
    assert len(prepare([LogFile(path, "a.jsonl")], tmp_path, pieces=4)) == 1


def test_a_compressed_log_is_read_in_pieces_too(tmp_path: Path) -> None:
    plain = tmp_path / "a.jsonl"
    _mixed_log(plain, 200)
    packed = tmp_path / "a.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert _load([packed], 1)["rejected"] == _load([plain], NEVER)["rejected"]
    assert _load([packed], 1)["pieces"] == 8


def test_the_invariant_names_the_piece_that_lost_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("".join(_event(n) + "\n" for n in range(40)), encoding="utf-8")
    con = duckdb.connect(config={"threads": 2})
    try:
        load_lines(con, [LogFile(path, "a.jsonl")], min_piece_bytes=1)
        again = tmp_path / "again"
        again.mkdir()
        pieces = prepare([LogFile(path, "a.jsonl")], again, pieces=8, min_piece_bytes=1)
        # The second piece, which starts at line 6, as if its last line had not been read.
        broken = [*pieces]
        broken[1] = replace(broken[1], size=broken[1].size + 10, first_line=5)
        with pytest.raises(LogFormatError) as caught:
            check_every_byte_read(con, broken, [])
    finally:
        con.close()
    assert str(caught.value).startswith(
        "a.jsonl (the part from line 6): the line reader did not account for the whole file"
    )


def test_pieces_are_written_where_the_kernel_cannot_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # os.copy_file_range is Linux's; elsewhere the pieces are read and written.
    path = tmp_path / "a.jsonl"
    _mixed_log(path, 300)
    monkeypatch.delattr("os.copy_file_range")
    (tmp_path / "p").mkdir()
    found = prepare([LogFile(path, "a.jsonl")], tmp_path / "p", pieces=4, min_piece_bytes=1)
    assert len(found) == 4
    assert b"".join(p.path.read_bytes() for p in found) == path.read_bytes()
