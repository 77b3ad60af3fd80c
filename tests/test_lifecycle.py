"""Nine scheduled runs with reviewers acting in between, locally and against the GitHub stand-in.

After every run the whole state is asserted: statuses, open pull requests, branches, comments,
the dashboard, acceptance figures and the limits. Re-runs on unchanged input change nothing,
byte for byte.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.logs.usage import DayUses, ItemUsage, UsageReport
from tests.support.kb import git
from tests.support.lifecycle import (
    WEB_APP,
    GitHubSeason,
    LocalWorld,
    RenamingDrafter,
    World,
    add_kinds,
    deprecate,
    new_pattern,
    new_policy,
    scheduled_run,
    statuses,
)
from tests.support.platform import (
    WEB_APP_YAML,
    GitHubWorld,
    assert_responses_match_openapi,
    make_platform_kb,
)

A = "patternbot/update-pattern/stateless-web-app-fp-a"
A2 = "patternbot/update-pattern/stateless-web-app-fp-a2"
B = "patternbot/create-pattern/fp-b"
C = "patternbot/create-policy/fp-c"
D = "patternbot/deprecate-pattern/legacy-batch-fp-d"
E = "patternbot/create-pattern/fp-e"
F = "patternbot/create-policy/fp-f"
G = "patternbot/create-pattern/fp-g"
LIMITS = {"dashboard": True, "max_new_per_run": 2, "max_open_pull_requests": 3}
# What the reviewer merges for A: PodDisruptionBudget kept, HorizontalPodAutoscaler removed.
WEB_APP_WITH_PDB = WEB_APP_YAML.replace("  - Ingress\n", "  - Ingress\n  - PodDisruptionBudget\n")


# The number each pull request gets; on GitHub the dashboard issue takes #3.
NUMBERS = {
    "local": {"C": 1, "A": 2, "D": 3, "B": 4, "E": 5, "B2": 6, "A2": 7, "F": 8, "G": 9},
    "github": {"C": 1, "A": 2, "D": 4, "B": 5, "E": 6, "B2": 7, "A2": 8, "F": 9, "G": 10},
}


@pytest.fixture(params=["local", "github"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> World:
    if request.param == "local":
        return LocalWorld(make_platform_kb(tmp_path / "kb"))
    github_world: GitHubWorld = request.getfixturevalue("github_world")
    return GitHubSeason(github_world)


def url_of(world: World, key: str) -> str:
    """The URL of pull request `key` (a letter of the season) on this world's platform."""
    if isinstance(world, LocalWorld):
        branch = {"B2": B, "A2": A2}.get(key) or globals()[key]
        return f"local:{branch}#{NUMBERS['local'][key]}"
    return f"https://github.example/acme/platform-kb/pull/{NUMBERS['github'][key]}"


def rejection_comment(cases: int, hits: int, had: int, confidence: str) -> str:
    return (
        "patternbot recorded this as rejected and won't propose this again unless its evidence "
        f"grows to at least {cases} cases (it had {hits} of {had}) at confidence {confidence} "
        "or more."
    )


OBSOLETE_D = (
    "patternbot closes this pull request: patterns/legacy\\-batch\\.yaml no longer exists on "
    "main. patternbot proposes it again in a new pull request when the logs support it again (at "
    "least 5 supporting cases and confidence at or above its type's threshold)."
)


def open_row(status: str, title: str, confidence: str, url: str, fingerprint: str) -> str:
    return (
        f"- [ ] **{status}** {title} (confidence {confidence}) {url} — tick to rebuild the branch "
        f"from `main` <!-- patternbot-request: recreate {fingerprint} -->"
    )


