"""Latest solutions that repeat each other are counted together before their lists are read
(bot/logs/aggregate.py, `alike` and the settings query): the counts must be those of counting
every workflow on its own, whatever the order of or repeats in its lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.config import Config
from bot.logs.analysis import analyse_logs
from bot.logs.usage import UsageReport
from tests.support.logs import make_kb, outcome, solution, write_log

KB = make_kb({"web": ["Deployment"], "db": ["StatefulSet"]}, ["limits"])
ONE_PROFILE = {"patterns": ["web"], "kinds": ["Deployment", "Service"]}

LINES: list[dict[str, Any]] = [
    # The same solution written four ways: as is, with repeats, reordered, with an unknown pattern.
    solution("a", "a1", "2026-03-01T09:00:00Z", ["web"], ["Deployment", "Service"], ["limits"],
             settings={"spec.replicas": 2}, cluster="prod"),
    outcome("a", "a2", "2026-03-01T09:05:00Z", "deployed", cluster="prod"),
    solution("b", "b1", "2026-03-02T09:00:00Z", ["web", "web"],
             ["Service", "Deployment", "Service"], ["limits", "limits"],
             settings={"spec.replicas": 2}, cluster="prod"),
    outcome("b", "b2", "2026-03-02T09:05:00Z", "deployed", cluster="prod"),
    solution("c", "c1", "2026-03-02T10:00:00Z", ["ghost", "web"], ["Deployment", "Service"],
             settings={"spec.replicas": 2}, cluster="prod"),
    outcome("c", "c2", "2026-03-02T10:05:00Z", "failed", cluster="prod"),
    solution("d", "d1", "2026-03-03T09:00:00Z", ["web"], ["Service", "Deployment"],
             settings={"spec.replicas": 3}, cluster="staging"),
    outcome("d", "d2", "2026-03-03T09:05:00Z", "deployed", cluster="staging"),
    # More than 30 days earlier: the logs are split into recent and earlier periods.
    solution("e", "e1", "2026-01-10T09:00:00Z", ["web"], ["Deployment", "Service", "Deployment"],
             settings={"spec.replicas": 2}, cluster="prod"),
    outcome("e", "e2", "2026-01-10T09:05:00Z", "deployed", cluster="prod"),
]  # fmt: skip


def _analyse(tmp_path: Path, config: Config) -> UsageReport:
    path = write_log(tmp_path / "logs" / "w.jsonl", LINES)
    return analyse_logs(config, KB, [str(path)])


def _profiles(report: UsageReport) -> Any:
    return report.model_dump(mode="json", by_alias=True)["solutionProfiles"]


def _settings(report: UsageReport) -> list[tuple[str, Any, int, dict[str, int]]]:
    return [(s.path, s.value, s.deployed_workflows, s.kinds) for s in report.settings]


def test_alike_solutions_make_one_profile_in_every_scope(
    tmp_path: Path, logs_config: Config
) -> None:
    report = _analyse(tmp_path, logs_config)
    assert _profiles(report) == [{**ONE_PROFILE, "workflows": 5, "deployed": 4, "failed": 1}]
    assert _profiles(report.clusters["prod"]) == [
        {**ONE_PROFILE, "workflows": 4, "deployed": 3, "failed": 1}
    ]
    assert _profiles(report.clusters["staging"]) == [
        {**ONE_PROFILE, "workflows": 1, "deployed": 1, "failed": 0}
    ]
    assert _profiles(report.periods["recent"]) == [
        {**ONE_PROFILE, "workflows": 4, "deployed": 3, "failed": 1}
    ]
    assert _profiles(report.periods["earlier"]) == [
        {**ONE_PROFILE, "workflows": 1, "deployed": 1, "failed": 0}
    ]
    assert report.co_usage == []


def test_alike_solutions_count_each_workflow_once_in_common_additions(
    tmp_path: Path, logs_config: Config
) -> None:
    report = _analyse(tmp_path, logs_config)
    # web suggests Deployment only: Service is added, once per workflow despite the repeats.
    assert report.patterns["web"].common_additions == {"Service": 5}
    assert report.clusters["prod"].patterns["web"].common_additions == {"Service": 4}
    assert report.clusters["staging"].patterns["web"].common_additions == {"Service": 1}
    assert report.periods["recent"].patterns["web"].common_additions == {"Service": 4}
    assert report.periods["earlier"].patterns["web"].common_additions == {"Service": 1}
    assert report.patterns["db"].common_additions == {}
    assert report.patterns["web"].times_used == 5
    assert report.policies["limits"].times_used == 2


def test_alike_deployed_settings_count_workflows_and_their_kinds_once(
    tmp_path: Path, logs_config: Config
) -> None:
    report = _analyse(tmp_path, logs_config)
    both = {"Deployment": 3, "Service": 3}
    assert _settings(report) == [
        ("spec.replicas", 2, 3, both),
        ("spec.replicas", 3, 1, {"Deployment": 1, "Service": 1}),
    ]
    assert _settings(report.clusters["prod"]) == [("spec.replicas", 2, 3, both)]
    assert _settings(report.clusters["staging"]) == [
        ("spec.replicas", 3, 1, {"Deployment": 1, "Service": 1})
    ]
    assert _settings(report.periods["recent"]) == [
        ("spec.replicas", 2, 2, {"Deployment": 2, "Service": 2}),
        ("spec.replicas", 3, 1, {"Deployment": 1, "Service": 1}),
    ]
    assert _settings(report.periods["earlier"]) == [
        ("spec.replicas", 2, 1, {"Deployment": 1, "Service": 1})
    ]


def test_a_knowledge_base_without_items_reports_the_logs_as_anomalies(
    tmp_path: Path, logs_config: Config
) -> None:
    path = write_log(tmp_path / "logs" / "w.jsonl", LINES)
    report = analyse_logs(logs_config, make_kb({}), [str(path)])
    assert report.patterns == {} and report.policies == {}
    assert [(a.kind, a.id, a.workflows) for a in report.anomalies] == [
        ("unknown_pattern", "web", 5),
        ("unknown_pattern", "ghost", 1),
        ("unknown_policy", "limits", 2),
    ]
    assert _profiles(report) == [
        {"patterns": [], "kinds": ["Deployment", "Service"], "workflows": 5, "deployed": 4,
         "failed": 1}
    ]  # fmt: skip
