"""A season of scheduled runs: the same reviewer actions on the local platform and on GitHub.

`World` is what a lifecycle test drives: run patternbot, then act as a reviewer would (merge,
modify, close, push, edit main, close the dashboard, tick a box), then read the whole state back.
The suggestions come from a small deterministic engine stand-in (fixed candidates filtered by the
real rejection rule) and a real Drafter implementation that renames drafts, not a mock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.config import load_config
from bot.knowledge.repository import KnowledgeBase
from bot.learning.dedupe import against_history
from bot.learning.engine import Refinement
from bot.learning.suggestion import Suggestion, SuggestionType
from bot.logs.usage import UsageReport
from bot.platform.base import Platform
from bot.platform.github import GitHubPlatform, github_client
from bot.platform.gitrepo import GitRepo
from bot.platform.local import CLOSED_DASHBOARD_FILE, DASHBOARD_FILE, LocalPlatform
from bot.platform.proposer import propose, read_feedback
from bot.platform.results import ProposeOutcome
from tests.support.kb import git, pattern_data, policy_data
from tests.support.platform import (
    REPOSITORY,
    GitHubStandIn,
    GitHubWorld,
    commit_as_human,
    evidence,
)

WEB_APP = "patterns/stateless-web-app.yaml"


# --- the suggestions of the season --------------------------------------------------------------


def add_kinds(
    fingerprint: str, kinds: list[str], hits: int, cases: int, confidence: float
) -> Suggestion:
    """update_pattern: add `kinds` to stateless-web-app."""
    return Suggestion(
        type=SuggestionType.UPDATE_PATTERN,
        target="stateless-web-app",
        confidence=confidence,
        reason=f"{', '.join(kinds)} added in {hits} of {cases} uses of stateless-web-app.",
        draft=pattern_data("stateless-web-app"),
        changes={"add": {"suggestedResources": kinds}},
        evidence=evidence(fingerprint, hits, cases),
    )


def new_pattern(fingerprint: str, item_id: str, confidence: float) -> Suggestion:
    draft = pattern_data(
        item_id,
        suggestedResources=["Deployment", "Service"],
        createdBy="patternbot",
        createdAt="2026-03-31",
    )
    return Suggestion(
        type=SuggestionType.CREATE_PATTERN,
        confidence=confidence,
        reason=f"7 weak-match intents share the resources of {item_id}.",
        draft=draft,
        evidence=evidence(fingerprint, 7, 9, signal="gap"),
    )


def new_policy(fingerprint: str, item_id: str, confidence: float) -> Suggestion:
    return Suggestion(
        type=SuggestionType.CREATE_POLICY,
        confidence=confidence,
        reason=f"Deployed solutions follow {item_id} in 12 of 12 cases.",
        draft=policy_data(item_id, createdBy="patternbot", createdAt="2026-03-31"),
        evidence=evidence(fingerprint, 12, 12, signal="common_configuration"),
    )


def deprecate(fingerprint: str, target: str) -> Suggestion:
    reason = "Chosen in 1 of 20 strong matches."
    return Suggestion(
        type=SuggestionType.DEPRECATE_PATTERN,
        target=target,
        confidence=0.8,
        reason="Recommended as relevant 20 times, chosen once.",
        draft=pattern_data(target, deprecated=True, deprecatedReason=reason),
        changes={"set": {"deprecated": True, "deprecatedReason": reason}},
        evidence=evidence(fingerprint, 1, 20, signal="rarely_used"),
    )


@dataclass
class RenamingDrafter:
    """A Drafter that words created drafts under another id, as a model may on a later run."""

    renames: dict[str, str] = field(default_factory=dict)  # fingerprint -> new id
    name: str = "test-drafter"

    def refine(
        self, suggestions: list[Suggestion], report: UsageReport, kb: KnowledgeBase
    ) -> Refinement:
        refined = []
        for suggestion in suggestions:
            copy = suggestion.model_copy(deep=True)
            new_id = self.renames.get(copy.evidence.fingerprint)
            if new_id is not None:
                copy.draft["id"] = new_id
                copy.drafted_by = self.name
            refined.append(copy)
        return Refinement(suggestions=refined)


# --- the worlds -----------------------------------------------------------------------------------


class World(Protocol):
    root: Path

    def platform(self) -> Platform: ...
    def before_run(self) -> None: ...
    def merge(self, branch: str) -> None: ...
    def close(self, branch: str) -> None: ...
    def push_as_human(self, branch: str, path: str, text: str) -> str: ...
    def change_main(self, path: str, text: str | None) -> None: ...
    def close_dashboard(self) -> None: ...
    def tick(self, action: str, fingerprint: str) -> None: ...
    def open_branches(self) -> list[str]: ...
    def branches(self) -> list[str]: ...
    def comments(self) -> dict[str, list[str]]: ...
    def dashboard(self) -> tuple[str, str] | None: ...
    def dashboards(self) -> int: ...
    def snapshot(self) -> str: ...


def _tick(body: str, action: str, fingerprint: str) -> str:
    marker = f"<!-- patternbot-request: {action} {fingerprint} -->"
    lines = [
        line.replace("- [ ]", "- [x]", 1) if line.endswith(marker) else line
        for line in body.split("\n")
    ]
    ticked = "\n".join(lines)
    assert ticked != body, f"no box for {action} {fingerprint}"
    return ticked


class LocalWorld:
    """The local platform: branches in the repository, records under .patternbot/proposals."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / ".patternbot" / "proposals"

    def platform(self) -> Platform:
        config = load_config(self.root)
        return LocalPlatform(GitRepo(self.root), config.state_dir, config.proposals.branch_prefix)

    def before_run(self) -> None:
        pass

    def merge(self, branch: str) -> None:
        git(self.root, "merge", "-q", "--no-ff", "--no-edit", branch)

    def close(self, branch: str) -> None:
        git(self.root, "branch", "-q", "-D", branch)

    def push_as_human(self, branch: str, path: str, text: str) -> str:
        return commit_as_human(self.root, branch, path, text)

    def change_main(self, path: str, text: str | None) -> None:
        if text is None:
            git(self.root, "rm", "-q", path)
        else:
            (self.root / path).write_text(text, encoding="utf-8")
            git(self.root, "add", path)
        git(self.root, "commit", "-q", "-m", f"edit {path}")

    def close_dashboard(self) -> None:
        (self.folder / DASHBOARD_FILE).rename(self.folder / CLOSED_DASHBOARD_FILE)

    def tick(self, action: str, fingerprint: str) -> None:
        path = self.folder / DASHBOARD_FILE
        path.write_text(_tick(path.read_text(encoding="utf-8"), action, fingerprint), "utf-8")

    def _records(self) -> list[dict[str, Any]]:
        found = [
            json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(self.folder.glob("*.json"))
        ]
        return sorted(found, key=lambda record: int(record["number"]))

    def open_branches(self) -> list[str]:
        return sorted(r["branch"] for r in self._records() if r["state"] == "open")

    def branches(self) -> list[str]:
        refs = git(self.root, "for-each-ref", "--format=%(refname:short)", "refs/heads/patternbot")
        return sorted(refs.split())

    def comments(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for record in self._records():
            if record.get("comments"):
                found.setdefault(record["branch"], []).extend(record["comments"])
        return found

    def dashboard(self) -> tuple[str, str] | None:
        for name, state in ((DASHBOARD_FILE, "open"), (CLOSED_DASHBOARD_FILE, "closed")):
            path = self.folder / name
            if path.is_file():
                text = path.read_text(encoding="utf-8").split("\n\n", 1)[1]
                return state, text
        return None

    def dashboards(self) -> int:
        return sum(
            (self.folder / name).is_file() for name in (DASHBOARD_FILE, CLOSED_DASHBOARD_FILE)
        )

    def snapshot(self) -> str:
        files = {
            path.name: path.read_text(encoding="utf-8") for path in sorted(self.folder.iterdir())
        }
        return git(self.root, "for-each-ref") + json.dumps(files, sort_keys=True)


class GitHubSeason:
    """The GitHub stand-in: pull requests and issues over HTTP, branches in a bare repository."""

    def __init__(self, world: GitHubWorld) -> None:
        self.world = world
        self.root = world.clone
        self.standin: GitHubStandIn = world.standin

    def platform(self) -> Platform:
        config = load_config(self.root)
        client = github_client(
            "test-token", self.world.api_url, max_wait=1.0, throttle=False, backoff=0
        )
        return GitHubPlatform(
            GitRepo(self.root), client, REPOSITORY, config.proposals.branch_prefix
        )

    def before_run(self) -> None:
        self.world.sync_clone()  # a scheduled job checks out the current main

    def _number(self, branch: str) -> int:
        return max(n for n, p in self.standin.pulls.items() if p["head"] == branch)

    def merge(self, branch: str) -> None:
        self.standin.merge(self._number(branch))

    def close(self, branch: str) -> None:
        self.standin.close(self._number(branch))

    def push_as_human(self, branch: str, path: str, text: str) -> str:
        return commit_as_human(self.world.bare, branch, path, text)

    def change_main(self, path: str, text: str | None) -> None:
        self.world.sync_clone()
        if text is None:
            git(self.root, "rm", "-q", path)
        else:
            (self.root / path).write_text(text, encoding="utf-8")
            git(self.root, "add", path)
        git(self.root, "commit", "-q", "-m", f"edit {path}")
        git(self.root, "push", "-q", "origin", "main")

    def _dashboard_number(self) -> int:
        (number,) = [n for n, issue in self.standin.issues.items()]
        return number

    def close_dashboard(self) -> None:
        self.standin.issues[self._dashboard_number()]["state"] = "closed"

    def tick(self, action: str, fingerprint: str) -> None:
        issue = self.standin.issues[self._dashboard_number()]
        issue["body"] = _tick(issue["body"], action, fingerprint)

    def open_branches(self) -> list[str]:
        return sorted(p["head"] for p in self.standin.pulls.values() if p["state"] == "open")

    def branches(self) -> list[str]:
        refs = git(
            self.world.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/patternbot"
        )
        return sorted(refs.split())

    def comments(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for number, texts in sorted(self.standin.comments.items()):
            if number in self.standin.pulls:
                found.setdefault(self.standin.pulls[number]["head"], []).extend(texts)
        return found

    def dashboard(self) -> tuple[str, str] | None:
        if not self.standin.issues:
            return None
        issue = self.standin.issues[self._dashboard_number()]
        return issue["state"], str(issue["body"]).split("\n", 1)[1]

    def dashboards(self) -> int:
        return len(self.standin.issues)

    def snapshot(self) -> str:
        state = {
            "pulls": self.standin.pulls,
            "issues": self.standin.issues,
            "comments": self.standin.comments,
        }
        return (
            git(self.world.bare, "for-each-ref")
            + git(self.root, "for-each-ref")
            + json.dumps(state, sort_keys=True)
        )


# --- one scheduled run ----------------------------------------------------------------------------


def scheduled_run(
    world: World,
    candidates: Sequence[Suggestion],
    proposals: Mapping[str, Any],
    *,
    drafter: RenamingDrafter | None = None,
    report: UsageReport | None = None,
) -> ProposeOutcome:
    """What `patternbot run` does after the analysis: history, engine rule, drafter, propose."""
    world.before_run()
    config = load_config(world.root)
    for key, value in proposals.items():
        setattr(config.proposals, key, value)
    platform = world.platform()
    feedback = read_feedback(config, platform)
    kept: list[Suggestion] = []
    held: dict[str, str] = {}
    for candidate in candidates:
        suggestion = candidate.model_copy(deep=True)
        why = against_history(
            suggestion, feedback.history.rejected(), config.learning.resubmit_growth
        )
        if why is None:
            kept.append(suggestion)
        else:
            held[suggestion.evidence.fingerprint] = why
    if drafter is not None:
        kept = drafter.refine(kept, report or UsageReport(), KnowledgeBase()).suggestions
    return propose(
        config,
        platform,
        GitRepo(world.root),
        kept,
        feedback,
        report=report,
        held_back=held,
        engine_held=[
            {"signal": "test", "item": fp, "hits": 0, "cases": 0, "confidence": 0.0, "reason": why}
            for fp, why in sorted(held.items())
        ],
    )


def statuses(outcome: ProposeOutcome) -> dict[str, str]:
    """Fingerprint -> status of every result of a run."""
    return {result.fingerprint: result.status.value for result in outcome.results}
