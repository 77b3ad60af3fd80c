"""What merged suggestions achieved: uses since the merge day, and before it for updates."""

from __future__ import annotations

from pathlib import Path

from bot.config import Config
from bot.logs.analysis import analyse_logs
from bot.platform.dashboard import UsesBetween, achievements
from bot.platform.feedback import Decision
from tests.support.logs import make_kb, outcome, solution, write_log

KB = make_kb({"web": ["Deployment"], "grpc": ["Deployment", "Service"]})


def _decision(kind: str, target: str, merged: str | None, number: int) -> Decision:
    return Decision(
        fingerprint=f"fp-{number}", type=kind, target=target, outcome="accepted",
        url=f"https://github.example/acme/kb/pull/{number}", hits=9, cases=10, confidence=0.8,
        decided_at=merged, number=number,
    )  # fmt: skip


def test_uses_are_split_at_the_merge_day(tmp_path: Path, logs_config: Config) -> None:
    lines = []
    days = {"2026-03-01": "failed", "2026-03-02": "deployed", "2026-03-03": "deployed"}
    for n, (day, status) in enumerate(days.items()):
        lines += [
            solution(f"w{n}", f"s{n}", f"{day}T09:00:00Z", ["web"], ["Deployment"]),
            outcome(f"w{n}", f"o{n}", f"{day}T09:05:00Z", status),
            solution(f"g{n}", f"gs{n}", f"{day}T10:00:00Z", ["grpc"], ["Deployment"]),
        ]
    report = analyse_logs(logs_config, KB, [str(write_log(tmp_path / "w.jsonl", lines))])

    found = achievements(
        [
            _decision("update_pattern", "web", "2026-03-02T17:00:00Z", 1),
            _decision("create_pattern", "grpc", "2026-03-02T08:00:00Z", 2),
            _decision("create_pattern", "gone", None, 3),
        ],
        report,
    )

    assert [(a.since, a.before, a.reached_target) for a in found] == [
        (UsesBetween(2, 2, 0), UsesBetween(1, 0, 1), None),
        (UsesBetween(2, 0, 0), None, False),
        (UsesBetween(0, 0, 0), None, False),
    ]
    assert found[0].to_data() | {"url": "-"} == {
        "url": "-", "type": "update_pattern", "target": "web", "outcome": "accepted",
        "mergedAt": "2026-03-02T17:00:00Z", "uses": 2, "successRate": 1.0, "usesBefore": 1,
        "successRateBefore": 0.0, "reachedThreeUses": None,
    }  # fmt: skip
