"""dot-ai Solution records become v1 events: mapped ids, outcomes, idempotent, exact metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from bot.index.embeddings import load_embedder
from bot.index.retrieval import retrieve
from bot.index.store import open_index
from bot.knowledge.repository import load_knowledge_base
from bot.logs.analysis import analyse_logs
from bot.main import main
from tests.support.kb import pattern_data, policy_data

WEB = pattern_data(
    "stateless-web-app",
    description="Stateless web application served behind an ingress",
    triggers=["web app", "frontend"],
    suggestedResources=["Deployment", "Service", "Ingress"],
)
DB = pattern_data(
    "stateful-database",
    description="Relational database with persistent storage",
    triggers=["postgres", "database"],
    suggestedResources=["StatefulSet", "Service", "PersistentVolumeClaim"],
)
QUEUE = pattern_data(
    "message-queue",
    description="Message broker for asynchronous events between services",
    triggers=["queue", "broker"],
    suggestedResources=["StatefulSet", "Service"],
)
LIMITS = policy_data(
    "require-resource-limits",
    description="Containers must declare CPU and memory limits",
    triggers=["resource limits"],
)


def solution(
    name: str,
    intent: str,
    kinds: list[str],
    *,
    state: str | None,
    patterns: list[str] = (),  # type: ignore[assignment]
    policies: list[str] = (),  # type: ignore[assignment]
    created: str = "2026-03-01T10:00:00Z",
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Solution object as `kubectl get -o json` prints it (fields from solution_types.go)."""
    record: dict[str, Any] = {
        "apiVersion": "dot-ai.devopstoolkit.live/v1alpha1",
        "kind": "Solution",
        "metadata": {
            "name": name,
            "namespace": "apps",
            "uid": f"uid-{name}",
            "creationTimestamp": created,
            "generation": 1,
            "managedFields": [{"manager": "dot-ai", "operation": "Update"}],
        },
        "spec": {
            "intent": intent,
            "context": {
                "createdBy": "dot-ai-recommend-tool",
                "rationale": "chosen by the recommend tool",
                "patterns": list(patterns),
                "policies": list(policies),
            },
            "resources": [
                {"apiVersion": "v1", "kind": kind, "name": f"{name}-{kind.lower()}"}
                for kind in kinds
            ],
        },
        "status": {"observedGeneration": 1, "conditions": conditions or []},
    }
    if state is not None:
        record["status"]["state"] = state
    return record


RECORDS = [
    solution(
        "shop",
        "Deploy our storefront web app with a postgres database",
        ["Deployment", "Service", "Ingress", "StatefulSet", "PersistentVolumeClaim"],
        state="deployed",
        patterns=[WEB["description"] + ".", "A relational database that keeps its data on disk"],
        policies=["require-resource-limits"],
        created="2026-03-01T10:00:00Z",
    ),
    solution(
        "events",
        "A message broker for order events",
        ["StatefulSet", "Service"],
        state="failed",
        patterns=["Message broker for asynchronous events between services"],
        created="2026-03-02T09:00:00Z",
        conditions=[
            {
                "type": "Ready",
                "status": "False",
                "reason": "ResourcesFailed",
                "message": "1 of 2 resources failed",
                "lastTransitionTime": "2026-03-02T09:05:00Z",
            }
        ],
    ),
    solution(
        "draft",
        "A cron job that cleans old files",
        ["CronJob"],
        state="pending",
        patterns=["Quantum tea ceremony orchestration"],
        created="2026-03-03T08:00:00Z",
    ),
]


@pytest.fixture
def synced_repo(kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> Path:
    repo = kb_repo_factory(patterns=[WEB, DB, QUEUE], policies=[LIMITS])
    assert main(["sync", "--repo", str(repo)]) == 0
    capsys.readouterr()
    return repo


def _write(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=4), "utf-8"
    )
    return path


def _retrieval(repo: Path, intent: str) -> dict[str, Any]:
    config = load_config(repo)
    with open_index(config) as index:
        found = retrieve(index, load_embedder(config.embedding), intent, config.retrieval.limit)
    return {
        "patterns": [{"id": m.id, "score": m.score} for m in found.patterns],
        "policies": [{"id": m.id, "score": m.score} for m in found.policies],
    }


