"""Exact learning inputs of a UsageReport: errors and failures per day per item, outcomes per day,
solution profiles and the recent/earlier periods."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.logs.analysis import analyse_logs
from bot.logs.error_text import normalise_error
from bot.logs.usage import UsageReport
from tests.support.logs import make_kb, outcome, solution, write_log

KB = make_kb({"web": ["Deployment"], "db": ["StatefulSet"]}, ["limits"])
TIMEOUT = "Timeout after <n>s connecting to <ip> (request <hex>)"
TOKEN = "token=[REDACTED:github-token] rejected by <url>"

FAILURES: list[dict[str, Any]] = [
    solution("a", "a1", "2026-03-01T09:00:00Z", ["web", "db"],
             ["Deployment", "Service", "Service"], ["limits"], cluster="prod"),
    outcome("a", "a2", "2026-03-01T09:05:00Z", "failed", cluster="prod",
            error="Timeout after 30s connecting to 10.0.0.12:5432 (request 8f3e2a1b9c)"),
    solution("b", "b1", "2026-03-02T09:00:00Z", ["web"], ["Service", "Deployment"],
             cluster="prod"),
    outcome("b", "b2", "2026-03-02T09:05:00Z", "failed", cluster="prod",
            error="Timeout after 45s  connecting to 10.0.0.13:5432 (request 7a2b3c4d5e)"),
    solution("c", "c1", "2026-03-02T10:00:00Z", ["web"], ["Deployment"], cluster="staging"),
    outcome("c", "c2", "2026-03-02T10:05:00Z", "failed", cluster="staging",
            error="token=ghp_0123456789abcdefghijABCDEFGHIJ012345 rejected by "
                  "https://api.example.com/v1/deploy?id=42"),
    solution("d", "d1", "2026-03-02T11:00:00Z", ["db"], ["StatefulSet"]),
    outcome("d", "d2", "2026-03-02T11:05:00Z", "deployed"),
    solution("e", "e1", "2026-03-03T09:00:00Z", ["web"], ["Deployment", "Service"]),
    outcome("e", "e2", "2026-03-03T09:05:00Z", "abandoned"),
    # A failure without a solution or an error text: counted per day only.
    outcome("f", "f1", "2026-03-03T10:00:00Z", "failed"),
]  # fmt: skip


def _analyse(tmp_path: Path, config: Config, lines: list[dict[str, Any]]) -> UsageReport:
    path = write_log(tmp_path / "logs" / "w.jsonl", lines)
    return analyse_logs(config, KB, [str(path)])


def _dump(value: Any) -> Any:
    return [v.model_dump(mode="json", by_alias=True) for v in value]


def _profiles(report: UsageReport) -> Any:
    # Profiles are plain dataclasses (there can be one per workflow); pydantic dumps them in place.
    return report.model_dump(mode="json", by_alias=True)["solutionProfiles"]


def test_errors_are_normalised_counted_per_item_and_most_common_first(
    tmp_path: Path, logs_config: Config
) -> None:
    report = _analyse(tmp_path, logs_config, FAILURES)
    assert report.patterns["web"].errors == {TIMEOUT: 2, TOKEN: 1}
    assert report.patterns["db"].errors == {TIMEOUT: 1}
    assert report.policies["limits"].errors == {TIMEOUT: 1}
    assert report.clusters["prod"].patterns["web"].errors == {TIMEOUT: 2}
    assert report.clusters["staging"].patterns["web"].errors == {TOKEN: 1}


def test_failed_by_day_per_item(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config, FAILURES)
    assert report.patterns["web"].failed_by_day == {"2026-03-01": 1, "2026-03-02": 2}
    assert report.patterns["db"].failed_by_day == {"2026-03-01": 1}
    assert report.policies["limits"].failed_by_day == {"2026-03-01": 1}
    assert report.clusters["prod"].patterns["web"].failed_by_day == {
        "2026-03-01": 1,
        "2026-03-02": 1,
    }


def test_uses_by_day_per_item_with_outcomes(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config, FAILURES)

    def days(usage: Any) -> dict[str, Any]:
        return {d: asdict(u) for d, u in usage.uses_by_day.items()}

    assert days(report.patterns["web"]) == {
        "2026-03-01": {"used": 1, "deployed": 0, "failed": 1},
        "2026-03-02": {"used": 2, "deployed": 0, "failed": 2},
        "2026-03-03": {"used": 1, "deployed": 0, "failed": 0},
    }
    assert days(report.patterns["db"]) == {
        "2026-03-01": {"used": 1, "deployed": 0, "failed": 1},
        "2026-03-02": {"used": 1, "deployed": 1, "failed": 0},
    }
    assert days(report.policies["limits"]) == {
        "2026-03-01": {"used": 1, "deployed": 0, "failed": 1}
    }
    # Days in order, whatever order DuckDB grouped them in.
    assert list(report.patterns["web"].uses_by_day) == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert days(report.clusters["staging"].patterns["web"]) == {
        "2026-03-02": {"used": 1, "deployed": 0, "failed": 1}
    }


def test_outcomes_by_day(tmp_path: Path, logs_config: Config) -> None:
    report = _analyse(tmp_path, logs_config, FAILURES)
    assert report.model_dump(mode="json", by_alias=True)["outcomesByDay"] == {
        "2026-03-01": {"deployed": 0, "failed": 1, "abandoned": 0},
        "2026-03-02": {"deployed": 1, "failed": 2, "abandoned": 0},
        "2026-03-03": {"deployed": 0, "failed": 1, "abandoned": 1},
    }
    assert list(report.clusters["staging"].outcomes_by_day) == ["2026-03-02"]


def test_solution_profiles_group_latest_solutions_by_signature(
    tmp_path: Path, logs_config: Config
) -> None:
    lines = [
        *FAILURES,
        # A superseded solution of e and one with an unknown pattern (not part of a signature).
        solution("e", "e0", "2026-03-03T08:00:00Z", ["db"], ["StatefulSet"]),
        solution("g", "g1", "2026-03-03T12:00:00Z", ["ghost", "web"], ["Deployment"]),
    ]
    report = _analyse(tmp_path, logs_config, lines)
    assert _profiles(report) == [
        {"patterns": ["web"], "kinds": ["Deployment"], "workflows": 2, "deployed": 0,
         "failed": 1},
        {"patterns": ["web"], "kinds": ["Deployment", "Service"], "workflows": 2, "deployed": 0,
         "failed": 1},
        {"patterns": ["db"], "kinds": ["StatefulSet"], "workflows": 1, "deployed": 1,
         "failed": 0},
        {"patterns": ["db", "web"], "kinds": ["Deployment", "Service"], "workflows": 1,
         "deployed": 0, "failed": 1},
    ]  # fmt: skip
    assert _profiles(report.clusters["prod"]) == [
        {"patterns": ["db", "web"], "kinds": ["Deployment", "Service"], "workflows": 1,
         "deployed": 0, "failed": 1},
        {"patterns": ["web"], "kinds": ["Deployment", "Service"], "workflows": 1, "deployed": 0,
         "failed": 1},
    ]  # fmt: skip


def test_profile_kinds_are_redacted_and_merged_when_two_redact_alike(
    tmp_path: Path, logs_config: Config
) -> None:
    # Two different tokens in kind names redact to the same text: their profiles share a kind.
    first, second = "Kindghp_" + "a" * 36, "Kindghp_" + "b" * 36
    lines = [
        solution("a", "a1", "2026-03-03T08:00:00Z", ["web"], [first, "Service"]),
        solution("b", "b1", "2026-03-03T08:01:00Z", ["web"], [second, "Service"]),
        solution("c", "c1", "2026-03-03T08:02:00Z", ["db"], ["Service", first, second]),
    ]
    report = _analyse(tmp_path, logs_config, lines)
    assert _profiles(report) == [
        {"patterns": ["db"], "kinds": ["Kind[REDACTED:github-token]", "Service"],
         "workflows": 1, "deployed": 0, "failed": 0},
        {"patterns": ["web"], "kinds": ["Kind[REDACTED:github-token]", "Service"],
         "workflows": 1, "deployed": 0, "failed": 0},
        {"patterns": ["web"], "kinds": ["Kind[REDACTED:github-token]", "Service"],
         "workflows": 1, "deployed": 0, "failed": 0},
    ]  # fmt: skip
    assert report.solution_profiles.uses("web") == 2


def test_co_usage_counts_each_pair_of_known_patterns_per_latest_solution(
    tmp_path: Path, logs_config: Config
) -> None:
    kb = make_kb({"web": ["Deployment"], "db": ["StatefulSet"], "cache": ["Deployment"]})
    lines = [
        solution("a", "a1", "2026-03-01T09:00:00Z", ["web", "db", "cache"], [], cluster="prod"),
        solution("b", "b1", "2026-03-01T09:01:00Z", ["db", "web", "db"], [], cluster="prod"),
        # An unknown pattern is in no pair; a superseded solution counts for nothing.
        solution("c", "c0", "2026-03-01T09:02:00Z", ["cache", "db"], [], cluster="staging"),
        solution("c", "c1", "2026-03-01T09:03:00Z", ["ghost", "web", "db"], [], cluster="staging"),
        solution("d", "d1", "2026-03-01T09:04:00Z", ["cache"], []),
    ]
    path = write_log(tmp_path / "logs" / "w.jsonl", lines)
    report = analyse_logs(logs_config, kb, [str(path)])

    def pairs(usage: UsageReport) -> list[tuple[str, str, int]]:
        return [(p.a, p.b, p.workflows) for p in usage.co_usage]

    assert pairs(report) == [("db", "web", 3), ("cache", "db", 1), ("cache", "web", 1)]
    assert pairs(report.clusters["prod"]) == [
        ("db", "web", 2), ("cache", "db", 1), ("cache", "web", 1)
    ]  # fmt: skip
    assert pairs(report.clusters["staging"]) == [("db", "web", 1)]


def _day(day: str, workflow: str, pattern: str) -> list[dict[str, Any]]:
    return [
        solution(workflow, f"{workflow}-s", f"{day}T00:00:00Z", [pattern], ["Deployment"]),
        outcome(workflow, f"{workflow}-o", f"{day}T00:00:00Z", "deployed"),
    ]


def test_periods_split_at_the_newest_event_minus_recent_days(
    tmp_path: Path, logs_config: Config
) -> None:
    # Newest event 2026-03-01: the recent window starts 30 days earlier, on 2026-01-30 00:00,
    # and includes that instant.
    lines = [
        *_day("2026-01-01", "old", "db"),
        *_day("2026-01-29", "before", "db"),
        *_day("2026-01-30", "edge", "web"),
        *_day("2026-03-01", "new", "web"),
    ]
    report = _analyse(tmp_path, logs_config, lines)
    assert sorted(report.periods) == ["earlier", "recent"]
    recent, earlier = report.periods["recent"], report.periods["earlier"]
    assert (recent.workflows, recent.events, earlier.workflows, earlier.events) == (2, 4, 2, 4)
    assert (recent.patterns["web"].times_used, recent.patterns["db"].times_used) == (2, 0)
    assert (earlier.patterns["web"].times_used, earlier.patterns["db"].times_used) == (0, 2)
    assert list(recent.outcomes_by_day) == ["2026-01-30", "2026-03-01"]
    assert recent.periods == {} and recent.clusters == {} and earlier.periods == {}


def test_periods_are_empty_when_the_logs_span_no_more_than_the_window(
    tmp_path: Path, logs_config: Config
) -> None:
    lines = [*_day("2026-01-30", "edge", "web"), *_day("2026-03-01", "new", "web")]
    assert _analyse(tmp_path, logs_config, lines).periods == {}
    logs_config.learning.recent_days = 29
    assert sorted(_analyse(tmp_path, logs_config, lines).periods) == ["earlier", "recent"]


def test_errors_are_bounded_to_the_most_common(tmp_path: Path, logs_config: Config) -> None:
    words = [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
        "kilo",
        "lima",
    ]
    lines: list[dict[str, Any]] = []
    for n, word in enumerate(words):
        for repeat in range(2 if word in ("lima", "kilo") else 1):
            workflow = f"w{n}-{repeat}"
            lines.append(solution(workflow, f"{workflow}s", "2026-03-01T00:00:00Z", ["web"], []))
            lines.append(
                outcome(workflow, f"{workflow}o", "2026-03-01T00:01:00Z", "failed", error=word)
            )
    errors = _analyse(tmp_path, logs_config, lines).patterns["web"].errors
    assert errors == {
        "kilo": 2, "lima": 2, "alpha": 1, "bravo": 1, "charlie": 1, "delta": 1, "echo": 1,
        "foxtrot": 1, "golf": 1, "hotel": 1,
    }  # fmt: skip


def test_normalise_error_masks_variable_parts() -> None:
    cases = {
        "pod web-5d4f8b7c9-abcde OOMKilled, exit 137": "pod web-<hex>-abcde OOMKilled, exit <n>",
        "id 123e4567-e89b-12d3-a456-426614174000 at db.prod.svc.cluster.local:5432 failed":
            "id <uuid> at <host> failed",
        "pull registry.io/app:1.2.3 from fe80::1ff:fe23:4567:890a": "pull <host>/app:<n> from <ip>",
        "mail ops@example.com\n\tnow": "mail [REDACTED:email] now",
        "password is hunter2 at 10:03:00": "password is [REDACTED:secret] at <n>:<n>:<n>",
    }  # fmt: skip
    assert {text: normalise_error(text, 200) for text in cases} == cases
    assert normalise_error("x" * 30, 10) == "x" * 9 + "…"
