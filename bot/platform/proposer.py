"""Turning suggestions into proposals: one branch and one pull request per suggestion, idempotently.

Re-running with the same evidence changes nothing; changed evidence adds a commit on top of the
bot's own and rewrites the body in place; a branch someone else pushed to is left alone (said once).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.errors import KnowledgeBaseError, PlatformError
from bot.knowledge.repository import load_item
from bot.knowledge.schema import Pattern, Policy
from bot.learning.suggestion import Suggestion
from bot.logs.usage import UsageReport
from bot.platform.base import Platform, PlatformUnavailableError, Proposal
from bot.platform.dashboard import DASHBOARD_LABEL, DASHBOARD_TITLE, render_dashboard
from bot.platform.feedback import (
    Decision,
    PlatformHistory,
    TypeAcceptance,
    acceptance_by_type,
    adapted_thresholds,
    decisions_of,
)
from bot.platform.gitrepo import FINGERPRINT_TRAILER, GitRepo
from bot.platform.pr_body import (
    ProposalMetadata,
    evidence_summary,
    neutralise,
    render_body,
    title_of,
    unified_diff,
    with_metadata,
)
from bot.platform.yaml_edit import FileChange, item_path, render_change


@dataclass
class Feedback:
    """Everything the platform says about past proposals, read once per run."""

    proposals: list[Proposal]
    decisions: list[Decision]
    history: PlatformHistory
    acceptance: dict[str, TypeAcceptance]
    thresholds: dict[str, float]


def read_feedback(config: Config, platform: Platform) -> Feedback:
    """Decisions, rejected fingerprints, acceptance and thresholds from the platform."""
    proposals = platform.proposals()
    decisions = decisions_of(proposals)
    acceptance = acceptance_by_type(decisions)
    return Feedback(
        proposals,
        decisions,
        PlatformHistory(decisions),
        acceptance,
        adapted_thresholds(config, acceptance),
    )


@dataclass
class ProposalResult:
    """What happened to one suggestion in this run."""

    suggestion: Suggestion
    branch: str
    title: str
    # created, updated, unchanged, held_back, rate_limited, skipped_human_edits, skipped, invalid,
    # failed or pending
    status: str
    body: str = ""
    reason: str | None = None
    url: str | None = None
    number: int | None = None
    diff: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "title": self.title,
            "status": self.status,
            "reason": self.reason,
            "type": self.suggestion.type.value,
            "target": self.suggestion.item_id,
            "confidence": self.suggestion.confidence,
            "fingerprint": self.suggestion.evidence.fingerprint,
            "number": self.number,
            "url": self.url,
            "diff": self.diff,
            "body": self.body,
        }


@dataclass
class ProposeOutcome:
    """The run's proposals plus the feedback figures and what stopped it, if anything."""

    platform: str
    base: str
    dry_run: bool
    results: list[ProposalResult] = field(default_factory=list)
    dashboard: str | None = None
    stopped: str | None = None

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts


def branch_name(prefix: str, suggestion: Suggestion) -> str:
    """`<prefix>/<type-with-dashes>/<item id>`: the same suggestion always gets the same branch."""
    return f"{prefix}/{suggestion.type.value.replace('_', '-')}/{suggestion.item_id}"


def commit_message(suggestion: Suggestion) -> str:
    """The commit's subject, reason, evidence line and fingerprint trailer."""
    return (
        f"{title_of(suggestion)}\n\n{suggestion.reason}\n\n"
        f"Evidence: {evidence_summary(suggestion)}\n\n"
        f"{FINGERPRINT_TRAILER}: {suggestion.evidence.fingerprint}\n"
    )


def validate_change(change: FileChange, kind: str) -> list[str]:
    """The problems `validate` would report for the changed file, checked in a scratch folder."""
    model: type[Pattern] | type[Policy] = Policy if kind == "policy" else Pattern
    with tempfile.TemporaryDirectory(prefix="patternbot-check-") as tmp:
        root = Path(tmp)
        path = root / change.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(change.new_text, encoding="utf-8")
        return [str(problem) for problem in load_item(path, model, root).problems]


