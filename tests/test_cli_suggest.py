"""`patternbot suggest`: a table by default, JSON with --json, clean errors for bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.logs.emitter import WorkflowLog
from bot.main import main
from tests.support.kb import make_kb_repo, pattern_data, policy_data, write_item
from tests.support.learning import MessagesAPI


def _repo(tmp_path: Path) -> tuple[Path, Path]:
    root = make_kb_repo(
        tmp_path / "kb",
        [pattern_data("web-app", suggestedResources=["Deployment", "Service", "Ingress"])],
        [policy_data("require-limits")],
    )
    log = WorkflowLog(tmp_path / "logs" / "wf.jsonl")
    start = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    for n in range(40):
        wf = f"wf-{n:03d}"
        ts = start + dt.timedelta(minutes=n)
        log.retrieved(wf, "a public website", [("web-app", 0.8)], ts=ts)
        kinds = ["Deployment", "Service", "Ingress"] + (["PodDisruptionBudget"] if n % 8 else [])
        log.solution(wf, patterns_used=["web-app"], resources=kinds, ts=ts)
        log.outcome(wf, "deployed", ts=ts)
    return root, tmp_path / "logs"


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, logs = _repo(tmp_path)
    assert main(["suggest", "--repo", str(root), "--logs", str(logs), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["suggestions", "heldBack", "warnings", "draftedBy", "modelSeconds"]
    [suggestion] = out["suggestions"]
    assert suggestion["type"] == "update_pattern"
    assert suggestion["target"] == "web-app"
    assert (
        suggestion["reason"]
        == "Solutions using web-app added PodDisruptionBudget in 88% of cases (35 of 40)"
    )
    assert suggestion["changes"] == {"add": {"suggestedResources": ["PodDisruptionBudget"]}}
    assert suggestion["evidence"]["hits"] == 35
    assert suggestion["evidence"]["patternsUsed"] == ["web-app"]
    assert suggestion["draftedBy"] == "deterministic"
    assert (out["heldBack"], out["warnings"], out["draftedBy"], out["modelSeconds"]) == (
        [],
        [],
        "deterministic",
        None,
    )


def test_table_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, logs = _repo(tmp_path)
    assert main(["suggest", "--repo", str(root), "--logs", str(logs)]) == 0
    out = capsys.readouterr().out
    assert "update_pattern" in out
    assert "web-app" in out
    assert "0.76" in out
    assert out.rstrip().endswith("1 suggestion(s), 0 held back; --json shows drafts and evidence")


def test_min_confidence_and_limit_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, logs = _repo(tmp_path)
    assert (
        main(
            [
                "suggest",
                "--repo",
                str(root),
                "--logs",
                str(logs),
                "--json",
                "--min-confidence",
                "0.9",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["suggestions"] == []
    assert [h["reason"] for h in out["heldBack"]] == [
        "confidence 0.76 (35 of 40) is below the threshold 0.90"
    ]


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--min-confidence", "1.5", "--min-confidence must be between 0 and 1, not 1.5"),
        ("--limit", "0", "--limit must be at least 1, not 0"),
    ],
)
def test_bad_arguments_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    root, logs = _repo(tmp_path)
    assert main(["suggest", "--repo", str(root), "--logs", str(logs), flag, value]) == 2
    assert capsys.readouterr().err == f"patternbot: error: {message}\n"


def test_an_invalid_knowledge_base_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, logs = _repo(tmp_path)
    write_item(root, "patterns", pattern_data("broken", suggestedResources=[]))
    assert main(["suggest", "--repo", str(root), "--logs", str(logs)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("patternbot: patterns/broken.yaml:")
    assert err.endswith("; run `patternbot validate` for the full list\n")
    assert err.count("\n") == 1


def test_claude_is_used_when_a_key_is_set(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    messages_api: MessagesAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, logs = _repo(tmp_path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "cli-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", messages_api.url)
    messages_api.tool_input = {
        "suggestions": [
            {"ref": "c1", "reason": "web-app deployments keep adding a PodDisruptionBudget"}
        ]
    }
    assert main(["suggest", "--repo", str(root), "--logs", str(logs), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["draftedBy"] == "claude-sonnet-4-6"
    assert (
        out["suggestions"][0]["reason"] == "web-app deployments keep adding a PodDisruptionBudget"
    )
    assert messages_api.requests[0]["headers"]["Authorization"] == "Bearer cli-key"
