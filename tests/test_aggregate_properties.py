"""Properties: the DuckDB line checks agree with the reference model, and the report does not
depend on line order, file layout, compression or re-delivery."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.config import Config
from bot.logs.analysis import analyse_logs
from bot.logs.classify import load_lines
from bot.logs.events import EVENT_ADAPTER
from bot.logs.reader import LogFile
from tests.support.logs import line_of, make_kb, write_log

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Each example analyses its logs twice (about half a second): fewer examples, same coverage idea.
REPORT_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=20)

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
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
    mutation = draw(st.sampled_from(["none", "drop", "replace", "ts", "v", "snake", "text"]))
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
    return json.dumps(data, ensure_ascii=draw(st.booleans()))


def _reference_valid(line: str) -> bool:
    try:
        EVENT_ADAPTER.validate_json(line, strict=True)
    except ValidationError:
        return False
    return True


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