def _import(repo: Path, source: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[
    int, list[dict[str, Any]], str
]:
    code = main(["logs", "import-dot-ai", "--repo", str(repo), str(source), "-o", str(out),
                 "--cluster", "prod"])  # fmt: skip
    err = capsys.readouterr().err
    return code, [json.loads(line) for line in out.read_text("utf-8").splitlines()], err


def test_solution_records_become_exact_events(
    synced_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write(tmp_path / "solutions.json", RECORDS)

    code, events, err = _import(synced_repo, source, tmp_path / "out.jsonl", capsys)

    assert code == 0
    common = {"v": 1, "workflow": "recommend", "cluster": "prod"}
    shop, events_wf, draft = "dot-ai:uid-shop", "dot-ai:uid-events", "dot-ai:uid-draft"
    assert events == [
        {**common, "eventId": f"{shop}:retrieved", "workflowId": shop, "type": "retrieved",
         "ts": "2026-03-01T10:00:00Z", "intent": RECORDS[0]["spec"]["intent"],
         **_retrieval(synced_repo, RECORDS[0]["spec"]["intent"]), "retrievedBy": "patternbot"},
        {**common, "eventId": f"{shop}:solution", "workflowId": shop, "type": "solution",
         "ts": "2026-03-01T10:00:00Z",
         "patternsUsed": ["stateless-web-app", "stateful-database"],
         "policiesApplied": ["require-resource-limits"],
         "resources": [{"kind": k, "apiVersion": "v1", "name": f"shop-{k.lower()}"}
                       for k in ["Deployment", "Service", "Ingress", "StatefulSet",
                                 "PersistentVolumeClaim"]],
         "settings": {}},
        {**common, "eventId": f"{shop}:outcome:deployed", "workflowId": shop, "type": "outcome",
         "ts": "2026-03-01T10:00:00Z", "status": "deployed"},
        {**common, "eventId": f"{events_wf}:retrieved", "workflowId": events_wf,
         "type": "retrieved", "ts": "2026-03-02T09:00:00Z",
         "intent": "A message broker for order events",
         **_retrieval(synced_repo, "A message broker for order events"),
         "retrievedBy": "patternbot"},
        {**common, "eventId": f"{events_wf}:solution", "workflowId": events_wf,
         "type": "solution", "ts": "2026-03-02T09:00:00Z", "patternsUsed": ["message-queue"],
         "policiesApplied": [],
         "resources": [{"kind": "StatefulSet", "apiVersion": "v1", "name": "events-statefulset"},
                       {"kind": "Service", "apiVersion": "v1", "name": "events-service"}],
         "settings": {}},
        {**common, "eventId": f"{events_wf}:outcome:failed", "workflowId": events_wf,
         "type": "outcome", "ts": "2026-03-02T09:05:00Z", "status": "failed",
         "error": "dot-ai Solution failed: 1 of 2 resources failed"},
        {**common, "eventId": f"{draft}:retrieved", "workflowId": draft, "type": "retrieved",
         "ts": "2026-03-03T08:00:00Z", "intent": "A cron job that cleans old files",
         **_retrieval(synced_repo, "A cron job that cleans old files"),
         "retrievedBy": "patternbot"},
        {**common, "eventId": f"{draft}:solution", "workflowId": draft, "type": "solution",
         "ts": "2026-03-03T08:00:00Z", "patternsUsed": [], "policiesApplied": [],
         "resources": [{"kind": "CronJob", "apiVersion": "v1", "name": "draft-cronjob"}],
         "settings": {}},
    ]  # fmt: skip
    assert "no pattern matches the description 'Quantum tea ceremony orchestration'" in err
    assert err.splitlines()[-1] == (
        f"patternbot: imported 3 Solution record(s) (1 pending, no outcome yet): 8 events to "
        f"{tmp_path / 'out.jsonl'}; 1 description(s) unmapped, 0 record problem(s)"
    )


def test_importing_twice_yields_identical_events(
    synced_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write(tmp_path / "solutions.json", RECORDS)

    _import(synced_repo, source, tmp_path / "first.jsonl", capsys)
    _import(synced_repo, source, tmp_path / "second.jsonl", capsys)

    first = (tmp_path / "first.jsonl").read_bytes()
    assert first == (tmp_path / "second.jsonl").read_bytes()
    assert len(first.splitlines()) == 8


def test_metrics_from_imported_records_are_exact(
    synced_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write(tmp_path / "solutions.json", RECORDS)
    out = tmp_path / "imported.jsonl"
    _import(synced_repo, source, out, capsys)
    # Imported twice into the log folder: deduplication by eventId counts each event once.
    (tmp_path / "again.jsonl").write_bytes(out.read_bytes())
    config = load_config(synced_repo)
    kb = load_knowledge_base(config.root, config.paths.patterns, config.paths.policies)

    report = analyse_logs(config, kb, [str(out), str(tmp_path / "again.jsonl")])

    assert (report.events, report.workflows, report.duplicate_events) == (8, 3, 8)
    assert (report.workflows_with_solution, report.deployed_solutions) == (3, 1)
    usage = {i: (u.times_used, u.deployed, u.failed) for i, u in report.patterns.items()}
    assert usage == {
        "message-queue": (1, 0, 1),
        "stateful-database": (1, 1, 0),
        "stateless-web-app": (1, 1, 0),
    }
    assert report.policies["require-resource-limits"].times_used == 1


def test_a_record_that_is_not_a_solution_is_reported_with_its_line(
    synced_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = solution("broken", "x", ["Deployment"], state="deployed")
    del broken["spec"]["intent"]
    broken["spec"]["resources"] = []
    source = _write(tmp_path / "solutions.json", [RECORDS[0], broken])

    code, events, err = _import(synced_repo, source, tmp_path / "out.jsonl", capsys)

    text = source.read_text("utf-8").splitlines()
    spec_line = next(n for n, line in enumerate(text, 1) if '"spec"' in line and n > 40)
    resources_line = next(n for n, line in enumerate(text, 1) if '"resources": []' in line)
    assert code == 1
    assert [e["workflowId"] for e in events] == ["dot-ai:uid-shop"] * 3
    assert err.splitlines()[:2] == [
        f"patternbot: warning: {source}:{spec_line}: items[1]: missing required key 'spec.intent'",
        f"patternbot: warning: {source}:{resources_line}: items[1]: spec.resources: must not be "
        "empty",
    ]


def test_a_file_that_is_not_a_solution_list_is_refused(
    synced_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "pods.json"
    source.write_text('{"apiVersion": "v1", "kind": "Pod"}', "utf-8")

    code, events, err = _import(synced_repo, source, tmp_path / "out.jsonl", capsys)

    assert (code, events) == (1, [])
    assert err.splitlines()[0] == (
        f"patternbot: warning: {source}:1: not a Solution list: expected the output of "
        "`kubectl get solutions -A -o json`"
    )


def test_suggestions_from_imported_records_are_exact(
    synced_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 20 storefront deployments through dot-ai; 19 also carried a PodDisruptionBudget.
    records = [
        solution(
            f"shop-{n}",
            f"Deploy storefront number {n}",
            ["Deployment", "Service", "Ingress"] + (["PodDisruptionBudget"] if n < 19 else []),
            state="deployed",
            patterns=[WEB["description"]],
            created=f"2026-03-{n + 1:02d}T10:00:00Z",
        )
        for n in range(20)
    ]
    source = _write(tmp_path / "solutions.json", records)
    out = tmp_path / "logs" / "imported.jsonl"
    out.parent.mkdir()
    _import(synced_repo, source, out, capsys)

    code = main(["suggest", "--repo", str(synced_repo), "--logs", str(out), "--json"])
    data = json.loads(capsys.readouterr().out)

    assert code == 0
    additions = [s for s in data["suggestions"] if s["type"] == "update_pattern"]
    assert [(s["target"], s["changes"], s["evidence"]["hits"], s["evidence"]["cases"])
            for s in additions] == [
        ("stateless-web-app", {"add": {"suggestedResources": ["PodDisruptionBudget"]}}, 19, 20)
    ]  # fmt: skip
