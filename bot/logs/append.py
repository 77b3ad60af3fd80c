"""Appending event lines to a workflow log, and the `retrieved` line without the event models.

A cold `patternbot recommend --log` writes one `retrieved` event. Building it through the pydantic
models of bot/logs/events.py would cost a cold process more than the rest of its start-up, so
`retrieved_line` writes the same line from plain values (tests/test_log_append.py holds it to the
models' output byte for byte). bot/logs/emitter.py, the emitter for every event type, appends
with `append_line` too.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Literal, get_args

LOG_VERSION = 1
WorkflowName = Literal["recommend", "operate"]


def new_workflow_id() -> str:
    """A fresh, unique workflow id."""
    return f"wf-{uuid.uuid4()}"


def new_event_id() -> str:
    """A fresh, unique event id."""
    return f"ev-{uuid.uuid4()}"


def append_line(target: Path | IO[str], line: str) -> None:
    """Append one line and flush it at once (fsync for a file), so several processes can append
    to one log."""
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")
            stream.flush()
            os.fsync(stream.fileno())
    else:
        target.write(line + "\n")
        target.flush()


def event_line(data: object) -> str:
    """An event's JSON line: compact, UTF-8 as is (no \\u escapes), no NaN or Infinity (ValueError:
    they are not JSON). The reader's fast check takes lines exactly as long as their re-serialised
    fields, which an escaped character is not."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def utc_text(ts: dt.datetime) -> str:
    """A time as the log writes it: RFC 3339 in UTC with a Z, microseconds only when not zero."""
    if ts.tzinfo is None:
        raise ValueError("timestamp needs a UTC offset (RFC 3339), e.g. 2026-01-31T12:00:00Z")
    text = ts.astimezone(dt.UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def _scores(items: Iterable[tuple[str, float]], field: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for item_id, score in items:
        if not isinstance(item_id, str) or not item_id:
            raise ValueError(f"{field}: every id must be a non-empty string")
        value = float(score)
        if not math.isfinite(value):
            raise ValueError(f"{field}: score of {item_id!r} is not a finite number")
        found.append({"id": item_id, "score": value})
    return found


def retrieved_line(
    workflow_id: str,
    intent: str,
    patterns: Iterable[tuple[str, float]],
    policies: Iterable[tuple[str, float]] = (),
    *,
    workflow: WorkflowName = "recommend",
    ts: dt.datetime | None = None,
    cluster: str | None = None,
    event_id: str | None = None,
) -> str:
    """The line WorkflowLog.retrieved writes for the same values (ValueError for values it would
    refuse)."""
    if not workflow_id:
        raise ValueError("workflowId must be a non-empty string")
    if workflow not in get_args(WorkflowName):
        raise ValueError("workflow must be 'recommend' or 'operate'")
    data: dict[str, object] = {
        "v": LOG_VERSION,
        "eventId": event_id or new_event_id(),
        "workflowId": workflow_id,
        "workflow": workflow,
        "ts": utc_text(ts or dt.datetime.now(dt.UTC)),
    }
    if cluster is not None:
        data["cluster"] = cluster
    data.update(
        type="retrieved",
        intent=intent,
        patterns=_scores(patterns, "patterns"),
        policies=_scores(policies, "policies"),
    )
    return event_line(data)
