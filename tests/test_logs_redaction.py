"""Log text is redacted where it enters the analysis: no secret from any field of a log line
reaches the UsageReport, the warnings or a rejection reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import Config
from bot.logs.analysis import analyse_logs
from tests.support.logs import make_kb, outcome, retrieved, solution, write_log

KB = make_kb({"web": ["Deployment"]}, ["limits"])
TOKEN = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
MARK = "[REDACTED:github-token]"


def test_a_token_in_any_field_never_reaches_the_report(
    tmp_path: Path, logs_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    wid = f"wf-{TOKEN}"
    lines = [
        retrieved(wid, f"r-{TOKEN}", "2026-03-01T10:00:00Z", f"deploy with {TOKEN}",
                  {"web": 0.1, f"ghost-{TOKEN}": 0.05}, cluster=f"prod-{TOKEN}"),
        solution(wid, "s1", "2026-03-01T10:01:00Z", ["web", f"ghost-{TOKEN}"],
                 ["Deployment", f"Kind{TOKEN}"], cluster=f"prod-{TOKEN}",
                 settings={"env.GITHUB_TOKEN": TOKEN, "db.password": "hunter2",
                           "annotations.note": f"use {TOKEN} here", f"labels.{TOKEN}": "x",
                           "spec.replicas": 3}),
        outcome(wid, "o1", "2026-03-01T10:02:00Z", "deployed", cluster=f"prod-{TOKEN}"),
        solution("w2", "s2", "2026-03-01T10:03:00Z", ["web"], ["Deployment"],
                 settings={"db.password": "s3cret-2"}),
        outcome("w2", "o2", "2026-03-01T10:04:00Z", "deployed"),
        solution("w3", "s3", "2026-03-01T10:05:00Z", ["web"], ["Deployment"]),
        outcome("w3", "o3", "2026-03-01T10:06:00Z", "failed", error=f"auth failed for {TOKEN}"),
    ]  # fmt: skip
    path = write_log(tmp_path / "logs.jsonl", lines)
    report = analyse_logs(logs_config, KB, [str(path)])
    dumped = report.model_dump_json(by_alias=True)
    assert TOKEN not in dumped and "hunter2" not in dumped and "s3cret-2" not in dumped
    assert TOKEN not in capsys.readouterr().err
    settings = {(s.path, json.dumps(s.value)): s.deployed_workflows for s in report.settings}
    assert settings == {
        # Both passwords, whatever they were, are one redacted setting.
        ("db.password", '"[REDACTED:secret]"'): 2,
        ("env.GITHUB_TOKEN", '"[REDACTED:secret]"'): 1,
        ("annotations.note", f'"use {MARK} here"'): 1,
        (f"labels.{MARK}", '"x"'): 1,
        ("spec.replicas", "3"): 1,
    }
    assert sorted(report.clusters) == [f"prod-{MARK}"]
    assert report.weak_intents[0].intent == f"deploy with {MARK}"
    assert report.weak_intents[0].workflow_id == f"wf-{MARK}"
    unknown = [(a.id, a.example_workflow) for a in report.anomalies if a.kind == "unknown_pattern"]
    assert unknown == [(f"ghost-{MARK}", f"wf-{MARK}")]
    assert report.patterns["web"].common_additions == {f"Kind{MARK}": 1}
    assert report.patterns["web"].errors == {f"auth failed for {MARK}": 1}


def test_a_rejection_reason_never_echoes_a_secret(
    tmp_path: Path, logs_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = outcome("w1", "e1", TOKEN, "deployed")
    path = write_log(tmp_path / "logs.jsonl", [bad])
    quarantine = tmp_path / "q.jsonl"
    analyse_logs(logs_config, KB, [str(path)], quarantine_path=quarantine)
    err = capsys.readouterr().err
    assert f"{path}:1: 'ts' is not an RFC 3339 time: \"{MARK}\"" in err
    assert TOKEN not in err
    record = json.loads(quarantine.read_text(encoding="utf-8"))
    assert record["reason"] == f"'ts' is not an RFC 3339 time: \"{MARK}\""
    # The quarantine keeps the rejected line itself verbatim: nothing is lost.
    assert record["line"] == json.dumps(bad, separators=(",", ":"), ensure_ascii=False)
