"""The GitHub platform against a local REST stand-in over real HTTP, through PyGithub unchanged."""

from __future__ import annotations

import pytest

from bot.config import load_config
from bot.errors import PlatformError
from bot.learning.suggestion import Suggestion
from bot.platform.github import GitHubPlatform, github_client, settings_from_environment
from bot.platform.gitrepo import GitRepo
from bot.platform.proposer import Feedback, propose, read_feedback
from bot.platform.results import ProposeOutcome
from tests.support.kb import git
from tests.support.platform import (
    REPOSITORY,
    Fault,
    GitHubWorld,
    assert_responses_match_openapi,
    commit_as_human,
    create_pattern_suggestion,
    create_policy_suggestion,
    update_suggestion,
)

BRANCH = "patternbot/update-pattern/stateless-web-app-fp-update-web"


def platform_of(world: GitHubWorld) -> GitHubPlatform:
    client = github_client("test-token", world.api_url, max_wait=1.0, throttle=False, backoff=0)
    return GitHubPlatform(GitRepo(world.clone), client, REPOSITORY, "patternbot")


def run(world: GitHubWorld, suggestions: list[Suggestion], **proposals: object) -> ProposeOutcome:
    config = load_config(world.clone)
    for key, value in proposals.items():
        setattr(config.proposals, key, value)
    platform = platform_of(world)
    feedback = read_feedback(config, platform)
    return propose(config, platform, GitRepo(world.clone), suggestions, feedback)


def feedback_of(world: GitHubWorld) -> Feedback:
    return read_feedback(load_config(world.clone), platform_of(world))


def statuses(outcome: ProposeOutcome) -> list[tuple[str, str]]:
    return [(result.branch, result.status) for result in outcome.results]


def writes(world: GitHubWorld) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in world.standin.requests if r.method != "GET"]


def test_open_a_pull_request(github_world: GitHubWorld) -> None:
    outcome = run(github_world, [update_suggestion()])
    assert statuses(outcome) == [(BRANCH, "created")]
    pulls = github_world.standin.open_pulls()
    assert [(p["number"], p["head"], p["base"], p["labels"]) for p in pulls] == [
        (1, BRANCH, "main", ["patternbot"])
    ]
    assert pulls[0]["title"] == "patternbot: add PodDisruptionBudget to stateless-web-app"
    assert outcome.results[0].url == "https://github.example/acme/platform-kb/pull/1"
    assert git(github_world.bare, "diff", "--stat", "main", BRANCH) == (
        " patterns/stateless-web-app.yaml | 1 +\n 1 file changed, 1 insertion(+)\n"
    )
    assert git(github_world.clone, "status", "--porcelain") == ""
    assert_responses_match_openapi(github_world)


def test_a_rerun_writes_nothing(github_world: GitHubWorld) -> None:
    run(github_world, [update_suggestion()])
    github_world.standin.requests.clear()
    outcome = run(github_world, [update_suggestion()])
    assert statuses(outcome) == [(BRANCH, "unchanged")]
    assert writes(github_world) == []


def test_changed_evidence_edits_the_body_in_place(github_world: GitHubWorld) -> None:
    run(github_world, [update_suggestion()])
    github_world.standin.requests.clear()
    outcome = run(github_world, [update_suggestion(hits=18, cases=20)])
    assert statuses(outcome) == [(BRANCH, "updated")]
    assert writes(github_world) == [("PATCH", f"/api/v3/repos/{REPOSITORY}/pulls/1", 200)]
    assert '"hits": 18, "cases": 20' in github_world.standin.pulls[1]["body"]
    assert len(github_world.standin.pulls) == 1
    assert_responses_match_openapi(github_world)


