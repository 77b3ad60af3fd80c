"""Test fixtures for workflow logs: literal event lines, log files and small knowledge bases."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.knowledge.repository import KnowledgeBase
from bot.knowledge.schema import Pattern, Policy
from bot.logs.emitter import WorkflowLog


def event(
    kind: str,
    workflow_id: str,
    event_id: str,
    ts: str,
    *,
    cluster: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """One v1 event as data (camelCase keys); `fields` are added as given."""
    data: dict[str, Any] = {
        "v": 1, "eventId": event_id, "workflowId": workflow_id, "workflow": "recommend",
        "type": kind, "ts": ts,
    }  # fmt: skip
    if cluster is not None:
        data["cluster"] = cluster
    data.update(fields)
    return data


def retrieved(
    workflow_id: str,
    event_id: str,
    ts: str,
    intent: str,
    patterns: dict[str, float],
    policies: dict[str, float] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A `retrieved` event listing {id: score}."""
    return event(
        "retrieved",
        workflow_id,
        event_id,
        ts,
        intent=intent,
        patterns=[{"id": i, "score": s} for i, s in patterns.items()],
        policies=[{"id": i, "score": s} for i, s in (policies or {}).items()],
        **extra,
    )


def solution(
    workflow_id: str,
    event_id: str,
    ts: str,
    patterns: list[str],
    kinds: list[str],
    policies: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A `solution` event using `patterns` with resources of `kinds`."""
    data = event(
        "solution",
        workflow_id,
        event_id,
        ts,
        patternsUsed=patterns,
        policiesApplied=policies or [],
        resources=[{"kind": k} for k in kinds],
        **extra,
    )
    if settings is not None:
        data["settings"] = settings
    return data


def outcome(workflow_id: str, event_id: str, ts: str, status: str, **extra: Any) -> dict[str, Any]:
    """An `outcome` event."""
    return event("outcome", workflow_id, event_id, ts, status=status, **extra)


def line_of(data: dict[str, Any]) -> str:
    """The compact JSON line of an event, as the emitter writes it (UTF-8, no \\u escapes)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def write_log(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    """Write events (data or literal text) one per line; `.gz` names are gzipped."""
    text = "".join((item if isinstance(item, str) else line_of(item)) + "\n" for item in lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as out:
            out.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def make_pattern(item_id: str, resources: list[str]) -> Pattern:
    """A pattern suggesting `resources`."""
    return Pattern(
        id=item_id,
        description=f"{item_id} deployments",
        triggers=[item_id],
        rationale="why",
        created_at="2025-01-15",
        created_by="platform-team",
        suggested_resources=resources,
    )


def make_policy(item_id: str) -> Policy:
    """A policy applying to Deployments."""
    return Policy(
        id=item_id,
        description=f"{item_id} is required",
        triggers=[item_id],
        rationale="why",
        created_at="2025-01-15",
        created_by="security-team",
        applies_to=["Deployment"],
    )


def make_kb(patterns: dict[str, list[str]], policies: Iterable[str] = ()) -> KnowledgeBase:
    """A knowledge base held in memory: {pattern id: suggested resources} and policy ids."""
    kb = KnowledgeBase()
    for item_id, resources in patterns.items():
        kb.patterns[item_id] = make_pattern(item_id, resources)
    for item_id in policies:
        kb.policies[item_id] = make_policy(item_id)
    return kb


@pytest.fixture
def logs_config(tmp_path: Path) -> Config:
    """Default configuration rooted in a temporary directory (quarantine goes under it)."""
    config = Config()
    config.root = tmp_path / "repo"
    return config


def web_workflows(path: Path, workflows: int = 40, with_pdb: int = 36) -> Path:
    """Workflows that use stateless-web-app and add a PodDisruptionBudget `with_pdb` times."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as stream:
        log = WorkflowLog(stream, cluster="prod-eu")
        for number in range(workflows):
            workflow_id = f"wf-{number:03d}"
            log.retrieved(workflow_id, f"deploy web shop {number}", [("stateless-web-app", 0.82)])
            kinds = ["Deployment", "Service", "Ingress"] + (
                ["PodDisruptionBudget"] if number < with_pdb else []
            )
            log.solution(workflow_id, patterns_used=["stateless-web-app"], resources=kinds)
            log.outcome(workflow_id, "deployed")
    return path