def assert_state(
    world: World,
    open_prs: list[str],
    branches: list[str],
    closed_branches_kept: list[str],
    comments: dict[str, list[str]],
) -> None:
    """Open pull requests, branches and every comment, exactly.

    `closed_branches_kept`: on GitHub closing a pull request keeps its branch (locally the
    reviewer rejects by deleting the branch), so those exist on GitHub only.
    """
    assert world.open_branches() == sorted(open_prs)
    extra = [] if isinstance(world, LocalWorld) else closed_branches_kept
    assert world.branches() == sorted([*branches, *extra])
    assert world.comments() == comments


def human_comment(sha: str) -> str:
    return (
        f"patternbot will no longer update this branch: commit {sha[:12]} (human edit) was not "
        "made by patternbot. The branch and this description stay as they are; merge or close "
        "the pull request as you see fit."
    )


CONFLICT_A2 = (
    "`main` changed `patterns/stateless-web-app.yaml` since this branch was made, and the "
    "branch has commits patternbot did not make, so patternbot does not rebuild it. Merge the "
    "base branch into it or resolve the conflict on GitHub."
)


def test_a_season_of_scheduled_runs(world: World) -> None:
    a_ = add_kinds("fp-a", ["HorizontalPodAutoscaler", "PodDisruptionBudget"], 8, 10, 0.82)
    b_ = new_pattern("fp-b", "grpc-backend", 0.78)
    c_ = new_policy("fp-c", "require-pod-priority", 0.9)
    d_ = deprecate("fp-d", "legacy-batch")
    e_ = new_pattern("fp-e", "batch-queue", 0.75)
    f_ = new_policy("fp-f", "require-probes", 0.72)
    g_ = new_pattern("fp-g", "cache-tier", 0.71)
    a2_early = add_kinds("fp-a2", ["HorizontalPodAutoscaler"], 10, 12, 0.8)
    a2_later = add_kinds("fp-a2", ["HorizontalPodAutoscaler"], 17, 20, 0.8)
    drafter = RenamingDrafter({"fp-b": "grpc-service"})
    today = dt.datetime.now(dt.UTC).date().isoformat()
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    url = {key: url_of(world, key) for key in NUMBERS["local"]}

    # Run 1: two opened (maxNewPerRun 2), three wait for a slot; the dashboard is created.
    run1 = scheduled_run(world, [c_, a_, d_, b_, e_], LIMITS)
    assert statuses(run1) == {
        "fp-c": "created",
        "fp-a": "created",
        "fp-d": "rate_limited",
        "fp-b": "rate_limited",
        "fp-e": "rate_limited",
    }
    assert [r.reason for r in run1.results][2:] == [
        "2 opened in this run (proposals.maxNewPerRun 2)"
    ] * 3
    assert [r.url for r in run1.results][:2] == [url["C"], url["A"]]
    assert run1.dashboard == "created"
    assert_state(world, [A, C], [A, C], [], {})
    dashboard = world.dashboard()
    assert dashboard is not None and dashboard[0] == "open"
    assert (
        "## Awaiting a free slot\n\n"
        "- [ ] patternbot\\: deprecate legacy\\-batch (confidence 0.80) — 2 opened in this run "
        "\\(proposals\\.maxNewPerRun 2\\) — tick to open it now "
        "<!-- patternbot-request: open-now fp-d -->\n"
    ) in dashboard[1]

    # Reviewers: A merged after removing HorizontalPodAutoscaler (accepted with modifications);
    # C pushed to, then closed: a rejection whatever was pushed.
    world.push_as_human(A, WEB_APP, WEB_APP_WITH_PDB)
    world.merge(A)
    world.push_as_human(C, "policies/require-pod-priority.yaml", "id: require-pod-priority\n")
    world.close(C)

    # Run 2: C stays rejected and is acknowledged once; re-adding HorizontalPodAutoscaler on
    # evidence from before the merge is held back; D and B take the free slots, E still waits.
    run2 = scheduled_run(world, [c_, a2_early, d_, b_, e_], LIMITS)
    assert statuses(run2) == {
        "fp-a2": "held_back",
        "fp-d": "created",
        "fp-b": "created",
        "fp-e": "rate_limited",
    }
    assert run2.results[0].reason == (
        f"a reviewer removed HorizontalPodAutoscaler when merging {url['A']}; 12 cases so far, "
        "15 needed (10 at the merge times learning.resubmitGrowth)"
    )
    assert run2.acknowledged == [url["C"]]
    rejected_c = [rejection_comment(18, 12, 12, "0.90")]
    assert_state(world, [B, D], [A, B, D], [C], {C: rejected_c})
    dashboard = world.dashboard()
    assert dashboard is not None
    assert (
        f"| {url['A']} | `update_pattern` `stateless-web-app` (modified) | {today} "
        "| 0 | n/a | 0 uses, n/a | n/a |"
    ) in dashboard[1]
    assert (
        "Overall: 1 of 2 decided suggestions accepted or modified (50%; below the 60% target)."
    ) in dashboard[1]

    # Reviewers: main changes legacy-batch.yaml under the open D; B is closed (rejected).
    legacy = (world.root / "patterns" / "legacy-batch.yaml").read_text(encoding="utf-8")
    world.change_main(
        "patterns/legacy-batch.yaml", legacy.replace("legacy batch deployments", "batch jobs")
    )
    world.close(B)

    # Run 3: D's bot-only branch is rebuilt from the new main; E gets the free slot.
    run3 = scheduled_run(world, [c_, a2_early, d_, b_, e_], LIMITS)
    assert statuses(run3) == {"fp-a2": "held_back", "fp-d": "recreated", "fp-e": "created"}
    assert run3.acknowledged == [url["B"]]
    rejected_b = [rejection_comment(14, 7, 9, "0.78")]
    assert_state(world, [D, E], [A, D, E], [B, C], {C: rejected_c, B: rejected_b})
    assert_single_commit_on_main(world, D)

    # Reviewers: tick "propose again" for B on the dashboard; delete D's target on main.
    world.tick("repropose", "fp-b")
    world.change_main("patterns/legacy-batch.yaml", None)

    # Run 4: B comes back on request, linking its rejection, past the limits; D is obsolete.
    run4 = scheduled_run(world, [c_, a2_early, b_, e_], LIMITS)
    assert statuses(run4) == {
        "fp-a2": "held_back",
        "fp-b": "created",
        "fp-e": "unchanged",
        "fp-d": "closed_obsolete",
    }
    assert run4.results[-1].reason == "patterns/legacy-batch.yaml no longer exists on main"
    assert f"rejected before ({url['B']})" in run4.results[1].body
    season_comments = {C: rejected_c, B: rejected_b, D: [OBSOLETE_D]}
    assert_state(world, [B, E], [A, B, E], [C], season_comments)
    dashboard = world.dashboard()
    assert dashboard is not None
    assert "<!-- patternbot-request: repropose fp-b -->" not in dashboard[1]
    assert (
        "## Recently closed as obsolete\n\n"
        f"- {url['D']} patternbot\\: deprecate legacy\\-batch — "
        "patterns/legacy\\-batch\\.yaml no longer exists on main\n"
    ) in dashboard[1]

    # Reviewers: close the dashboard (switched off).
    world.close_dashboard()
    closed_text = (world.dashboard() or ("", ""))[1]

    # Run 5: the drafter renames B's draft: same identity, same branch, same pull request.
    # A2's evidence grew after the merge: proposed, linking the modified merge.
    run5 = scheduled_run(world, [c_, a2_later, b_, e_], LIMITS, drafter=drafter)
    assert statuses(run5) == {"fp-a2": "created", "fp-b": "updated", "fp-e": "unchanged"}
    assert run5.results[1].title == "patternbot: add pattern grpc-service"
    assert run5.results[1].url == url["B2"]
    assert f"when merging {url['A']}" in run5.results[0].body
    assert run5.dashboard == "off"
    assert world.dashboard() == ("closed", closed_text)
    assert_state(world, [A2, B, E], [A, A2, B, E], [C], season_comments)
    assert world.dashboards() == 1

    # Run 6: nothing changed, so nothing changes anywhere, byte for byte.
    before = world.snapshot()
    run6 = scheduled_run(world, [c_, a2_later, b_, e_], LIMITS, drafter=drafter)
    assert statuses(run6) == {"fp-a2": "unchanged", "fp-b": "unchanged", "fp-e": "unchanged"}
    assert world.snapshot() == before

    # Reviewers: merge B as it is; the configuration turns the dashboard back on.
    world.merge(B)
    # grpc-service was used 4 times since the merge (3 deployed, 1 failed), none the day before.
    report = UsageReport(
        patterns={
            "grpc-service": ItemUsage(
                times_used=5,
                success_rate=0.75,
                deployed=3,
                failed=1,
                uses_by_day={
                    yesterday: DayUses(used=1),
                    today: DayUses(used=4, deployed=3, failed=1),
                },
            )
        }
    )
    season = {"reopen_dashboard": True, **LIMITS}

    # Run 7: the same dashboard reopens; F takes the last slot, G waits (3 open).
    run7 = scheduled_run(world, [c_, a2_later, e_, f_, g_], season, drafter=drafter, report=report)
    assert statuses(run7) == {
        "fp-a2": "unchanged",
        "fp-e": "unchanged",
        "fp-f": "created",
        "fp-g": "rate_limited",
    }
    assert run7.results[-1].reason == (
        "3 suggestion pull requests are open (proposals.maxOpenPullRequests 3)"
    )
    assert run7.dashboard == "reopened"
    assert world.dashboards() == 1
    assert_state(world, [A2, E, F], [A, A2, B, E, F], [C], season_comments)

    # Reviewers: tick "open now" for G; a human pushes to A2 and main changes its file.
    world.tick("open-now", "fp-g")
    human = world.push_as_human(A2, WEB_APP, WEB_APP_WITH_PDB.replace("  - Service\n", ""))
    world.change_main(WEB_APP, WEB_APP_WITH_PDB.replace("platform team", "web team"))

    # Run 8: G opens past the limit on request; A2 conflicts and is left alone, said once each.
    run8 = scheduled_run(world, [c_, a2_later, e_, f_, g_], season, drafter=drafter, report=report)
    assert statuses(run8) == {
        "fp-a2": "conflict",
        "fp-e": "unchanged",
        "fp-f": "unchanged",
        "fp-g": "created",
    }
    season_comments[A2] = [human_comment(human), CONFLICT_A2]
    assert_state(world, [A2, E, F, G], [A, A2, B, E, F, G], [C], season_comments)
    dashboard = world.dashboard()
    assert dashboard is not None and dashboard[0] == "open"
    assert dashboard[1] == expected_final_dashboard(url, today)

    # Run 9: unchanged input again: nothing anywhere changes.
    before = world.snapshot()
    run9 = scheduled_run(world, [c_, a2_later, e_, f_, g_], season, drafter=drafter, report=report)
    assert statuses(run9) == {
        "fp-a2": "conflict",
        "fp-e": "unchanged",
        "fp-f": "unchanged",
        "fp-g": "unchanged",
    }
    assert run9.dashboard == "unchanged"
    assert world.snapshot() == before
    if isinstance(world, GitHubSeason):
        # Every answer the stand-in gave (closing, deleting, reopening too) is GitHub's shape.
        assert_responses_match_openapi(world.world)
    assert_state(world, [A2, E, F, G], [A, A2, B, E, F, G], [C], season_comments)