def test_a_human_push_is_left_alone_and_said_once(github_world: GitHubWorld) -> None:
    run(github_world, [update_suggestion()])
    human = commit_as_human(github_world.bare, BRANCH, "patterns/stateless-web-app.yaml", "id: x\n")
    for _ in range(2):
        outcome = run(github_world, [update_suggestion(hits=18, cases=20)])
        assert statuses(outcome) == [(BRANCH, "blocked_human_edits")]
    comments = github_world.standin.comments[1]
    assert len(comments) == 1
    assert comments[0].startswith(
        f"patternbot will no longer update this branch: commit {human[:12]}"
    )
    assert git(github_world.bare, "rev-parse", BRANCH).strip() == human
    # The visible body stays as it was; the hidden record follows the evidence.
    assert "8 of 10 cases" in github_world.standin.pulls[1]["body"]
    assert '"hits": 18, "cases": 20' in github_world.standin.pulls[1]["body"]
    assert '"humanEdits": true' in github_world.standin.pulls[1]["body"]


def test_closed_is_rejected_and_remembered(github_world: GitHubWorld) -> None:
    run(github_world, [update_suggestion()])
    github_world.standin.close(1)
    feedback = feedback_of(github_world)
    assert [(d.fingerprint, d.outcome) for d in feedback.decisions] == [
        ("fp-update-web", "rejected")
    ]
    rejected = feedback.history.rejected()["fp-update-web"]
    assert (rejected.hits, rejected.cases, rejected.url) == (
        8,
        10,
        "https://github.example/acme/platform-kb/pull/1",
    )
    assert feedback.acceptance["update_pattern"].to_data() == {
        "accepted": 0,
        "modified": 0,
        "rejected": 1,
        "rate": 0.0,
    }
    # When the engine lets it through again (evidence grew), the new pull request links the old one.
    outcome = run(github_world, [update_suggestion(hits=30, cases=32)])
    assert statuses(outcome) == [(BRANCH, "created")]
    assert outcome.results[0].number == 2
    assert (
        "rejected before (https://github.example/acme/platform-kb/pull/1)"
        in github_world.standin.pulls[2]["body"]
    )


def test_merged_is_accepted_and_merged_after_human_commits_is_modified(
    github_world: GitHubWorld,
) -> None:
    run(github_world, [update_suggestion(), create_pattern_suggestion()])
    github_world.standin.merge(1)
    commit_as_human(
        github_world.bare,
        "patternbot/create-pattern/fp-create-grpc-b",
        "patterns/grpc-backend.yaml",
        "id: grpc-backend\n",
    )
    github_world.standin.merge(2)
    github_world.sync_clone()
    feedback = feedback_of(github_world)
    assert [(d.type, d.outcome) for d in feedback.decisions] == [
        ("update_pattern", "accepted"),
        ("create_pattern", "modified"),
    ]
    assert feedback.acceptance["update_pattern"].rate == 1.0
    assert (
        "PodDisruptionBudget"
        in (github_world.clone / "patterns" / "stateless-web-app.yaml").read_text()
    )


def test_the_dashboard_is_edited_in_place(github_world: GitHubWorld) -> None:
    outcome = run(github_world, [update_suggestion()], dashboard=True)
    assert outcome.dashboard == "created"
    assert list(github_world.standin.issues) == [2]
    issue = github_world.standin.issues[2]
    assert issue["labels"] == ["patternbot-dashboard"]
    assert (
        "- [ ] **open** patternbot\\: add PodDisruptionBudget to stateless\\-web\\-app "
        "(confidence 0.82) https://github.example/acme/platform-kb/pull/1"
    ) in issue["body"]
    assert run(github_world, [update_suggestion()], dashboard=True).dashboard == "unchanged"
    outcome = run(
        github_world,
        [update_suggestion(), create_pattern_suggestion()],
        dashboard=True,
        max_new_per_run=0,
    )
    assert outcome.dashboard == "updated"
    assert list(github_world.standin.issues) == [2]
    assert (
        "## Awaiting a free slot\n\n- [ ] patternbot\\: add pattern grpc\\-backend"
        in (github_world.standin.issues[2]["body"])
    )
    assert_responses_match_openapi(github_world)


