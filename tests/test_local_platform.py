"""The local platform: one minimal valid branch per suggestion; re-runs change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.errors import PlatformError
from bot.learning.suggestion import Suggestion
from bot.platform.gitrepo import BOT_EMAIL, GitRepo
from bot.platform.local import LocalPlatform
from bot.platform.proposer import propose, read_feedback
from bot.platform.results import ProposeOutcome
from tests.support.kb import git
from tests.support.platform import (
    branches,
    commit_as_human,
    create_pattern_suggestion,
    create_policy_suggestion,
    deprecate_suggestion,
    update_suggestion,
)

UPDATE_BRANCH = "patternbot/update-pattern/stateless-web-app-fp-update-web"
DEPRECATE_BRANCH = "patternbot/deprecate-pattern/legacy-batch-fp-deprecate-leg"


def run(
    root: Path, suggestions: list[Suggestion], dry_run: bool = False, **proposals: object
) -> ProposeOutcome:
    config: Config = load_config(root)
    for key, value in proposals.items():
        setattr(config.proposals, key, value)
    repo = GitRepo(root)
    platform = LocalPlatform(repo, config.state_dir, config.proposals.branch_prefix)
    return propose(
        config, platform, repo, suggestions, read_feedback(config, platform), dry_run=dry_run
    )


def statuses(outcome: ProposeOutcome) -> list[tuple[str, str]]:
    return [(result.branch, result.status) for result in outcome.results]


def record(root: Path, branch: str) -> dict[str, object]:
    path = root / ".patternbot" / "proposals" / (branch.replace("/", "__") + ".json")
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_one_branch_per_suggestion_and_the_checkout_untouched(platform_kb: Path) -> None:
    head = git(platform_kb, "rev-parse", "HEAD")
    suggestions = [
        update_suggestion(),
        create_pattern_suggestion(),
        create_policy_suggestion(),
        deprecate_suggestion(),
    ]
    outcome = run(platform_kb, suggestions, max_new_per_run=5)
    assert statuses(outcome) == [
        (UPDATE_BRANCH, "created"),
        ("patternbot/create-pattern/fp-create-grpc-b", "created"),
        ("patternbot/create-policy/fp-policy-requir", "created"),
        ("patternbot/deprecate-pattern/legacy-batch-fp-deprecate-leg", "created"),
    ]
    assert git(platform_kb, "rev-parse", "HEAD") == head
    assert git(platform_kb, "status", "--porcelain") == ""
    assert branches(platform_kb) == [
        "main",
        "patternbot/create-pattern/fp-create-grpc-b",
        "patternbot/create-policy/fp-policy-requir",
        "patternbot/deprecate-pattern/legacy-batch-fp-deprecate-leg",
        UPDATE_BRANCH,
    ]
    assert git(platform_kb, "diff", "--stat", "main", UPDATE_BRANCH) == (
        " patterns/stateless-web-app.yaml | 1 +\n 1 file changed, 1 insertion(+)\n"
    )
    message = git(
        platform_kb,
        "log",
        "-1",
        "--format=%s%n%ae%n%(trailers:key=Patternbot-Fingerprint)",
        UPDATE_BRANCH,
    )
    assert message == (
        f"patternbot: add PodDisruptionBudget to stateless-web-app\n{BOT_EMAIL}\n"
        "Patternbot-Fingerprint: fp-update-web\n\n"
    )
    saved = record(platform_kb, UPDATE_BRANCH)
    assert (saved["number"], saved["state"], saved["base"]) == (1, "open", "main")
    assert saved["head"] == git(platform_kb, "rev-parse", UPDATE_BRANCH).strip()


def test_the_proposed_branch_validates(platform_kb: Path) -> None:
    run(platform_kb, [create_pattern_suggestion()])
    git(platform_kb, "checkout", "-q", "patternbot/create-pattern/fp-create-grpc-b")
    from bot.knowledge.repository import load_knowledge_base

    kb = load_knowledge_base(platform_kb)
    assert kb.problems == []
    assert sorted(kb.patterns) == ["grpc-backend", "legacy-batch", "stateless-web-app"]


def test_a_rerun_with_the_same_evidence_changes_nothing(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion()])
    before = (git(platform_kb, "for-each-ref"), record(platform_kb, UPDATE_BRANCH))
    outcome = run(platform_kb, [update_suggestion()])
    assert statuses(outcome) == [(UPDATE_BRANCH, "unchanged")]
    assert (git(platform_kb, "for-each-ref"), record(platform_kb, UPDATE_BRANCH)) == before


def test_changed_evidence_updates_the_body_in_place(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion()])
    tip = git(platform_kb, "rev-parse", UPDATE_BRANCH)
    outcome = run(platform_kb, [update_suggestion(hits=18, cases=20)])
    assert statuses(outcome) == [(UPDATE_BRANCH, "updated")]
    assert git(platform_kb, "rev-parse", UPDATE_BRANCH) == tip  # same file content: no new commit
    saved = record(platform_kb, UPDATE_BRANCH)
    assert '"hits": 18, "cases": 20' in str(saved["body"])
    assert saved["number"] == 1


def test_a_changed_draft_rebuilds_the_bot_only_branch_from_the_base(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion()])
    changed = update_suggestion()
    changed.changes = {"add": {"suggestedResources": ["PodDisruptionBudget", "NetworkPolicy"]}}
    outcome = run(platform_kb, [changed])
    assert statuses(outcome) == [(UPDATE_BRANCH, "updated")]
    # One commit on the base, whatever the history: the body's diff is the branch's diff.
    assert (
        git(platform_kb, "rev-parse", f"{UPDATE_BRANCH}^").strip()
        == git(platform_kb, "rev-parse", "main").strip()
    )
    assert git(platform_kb, "diff", "--stat", "main", UPDATE_BRANCH) == (
        " patterns/stateless-web-app.yaml | 2 ++\n 1 file changed, 2 insertions(+)\n"
    )


def test_a_branch_a_human_pushed_to_is_left_alone_and_said_once(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion()])
    human = commit_as_human(
        platform_kb, UPDATE_BRANCH, "patterns/stateless-web-app.yaml", "id: mine\n"
    )
    for _ in range(2):
        outcome = run(platform_kb, [update_suggestion(hits=18, cases=20)])
        assert statuses(outcome) == [(UPDATE_BRANCH, "blocked_human_edits")]
        assert git(platform_kb, "rev-parse", UPDATE_BRANCH).strip() == human
    saved = record(platform_kb, UPDATE_BRANCH)
    comments = saved["comments"]
    assert isinstance(comments, list) and len(comments) == 1
    assert comments[0].startswith(
        f"patternbot will no longer update this branch: commit {human[:12]} (human edit)"
    )
    # The visible body stays; the hidden record follows the evidence, so a close rejects it.
    assert "8 of 10 cases" in str(saved["body"])
    assert '"hits": 18, "cases": 20' in str(saved["body"])


def test_merged_is_accepted_and_deleted_is_rejected(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion(), deprecate_suggestion()])
    git(platform_kb, "merge", "-q", "--no-edit", UPDATE_BRANCH)
    git(platform_kb, "branch", "-q", "-D", DEPRECATE_BRANCH)
    config = load_config(platform_kb)
    platform = LocalPlatform(GitRepo(platform_kb), config.state_dir, "patternbot")
    feedback = read_feedback(config, platform)
    assert [(d.type, d.outcome) for d in feedback.decisions] == [
        ("update_pattern", "accepted"),
        ("deprecate_pattern", "rejected"),
    ]
    assert list(feedback.history.rejected()) == ["fp-deprecate-legacy-batch"]
    assert feedback.acceptance["update_pattern"].rate == 1.0
    # The merged change is in the knowledge base now: proposing it again has nothing to do.
    outcome = run(platform_kb, [update_suggestion()])
    assert [(r.status, r.reason) for r in outcome.results] == [
        ("skipped", "patterns/stateless-web-app.yaml on main already holds this change")
    ]


def test_noise_limits_hold_back_and_list(platform_kb: Path) -> None:
    suggestions = [update_suggestion(), create_pattern_suggestion(), create_policy_suggestion()]
    outcome = run(platform_kb, suggestions, max_new_per_run=1)
    assert [(r.status, r.reason) for r in outcome.results] == [
        ("created", None),
        ("rate_limited", "1 opened in this run (proposals.maxNewPerRun 1)"),
        ("rate_limited", "1 opened in this run (proposals.maxNewPerRun 1)"),
    ]
    outcome = run(platform_kb, suggestions, max_open_pull_requests=1)
    assert [(r.status, r.reason) for r in outcome.results] == [
        ("unchanged", None),
        ("rate_limited", "1 suggestion pull requests are open (proposals.maxOpenPullRequests 1)"),
        ("rate_limited", "1 suggestion pull requests are open (proposals.maxOpenPullRequests 1)"),
    ]
    assert branches(platform_kb) == ["main", UPDATE_BRANCH]


def test_below_the_threshold_is_held_back(platform_kb: Path) -> None:
    outcome = run(platform_kb, [update_suggestion(confidence=0.65)])
    assert [(r.status, r.reason) for r in outcome.results] == [
        ("held_back", "confidence 0.65 is below the update_pattern threshold 0.70")
    ]


def test_dry_run_previews_and_touches_nothing(platform_kb: Path) -> None:
    refs = git(platform_kb, "for-each-ref")
    outcome = run(platform_kb, [update_suggestion()], dry_run=True)
    assert statuses(outcome) == [(UPDATE_BRANCH, "would_create")]
    assert "+  - PodDisruptionBudget" in outcome.results[0].diff
    assert '"fingerprint": "fp-update-web"' in outcome.results[0].body
    assert git(platform_kb, "for-each-ref") == refs
    assert not (platform_kb / ".patternbot" / "proposals").exists()


def test_an_invalid_draft_is_never_committed(platform_kb: Path) -> None:
    bad = update_suggestion()
    bad.changes = {"add": {"suggestedResources": ["pdb"]}}
    outcome = run(platform_kb, [bad])
    assert [(r.status, r.reason) for r in outcome.results] == [
        (
            "invalid",
            "patterns/stateless-web-app.yaml:11: suggestedResources.3: "
            "'pdb' is a short name; write the kind 'PodDisruptionBudget'",
        )
    ]
    assert branches(platform_kb) == ["main"]


def test_proposals_need_the_base_branch_checked_out(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion()])
    git(platform_kb, "checkout", "-q", UPDATE_BRANCH)
    with pytest.raises(PlatformError) as caught:
        run(platform_kb, [update_suggestion()])
    assert str(caught.value) == (
        f"HEAD is on the proposal branch {UPDATE_BRANCH}; "
        "check out the base branch (for example main)"
    )


def test_a_missing_repository_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlatformError) as caught:
        GitRepo(tmp_path)
    assert (
        str(caught.value)
        == f"{tmp_path}: not a git repository; proposals need one (run `git init`)"
    )


def test_a_reproposal_after_rejection_keeps_the_old_record_and_links_it(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion()])
    git(platform_kb, "branch", "-q", "-D", UPDATE_BRANCH)
    outcome = run(platform_kb, [update_suggestion(hits=30, cases=32)])
    assert statuses(outcome) == [(UPDATE_BRANCH, "created")]
    folder = platform_kb / ".patternbot" / "proposals"
    assert sorted(path.name for path in folder.iterdir()) == [
        "patternbot__update-pattern__stateless-web-app-fp-update-web.1.json",
        "patternbot__update-pattern__stateless-web-app-fp-update-web.json",
    ]
    old_name = "patternbot__update-pattern__stateless-web-app-fp-update-web.1.json"
    old = json.loads((folder / old_name).read_text())
    assert (old["number"], old["state"]) == (1, "closed")
    new = record(platform_kb, UPDATE_BRANCH)
    assert (new["number"], new["state"]) == (2, "open")
    assert f"rejected before (local:{UPDATE_BRANCH}#1)" in str(new["body"])
    config = load_config(platform_kb)
    platform = LocalPlatform(GitRepo(platform_kb), config.state_dir, "patternbot")
    feedback = read_feedback(config, platform)
    assert [(d.outcome, d.cases) for d in feedback.decisions] == [("rejected", 10)]


def test_the_local_dashboard_is_a_file_rewritten_in_place(platform_kb: Path) -> None:
    suggestions = [update_suggestion(), create_pattern_suggestion()]
    outcome = run(platform_kb, suggestions, dashboard=True, max_new_per_run=1)
    assert outcome.dashboard == "created"
    text = (platform_kb / ".patternbot" / "proposals" / "dashboard.md").read_text(encoding="utf-8")
    assert text.startswith("# patternbot dashboard\n\nKept up to date by patternbot")
    assert (
        "## Open suggestion pull requests\n\n- [ ] **open** patternbot\\: add "
        "PodDisruptionBudget to stateless\\-web\\-app (confidence 0.82) local:"
        f"{UPDATE_BRANCH}#1 — tick to rebuild the branch from `main` "
        "<!-- patternbot-request: recreate fp-update-web -->\n"
    ) in text
    assert (
        "## Awaiting a free slot\n\n- [ ] patternbot\\: add pattern grpc\\-backend "
        "(confidence 0.78) — 1 opened in this run \\(proposals\\.maxNewPerRun 1\\) — tick to "
        "open it now <!-- patternbot-request: open-now fp-create-grpc-backend -->\n"
    ) in text
    assert "| `update_pattern` | 0 | 0 | 0 | n/a | 0.70 |" in text
    again = run(platform_kb, suggestions, dashboard=True, max_new_per_run=0)
    assert again.dashboard == "updated"  # the rate limit named in the list changed
    assert run(platform_kb, suggestions, dashboard=True, max_new_per_run=0).dashboard == "unchanged"
