"""Reconciling open pull requests one situation at a time (local platform, real git).

Each test names the situation of issue 9 or 10 it covers; the bug tests (human commits on a
branch without a pull request, a human amend of a bot commit) failed on the code before the
foreign-commit check was extracted.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest

from bot.atomicfile import write_atomically
from bot.config import Config, load_config
from bot.knowledge.repository import load_knowledge_base
from bot.learning.suggestion import Suggestion
from bot.platform.branches import branch_name
from bot.platform.gitrepo import BOT_EMAIL, BOT_NAME, GitRepo
from bot.platform.local import LocalPlatform
from bot.platform.proposer import comparison, propose, read_feedback
from bot.platform.requests import DashboardRequests, checkbox, requests_in
from bot.platform.results import ProposeOutcome
from bot.platform.state import load_proposal_state, open_for
from tests.support.kb import git
from tests.support.platform import (
    HUMAN,
    WEB_APP_YAML,
    branches,
    commit_as_human,
    create_pattern_suggestion,
    update_suggestion,
)

BRANCH = "patternbot/update-pattern/stateless-web-app-fp-update-web"
WEB_APP = "patterns/stateless-web-app.yaml"


def run(
    root: Path,
    suggestions: list[Suggestion],
    dry_run: bool = False,
    held_back: dict[str, str] | None = None,
    **proposals: object,
) -> ProposeOutcome:
    config: Config = load_config(root)
    for key, value in proposals.items():
        setattr(config.proposals, key, value)
    repo = GitRepo(root)
    platform = LocalPlatform(repo, config.state_dir, config.proposals.branch_prefix)
    feedback = read_feedback(config, platform)
    return propose(
        config, platform, repo, suggestions, feedback, dry_run=dry_run, held_back=held_back
    )


def results(outcome: ProposeOutcome) -> list[tuple[str, str, str | None]]:
    return [(r.branch, r.status.value, r.reason) for r in outcome.results]


def records(root: Path) -> list[dict[str, object]]:
    folder = root / ".patternbot" / "proposals"
    found = [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]
    return sorted(found, key=lambda record: int(record["number"]))


def commit_on_main(root: Path, path: str, text: str) -> None:
    (root / path).write_text(text, encoding="utf-8")
    git(root, "add", path)
    git(root, "commit", "-q", "-m", f"edit {path}")


def test_a_branch_with_human_commits_and_no_pull_request_is_never_overwritten(
    platform_kb: Path,
) -> None:
    # Bug (issue 10 item 18): creating ignored human commits and force-pushed over the branch.
    git(platform_kb, "branch", BRANCH)
    human = commit_as_human(platform_kb, BRANCH, WEB_APP, "id: mine\n")
    outcome = run(platform_kb, [update_suggestion()])
    assert results(outcome) == [
        (
            BRANCH,
            "blocked_human_edits",
            f"branch {BRANCH} has commits not made by patternbot ({human[:12]}); "
            "delete the branch to let patternbot propose again",
        )
    ]
    assert git(platform_kb, "rev-parse", BRANCH).strip() == human
    assert not (platform_kb / ".patternbot" / "proposals").exists()


def test_a_human_amend_of_a_bot_commit_counts_as_a_human_commit(platform_kb: Path) -> None:
    # Bug (issue 10 item 18): by_bot ignored the committer, so an amended bot commit (author and
    # trailer kept, committer changed) was overwritten.
    run(platform_kb, [update_suggestion()])
    env = {
        **os.environ,
        "GIT_COMMITTER_NAME": HUMAN[0],
        "GIT_COMMITTER_EMAIL": HUMAN[1],
    }
    tip = git(platform_kb, "rev-parse", BRANCH).strip()
    message = git(platform_kb, "log", "-1", "--format=%B", tip)
    tree = git(platform_kb, "rev-parse", f"{tip}^{{tree}}").strip()
    parent = git(platform_kb, "rev-parse", f"{tip}^").strip()
    amended = subprocess.run(
        ["git", "commit-tree", tree, "-p", parent, "-m", message.strip() + " (amended)"],
        cwd=platform_kb,
        env={**env, "GIT_AUTHOR_NAME": BOT_NAME, "GIT_AUTHOR_EMAIL": BOT_EMAIL},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(platform_kb, "update-ref", f"refs/heads/{BRANCH}", amended)
    commits = GitRepo(platform_kb).commits_between("main", amended)
    assert [(c.author_email, c.committer_email, c.has_trailer, c.by_bot) for c in commits] == [
        (BOT_EMAIL, HUMAN[1], True, False)
    ]
    outcome = run(platform_kb, [update_suggestion(hits=18, cases=20)])
    assert results(outcome)[0][1] == "blocked_human_edits"
    assert git(platform_kb, "rev-parse", BRANCH).strip() == amended


def test_an_obsolete_pull_request_is_closed_once_with_why_and_its_branch_deleted(
    platform_kb: Path,
) -> None:
    run(platform_kb, [update_suggestion(), create_pattern_suggestion()], max_new_per_run=1)
    held = {"fp-update-web": "confidence 0.64 (6 of 10) is below the threshold 0.70"}
    outcome = run(platform_kb, [], held_back=held)
    assert results(outcome) == [
        (
            BRANCH,
            "closed_obsolete",
            "the learning engine held it back: confidence 0.64 (6 of 10) is below the "
            "threshold 0.70",
        )
    ]
    assert branches(platform_kb) == ["main"]
    (record,) = records(platform_kb)
    assert record["state"] == "closed"
    assert record["comments"] == [
        "patternbot closes this pull request: the learning engine held it back\\: confidence "
        "0\\.64 \\(6 of 10\\) is below the threshold 0\\.70. patternbot proposes it again in a "
        "new pull request when the logs support it again (at least 5 supporting cases and "
        "confidence at or above its type's threshold)."
    ]
    # Closed by the bot is not a rejection, and it no longer counts toward the limits.
    config = load_config(platform_kb)
    feedback = read_feedback(
        config, LocalPlatform(GitRepo(platform_kb), config.state_dir, "patternbot")
    )
    assert feedback.decisions == []
    again = run(platform_kb, [create_pattern_suggestion()], max_open_pull_requests=1)
    assert [r.status.value for r in again.results] == ["created"]
    assert run(platform_kb, [create_pattern_suggestion()]).results[0].status.value == "unchanged"


def test_an_obsolete_pull_request_with_human_commits_stays_open_and_is_commented_once(
    platform_kb: Path,
) -> None:
    run(platform_kb, [update_suggestion()])
    commit_as_human(platform_kb, BRANCH, WEB_APP, WEB_APP_YAML + "# reviewed\n")
    for _ in range(2):
        outcome = run(platform_kb, [])
        assert [(r.branch, r.status.value) for r in outcome.results] == [
            (BRANCH, "blocked_human_edits")
        ]
    (record,) = records(platform_kb)
    assert record["state"] == "open"
    assert record["comments"] == [
        "patternbot no longer proposes this: the logs no longer support it\\: no signal reaches "
        "learning\\.minSupport 5 with confidence 0\\.70 for it. Someone else pushed to this "
        "branch, so patternbot leaves the pull request open: merge or close it as you see fit."
    ]


def test_a_different_change_to_the_same_item_supersedes_the_open_one(platform_kb: Path) -> None:
    first = run(platform_kb, [update_suggestion()])
    wider = update_suggestion()
    wider.changes = {"add": {"suggestedResources": ["PodDisruptionBudget", "NetworkPolicy"]}}
    wider.evidence.fingerprint = "fp-update-web-2"
    outcome = run(platform_kb, [wider])
    new_branch = "patternbot/update-pattern/stateless-web-app-fp-update-web-2"
    assert results(outcome) == [
        (new_branch, "created", None),
        (
            BRANCH,
            "closed_obsolete",
            f"superseded by a different change to stateless-web-app ({new_branch})",
        ),
    ]
    assert first.results[0].url == f"local:{BRANCH}#1"
    assert branches(platform_kb) == ["main", new_branch]


def test_the_same_change_made_by_hand_on_main_closes_the_pull_request(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion()])
    commit_on_main(
        platform_kb,
        WEB_APP,
        WEB_APP_YAML.replace("  - Ingress\n", "  - Ingress\n  - PodDisruptionBudget\n"),
    )
    outcome = run(platform_kb, [update_suggestion()])
    assert results(outcome) == [
        (BRANCH, "closed_obsolete", f"{WEB_APP} on main already holds this change")
    ]
    assert branches(platform_kb) == ["main"]


def test_a_raised_threshold_names_the_numbers_and_closes_with_a_link(platform_kb: Path) -> None:
    assert comparison(0.8496, 0.85) == ("0.8496", "0.8500")
    assert comparison(0.84, 0.85) == ("0.84", "0.85")
    run(platform_kb, [update_suggestion(confidence=0.8496)])
    config_path = platform_kb / "patternbot.yaml"
    config_path.write_text("learning:\n  minConfidence: 0.85\n", encoding="utf-8")
    outcome = run(platform_kb, [update_suggestion(confidence=0.8496)])
    assert [(r.status.value, r.reason, r.url) for r in outcome.results] == [
        (
            "closed_obsolete",
            "confidence 0.8496 is below the update_pattern threshold 0.8500",
            f"local:{BRANCH}#1",
        )
    ]


def test_main_moving_under_a_bot_only_branch_rebuilds_it_from_main(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion()])
    commit_on_main(platform_kb, WEB_APP, WEB_APP_YAML.replace("platform team", "web team"))
    outcome = run(platform_kb, [update_suggestion()])
    assert [r.status.value for r in outcome.results] == ["recreated"]
    main = git(platform_kb, "rev-parse", "main").strip()
    assert git(platform_kb, "rev-parse", f"{BRANCH}^").strip() == main
    # The branch merges cleanly and its diff is the body's diff.
    diff = git(platform_kb, "diff", f"main...{BRANCH}")
    assert diff.count("\n+  - PodDisruptionBudget") == 1
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    body = outcome.results[0].diff.splitlines()
    assert changed == [line for line in body if line[:1] in "+-" and line[:3] not in "+++---"]
    assert run(platform_kb, [update_suggestion()]).results[0].status.value == "unchanged"


def test_main_moving_under_a_human_branch_reports_the_conflict_once(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion()])
    human = commit_as_human(platform_kb, BRANCH, WEB_APP, WEB_APP_YAML + "# mine\n")
    commit_on_main(platform_kb, WEB_APP, WEB_APP_YAML.replace("platform team", "web team"))
    for _ in range(2):
        outcome = run(platform_kb, [update_suggestion()])
        assert [r.status.value for r in outcome.results] == ["conflict"]
    assert git(platform_kb, "rev-parse", BRANCH).strip() == human
    (record,) = records(platform_kb)
    comments = record["comments"]
    assert isinstance(comments, list) and len(comments) == 2
    assert comments[1] == (
        "`main` changed `patterns/stateless-web-app.yaml` since this branch was made, and the "
        "branch has commits patternbot did not make, so patternbot does not rebuild it. Merge "
        "the base branch into it or resolve the conflict on GitHub."
    )


def test_a_dry_run_previews_every_status_with_full_bodies(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion(), create_pattern_suggestion()], max_new_per_run=1)
    refs = git(platform_kb, "for-each-ref")
    saved = records(platform_kb)
    outcome = run(
        platform_kb,
        [update_suggestion(hits=18, cases=20), create_pattern_suggestion()],
        dry_run=True,
        max_new_per_run=1,
        dashboard=True,
    )
    assert [r.status.value for r in outcome.results] == ["would_update", "would_create"]
    assert all('"fingerprint"' in r.body for r in outcome.results)
    assert outcome.dashboard is None
    assert outcome.dashboard_body is not None
    assert "## Open suggestion pull requests\n\n- [ ] **open** patternbot\\: add " in (
        outcome.dashboard_body
    )
    assert not (platform_kb / ".patternbot" / "proposals" / "dashboard.md").exists()
    closing = run(platform_kb, [], dry_run=True)
    assert [r.status.value for r in closing.results] == ["would_close"]
    limited = run(
        platform_kb,
        [update_suggestion(), create_pattern_suggestion()],
        dry_run=True,
        max_new_per_run=0,
    )
    assert [r.status.value for r in limited.results] == ["unchanged", "rate_limited"]
    assert '"fingerprint": "fp-create-grpc-backend"' in limited.results[1].body
    assert git(platform_kb, "for-each-ref") == refs
    assert records(platform_kb) == saved


def test_a_failed_state_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    write_atomically(path, '{"number": 1}\n')
    with pytest.raises(OSError), _limited():
        write_atomically(path, "x" * 1000)
    assert path.read_text() == '{"number": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]


class _limited:
    """Files may grow to `size` bytes: a real write failure (EFBIG), as on a full disk."""

    def __init__(self, size: int = 64) -> None:
        self.size = size

    def __enter__(self) -> None:
        self.old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
        self.old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.size, self.old_limit[1]))

    def __exit__(self, *exc: object) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, self.old_limit)
        signal.signal(signal.SIGXFSZ, self.old_handler)


def test_a_full_disk_never_leaves_an_empty_proposal_record(platform_kb: Path) -> None:
    # Bug (issue 10 item 17): a record was left at 0 bytes and every later run failed.
    run(platform_kb, [update_suggestion()])
    before = records(platform_kb)
    # The scratch copy validate checks (under 1 kB) fits; the record (over 3 kB) does not.
    with _limited(2048):
        outcome = run(platform_kb, [update_suggestion(hits=18, cases=20)])
    assert [r.status.value for r in outcome.results] == ["failed"]
    assert outcome.results[0].reason is not None
    assert outcome.results[0].reason.endswith("File too large)")
    assert records(platform_kb) == before
    assert [r.status.value for r in run(platform_kb, [update_suggestion()]).results] == [
        "unchanged"
    ]


def test_an_update_edits_the_file_the_item_was_loaded_from(platform_kb: Path) -> None:
    # Issue 10 item 13: a `.yml` pattern could not be updated (the proposer recomputed .yaml).
    git(platform_kb, "mv", WEB_APP, "patterns/stateless-web-app.yml")
    git(platform_kb, "commit", "-q", "-m", "rename")
    kb = load_knowledge_base(platform_kb)
    config = load_config(platform_kb)
    repo = GitRepo(platform_kb)
    platform = LocalPlatform(repo, config.state_dir, "patternbot")
    outcome = propose(
        config,
        platform,
        repo,
        [update_suggestion()],
        read_feedback(config, platform),
        item_files=kb.files,
    )
    assert [r.status.value for r in outcome.results] == ["created"]
    assert git(platform_kb, "diff", "--name-status", "main", BRANCH) == (
        "M\tpatterns/stateless-web-app.yml\n"
    )


def test_the_proposal_state_reads_back_for_other_features(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion(), create_pattern_suggestion()])
    git(platform_kb, "branch", "-q", "-D", "patternbot/create-pattern/fp-create-grpc-b")
    config = load_config(platform_kb)
    platform = LocalPlatform(GitRepo(platform_kb), config.state_dir, "patternbot")
    records = load_proposal_state(config, platform)
    assert [(r.number, r.status, r.type, r.target, r.confidence, r.url) for r in records] == [
        (1, "open", "update_pattern", "stateless-web-app", 0.82, f"local:{BRANCH}#1"),
        (
            2,
            "rejected",
            "create_pattern",
            "grpc-backend",
            0.78,
            "local:patternbot/create-pattern/fp-create-grpc-b#2",
        ),
    ]
    assert [r.fingerprint for r in open_for(records, "stateless-web-app")] == ["fp-update-web"]


def test_a_second_open_pull_request_for_one_identity_is_closed(platform_kb: Path) -> None:
    # Before identities were fingerprints, a reworded draft opened a second branch and PR.
    run(platform_kb, [update_suggestion()])
    old_branch = "patternbot/update-pattern/stateless-web-app"
    git(platform_kb, "branch", old_branch, BRANCH)
    (first,) = records(platform_kb)
    second = {**first, "number": 2, "branch": old_branch, "comments": []}
    folder = platform_kb / ".patternbot" / "proposals"
    (folder / "patternbot__update-pattern__stateless-web-app.json").write_text(json.dumps(second))
    outcome = run(platform_kb, [update_suggestion()])
    assert results(outcome) == [
        (BRANCH, "unchanged", None),
        (old_branch, "closed_obsolete", f"the same change is proposed in local:{BRANCH}#1"),
    ]
    assert branches(platform_kb) == ["main", BRANCH]


def test_a_created_file_made_by_hand_on_main_closes_the_pull_request(platform_kb: Path) -> None:
    run(platform_kb, [create_pattern_suggestion()])
    commit_on_main(platform_kb, "patterns/grpc-backend.yaml", "id: grpc-backend\n")
    outcome = run(platform_kb, [create_pattern_suggestion()])
    assert results(outcome) == [
        (
            "patternbot/create-pattern/fp-create-grpc-b",
            "closed_obsolete",
            "patterns/grpc-backend.yaml already exists on main",
        )
    ]


def test_an_invalid_draft_leaves_its_open_pull_request_alone(platform_kb: Path) -> None:
    run(platform_kb, [update_suggestion()])
    tip = git(platform_kb, "rev-parse", BRANCH)
    bad = update_suggestion(hits=18, cases=20)
    bad.changes = {"add": {"suggestedResources": ["pdb"]}}
    outcome = run(platform_kb, [bad])
    assert [(r.status.value, r.url) for r in outcome.results] == [("invalid", f"local:{BRANCH}#1")]
    assert git(platform_kb, "rev-parse", BRANCH) == tip
    assert [record["state"] for record in records(platform_kb)] == ["open"]


@pytest.mark.parametrize(
    "target", ["web..app", "node.lock", "batch.", "a" * 230, "ghp_" + "x" * 36 + "/../x", "-x-"]
)
def test_branch_names_are_valid_refs_of_bounded_length(target: str) -> None:
    # Issue 10 item 15: ids that validate but cannot be a branch broke every later propose.
    suggestion = update_suggestion()
    suggestion.target = target
    suggestion.evidence.fingerprint = "0123456789abcdef"
    name = branch_name("patternbot", suggestion)
    assert len(name) <= len("patternbot/update-pattern/") + 40 + 1 + 16
    assert name.endswith("0123456789abcdef")
    done = subprocess.run(["git", "check-ref-format", f"refs/heads/{name}"], check=False)
    assert done.returncode == 0, name


def test_a_created_item_s_branch_never_carries_its_drafted_id() -> None:
    suggestion = create_pattern_suggestion("docs-https-evil")
    suggestion.evidence.fingerprint = "0123456789abcdef"
    assert branch_name("patternbot", suggestion) == "patternbot/create-pattern/0123456789abcdef"


def test_only_ticked_known_boxes_are_requests() -> None:
    body = "\n".join(
        [
            checkbox("open-now", "fp1", "a").replace("[ ]", "[x]"),
            checkbox("recreate", "fp2", "b"),
            checkbox("repropose", "fp3", "c").replace("[ ]", "[X]"),
            "- [x] hand-written <!-- patternbot-request: delete-everything fp4 -->",
            "- [x] no marker",
        ]
    )
    assert requests_in(body) == DashboardRequests(
        open_now=frozenset({"fp1"}), recreate=frozenset(), repropose=frozenset({"fp3"})
    )
    assert requests_in(None) == DashboardRequests()