def test_a_retried_create_after_a_5xx_makes_no_duplicate(github_world: GitHubWorld) -> None:
    github_world.standin.faults.append(Fault("POST", r"/pulls$", 502, apply=True))
    outcome = run(github_world, [update_suggestion()])
    assert statuses(outcome) == [(BRANCH, "created")]
    assert len(github_world.standin.pulls) == 1
    creates = [
        (r.method, r.status)
        for r in github_world.standin.requests
        if r.path.endswith("/pulls") and r.method == "POST"
    ]
    assert creates == [("POST", 502), ("POST", 422)]
    assert_responses_match_openapi(github_world)


def test_a_short_retry_after_is_waited_for(github_world: GitHubWorld) -> None:
    run(github_world, [update_suggestion()])
    github_world.standin.faults.append(
        Fault("PATCH", r"/pulls/1$", 403, headers={"Retry-After": "1"})
    )
    outcome = run(github_world, [update_suggestion(hits=18, cases=20)])
    assert outcome.stopped is None
    assert statuses(outcome) == [(BRANCH, "updated")]
    patches = [r.status for r in github_world.standin.requests if r.method == "PATCH"]
    assert patches == [403, 200]


def test_a_long_rate_limit_stops_cleanly_and_the_next_run_converges(
    github_world: GitHubWorld,
) -> None:
    github_world.standin.faults.append(
        Fault("POST", r"/pulls$", 429, headers={"Retry-After": "120"})
    )
    suggestions = [update_suggestion(), create_pattern_suggestion(), create_policy_suggestion()]
    outcome = run(github_world, suggestions)
    assert [(r.status, r.reason) for r in outcome.results] == [
        ("pending", outcome.stopped),
        ("pending", "the run stopped before it"),
        ("pending", "the run stopped before it"),
    ]
    assert outcome.stopped == (
        f"GitHub rate limit while trying to open a pull request for {BRANCH}: "
        "retry after 120s exceeds the wait bound"
    )
    outcome = run(github_world, suggestions)
    assert [r.status for r in outcome.results] == ["created", "created", "created"]
    assert sorted(p["head"] for p in github_world.standin.pulls.values()) == sorted(
        r.branch for r in outcome.results
    )


def test_a_dropped_connection_stops_and_the_next_run_converges(github_world: GitHubWorld) -> None:
    github_world.standin.faults.append(Fault("POST", r"/pulls$", 0, times=10))
    outcome = run(github_world, [update_suggestion(), create_pattern_suggestion()])
    assert [r.status for r in outcome.results] == ["pending", "pending"]
    assert outcome.stopped is not None and outcome.stopped.startswith(
        f"GitHub did not answer while trying to open a pull request for {BRANCH} ("
    )
    pushed = git(github_world.bare, "rev-parse", BRANCH).strip()
    github_world.standin.faults.clear()
    outcome = run(github_world, [update_suggestion(), create_pattern_suggestion()])
    assert [r.status for r in outcome.results] == ["created", "created"]
    assert len(github_world.standin.pulls) == 2
    # The branch pushed before the drop is reused, not rewritten.
    assert git(github_world.bare, "rev-parse", BRANCH).strip() == pushed


def test_missing_settings_are_named() -> None:
    with pytest.raises(PlatformError) as caught:
        settings_from_environment({})
    assert (
        str(caught.value)
        == "--platform github needs GITHUB_TOKEN and GITHUB_REPOSITORY in the environment"
    )
    with pytest.raises(PlatformError) as caught:
        settings_from_environment({"GITHUB_TOKEN": "t"})
    assert str(caught.value) == "--platform github needs GITHUB_REPOSITORY in the environment"
    assert settings_from_environment(
        {
            "GITHUB_TOKEN": "t",
            "GITHUB_REPOSITORY": "a/b",
            "GITHUB_API_URL": "https://ghe.example/api/v3",
        }
    ) == ("t", "a/b", "https://ghe.example/api/v3")