class Proposer:
    """Applies a run's suggestions to a platform, within the noise limits."""

    def __init__(
        self,
        config: Config,
        platform: Platform,
        repo: GitRepo,
        feedback: Feedback,
        *,
        dry_run: bool,
    ) -> None:
        self.config = config
        self.platform = platform
        self.repo = repo
        self.feedback = feedback
        self.dry_run = dry_run
        self.base = platform.base_branch()
        self.base_sha = repo.head()
        self.open = {p.branch: p for p in feedback.proposals if p.state == "open"}
        self.new_count = 0

    def _metadata(self, suggestion: Suggestion, head: str | None) -> ProposalMetadata:
        evidence = suggestion.evidence
        rejected = self.feedback.history.rejected().get(evidence.fingerprint)
        previously = evidence.details.get("previouslyRejected") or (
            rejected.url if rejected else None
        )
        return ProposalMetadata(
            fingerprint=evidence.fingerprint,
            type=suggestion.type.value,
            target=suggestion.item_id,
            hits=evidence.hits,
            cases=evidence.cases,
            confidence=suggestion.confidence,
            head=head,
            previously_rejected=str(previously) if previously else None,
        )

    def _body(
        self, suggestion: Suggestion, change: FileChange, branch: str, head: str | None
    ) -> str:
        metadata = self._metadata(suggestion, head)
        return render_body(suggestion, change, metadata, base_branch=self.base, branch=branch)

    def plan(self, suggestion: Suggestion) -> ProposalResult:
        """Render, validate and apply (or, in a dry run, preview) one suggestion."""
        branch = branch_name(self.config.proposals.branch_prefix, suggestion)
        result = ProposalResult(suggestion, branch, title_of(suggestion), "pending")
        threshold = self.feedback.thresholds.get(
            suggestion.type.value, self.config.learning.min_confidence
        )
        if suggestion.confidence < threshold:
            result.status = "held_back"
            result.reason = (
                f"confidence {suggestion.confidence:.2f} is below the "
                f"{suggestion.type.value} threshold {threshold:.2f}"
            )
            return result
        paths = self.config.paths
        path = item_path(suggestion, paths.patterns, paths.policies)
        try:
            change = render_change(
                suggestion, self.repo.read_file(self.base_sha, path), paths.patterns, paths.policies
            )
        except KnowledgeBaseError as exc:
            result.status, result.reason = "invalid", str(exc)
            return result
        result.diff = unified_diff(change)
        if change.old_text == change.new_text:
            result.status, result.reason = "skipped", f"{change.path} already holds this change"
            return result
        problems = validate_change(change, suggestion.item_kind)
        if problems:
            result.status, result.reason = "invalid", "; ".join(problems)
            return result
        existing = self.open.get(branch)
        if existing is not None:
            self._update(result, existing, change)
        else:
            self._create(result, change)
        return result

    def _hold_for_noise(self, result: ProposalResult) -> bool:
        limits = self.config.proposals
        if len(self.open) >= limits.max_open_pull_requests:
            result.status = "rate_limited"
            result.reason = (
                f"{len(self.open)} suggestion pull requests are open "
                f"(proposals.maxOpenPullRequests {limits.max_open_pull_requests})"
            )
            return True
        if self.new_count >= limits.max_new_per_run:
            result.status = "rate_limited"
            result.reason = (
                f"{self.new_count} opened in this run "
                f"(proposals.maxNewPerRun {limits.max_new_per_run})"
            )
            return True
        return False

    def _create(self, result: ProposalResult, change: FileChange) -> None:
        if self._hold_for_noise(result):
            return
        suggestion, branch = result.suggestion, result.branch
        tip = self.platform.branch_tip(branch)
        head: str | None = None
        force = False
        if tip is not None and self.repo.has_commit(tip):
            commits = self.repo.commits_between(self.base_sha, tip)
            foreign = [commit for commit in commits if not commit.by_bot]
            if foreign:
                result.status = "skipped_human_edits"
                result.reason = (
                    f"branch {branch} has commits not made by patternbot ({foreign[0].sha[:12]}); "
                    "delete the branch to let patternbot propose again"
                )
                return
            if commits and self.repo.read_file(tip, change.path) == change.new_text:
                head = tip  # pushed by a run that stopped before opening the pull request
            force = True
        elif tip is not None:
            force = True
        self.new_count += 1
        self.open[branch] = Proposal(branch, 0, "", "open", result.title, "", head)
        if self.dry_run:
            result.status = "created"
            result.body = self._body(suggestion, change, branch, head)
            return
        if head is None:
            head = self.repo.commit_file(
                self.base_sha, change.path, change.new_text, commit_message(suggestion)
            )
            self.platform.publish(branch, head, force=force)
        result.body = self._body(suggestion, change, branch, head)
        labels = list(self.config.proposals.labels)
        proposal = self.platform.open_proposal(branch, result.title, result.body, labels)
        if proposal.body != result.body or proposal.title != result.title:
            self.platform.update_proposal(proposal, result.title, result.body)
        self.open[branch] = proposal
        result.status, result.url, result.number = "created", proposal.url, proposal.number

    def _update(self, result: ProposalResult, existing: Proposal, change: FileChange) -> None:
        suggestion, branch = result.suggestion, result.branch
        result.url, result.number = existing.url, existing.number
        metadata = existing.metadata
        if metadata is None:
            result.status = "skipped_human_edits"
            result.reason = (
                f"pull request #{existing.number} has no patternbot metadata; "
                "it is not patternbot's"
            )
            return
        if metadata.human_edits:
            result.status = "skipped_human_edits"
            result.reason = f"someone else pushed to {branch}; patternbot no longer updates it"
            result.body = existing.body
            return
        tip = self.platform.branch_tip(branch)
        foreign = []
        if tip is not None and self.repo.has_commit(tip):
            foreign = [
                commit
                for commit in self.repo.commits_between(self.base_sha, tip)
                if not commit.by_bot
            ]
        if foreign:
            result.status = "skipped_human_edits"
            result.reason = (
                f"someone else pushed to {branch} ({foreign[0].sha[:12]}); "
                "patternbot no longer updates it"
            )
            if not self.dry_run:
                self.platform.comment(
                    existing,
                    f"patternbot will no longer update this branch: commit {foreign[0].sha[:12]} "
                    f"({neutralise(foreign[0].summary)}) was not made by patternbot. "
                    "The branch and this description stay as they are; "
                    "merge or close the pull request as you see fit.",
                )
                self.platform.update_proposal(
                    existing,
                    existing.title,
                    with_metadata(existing.body, replace(metadata, human_edits=True)),
                )
            return
        head = tip
        changed_file = tip is None or self.repo.read_file(tip, change.path) != change.new_text
        if changed_file and not self.dry_run:
            parent = tip or self.base_sha
            head = self.repo.commit_file(
                parent, change.path, change.new_text, commit_message(suggestion)
            )
            self.platform.publish(branch, head, force=tip is None)
        result.body = self._body(suggestion, change, branch, head)
        if not changed_file and result.body == existing.body and result.title == existing.title:
            result.status = "unchanged"
            return
        result.status = "updated"
        if not self.dry_run:
            self.platform.update_proposal(existing, result.title, result.body)


