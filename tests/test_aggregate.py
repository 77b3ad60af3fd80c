"""Exact usage metrics on hand-built logs: every metric, filter and breakdown of a UsageReport."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.errors import UsageError
from bot.logs.analysis import analyse_logs
from bot.logs.usage import UsageReport
from tests.support.logs import make_kb, outcome, retrieved, solution, write_log

KB = make_kb(
    {
        "web": ["Deployment", "Service"],
        "db": ["StatefulSet", "Service"],
        "worker": ["Deployment"],
        "cache": ["Deployment", "Service"],
    },
    ["limits", "tag"],
)


def _t(minute: int, second: int = 0) -> str:
    return f"2026-03-01T10:{minute:02d}:{second:02d}Z"


def _utc(minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 1, 10, minute, second, tzinfo=dt.UTC)


SCENARIO: list[dict[str, Any]] = [
    # w1: two solutions and two outcomes; the latest of each counts.
    retrieved("w1", "e11", _t(1), "web app with a database", {"web": 0.9, "db": 0.4},
              {"limits": 0.7}, cluster="prod"),
    solution("w1", "e12", _t(2), ["web"], ["Deployment"], cluster="prod"),
    # Written with an offset: 11:03+01:00 is 10:03Z, after e12.
    solution("w1", "e13", "2026-03-01T11:03:00+01:00", ["web", "db"],
             ["Deployment", "Service", "StatefulSet", "Ingress", "HorizontalPodAutoscaler"],
             ["limits"], {"spec.replicas": 3, "image.tag": "1.2"}, cluster="prod"),
    outcome("w1", "e15", _t(5), "deployed", cluster="prod"),
    outcome("w1", "e14", _t(4), "failed", cluster="prod"),
    # w2: its first event says staging, its latest says prod: it is a prod workflow.
    retrieved("w2", "e21", _t(6), "public site", {"web": 0.6}, cluster="staging"),
    solution("w2", "e22", _t(7), ["web"], ["Deployment", "Service", "Ingress"],
             settings={"spec.replicas": 2}, cluster="prod"),
    outcome("w2", "e23", _t(8), "failed", cluster="prod"),
    # w3: a weak match, with a secret and an email in the intent.
    retrieved("w3", "e31", _t(9), "queue consumer, password=hunter2, ask alice@example.com",
              {"worker": 0.3}, cluster="staging"),
    solution("w3", "e32", _t(10), ["worker"], ["Deployment", "ConfigMap"], cluster="staging"),
    outcome("w3", "e33", _t(11), "abandoned", cluster="staging"),
    # w4: retrieval found no pattern at all; no cluster.
    retrieved("w4", "e41", _t(12), "something new", {}),
    # w5: no retrieval, an unknown pattern and policy, no outcome.
    solution("w5", "e51", _t(13), ["worker", "ghost"], ["Deployment", "Secret"], ["nope"],
             cluster="staging"),
]  # fmt: skip


def _analyse(
    tmp_path: Path, config: Config, lines: list[dict[str, Any]] | None = None, **options: Any
) -> UsageReport:
    path = write_log(tmp_path / "logs" / "w.jsonl", SCENARIO if lines is None else lines)
    return analyse_logs(config, KB, [str(path)], **options)


def _items(report: UsageReport, kind: str) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = report.model_dump(mode="json", by_alias=True)[kind]
    return data


def _zero() -> dict[str, Any]:
    return {
        "timesRecommended": 0, "timesUsed": 0, "successRate": None, "commonAdditions": {},
        "lastUsed": None, "deployed": 0, "failed": 0, "abandoned": 0,
        "strongRecommendations": 0, "strongRecommendationsUsed": 0, "errors": {},
        "failedByDay": {}, "usesByDay": {},
    }  # fmt: skip


def test_pattern_metrics_are_exact(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config)
    assert _items(report, "patterns") == {
        "cache": _zero(),
        "db": {
            "timesRecommended": 1, "timesUsed": 1, "successRate": 1.0,
            "commonAdditions": {"HorizontalPodAutoscaler": 1, "Ingress": 1},
            "lastUsed": "2026-03-01T10:03:00Z", "deployed": 1, "failed": 0, "abandoned": 0,
            "strongRecommendations": 0, "strongRecommendationsUsed": 0, "errors": {},
            "failedByDay": {}, "usesByDay": {"2026-03-01": {"used": 1, "deployed": 1, "failed": 0}},
        },
        "web": {
            "timesRecommended": 2, "timesUsed": 2, "successRate": 0.5,
            "commonAdditions": {"Ingress": 2, "HorizontalPodAutoscaler": 1},
            "lastUsed": "2026-03-01T10:07:00Z", "deployed": 1, "failed": 1, "abandoned": 0,
            "strongRecommendations": 2, "strongRecommendationsUsed": 2, "errors": {},
            "failedByDay": {"2026-03-01": 1},
            "usesByDay": {"2026-03-01": {"used": 2, "deployed": 1, "failed": 1}},
        },
        "worker": {
            "timesRecommended": 1, "timesUsed": 2, "successRate": None,
            "commonAdditions": {"ConfigMap": 1, "Secret": 1},
            "lastUsed": "2026-03-01T10:13:00Z", "deployed": 0, "failed": 0, "abandoned": 1,
            "strongRecommendations": 0, "strongRecommendationsUsed": 0, "errors": {},
            "failedByDay": {},
            "usesByDay": {"2026-03-01": {"used": 2, "deployed": 0, "failed": 0}},
        },
    }  # fmt: skip


def test_policy_metrics_are_exact(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config)
    assert _items(report, "policies") == {
        "limits": {
            "timesRecommended": 1, "timesUsed": 1, "successRate": 1.0, "commonAdditions": {},
            "lastUsed": "2026-03-01T10:03:00Z", "deployed": 1, "failed": 0, "abandoned": 0,
            "strongRecommendations": 1, "strongRecommendationsUsed": 1, "errors": {},
            "failedByDay": {}, "usesByDay": {"2026-03-01": {"used": 1, "deployed": 1, "failed": 0}},
        },
        "tag": _zero(),
    }  # fmt: skip


def test_usage_metrics_hold_the_five_prd_counters(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config)
    assert report.patterns["web"].usage_metrics().to_data() == {
        "timesRecommended": 2, "timesUsed": 2, "successRate": 0.5,
        "commonAdditions": {"Ingress": 2, "HorizontalPodAutoscaler": 1},
        "lastUsed": "2026-03-01T10:07:00Z",
    }  # fmt: skip


def test_totals_window_co_usage_and_settings(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config)
    assert (report.events, report.workflows, report.workflows_with_solution) == (13, 5, 4)
    assert report.deployed_solutions == 1
    assert (report.window.start, report.window.end) == (_utc(1), _utc(13))
    assert (report.rejected_lines, report.duplicate_events) == (0, 0)
    assert [asdict(p) for p in report.co_usage] == [{"a": "db", "b": "web", "workflows": 1}]
    kinds = {"Deployment": 1, "HorizontalPodAutoscaler": 1, "Ingress": 1, "Service": 1,
             "StatefulSet": 1}  # fmt: skip
    assert [s.model_dump(by_alias=True) for s in report.settings] == [
        {"path": "image.tag", "value": "1.2", "deployedWorkflows": 1, "kinds": kinds},
        {"path": "spec.replicas", "value": 3, "deployedWorkflows": 1, "kinds": kinds},
    ]


def test_anomalies(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config)
    assert [a.to_data() for a in report.anomalies] == [
        {"kind": "unknown_pattern", "id": "ghost", "workflows": 1, "exampleWorkflow": "w5"},
        {"kind": "unknown_policy", "id": "nope", "workflows": 1, "exampleWorkflow": "w5"},
        {"kind": "used_without_retrieval", "id": "worker", "workflows": 1, "exampleWorkflow": "w5"},
    ]


def test_weak_intents_are_redacted_and_most_recent_first(
    tmp_path: Path, logs_config: Config
) -> None:
    report = _analyse(tmp_path, logs_config)
    assert report.weak_intents_total == 2
    assert [w.model_dump(mode="json", by_alias=True) for w in report.weak_intents] == [
        {"workflowId": "w4", "intent": "something new", "bestPattern": None, "bestScore": None,
         "kinds": [], "status": None, "cluster": None, "ts": "2026-03-01T10:12:00Z"},
        {"workflowId": "w3",
         "intent": "queue consumer, password=[REDACTED:secret], ask [REDACTED:email]",
         "bestPattern": "worker", "bestScore": 0.3, "kinds": ["ConfigMap", "Deployment"],
         "status": "abandoned", "cluster": "staging", "ts": "2026-03-01T10:09:00Z"},
    ]  # fmt: skip


def test_weak_intents_are_bounded_and_truncated(tmp_path: Path, logs_config: Config) -> None:
    logs_config.metrics.max_evidence_intents = 1
    logs_config.metrics.max_intent_length = 20
    lines = [
        retrieved("a", "1", _t(1), "first weak intent that is long", {"web": 0.1}),
        retrieved("b", "2", _t(2), "second weak intent that is long", {"web": 0.2}),
        retrieved("c", "3", _t(3), "strong", {"web": 0.5}),
    ]
    report = _analyse(tmp_path, logs_config, lines)
    assert report.weak_intents_total == 2
    assert [(w.workflow_id, w.intent) for w in report.weak_intents] == [
        ("b", "second weak intent …")
    ]


def test_a_score_exactly_at_a_threshold_is_strong_and_not_weak(
    tmp_path: Path, logs_config: Config
) -> None:
    strong = logs_config.learning.strong_match_threshold
    weak = logs_config.metrics.weak_match_threshold
    lines = [
        retrieved("a", "1", _t(1), "at the strong bar", {"web": strong}),
        retrieved("b", "2", _t(2), "just below it", {"web": strong - 1e-6}),
        retrieved("c", "3", _t(3), "at the weak bar", {"db": weak}),
        retrieved("d", "4", _t(4), "just below the weak bar", {"db": weak - 1e-6}),
    ]
    report = _analyse(tmp_path, logs_config, lines)
    assert (strong, weak) == (0.55, 0.4)
    assert report.patterns["web"].strong_recommendations == 1
    assert report.patterns["db"].strong_recommendations == 0
    assert [w.workflow_id for w in report.weak_intents] == ["d"]


def test_weak_intents_use_the_latest_retrieval(tmp_path: Path, logs_config: Config) -> None:
    lines = [
        retrieved("a", "1", _t(1), "vague", {"web": 0.2}),
        retrieved("a", "2", _t(2), "refined", {"web": 0.8}),
        retrieved("b", "3", _t(2), "refined", {"web": 0.8}),
        retrieved("b", "4", _t(1), "vague", {"web": 0.2, "db": 0.3}),
    ]
    report = _analyse(tmp_path, logs_config, lines)
    assert (report.weak_intents_total, report.weak_intents) == (0, [])


def test_cluster_breakdowns(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config)
    assert sorted(report.clusters) == ["prod", "staging"]
    prod, staging = report.clusters["prod"], report.clusters["staging"]
    assert (prod.workflows, prod.events, staging.workflows, staging.events) == (2, 8, 2, 4)
    assert prod.patterns["web"].times_recommended == 2
    assert prod.patterns["web"].times_used == 2
    assert prod.patterns["worker"].times_used == 0
    assert staging.patterns["worker"].times_used == 2
    assert staging.patterns["web"].times_recommended == 0
    assert [a.id for a in prod.anomalies] == []
    assert [a.id for a in staging.anomalies] == ["ghost", "nope", "worker"]
    assert prod.clusters == {} and staging.clusters == {}
    assert [w.workflow_id for w in staging.weak_intents] == ["w3"]


def test_cluster_filter(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config, cluster="prod")
    assert (report.workflows, report.events) == (2, 8)
    assert report.patterns["web"].success_rate == 0.5
    assert report.patterns["worker"].times_used == 0
    assert sorted(report.clusters) == ["prod"]


def test_until_filters_before_latest_selection(tmp_path: Path, logs_config: Config) -> None:
    # Before 10:03 the latest solution of w1 is e12 (web only) and it has no outcome yet.
    report = _analyse(tmp_path, logs_config, until="2026-03-01T10:03:00Z")
    assert (report.events, report.workflows) == (2, 1)
    assert report.patterns["web"].times_used == 1
    assert report.patterns["web"].success_rate is None
    assert report.patterns["db"].times_used == 0
    assert report.window.end == _utc(2)


def test_since_is_inclusive_and_accepts_dates(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config, since="2026-03-01T10:12:00+00:00")
    assert (report.events, report.workflows) == (2, 2)
    assert _analyse(tmp_path, logs_config, since="2026-03-02").events == 0
    assert _analyse(tmp_path, logs_config, until="2026-03-02").events == 13


def test_latest_solution_tie_breaks_by_event_id(tmp_path: Path, logs_config: Config) -> None:
    lines = [
        solution("w", "b", _t(1), ["web"], []),
        solution("w", "a", _t(1), ["db"], []),
        outcome("w", "y", _t(2), "failed"),
        outcome("w", "z", _t(2), "deployed"),
    ]
    report = _analyse(tmp_path, logs_config, lines)
    assert (report.patterns["web"].times_used, report.patterns["db"].times_used) == (1, 0)
    assert report.patterns["web"].success_rate == 1.0


def test_duplicates_count_once_and_conflicts_keep_the_earliest(
    tmp_path: Path, logs_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        solution("w", "s", _t(2), ["web"], ["Deployment"]),
        solution("w", "s", _t(2), ["web"], ["Deployment"]),  # the same event again
        solution("w", "s", _t(1), ["db"], ["Deployment"]),  # a conflict, earlier: it wins
        outcome("w", "o", _t(3), "deployed"),
    ]
    report = _analyse(tmp_path, logs_config, lines)
    assert (report.events, report.duplicate_events) == (2, 2)
    assert (report.patterns["db"].times_used, report.patterns["web"].times_used) == (1, 0)
    assert capsys.readouterr().err == (
        "patternbot: warning: event 's' was delivered with different content; "
        "kept the first by time\n"
    )


def test_every_item_appears_with_no_logs(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config, [])
    assert sorted(report.patterns) == ["cache", "db", "web", "worker"]
    assert sorted(report.policies) == ["limits", "tag"]
    assert report.window.start is None and report.events == 0


def test_bad_since_is_a_usage_error(tmp_path: Path, logs_config: Config) -> None:
    with pytest.raises(UsageError) as caught:
        _analyse(tmp_path, logs_config, since="last tuesday")
    assert str(caught.value) == (
        "--since: 'last tuesday' is not a date (2026-01-31) or an RFC 3339 time "
        "(2026-01-31T12:00:00Z)"
    )


def test_setting_values_keep_their_json_meaning(tmp_path: Path, logs_config: Config) -> None:
    # Escaped keys, unicode, exponents, null and booleans; two workflows agree on every value.
    settings = {'a"b': 1.5, "café": "thé", "e": 1e3, "n": None, "on": True, "s": "x\ny"}
    lines = []
    for n in (1, 2):
        lines += [
            solution(f"w{n}", f"w{n}s", f"2026-03-01T10:0{n}:00Z", ["web"], ["Deployment"],
                     settings=settings),
            outcome(f"w{n}", f"w{n}o", f"2026-03-01T10:0{n}:30Z", "deployed"),
        ]  # fmt: skip
    path = write_log(tmp_path / "logs" / "s.jsonl", lines)
    report = analyse_logs(logs_config, make_kb({"web": ["Deployment"]}), [str(path)])
    assert [(s.path, s.value, s.deployed_workflows) for s in report.settings] == [
        ('a"b', 1.5, 2), ("café", "thé", 2), ("e", 1000.0, 2), ("n", None, 2), ("on", True, 2),
        ("s", "x\ny", 2),
    ]  # fmt: skip
