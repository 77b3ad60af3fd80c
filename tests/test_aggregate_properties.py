"""Properties: the DuckDB line checks agree with the reference model, and the report does not
depend on line order, file layout, compression or re-delivery."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any, Literal

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Config
from bot.logs.analysis import analyse_logs
from bot.logs.classify import field_by_field_sql, load_lines
from bot.logs.events import is_valid_line
from bot.logs.reader import LogFile
from tests.support.logs import line_of, make_kb, outcome, retrieved, solution, write_log

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Each example analyses its logs twice (about half a second): fewer examples, same coverage idea.
REPORT_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=20)

SURROGATES: tuple[Literal["Cs"]] = ("Cs",)  # not encodable as UTF-8
text = st.text(st.characters(exclude_categories=SURROGATES), max_size=8)
ids = st.sampled_from(["web", "db", "worker", "ghost", ""])
numbers = st.one_of(
    st.integers(min_value=-(2**62), max_value=2**62),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
any_json = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """RFC 3339 shaped text, mostly valid, sometimes out of range or missing parts."""
    year = draw(st.sampled_from(["2026", "1999", "26"]))
    month = draw(st.sampled_from(["01", "02", "12", "13", "1"]))
    day = draw(st.sampled_from(["01", "28", "29", "30", "31", "00"]))
    sep = draw(st.sampled_from(["T", "t", " ", "_"]))
    hour = draw(st.sampled_from(["00", "12", "23", "24"]))
    minute = draw(st.sampled_from(["00", "59", "60"]))
    second = draw(st.sampled_from(["", ":00", ":59", ":60", ":5"]))
    fraction = draw(st.sampled_from(["", ".1", ".123456789", ",5", "."])) if second else ""
    offset = draw(st.sampled_from(["Z", "z", "+01:00", "-00:00", "+0530", "+23:59", "+24:00",
                                   "+01:60", "+01", "", " Z"]))  # fmt: skip
    return f"{year}-{month}-{day}{sep}{hour}:{minute}{second}{fraction}{offset}"


item_scores = st.lists(st.fixed_dictionaries({"id": ids, "score": numbers}), max_size=3)
resources = st.lists(
    st.fixed_dictionaries({"kind": st.sampled_from(["Deployment", "Service", ""])},
                          optional={"apiVersion": st.one_of(st.none(), text), "name": text}),
    max_size=3,
)  # fmt: skip


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid-looking event of any type."""
    kind = draw(st.sampled_from(["retrieved", "solution", "outcome"]))
    data: dict[str, Any] = {
        "v": 1, "eventId": draw(st.sampled_from(["e1", "e2"])), "workflowId": "w",
        "workflow": draw(st.sampled_from(["recommend", "operate"])), "type": kind,
        "ts": draw(st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01T11:00:00.5+01:00"])),
    }  # fmt: skip
    if draw(st.booleans()):
        data["cluster"] = draw(st.one_of(st.none(), text))
    if kind == "retrieved":
        data["intent"] = draw(text)
        data["patterns"] = draw(item_scores)
        data["policies"] = draw(item_scores)
    elif kind == "solution":
        data["patternsUsed"] = draw(st.lists(ids, max_size=3))
        data["policiesApplied"] = draw(st.lists(ids, max_size=2))
        data["resources"] = draw(resources)
        data["settings"] = draw(st.dictionaries(text, scalars, max_size=3))
    else:
        data["status"] = draw(st.sampled_from(["deployed", "failed", "abandoned", "ok"]))
        if draw(st.booleans()):
            data["error"] = draw(st.one_of(st.none(), text, numbers))
    return data


SNAKE = {"eventId": "event_id", "workflowId": "workflow_id", "patternsUsed": "patterns_used",
         "policiesApplied": "policies_applied"}  # fmt: skip


@st.composite
def lines(draw: st.DrawFn) -> str:
    """One log line: a good event, a mutated one, or text that is not an event."""
    data = draw(events())
    mutation = draw(
        st.sampled_from(["none", "drop", "replace", "ts", "v", "snake", "text", "repeat", "deep"])
    )
    keys = sorted(data)
    if mutation == "drop":
        del data[draw(st.sampled_from(keys))]
    elif mutation == "replace":
        data[draw(st.sampled_from([*keys, "patterns", "resources", "settings"]))] = draw(any_json)
    elif mutation == "ts":
        data["ts"] = draw(timestamps())
    elif mutation == "v":
        data["v"] = draw(st.sampled_from([1, 1.0, True, 2, 0, "1", None, 1.5]))
    elif mutation == "snake":
        for camel, snake in SNAKE.items():
            if camel in data and draw(st.booleans()):
                data[snake] = data.pop(camel)
    elif mutation == "text":
        return draw(st.sampled_from(["{", "[]", "null", "42", '"x"', "{}", "{'v': 1}", '{"v":1,}']))
    elif mutation == "deep":
        depth = draw(st.integers(60, 70))
        data[draw(st.sampled_from(["extra", *keys]))] = json.loads("[" * depth + "]" * depth)
    text = json.dumps(data, ensure_ascii=draw(st.booleans()))
    if mutation == "repeat":
        # A key written twice: the first value or the last (JSON parsers differ).
        key = draw(st.sampled_from(keys))
        value = json.dumps(draw(st.one_of(st.just(data.get(key)), any_json)))
        text = "{" + json.dumps(key) + ": " + value + ", " + text[1:]
    return text


def _reference_valid(line: str) -> bool:
    return is_valid_line(line)


@PROPERTY_SETTINGS
@given(st.lists(lines(), min_size=1, max_size=25))
def test_duckdb_checks_agree_with_the_reference_model(tmp_path: Path, batch: list[str]) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text("".join(line + "\n" for line in batch), encoding="utf-8")
    con = duckdb.connect()
    try:
        load_lines(con, [LogFile(path, "batch.jsonl")])
        rows = con.execute("SELECT reason FROM log_lines ORDER BY rn").fetchall()
    finally:
        con.close()
    assert len(rows) == len(batch)
    for line, (reason,) in zip(batch, rows, strict=True):
        assert (reason is None) == _reference_valid(line), (line, reason)


# Every column a checked line carries into the aggregation.
TYPED = (
    "reason, blank, raw, event_id, workflow_id, type, ts, cluster, content, intent, patterns, "
    "policies, patterns_used, policies_applied, kinds, settings, status"
)


def _both_checks(
    path: Path, texts: list[str]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], set[int]]:
    """Rows of log_lines for the file at `path`, its lines `texts` checked field by field only,
    and the line numbers the fast check accepted (those it did not leave to the field checks)."""
    con = duckdb.connect()
    try:
        load_lines(con, [LogFile(path, path.name)])
        fast = con.execute(f"SELECT rn, {TYPED} FROM log_lines ORDER BY rn").fetchall()
        tables = {
            name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        rechecked: set[int] = set()
        if "log_rechecked" in tables:
            rechecked = {rn for (rn,) in con.execute("SELECT rn FROM log_rechecked").fetchall()}
        con.execute("CREATE TEMP TABLE every_line (file_index INT, rn BIGINT, line VARCHAR)")
        con.executemany("INSERT INTO every_line VALUES (0, ?, ?)", list(enumerate(texts, start=1)))
        con.execute(field_by_field_sql("log_slow", "SELECT * FROM every_line"))
        slow = con.execute(f"SELECT rn, {TYPED} FROM log_slow ORDER BY rn").fetchall()
    finally:
        con.close()
    return fast, slow, {row[0] for row in fast} - rechecked


@PROPERTY_SETTINGS
@given(st.lists(lines(), min_size=1, max_size=25))
def test_the_fast_check_accepts_only_what_the_field_checks_accept(
    tmp_path: Path, batch: list[str]
) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text("".join(line + "\n" for line in batch), encoding="utf-8")
    fast, slow, _ = _both_checks(path, batch)
    # Same verdict and the same typed values, whichever check decided.
    assert fast == slow


def test_writer_shaped_lines_take_the_fast_check_and_others_agree(tmp_path: Path) -> None:
    plain = [
        retrieved("w1", "e1", "2026-03-01T10:00:00Z", 'an "app" café', {"web": 0.9, "db": 0.25},
                  {"limits": 0.7}, cluster="prod"),
        solution("w1", "e2", "2026-03-01T11:00:00.123456+01:00", ["web"], ["Deployment"],
                 ["limits"], {"spec.replicas": 3, "tag": "1.2", "on": True, "none": None}),
        outcome("w1", "e3", "2026-03-01T10:02:00-00:30", "deployed", error="none"),
    ]  # fmt: skip
    # The same events in shapes the fast check leaves to the field checks: an extra key in a list
    # element, another key order inside a list, a snake_case key, more than six fraction digits.
    texts = [line_of(event) for event in plain]
    texts += [
        texts[0].replace('"score":0.25', '"score":0.25,"note":1').replace('"e1"', '"e4"'),
        texts[1].replace('{"kind":"Deployment"}', '{"name":"x","kind":"Deployment"}')
        .replace('"e2"', '"e5"'),
        texts[2].replace('"eventId":"e3"', '"event_id":"e6"'),
        texts[2].replace("10:02:00-00:30", "10:02:00.0000004-00:30").replace('"e3"', '"e7"'),
    ]  # fmt: skip
    path = write_log(tmp_path / "a.jsonl", texts)
    fast, slow, accepted = _both_checks(path, texts)
    assert accepted == {1, 2, 3}
    assert fast == slow
    assert [row[1] for row in fast] == [None] * 7
    # Apart from event id and content, each field-checked line equals its fast-checked original.
    by_rn = {row[0]: row for row in fast}
    for original, copy in ((1, 4), (2, 5), (3, 6), (3, 7)):
        a, b = by_rn[original], by_rn[copy]
        assert a[5:9] + a[10:] == b[5:9] + b[10:], (original, copy)
    assert by_rn[1][5:9] == ("w1", "retrieved", dt.datetime(2026, 3, 1, 10, 0), "prod")
    assert by_rn[1][10:13] == (
        'an "app" café',
        [{"id": "web", "score": 0.9}, {"id": "db", "score": 0.25}],
        [{"id": "limits", "score": 0.7}],
    )
    assert by_rn[2][7] == dt.datetime(2026, 3, 1, 10, 0, 0, 123456)
    assert by_rn[2][13:17] == (
        ["web"], ["limits"], ["Deployment"],
        '{"spec.replicas":3,"tag":"1.2","on":true,"none":null}',
    )  # fmt: skip
    assert by_rn[3][7] == dt.datetime(2026, 3, 1, 10, 32)
    assert by_rn[3][17] == "deployed"


KB = make_kb({"web": ["Deployment"], "db": ["StatefulSet", "Service"], "worker": ["Deployment"]},
             ["limits"])  # fmt: skip


@st.composite
def workflow_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Valid events of a few workflows, with repeated timestamps to exercise the tie-breaks."""
    found = []
    for number in range(draw(st.integers(1, 6))):
        workflow_id = f"w{number}"
        for step in range(draw(st.integers(1, 5))):
            kind = draw(st.sampled_from(["retrieved", "solution", "outcome"]))
            data: dict[str, Any] = {
                "v": 1, "eventId": f"{workflow_id}-{step}", "workflowId": workflow_id,
                "workflow": "recommend", "type": kind,
                "ts": f"2026-03-01T10:0{draw(st.integers(0, 3))}:00Z",
                "cluster": draw(st.sampled_from(["prod", "staging", None])),
            }  # fmt: skip
            if kind == "retrieved":
                data["intent"] = "an intent"
                listed = draw(st.lists(st.sampled_from(["web", "db", "ghost"]), unique=True))
                scores = st.sampled_from([0.2, 0.6, 0.9])
                data["patterns"] = [{"id": i, "score": draw(scores)} for i in listed]
                data["policies"] = [{"id": "limits", "score": 0.7}]
            elif kind == "solution":
                data["patternsUsed"] = draw(
                    st.lists(st.sampled_from(["web", "db", "worker"]), unique=True)
                )
                data["policiesApplied"] = draw(st.sampled_from([[], ["limits"]]))
                kinds = st.sampled_from(["Deployment", "Ingress", "Service"])
                data["resources"] = [{"kind": k} for k in draw(st.lists(kinds, unique=True))]
                data["settings"] = {"spec.replicas": draw(st.sampled_from([1, 2]))}
            else:
                data["status"] = draw(st.sampled_from(["deployed", "failed", "abandoned"]))
            found.append(data)
    return found


def _report_data(config: Config, paths: list[Path]) -> dict[str, Any]:
    report = analyse_logs(config, KB, [str(p) for p in paths])
    data: dict[str, Any] = report.model_dump(mode="json", by_alias=True)
    data.pop("duplicateEvents")
    return data


@REPORT_SETTINGS
@given(workflow_logs(), st.randoms(use_true_random=False), st.integers(1, 4))
def test_order_files_compression_and_redelivery_do_not_change_the_report(
    tmp_path_factory: Any, logs: list[dict[str, Any]], rng: random.Random, parts: int
) -> None:
    folder: Path = tmp_path_factory.mktemp("logs")
    config = Config()
    config.root = folder
    expected = _report_data(config, [write_log(folder / "one.jsonl", logs)])

    redelivered = logs + [rng.choice(logs) for _ in range(rng.randint(0, len(logs)))]
    rng.shuffle(redelivered)
    paths = []
    for index in range(parts):
        chunk = redelivered[index::parts]
        name = f"part{index}.jsonl.gz" if index % 2 else f"part{index}.jsonl"
        paths.append(write_log(folder / "split" / name, [line_of(e) for e in chunk]))
    assert _report_data(config, paths) == expected
