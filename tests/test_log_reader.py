"""Reading logs: files, directories, globs, gzip, stdin; rejected lines, quarantine and --strict."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from bot.config import Config
from bot.errors import LogFormatError, PatternbotError
from bot.logs.analysis import analyse_logs
from bot.logs.reader import log_files
from tests.support.logs import line_of, make_kb, outcome, retrieved, solution, write_log

KB = make_kb({"web": ["Deployment"]})
GOOD = retrieved("w1", "e1", "2026-03-01T10:00:00Z", "a web app", {"web": 0.9})
BASE = '"v":1,"eventId":"x","workflowId":"w","workflow":"recommend"'

# Each malformed line and the reason it is rejected with.
MALFORMED = [
    ('{"v":1,"eventId":', "not valid JSON"),
    ("[1, 2]", "not a JSON object"),
    ('"just a string"', "not a JSON object"),
    ('{"eventId":"x"}', "missing field 'v'"),
    ('{"v":2,"eventId":"x"}', "unsupported version v=2 (this reader knows v=1)"),
    ('{"v":"1"}', 'unsupported version v="1" (this reader knows v=1)'),
    ('{"v":1,"workflowId":"w"}', "missing field 'eventId'"),
    ('{"v":1,"eventId":7}', "'eventId' must be a non-empty string"),
    ('{"v":1,"eventId":""}', "'eventId' must be a non-empty string"),
    ('{"v":1,"eventId":"x","workflow":"recommend"}', "missing field 'workflowId'"),
    ('{"v":1,"eventId":"x","workflowId":"w"}', "missing field 'workflow'"),
    ('{"v":1,"eventId":"x","workflowId":"w","workflow":"deploy"}',
     "'workflow' must be 'recommend' or 'operate'"),
    ("{" + BASE + "}", "missing field 'type'"),
    ("{" + BASE + ',"type":"started"}', 'unknown event type "started"'),
    ("{" + BASE + ',"type":"outcome","status":"deployed"}', "missing field 'ts'"),
    ("{" + BASE + ',"type":"outcome","status":"deployed","ts":"yesterday"}',
     "'ts' is not an RFC 3339 time: \"yesterday\""),
    ("{" + BASE + ',"type":"outcome","status":"deployed","ts":"2026-02-30T10:00:00Z"}',
     "'ts' is not an RFC 3339 time: \"2026-02-30T10:00:00Z\""),
    ("{" + BASE + ',"type":"outcome","status":"deployed","ts":"2026-03-01T10:00:00"}',
     "'ts' has no UTC offset: \"2026-03-01T10:00:00\""),
    ("{" + BASE + ',"type":"outcome","status":"deployed","ts":1772359200}',
     "'ts' is not an RFC 3339 time: 1772359200"),
    ("{" + BASE + ',"type":"outcome","status":"ok","ts":"2026-03-01T10:00:00Z"}',
     "'status' must be deployed, failed or abandoned"),
    ("{" + BASE + ',"type":"outcome","ts":"2026-03-01T10:00:00Z"}', "missing field 'status'"),
    ("{" + BASE + ',"type":"retrieved","ts":"2026-03-01T10:00:00Z"}', "missing field 'intent'"),
    ("{" + BASE + ',"type":"retrieved","ts":"2026-03-01T10:00:00Z","intent":"x",'
     '"patterns":[{"id":"web","score":"high"}]}', "'patterns' must be a list of {id, score}"),
    ("{" + BASE + ',"type":"solution","ts":"2026-03-01T10:00:00Z","patternsUsed":"web"}',
     "'patternsUsed' must be a list of non-empty strings"),
    ("{" + BASE + ',"type":"solution","ts":"2026-03-01T10:00:00Z","resources":[{"name":"a"}]}',
     "'resources' must be a list of {kind, apiVersion?, name?}"),
    ("{" + BASE + ',"type":"solution","ts":"2026-03-01T10:00:00Z","settings":{"a":[1]}}',
     "'settings' must be a map of distinct setting paths to scalar values"),
    # DuckDB cannot hold a map with a repeated key, so such a line is rejected, not guessed at.
    ("{" + BASE + ',"type":"solution","ts":"2026-03-01T10:00:00Z","settings":{"a":1,"a":2}}',
     "'settings' must be a map of distinct setting paths to scalar values"),
    ("{" + BASE + ',"type":"outcome","status":"failed","ts":"2026-03-01T10:00:00Z","cluster":1}',
     "'cluster' must be a string"),
]  # fmt: skip


def test_each_malformed_line_is_rejected_with_its_reason(
    tmp_path: Path, logs_config: Config
) -> None:
    lines = [line_of(GOOD)] + [text for text, _ in MALFORMED]
    path = write_log(tmp_path / "dirty.jsonl", lines)
    quarantine = tmp_path / "q.jsonl"
    report = analyse_logs(logs_config, KB, [str(path)], quarantine_path=quarantine)
    assert report.rejected_lines == len(MALFORMED)
    assert report.events == 1
    assert report.patterns["web"].times_recommended == 1
    records = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert records == [
        {"source": f"{path}:{number}", "reason": reason, "line": text}
        for number, (text, reason) in enumerate(MALFORMED, start=2)
    ]


def test_warnings_show_the_first_lines_then_a_summary(
    tmp_path: Path, logs_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_log(tmp_path / "a.jsonl", ["oops"] * 7 + [line_of(GOOD)])
    analyse_logs(logs_config, KB, [str(path)], quarantine_path=tmp_path / "q.jsonl")
    err = capsys.readouterr().err.splitlines()
    assert err == [f"patternbot: warning: {path}:{n}: not valid JSON" for n in range(1, 6)] + [
        "patternbot: warning: 7 log line(s) rejected (2 more not shown); "
        f"kept in {tmp_path / 'q.jsonl'}"
    ]


def test_default_quarantine_lives_in_the_state_folder(tmp_path: Path, logs_config: Config) -> None:
    path = write_log(tmp_path / "a.jsonl", ["oops"])
    analyse_logs(logs_config, KB, [str(path)])
    [quarantine] = (logs_config.state_dir / "quarantine").iterdir()
    assert quarantine.name.endswith("Z.jsonl")
    assert json.loads(quarantine.read_text(encoding="utf-8")) == {
        "source": f"{path}:1",
        "reason": "not valid JSON",
        "line": "oops",
    }


def test_no_quarantine_file_without_rejected_lines(tmp_path: Path, logs_config: Config) -> None:
    path = write_log(tmp_path / "a.jsonl", [GOOD])
    analyse_logs(logs_config, KB, [str(path)])
    assert not (logs_config.state_dir / "quarantine").exists()


def test_strict_fails_on_the_first_rejected_line(tmp_path: Path, logs_config: Config) -> None:
    path = write_log(tmp_path / "a.jsonl", [GOOD, GOOD, '{"v":3}', "oops"])
    with pytest.raises(LogFormatError) as caught:
        analyse_logs(logs_config, KB, [str(path)], strict=True)
    assert str(caught.value) == f"{path}:3: unsupported version v=3 (this reader knows v=1)"


def test_blank_lines_are_skipped_but_counted_in_line_numbers(
    tmp_path: Path, logs_config: Config
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(f"\n  \n{line_of(GOOD)}\r\n\noops\n", encoding="utf-8")
    with pytest.raises(LogFormatError) as caught:
        analyse_logs(logs_config, KB, [str(path)], strict=True)
    assert str(caught.value) == f"{path}:5: not valid JSON"


def test_line_numbers_across_large_files_and_gzip(tmp_path: Path, logs_config: Config) -> None:
    # Big enough that DuckDB reads each file in several chunks and in parallel.
    files = []
    for index, name in enumerate(["a.jsonl", "b.jsonl.gz", "c.ndjson"]):
        lines: list[str] = []
        for n in range(1, 30_001):
            if n % 9_973 == index:
                lines.append(f"bad {name} {n}")
            else:
                lines.append(
                    line_of(outcome(f"w{n}", f"{name}-{n}", "2026-03-01T10:00:00Z", "failed"))
                )
        files.append(write_log(tmp_path / name, lines))
    quarantine = tmp_path / "q.jsonl"
    report = analyse_logs(logs_config, KB, [str(f) for f in files], quarantine_path=quarantine)
    records = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    expected = [
        f"{files[i]}:{n}"
        for i, name in enumerate(["a", "b", "c"])
        for n in range(1, 30_001)
        if n % 9_973 == i
    ]
    assert [r["source"] for r in records] == expected
    assert all(
        r["line"]
        == f"bad {Path(r['source'].rsplit(':', 1)[0]).name} {r['source'].rsplit(':', 1)[1]}"
        for r in records
    )
    assert report.events == 90_000 - len(expected)


def test_directories_globs_and_duplicates_across_files(tmp_path: Path, logs_config: Config) -> None:
    events = [
        retrieved("w1", "e1", "2026-03-01T10:00:00Z", "a web app", {"web": 0.9}),
        solution("w1", "e2", "2026-03-01T10:01:00Z", ["web"], ["Deployment"]),
        outcome("w1", "e3", "2026-03-01T10:02:00Z", "deployed"),
    ]
    write_log(tmp_path / "logs" / "2026" / "a.jsonl", events[:2])
    write_log(tmp_path / "logs" / "b.jsonl.gz", events[1:])
    write_log(tmp_path / "logs" / "ignored.txt", ["not a log"])
    write_log(tmp_path / "other" / "c.ndjson", events)
    report = analyse_logs(
        logs_config, KB, [str(tmp_path / "logs"), str(tmp_path / "other" / "*.ndjson")]
    )
    assert (report.events, report.duplicate_events, report.rejected_lines) == (3, 4, 0)
    assert report.patterns["web"].success_rate == 1.0


def test_log_files_order_and_names(tmp_path: Path) -> None:
    write_log(tmp_path / "d" / "b.jsonl", [])
    write_log(tmp_path / "d" / "sub" / "a.jsonl.gz", [])
    write_log(tmp_path / "d" / ".hidden.jsonl", [])
    with log_files([str(tmp_path / "d"), str(tmp_path / "d" / "b.jsonl")]) as files:
        assert [f.shown for f in files] == [
            str(tmp_path / "d" / "b.jsonl"),
            str(tmp_path / "d" / "sub" / "a.jsonl.gz"),
        ]


def test_standard_input(tmp_path: Path, logs_config: Config) -> None:
    stdin = io.BytesIO((line_of(GOOD) + "\nnope\n").encode())
    with pytest.raises(LogFormatError) as caught:
        analyse_logs(logs_config, KB, ["-"], stdin=stdin, strict=True)
    assert str(caught.value) == "<stdin>:2: not valid JSON"


def test_missing_path(tmp_path: Path, logs_config: Config) -> None:
    for missing in (str(tmp_path / "nope.jsonl"), str(tmp_path / "*.jsonl")):
        with pytest.raises(PatternbotError) as caught:
            analyse_logs(logs_config, KB, [missing])
        assert str(caught.value) == f"no such log file or directory: {missing}"


def test_truncated_gzip_names_the_file(tmp_path: Path, logs_config: Config) -> None:
    good = write_log(tmp_path / "good.jsonl", [GOOD])
    data = gzip.compress((line_of(GOOD) + "\n").encode() * 2000)
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(LogFormatError) as caught:
        analyse_logs(logs_config, KB, [str(good), str(broken)])
    assert str(caught.value) == (
        f"{broken}: not a readable gzip file (truncated or corrupt: Compressed file ended before "
        "the end-of-stream marker was reached); the file was not read"
    )


def test_text_that_is_not_utf8_names_the_line(tmp_path: Path, logs_config: Config) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes((line_of(GOOD) + "\n").encode() + b'{"intent":"caf\xe9"}\n')
    with pytest.raises(LogFormatError) as caught:
        analyse_logs(logs_config, KB, [str(path)])
    assert str(caught.value) == f"{path}:2: not UTF-8 text; the file was not read"


def test_a_lone_carriage_return_refuses_the_file_before_anything_is_read(
    tmp_path: Path, logs_config: Config
) -> None:
    # DuckDB would split at the CR and drop the next character: refuse rather than lose it.
    good = line_of(GOOD)
    path = tmp_path / "mac.jsonl"
    path.write_bytes(f"{good}\r\n{good}\n{good}\r{good}\n".encode())
    with pytest.raises(LogFormatError) as caught:
        analyse_logs(logs_config, KB, [str(path)], quarantine_path=tmp_path / "q.jsonl")
    assert str(caught.value) == (
        f"{path}:3: carriage return without a line feed (classic Mac line endings or a damaged "
        "line); convert the file to LF line endings, for example with `tr '\\r' '\\n'`, and run "
        "again"
    )
    assert not (tmp_path / "q.jsonl").exists()


def test_crlf_line_endings_are_read_with_exact_line_numbers(
    tmp_path: Path, logs_config: Config
) -> None:
    path = tmp_path / "windows.jsonl.gz"
    path.write_bytes(gzip.compress(f"{line_of(GOOD)}\r\nnot json\r\n".encode()))
    quarantine = tmp_path / "q.jsonl"
    report = analyse_logs(logs_config, KB, [str(path)], quarantine_path=quarantine)
    assert (report.events, report.rejected_lines) == (1, 1)
    record = json.loads(quarantine.read_text(encoding="utf-8"))
    assert (record["source"], record["line"]) == (f"{path}:2", "not json")