def assert_single_commit_on_main(world: World, branch: str) -> None:
    """The branch is one bot commit on the current main: body diff, Files view and merge agree."""
    repo = world.root
    world.before_run()
    ref = branch if isinstance(world, LocalWorld) else f"refs/patternbot/origin/{branch}"
    assert git(repo, "rev-parse", f"{ref}^").strip() == git(repo, "rev-parse", "main").strip()


def expected_final_dashboard(url: dict[str, str], today: str) -> str:
    return "\n".join(
        [
            "Kept up to date by patternbot on every run; edits here are overwritten, ticked boxes "
            "are honoured by the next run. Closing this issue switches the dashboard off.",
            "",
            "## Open suggestion pull requests",
            "",
            open_row("open", "patternbot\\: add pattern batch\\-queue", "0.75", url["E"], "fp-e"),
            "- [ ] **conflict** patternbot\\: add HorizontalPodAutoscaler to "
            f"stateless\\-web\\-app (confidence 0.80) {url['A2']} — main changed "
            "patterns/stateless\\-web\\-app\\.yaml and someone else pushed to "
            "patternbot/update\\-pattern/stateless\\-web\\-app\\-fp\\-a2 — tick to rebuild the "
            "branch from `main` <!-- patternbot-request: recreate fp-a2 -->",
            open_row("open", "patternbot\\: add policy require\\-probes", "0.72", url["F"], "fp-f"),
            open_row("open", "patternbot\\: add pattern cache\\-tier", "0.71", url["G"], "fp-g"),
            "",
            "## Awaiting a free slot",
            "",
            "None.",
            "",
            "## Held back",
            "",
            "- `test` `fp-c` (0 of 0, confidence 0.00) — rejected before "
            f"\\({inert_url(url['C'])}\\); evidence has not grown enough\\: 12 cases "
            "\\(needs 18\\) at confidence 0\\.90 \\(was 0\\.90\\)",
            "",
            "## Rejected",
            "",
            f"- [ ] `create_policy` `require-pod-priority` rejected in {url['C']}; comes back when "
            "its evidence grows to at least 18 cases (it had 12 of 12) at confidence 0.90 or more "
            "— tick to propose it again now <!-- patternbot-request: repropose fp-c -->",
            "",
            "## Recently closed as obsolete",
            "",
            f"- {url['D']} patternbot\\: deprecate legacy\\-batch — "
            "patterns/legacy\\-batch\\.yaml no longer exists on main",
            "",
            "## What accepted suggestions achieved",
            "",
            "| Pull request | Change | Merged | Uses since | Success since | Before the merge "
            "| 3+ uses |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            f"| {url['A']} | `update_pattern` `stateless-web-app` (modified) | {today} | 0 | n/a "
            "| 0 uses, n/a | n/a |",
            f"| {url['B2']} | `create_pattern` `grpc-service` (accepted) | {today} | 4 | 75% "
            "| n/a | yes |",
            "",
            "Uses count the workflows whose solution used the item on or after the day of the "
            "merge; for an update, the same item before that day is shown beside them.",
            "",
            "## Acceptance",
            "",
            "| Type | Accepted | Modified | Rejected | Rate | Threshold |",
            "| --- | --- | --- | --- | --- | --- |",
            "| `create_pattern` | 1 | 0 | 1 | 50% | 0.70 |",
            "| `create_policy` | 0 | 0 | 1 | 0% | 0.70 |",
            "| `deprecate_pattern` | 0 | 0 | 0 | n/a | 0.70 |",
            "| `update_pattern` | 0 | 1 | 0 | 100% | 0.70 |",
            "",
            "Overall: 2 of 4 decided suggestions accepted or modified (50%; below the 60% target).",
            "",
            "## Pattern health",
            "",
            "| Pattern | Recommended | Used | Success rate | Deployed | Failed |",
            "| --- | --- | --- | --- | --- | --- |",
            "| `grpc-service` | 0 | 5 | 75% | 3 | 1 |",
            "",
            "## Policy health",
            "",
            "No policy usage in this run's logs.",
            "",
        ]
    )


def inert_url(url: str) -> str:
    from bot.platform.markdown import inert

    return inert(url)
