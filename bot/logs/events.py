"""The workflow log format, version 1: one JSON object per line, camelCase keys.

This module is the reference definition of the public contract documented in docs/workflow-log.md
and published as schemas/workflow-log-v1.schema.json. Readers ignore fields they do not know.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

LOG_VERSION = 1

WorkflowName = Literal["recommend", "operate"]
OutcomeStatus = Literal["deployed", "failed", "abandoned"]
SettingValue = str | int | float | bool | None


def _require_offset(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp needs a UTC offset (RFC 3339), e.g. 2026-01-31T12:00:00Z")
    return value.astimezone(dt.UTC)


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
