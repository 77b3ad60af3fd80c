"""Writing workflow logs from Python: the emitter workflow tools call at each stage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from bot.logs.append import append_line, event_line, new_event_id, new_workflow_id
from bot.logs.events import (
    LOG_VERSION,
    ItemScore,
    OutcomeEvent,
    OutcomeStatus,
    Resource,
    RetrievedEvent,
    SettingValue,
    SolutionEvent,
    WorkflowName,
)

__all__ = ["WorkflowLog", "new_workflow_id"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WorkflowLog:
    """Appends events of workflow runs to a JSON Lines file (or any text stream).

    Each write is one line flushed at once, so several processes can append to one file.
    """

    def __init__(self, target: Path | IO[str], *, cluster: str | None = None) -> None:
        self._target = target
        self._cluster = cluster

    def _write(self, event: RetrievedEvent | SolutionEvent | OutcomeEvent) -> None:
        line = event_line(event.model_dump(mode="json", by_alias=True, exclude_none=True))
        append_line(self._target, line)

    def _common(
        self, workflow_id: str, workflow: WorkflowName, ts: dt.datetime | None, cluster: str | None
    ) -> dict[str, object]:
        return {
            "v": LOG_VERSION,
            "event_id": new_event_id(),
            "workflow_id": workflow_id,
            "workflow": workflow,
            "ts": ts or _now(),
            "cluster": cluster if cluster is not None else self._cluster,
        }

    def retrieved(
        self,
        workflow_id: str,
        intent: str,
        patterns: Iterable[tuple[str, float]],
        policies: Iterable[tuple[str, float]] = (),
        *,
        workflow: WorkflowName = "recommend",
        ts: dt.datetime | None = None,
        cluster: str | None = None,
    ) -> RetrievedEvent:
        """Record what retrieval returned for an intent: (id, score) pairs, best first."""
        event = RetrievedEvent(
            **self._common(workflow_id, workflow, ts, cluster),  # type: ignore[arg-type]
            intent=intent,
            patterns=[ItemScore(id=i, score=s) for i, s in patterns],
            policies=[ItemScore(id=i, score=s) for i, s in policies],
        )
        self._write(event)
        return event

    def solution(
        self,
        workflow_id: str,
        *,
        patterns_used: Iterable[str] = (),
        policies_applied: Iterable[str] = (),
        resources: Iterable[Mapping[str, str] | str] = (),
        settings: Mapping[str, SettingValue] | None = None,
        workflow: WorkflowName = "recommend",
        ts: dt.datetime | None = None,
        cluster: str | None = None,
    ) -> SolutionEvent:
        """Record the generated solution; a resource is a kind or a {kind, apiVersion, name} map."""
        event = SolutionEvent(
            **self._common(workflow_id, workflow, ts, cluster),  # type: ignore[arg-type]
            patterns_used=list(patterns_used),
            policies_applied=list(policies_applied),
            resources=[
                Resource(kind=r) if isinstance(r, str) else Resource.model_validate(r)
                for r in resources
            ],
            settings=dict(settings or {}),
        )
        self._write(event)
        return event

    def outcome(
        self,
        workflow_id: str,
        status: OutcomeStatus,
        *,
        error: str | None = None,
        workflow: WorkflowName = "recommend",
        ts: dt.datetime | None = None,
        cluster: str | None = None,
    ) -> OutcomeEvent:
        """Record how the workflow ended: deployed, failed or abandoned."""
        event = OutcomeEvent(
            **self._common(workflow_id, workflow, ts, cluster),  # type: ignore[arg-type]
            status=status,
            error=error,
        )
        self._write(event)
        return event
