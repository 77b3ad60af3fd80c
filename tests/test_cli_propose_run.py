"""`patternbot propose` and `patternbot run` end to end: real logs, engine, index and git."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.main import main
from tests.support.kb import git
from tests.support.logs import web_workflows as write_logs
from tests.support.platform import REPOSITORY, GitHubWorld, branches

# <prefix>/<type>/<target>-<fingerprint>: the fingerprint of "add PodDisruptionBudget".
BRANCH = "patternbot/update-pattern/stateless-web-app-1646843c20107f17"


def propose_json(
    root: Path, logs: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> dict[str, object]:
    code = main(["propose", "--repo", str(root), "--logs", str(logs), "--json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data: dict[str, object] = json.loads(captured.out)
    return data


def by_branch(data: dict[str, object]) -> dict[str, dict[str, object]]:
    proposals = data["proposals"]
    assert isinstance(proposals, list)
    return {str(p["branch"]): p for p in proposals}


def test_propose_opens_a_local_branch_and_a_rerun_changes_nothing(
    platform_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = write_logs(tmp_path / "logs" / "run.jsonl")
    data = propose_json(platform_kb, logs, capsys)
    assert (data["platform"], data["base"], data["dryRun"]) == ("local", "main", False)
    proposal = by_branch(data)[BRANCH]
    assert (proposal["status"], proposal["title"], proposal["type"]) == (
        "created",
        "patternbot: add PodDisruptionBudget to stateless-web-app",
        "update_pattern",
    )
    assert '"hits": 36, "cases": 40' in str(proposal["body"])
    assert BRANCH in branches(platform_kb)
    refs = git(platform_kb, "for-each-ref")
    again = propose_json(platform_kb, logs, capsys)
    assert {str(p["status"]) for p in by_branch(again).values()} <= {
        "unchanged",
        "rate_limited",
        "held_back",
    }
    assert by_branch(again)[BRANCH]["status"] == "unchanged"
    assert git(platform_kb, "for-each-ref") == refs


def test_propose_dry_run_prints_previews_and_changes_nothing(
    platform_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = write_logs(tmp_path / "logs" / "run.jsonl")
    refs = git(platform_kb, "for-each-ref")
    code = main(["propose", "--repo", str(platform_kb), "--logs", str(logs), "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "dry run: nothing was changed" in out
    lines = out.splitlines()
    title = lines.index(
        f"  {'':<20} patternbot: add PodDisruptionBudget to stateless-web-app (confidence 0.80)"
    )
    assert lines[title + 1] == (
        f"  {'':<20} why: Solutions using stateless-web-app added PodDisruptionBudget in "
        "90% of cases (36 of 40)"
    )
    assert "+  - PodDisruptionBudget" in out
    assert git(platform_kb, "for-each-ref") == refs


def test_run_does_everything_and_writes_the_step_summary(
    platform_kb: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (platform_kb / "examples" / "logs").mkdir(parents=True)
    write_logs(platform_kb / "examples" / "logs" / "sample.jsonl")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code = main(["run", "--repo", str(platform_kb)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err.splitlines()[:2] == [
        "patternbot: validate: checking patterns and policies",
        "patternbot: validate: 2 patterns, 1 policies",
    ]
    assert "patternbot: metrics: 40 workflows, 120 events" in captured.err
    assert BRANCH in captured.out
    assert captured.out.splitlines()[-1] == (
        "review: git diff main...<branch>; accept: git merge <branch>; "
        "reject: git branch -D <branch> (docs/pull-requests.md)"
    )
    text = summary.read_text(encoding="utf-8")
    assert text.startswith(
        "## patternbot run\n\n- Index: 3 added, 0 updated, 0 removed, 0 unchanged\n"
    )
    assert (
        f"| created | `{BRANCH}` | patternbot\\: add PodDisruptionBudget to "
        "stateless\\-web\\-app |" in text
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_step_summary_target_is_a_warning_not_a_crash(
    platform_kb: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Bug (issue 10 item 17): exit 3 after the pull requests were made.
    logs = write_logs(tmp_path / "logs" / "run.jsonl")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "/dev/full")
    code = main(["run", "--repo", str(platform_kb), "--logs", str(logs), "--dry-run"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err.splitlines()[-1] == (
        "patternbot: warning: could not write the step summary to /dev/full: "
        "No space left on device"
    )


def test_github_without_a_token_names_the_missing_variables(
    platform_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = write_logs(tmp_path / "logs" / "run.jsonl", workflows=1)
    code = main(
        ["propose", "--repo", str(platform_kb), "--logs", str(logs), "--platform", "github"]
    )
    assert code == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "patternbot: --platform github needs GITHUB_TOKEN and GITHUB_REPOSITORY in the environment"
    )


def test_propose_outside_a_git_repository_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "plain"
    (root / "patterns").mkdir(parents=True)
    logs = write_logs(tmp_path / "logs" / "run.jsonl", workflows=1)
    code = main(["propose", "--repo", str(root), "--logs", str(logs)])
    assert code == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"patternbot: {root}: not a git repository; proposals need one (run `git init`)"
    )


def test_propose_on_github_from_the_environment(
    github_world: GitHubWorld,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
    monkeypatch.setenv("GITHUB_API_URL", github_world.api_url)
    logs = write_logs(tmp_path / "logs" / "run.jsonl")
    data = propose_json(github_world.clone, logs, capsys)
    assert (data["platform"], data["base"]) == ("github", "main")
    assert by_branch(data)[BRANCH]["url"] == "https://github.example/acme/platform-kb/pull/1"
    assert [p["head"] for p in github_world.standin.open_pulls()] == [BRANCH]
    assert {r.authorization for r in github_world.standin.requests} == {"token test-token"}


def test_run_dry_run_leaves_the_index_and_the_repository_alone(
    platform_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = write_logs(tmp_path / "logs" / "run.jsonl")
    refs = git(platform_kb, "for-each-ref")
    code = main(["run", "--repo", str(platform_kb), "--logs", str(logs), "--dry-run"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "patternbot: sync: not synced (dry run)" in captured.err.splitlines()
    assert "dry run: nothing was changed" in captured.out
    assert not (platform_kb / ".patternbot" / "qdrant").exists()
    assert git(platform_kb, "for-each-ref") == refs
    assert git(platform_kb, "status", "--porcelain") == ""


def test_the_step_summary_says_what_a_reviewer_can_act_on() -> None:
    from bot.commands.run import step_summary
    from bot.learning.engine import HeldBack
    from bot.learning.suggestion import SignalName
    from bot.platform.base import ProposalStatus
    from bot.platform.results import ProposalResult, ProposeOutcome

    outcome = ProposeOutcome("github", "main", False, dashboard="updated")
    outcome.dashboard_url = "https://github.example/acme/kb/issues/3"
    outcome.results = [
        ProposalResult(
            "patternbot/create-pattern/0123456789abcdef",
            "patternbot: add pattern [click](https://evil.example)",
            ProposalStatus.CLOSED_OBSOLETE,
            "create_pattern",
            "x",
            0.71,
            "0123456789abcdef",
            reason="the logs no longer support it",
            url="https://github.example/acme/kb/pull/2",
        )
    ]
    figures = {
        "acceptanceOverall": {
            "accepted": 2, "modified": 1, "rejected": 1, "rate": 0.75, "target": 0.6
        },
        "acknowledgedRejections": ["https://github.example/acme/kb/pull/1"],
        "thresholds": {"create_pattern": 0.7, "update_pattern": 0.8},
        "acceptance": {"update_pattern": {"accepted": 0, "modified": 0, "rejected": 3}},
        "achieved": [
            {
                "url": "https://github.example/acme/kb/pull/4",
                "type": "create_pattern",
                "target": "grpc-service",
                "outcome": "accepted",
                "uses": 4,
                "successRate": 0.75,
                "usesBefore": None,
                "successRateBefore": None,
                "reachedThreeUses": True,
            },
            {
                "url": "https://github.example/acme/kb/pull/5",
                "type": "update_pattern",
                "target": "web",
                "outcome": "modified",
                "uses": 10,
                "successRate": 0.9,
                "usesBefore": 20,
                "successRateBefore": 0.5,
                "reachedThreeUses": None,
            },
        ],
    }  # fmt: skip
    held = [
        HeldBack(
            signal=SignalName.GAP,
            item="a`b",
            confidence=0.5,
            hits=3,
            cases=9,
            reason="support 3 < 5",
        )
    ]
    assert step_summary(outcome, 40, "3 unchanged", figures, held, 0.7) == (
        "## patternbot run\n\n"
        "- Index: 3 unchanged\n"
        "- Workflows analysed: 40\n"
        "- Platform: github, base `main`\n"
        "- Dashboard: https://github.example/acme/kb/issues/3 (updated)\n"
        "- Acceptance: 3 of 4 decided (75%; target 60%)\n"
        "- Rejection read this run: https://github.example/acme/kb/pull/1\n"
        "- Threshold `update_pattern`: 0.80 instead of 0.70 (0 accepted, 0 modified, "
        "3 rejected)\n"
        "\n| Status | Branch | Title | Details |\n| --- | --- | --- | --- |\n"
        "| closed_obsolete | `patternbot/create-pattern/0123456789abcdef` | patternbot\\: add "
        "pattern \\[click\\]\\(https\\://evil\\.example\\) | the logs no longer support it "
        "https://github.example/acme/kb/pull/2 |\n"
        "\n### What accepted suggestions achieved\n\n"
        "| Pull request | Change | Uses since the merge | Success since | Before the merge "
        "| 3+ uses |\n"
        "| --- | --- | --- | --- | --- | --- |\n"
        "| https://github.example/acme/kb/pull/4 | `create_pattern` `grpc-service` (accepted) "
        "| 4 | 75% | n/a | yes |\n"
        "| https://github.example/acme/kb/pull/5 | `update_pattern` `web` (modified) "
        "| 10 | 90% | 20 uses, 50% | n/a |\n"
        "\n### Held back by the engine\n\n"
        "- `gap` ``a`b``: support 3 &lt; 5\n"
    )
