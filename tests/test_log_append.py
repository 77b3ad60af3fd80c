"""The `retrieved` line a cold recommend writes without the event models, and what the emitter
refuses to write.

retrieved_line must give exactly the bytes WorkflowLog.retrieved gives (the models' output), for
any intent, ids, scores, cluster and time, and refuse what the models refuse.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.logs.append import retrieved_line
from bot.logs.emitter import WorkflowLog
from bot.logs.events import is_valid_line

_EVENT_ID = re.compile(r'^\{"v":1,"eventId":"(ev-[0-9a-f-]{36})"')

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
ids = texts.filter(bool)
scores = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6)
pairs = st.lists(st.tuples(ids, scores), max_size=4)
times = st.datetimes(
    min_value=dt.datetime(1900, 1, 2),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [
            dt.UTC,
            dt.timezone(dt.timedelta(hours=5, minutes=30)),
            dt.timezone(dt.timedelta(hours=-8)),
        ]
    ),
)


def _emitted(**values: object) -> tuple[str, str]:
    """The emitter's line for `values`, and its event id."""
    stream = io.StringIO()
    WorkflowLog(stream).retrieved(**values)  # type: ignore[arg-type]
    line = stream.getvalue().removesuffix("\n")
    found = _EVENT_ID.match(line)
    assert found is not None
    return line, found.group(1)


@settings(max_examples=300, deadline=None)
@given(
    workflow_id=ids,
    intent=texts,
    patterns=pairs,
    policies=pairs,
    workflow=st.sampled_from(["recommend", "operate"]),
    ts=times,
    cluster=st.none() | texts,
)
def test_the_plain_line_is_the_emitters_line_byte_for_byte(
    workflow_id: str,
    intent: str,
    patterns: list[tuple[str, float]],
    policies: list[tuple[str, float]],
    workflow: str,
    ts: dt.datetime,
    cluster: str | None,
) -> None:
    values = dict(
        workflow_id=workflow_id, intent=intent, patterns=patterns, policies=policies,
        workflow=workflow, ts=ts, cluster=cluster,
    )  # fmt: skip
    emitted, event_id = _emitted(**values)

    assert retrieved_line(**values, event_id=event_id) == emitted  # type: ignore[arg-type]
    assert is_valid_line(emitted)


def test_the_line_has_the_documented_shape() -> None:
    line = retrieved_line(
        "wf-1",
        "run redis",
        [("cache-service", 0.731738), ("stateless-web", 1)],
        [],
        ts=dt.datetime(2026, 12, 8, 3, 4, 5, 120000, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        cluster="prod",
        event_id="ev-1",
    )

    assert line == (
        '{"v":1,"eventId":"ev-1","workflowId":"wf-1","workflow":"recommend",'
        '"ts":"2026-12-08T02:04:05.120000Z","cluster":"prod","type":"retrieved",'
        '"intent":"run redis","patterns":[{"id":"cache-service","score":0.731738},'
        '{"id":"stateless-web","score":1.0}],"policies":[]}'
    )
    assert json.loads(line)["ts"] == "2026-12-08T02:04:05.120000Z"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"workflow_id": ""}, "workflowId must be a non-empty string"),
        ({"patterns": [("", 0.5)]}, "patterns: every id must be a non-empty string"),
        ({"policies": [("p", float("nan"))]}, "policies: score of 'p' is not a finite number"),
        ({"patterns": [("p", float("inf"))]}, "patterns: score of 'p' is not a finite number"),
        ({"workflow": "deploy"}, "workflow must be 'recommend' or 'operate'"),
        ({"ts": dt.datetime(2026, 1, 1)}, "timestamp needs a UTC offset"),
    ],
)
def test_values_the_models_refuse_are_refused_by_both(
    values: dict[str, object], message: str
) -> None:
    given_values: dict[str, object] = {
        "workflow_id": "wf-1", "intent": "x", "patterns": [("a", 0.5)], "policies": [],
        **values,
    }  # fmt: skip
    with pytest.raises(ValueError, match=re.escape(message)):
        retrieved_line(**given_values)  # type: ignore[arg-type]
    stream = io.StringIO()
    with pytest.raises(ValueError):  # pydantic's ValidationError, or json's for a non-finite score
        WorkflowLog(stream).retrieved(**given_values)  # type: ignore[arg-type]
    assert stream.getvalue() == ""


def test_the_emitter_never_writes_a_number_json_cannot_hold() -> None:
    # NaN and Infinity are not JSON: other tools reading the log would stop at such a line.
    stream = io.StringIO()
    log = WorkflowLog(stream)

    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        log.solution("wf-1", settings={"spec.replicas": float("inf")})
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        log.retrieved("wf-1", "x", [("a", float("nan"))])

    assert stream.getvalue() == ""
