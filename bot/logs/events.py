"""The workflow log format, version 1: one JSON object per line, camelCase keys.

This module is the reference definition of the public contract documented in docs/workflow-log.md
and published as schemas/workflow-log-v1.schema.json. Readers ignore fields they do not know.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

# Defined beside the model-free writer of bot/logs/append.py, which must not load pydantic.
from bot.logs.append import LOG_VERSION as LOG_VERSION
from bot.logs.append import WorkflowName as WorkflowName

OutcomeStatus = Literal["deployed", "failed", "abandoned"]
SettingValue = str | int | float | bool | None


def _require_offset(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp needs a UTC offset (RFC 3339), e.g. 2026-01-31T12:00:00Z")
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as exc:  # 9999-12-31T23:59:59-01:00 is in year 10000 in UTC
        raise ValueError("timestamp is outside years 1-9999 once converted to UTC") from exc


Timestamp = Annotated[dt.datetime, AfterValidator(_require_offset)]
NonEmpty = Annotated[str, Field(min_length=1)]


class EventModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class ItemScore(EventModel):
    """One retrieved pattern or policy with its retrieval score (higher is a better match)."""

    id: NonEmpty
    score: float


class Resource(EventModel):
    """One Kubernetes resource of a generated solution."""

    kind: NonEmpty
    api_version: str | None = None
    name: str | None = None


class EventBase(EventModel):
    v: Literal[1]
    event_id: NonEmpty
    workflow_id: NonEmpty
    workflow: WorkflowName
    ts: Timestamp
    cluster: str | None = None


class RetrievedEvent(EventBase):
    """Retrieval ran for a user's intent and returned these patterns and policies, best first."""

    type: Literal["retrieved"] = "retrieved"
    intent: str
    patterns: list[ItemScore] = Field(default_factory=list)
    policies: list[ItemScore] = Field(default_factory=list)


class SolutionEvent(EventBase):
    """A solution was generated: which patterns and policies it used and what resources it holds."""

    type: Literal["solution"] = "solution"
    patterns_used: list[NonEmpty] = Field(default_factory=list)
    policies_applied: list[NonEmpty] = Field(default_factory=list)
    resources: list[Resource] = Field(default_factory=list)
    settings: dict[str, SettingValue] = Field(default_factory=dict)


class OutcomeEvent(EventBase):
    """How the workflow ended."""

    type: Literal["outcome"] = "outcome"
    status: OutcomeStatus
    error: str | None = None


WorkflowEvent = Annotated[
    RetrievedEvent | SolutionEvent | OutcomeEvent, Field(discriminator="type")
]
EVENT_ADAPTER: TypeAdapter[RetrievedEvent | SolutionEvent | OutcomeEvent] = TypeAdapter(
    WorkflowEvent
)
EVENT_TYPES = ("retrieved", "solution", "outcome")


# Lines nested deeper than this are rejected (events need four levels; the JSON parser of the
# reference model gives up at about 255).
MAX_DEPTH = 64
# The objects whose keys the format defines: a repeated key in one of them is rejected (a JSON
# parser would silently keep either the first value or the last).
_ITEM_LISTS = ("patterns", "policies", "resources")


def json_depth(text: str) -> int:
    """How deeply the brackets of a JSON text nest (0 for a scalar); brackets in strings do not
    count."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class _Keys(dict[str, object]):
    """A decoded JSON object that remembers whether a key was repeated."""

    repeated = False


def _keep_repeats(pairs: list[tuple[str, object]]) -> _Keys:
    found = _Keys(pairs)
    found.repeated = len(found) != len(pairs)
    return found


def _repeats_a_key(line: str) -> bool:
    data = json.loads(line, object_pairs_hook=_keep_repeats)
    if not isinstance(data, _Keys):
        return False
    objects: list[object] = [data, data.get("settings")]
    for name in _ITEM_LISTS:
        items = data.get(name)
        if isinstance(items, list):
            objects.extend(items)
    return any(isinstance(o, _Keys) and o.repeated for o in objects)


def is_valid_line(line: str) -> bool:
    """The reference verdict on one log line: a valid v1 event.

    EVENT_ADAPTER in strict mode, plus the two rules a JSON parser cannot express: no line nested
    deeper than MAX_DEPTH, and no repeated key in the event, in `settings`, or in an item of
    `patterns`, `policies` or `resources`.
    """
    from pydantic import ValidationError

    if json_depth(line) > MAX_DEPTH:
        return False
    try:
        EVENT_ADAPTER.validate_json(line, strict=True)
    except ValidationError:
        return False
    return not _repeats_a_key(line)