def propose(
    config: Config,
    platform: Platform,
    repo: GitRepo,
    suggestions: Sequence[Suggestion],
    feedback: Feedback,
    *,
    report: UsageReport | None = None,
    dry_run: bool = False,
) -> ProposeOutcome:
    """Open, update or hold back a proposal per suggestion; stops cleanly if the platform fails."""
    proposer = Proposer(config, platform, repo, feedback, dry_run=dry_run)
    outcome = ProposeOutcome(platform=platform.name, base=proposer.base, dry_run=dry_run)
    for suggestion in suggestions:
        if outcome.stopped is not None:
            branch = branch_name(config.proposals.branch_prefix, suggestion)
            outcome.results.append(
                ProposalResult(
                    suggestion,
                    branch,
                    title_of(suggestion),
                    "pending",
                    reason="the run stopped before it",
                )
            )
            continue
        try:
            result = proposer.plan(suggestion)
        except PlatformUnavailableError as exc:
            outcome.stopped = str(exc)
            branch = branch_name(config.proposals.branch_prefix, suggestion)
            result = ProposalResult(
                suggestion, branch, title_of(suggestion), "pending", reason=str(exc)
            )
        except PlatformError as exc:
            branch = branch_name(config.proposals.branch_prefix, suggestion)
            result = ProposalResult(
                suggestion, branch, title_of(suggestion), "failed", reason=str(exc)
            )
        outcome.results.append(result)
    if config.proposals.dashboard and not dry_run and outcome.stopped is None:
        body = render_dashboard(
            report,
            [result.to_data() for result in outcome.results],
            feedback.decisions,
            feedback.acceptance,
            feedback.thresholds,
        )
        try:
            outcome.dashboard = platform.upsert_dashboard(DASHBOARD_TITLE, body, [DASHBOARD_LABEL])
        except PlatformUnavailableError as exc:
            outcome.stopped = str(exc)
    return outcome
