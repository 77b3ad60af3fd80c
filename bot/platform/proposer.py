"""Turning suggestions into proposals and reconciling every open suggestion pull request, each run.

A suggestion's identity is its fingerprint: one fingerprint, one branch, one pull request. A run
1. checks each suggestion (threshold, a reviewer's earlier modification, the change itself);
2. reconciles every open bot pull request whose suggestion no longer qualifies: closed with one
   comment and its branch deleted when only patternbot committed to it, else commented on once;
3. updates the open pull requests that still qualify (rebuilding a bot-only branch from the base
   when the base changed the same file, so the body's diff, the Files view and the merge agree);
4. opens new ones within the noise limits.
Re-running with the same input changes nothing anywhere.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from bot.config import Config
from bot.errors import KnowledgeBaseError, PlatformError
from bot.knowledge.repository import load_item
from bot.knowledge.schema import Pattern, Policy
from bot.learning.suggestion import Suggestion, SuggestionType
from bot.logs.usage import UsageReport
from bot.platform.base import (
    DashboardIssue,
    Platform,
    PlatformUnavailableError,
    Proposal,
    ProposalStatus,
)
from bot.platform.baseline import proposed_values, readds_removed, removed_by_reviewer
from bot.platform.branches import branch_name
from bot.platform.feedback import (
    Decision,
    PlatformHistory,
    TypeAcceptance,
    acceptance_by_type,
    adapted_thresholds,
    decisions_of,
    rejection_bar,
)
from bot.platform.gitrepo import FINGERPRINT_TRAILER, CommitInfo, GitRepo
from bot.platform.markdown import code, inert, one_line
from bot.platform.pr_body import (
    ProposalMetadata,
    evidence_summary,
    render_body,
    title_of,
    unified_diff,
    with_metadata,
)
from bot.platform.requests import DashboardRequests, requests_in
from bot.platform.results import ProposalResult, ProposeOutcome
from bot.platform.yaml_edit import FileChange, item_path, render_change

# The one-time comments, recorded in the pull request's metadata once posted.
Notice = Literal["human_edits", "conflict", "obsolete_kept", "rejected"]
_CREATES = (SuggestionType.CREATE_PATTERN, SuggestionType.CREATE_POLICY)


@dataclass
class Feedback:
    """Everything the platform says about past proposals, read once per run."""

    proposals: list[Proposal]
    decisions: list[Decision]
    history: PlatformHistory
    acceptance: dict[str, TypeAcceptance]
    thresholds: dict[str, float]
    requests: DashboardRequests = field(default_factory=DashboardRequests)
    dashboard: DashboardIssue | None = None


def _open_by_fingerprint(proposals: Iterable[Proposal]) -> dict[str, Proposal]:
    """The oldest open bot pull request of each fingerprint."""
    found: dict[str, Proposal] = {}
    for proposal in proposals:
        metadata = proposal.metadata
        if proposal.state == "open" and metadata is not None:
            found.setdefault(metadata.fingerprint, proposal)
    return found


def _duplicates(proposals: Iterable[Proposal], kept: Mapping[str, Proposal]) -> list[Proposal]:
    """Open bot pull requests for a fingerprint that already has an older one (made before
    identities were fingerprints): closed as obsolete, pointing at the one kept."""
    return [
        proposal
        for proposal in proposals
        if proposal.state == "open"
        and (metadata := proposal.metadata) is not None
        and kept[metadata.fingerprint] is not proposal
    ]


def read_feedback(config: Config, platform: Platform) -> Feedback:
    """Decisions, rejected fingerprints, acceptance, thresholds and dashboard requests."""
    from bot.platform.dashboard import DASHBOARD_LABEL, DASHBOARD_TITLE

    proposals = platform.proposals()
    dashboard = None
    if config.proposals.dashboard:
        dashboard = platform.find_dashboard(DASHBOARD_TITLE, [DASHBOARD_LABEL])
    requests = (
        requests_in(dashboard.body)
        if dashboard is not None and dashboard.state == "open"
        else DashboardRequests()
    )
    decisions = decisions_of(proposals)
    acceptance = acceptance_by_type(decisions)
    open_after = {fp: p.number for fp, p in _open_by_fingerprint(proposals).items()}
    return Feedback(
        proposals,
        decisions,
        PlatformHistory(decisions, open_after, requests.repropose),
        acceptance,
        adapted_thresholds(config, acceptance),
        requests,
        dashboard,
    )


def commit_message(suggestion: Suggestion) -> str:
    """The commit's subject, reason, evidence line and fingerprint trailer.

    The reason quotes log text: kept on one line, so it cannot start a line (a trailer the bot
    reads back, or a `::` workflow command when CI prints `git log`).
    """
    return (
        f"{title_of(suggestion)}\n\n{one_line(suggestion.reason)}\n\n"
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


def comparison(value: float, bound: float) -> tuple[str, str]:
    """Both numbers with enough decimals that "below" never reads as "0.85 below 0.85"."""
    for digits in (2, 3, 4, 6):
        shown, limit = f"{value:.{digits}f}", f"{bound:.{digits}f}"
        if shown != limit:
            return shown, limit
    return f"{value}", f"{bound}"


@dataclass
class _Ready:
    """A suggestion that passed the checks, with its rendered change."""

    result: ProposalResult
    suggestion: Suggestion
    change: FileChange
    metadata_extra: dict[str, Any]


class Proposer:
    """Applies a run's suggestions to a platform and reconciles every open bot pull request."""

    def __init__(
        self,
        config: Config,
        platform: Platform,
        repo: GitRepo,
        feedback: Feedback,
        *,
        dry_run: bool,
        held_back: Mapping[str, str] | None = None,
        item_files: Mapping[str, Path] | None = None,
    ) -> None:
        self.config = config
        self.item_files = dict(item_files or {})
        self.platform = platform
        self.repo = repo
        self.feedback = feedback
        self.dry_run = dry_run
        self.held_back = dict(held_back or {})
        self.base = platform.base_branch()
        self.base_sha = repo.head()
        self.prefix = config.proposals.branch_prefix
        self.open_by_fp = _open_by_fingerprint(feedback.proposals)
        self.open_count = len(self.open_by_fp)
        self.new_count = 0
        self.warnings: list[str] = []

    # -- the one-time comments --------------------------------------------------------------

    def _say_once(
        self, proposal: Proposal, metadata: ProposalMetadata, notice: Notice, text: str
    ) -> ProposalMetadata:
        """Post `text` unless this notice was posted before; returns the metadata recording it."""
        if notice in metadata.notices:
            return metadata
        updated = replace(metadata, notices=sorted({*metadata.notices, notice}))
        if not self.dry_run:
            self.platform.comment(proposal, text)
            self.platform.update_proposal(
                proposal, proposal.title, with_metadata(proposal.body, updated)
            )
            proposal.body = with_metadata(proposal.body, updated)
        return updated

    # -- checks ------------------------------------------------------------------------------

    def _threshold_problem(self, suggestion: Suggestion) -> str | None:
        threshold = self.feedback.thresholds.get(
            suggestion.type.value, self.config.learning.min_confidence
        )
        if suggestion.confidence >= threshold:
            return None
        shown, limit = comparison(suggestion.confidence, threshold)
        return f"confidence {shown} is below the {suggestion.type.value} threshold {limit}"

    def _modified_merge_problem(self, suggestion: Suggestion, extra: dict[str, Any]) -> str | None:
        problem, link = readds_removed(
            suggestion,
            self.feedback.decisions,
            lambda decision: removed_by_reviewer(self.repo, self.base_sha, self.config, decision),
            self.config.learning.resubmit_growth,
        )
        if link is not None:
            extra["previously_modified"] = link
        return problem

    def _loaded_from(self, suggestion: Suggestion) -> str | None:
        """The file an existing item was loaded from, relative to the repository (issue 13)."""
        if suggestion.type in _CREATES:
            return None
        found = self.item_files.get(f"{suggestion.item_kind}:{suggestion.item_id}")
        if found is None:
            return None
        try:
            return found.resolve().relative_to(self.config.root.resolve()).as_posix()
        except ValueError:
            return None

    def check(self, suggestion: Suggestion) -> ProposalResult | _Ready:
        """A final result (held back, invalid, skipped, obsolete) or a change ready to propose."""
        fingerprint = suggestion.evidence.fingerprint
        existing = self.open_by_fp.get(fingerprint)
        branch = existing.branch if existing else branch_name(self.prefix, suggestion)
        result = ProposalResult.of(suggestion, branch, ProposalStatus.PENDING)
        extra: dict[str, Any] = {}
        problem = self._threshold_problem(suggestion) or self._modified_merge_problem(
            suggestion, extra
        )
        if problem is not None:
            result.status, result.reason = ProposalStatus.HELD_BACK, problem
            return result
        paths = self.config.paths
        path = self._loaded_from(suggestion) or item_path(
            suggestion, paths.patterns, paths.policies
        )
        old_text = self.repo.read_file(self.base_sha, path)
        if suggestion.type in _CREATES and old_text is not None:
            # Made by hand (or merged from elsewhere) meanwhile: nothing left to propose.
            result.status = ProposalStatus.SKIPPED
            result.reason = f"{path} already exists on {self.base}"
            return result
        try:
            change = render_change(
                suggestion,
                old_text,
                paths.patterns,
                paths.policies,
                path=path,
            )
        except KnowledgeBaseError as exc:
            result.status, result.reason = ProposalStatus.INVALID, str(exc)
            return result
        result.diff = unified_diff(change)
        if change.old_text == change.new_text:
            result.status = ProposalStatus.SKIPPED
            result.reason = f"{change.path} on {self.base} already holds this change"
            return result
        try:
            problems = validate_change(change, suggestion.item_kind)
        except OSError as exc:  # a full disk under the scratch folder fails this one, not the run
            result.status = ProposalStatus.FAILED
            result.reason = f"cannot check {change.path}: {exc.strerror or exc}"
            return result
        if problems:
            result.status, result.reason = ProposalStatus.INVALID, "; ".join(problems)
            return result
        return _Ready(result, suggestion, change, extra)

    def _metadata(
        self, suggestion: Suggestion, head: str | None, extra: Mapping[str, Any]
    ) -> ProposalMetadata:
        evidence = suggestion.evidence
        rejected = self.feedback.history.rejected().get(evidence.fingerprint)
        previously = evidence.details.get("previouslyRejected") or (
            rejected.url if rejected else None
        )
        if previously is None:
            # Re-proposed on request (dashboard box): still link the rejection it overrides.
            earlier = [
                d
                for d in self.feedback.decisions
                if d.fingerprint == evidence.fingerprint and d.outcome == "rejected"
            ]
            previously = earlier[-1].url if earlier else None
        return ProposalMetadata(
            fingerprint=evidence.fingerprint,
            type=suggestion.type.value,
            target=suggestion.item_id,
            hits=evidence.hits,
            cases=evidence.cases,
            confidence=suggestion.confidence,
            head=head,
            previously_rejected=str(previously) if previously else None,
            proposed=proposed_values(suggestion),
            previously_modified=extra.get("previously_modified"),
        )

    def _body(self, ready: _Ready, head: str | None) -> str:
        metadata = self._metadata(ready.suggestion, head, ready.metadata_extra)
        return render_body(
            ready.suggestion,
            ready.change,
            metadata,
            base_branch=self.base,
            branch=ready.result.branch,
        )

    # -- creating ----------------------------------------------------------------------------

    def _limit_reason(self, fingerprint: str) -> str | None:
        if fingerprint in self.feedback.requests.open_now | self.feedback.requests.repropose:
            return None  # a reviewer ticked the box: the limits do not apply to it
        limits = self.config.proposals
        if self.open_count >= limits.max_open_pull_requests:
            return (
                f"{self.open_count} suggestion pull requests are open "
                f"(proposals.maxOpenPullRequests {limits.max_open_pull_requests})"
            )
        if self.new_count >= limits.max_new_per_run:
            return (
                f"{self.new_count} opened in this run "
                f"(proposals.maxNewPerRun {limits.max_new_per_run})"
            )
        return None

    def create(self, ready: _Ready) -> None:
        result, suggestion, change = ready.result, ready.suggestion, ready.change
        branch = result.branch
        limited = self._limit_reason(suggestion.evidence.fingerprint)
        if limited is not None:
            result.status, result.reason = ProposalStatus.RATE_LIMITED, limited
            result.body = self._body(ready, None)
            return
        tip = self.platform.branch_tip(branch)
        head: str | None = None
        if tip is not None:
            foreign = self.repo.foreign_commits(self.base_sha, tip)
            if foreign:
                result.status = ProposalStatus.BLOCKED_HUMAN_EDITS
                result.reason = (
                    f"branch {branch} has commits not made by patternbot "
                    f"({foreign[0].sha[:12]}); delete the branch to let patternbot propose again"
                )
                return
            if (
                self.repo.has_commit(tip)
                and self.repo.is_ancestor(self.base_sha, tip)
                and self.repo.read_file(tip, change.path) == change.new_text
            ):
                head = tip  # pushed by a run that stopped before opening the pull request
        self.new_count += 1
        self.open_count += 1
        if self.dry_run:
            result.status = ProposalStatus.WOULD_CREATE
            result.body = self._body(ready, head)
            return
        if head is None:
            head = self.repo.commit_file(
                self.base_sha, change.path, change.new_text, commit_message(suggestion)
            )
            self.platform.publish(branch, head, force=tip is not None)
        result.body = self._body(ready, head)
        labels = list(self.config.proposals.labels)
        proposal = self.platform.open_proposal(branch, result.title, result.body, labels)
        if proposal.body != result.body or proposal.title != result.title:
            self.platform.update_proposal(proposal, result.title, result.body)
        result.status, result.url, result.number = (
            ProposalStatus.CREATED,
            proposal.url,
            proposal.number,
        )

    # -- updating ----------------------------------------------------------------------------

    def _base_changed_file(self, tip: str, path: str) -> bool:
        """True when the base branch moved past the branch's fork point and changed `path`."""
        if self.repo.is_ancestor(self.base_sha, tip):
            return False
        fork = self.repo.merge_base(self.base_sha, tip)
        if fork is None:
            return True
        return self.repo.read_file(fork, path) != self.repo.read_file(self.base_sha, path)

    def update(self, ready: _Ready, existing: Proposal) -> None:
        result, suggestion, change = ready.result, ready.suggestion, ready.change
        branch = existing.branch
        result.url, result.number = existing.url, existing.number
        metadata = existing.metadata
        assert metadata is not None  # open_by_fp only holds proposals with metadata
        tip = self.platform.branch_tip(branch)
        foreign = self.repo.foreign_commits(self.base_sha, tip) if tip else []
        if foreign or metadata.human_edits:
            self._keep_human_branch(result, existing, metadata, suggestion, change, foreign, tip)
            return
        recreate = tip is None or (
            self.repo.has_commit(tip) and self._base_changed_file(tip, change.path)
        )
        requested = suggestion.evidence.fingerprint in self.feedback.requests.recreate
        if requested and tip is not None and not self.repo.is_ancestor(self.base_sha, tip):
            recreate = True
        head = tip
        changed_file = recreate or (
            tip is not None and self.repo.read_file(tip, change.path) != change.new_text
        )
        if changed_file and not self.dry_run:
            # A bot-only branch is rebuilt from the current base whenever its file changes, so the
            # branch always holds exactly one commit: the body's diff is the branch's diff.
            head = self.repo.commit_file(
                self.base_sha, change.path, change.new_text, commit_message(suggestion)
            )
            self.platform.publish(branch, head, force=True)
        result.body = self._body(ready, head)
        if not changed_file and result.body == existing.body and result.title == existing.title:
            result.status = ProposalStatus.UNCHANGED
            return
        if self.dry_run:
            result.status = (
                ProposalStatus.WOULD_RECREATE if recreate else ProposalStatus.WOULD_UPDATE
            )
            return
        self.platform.update_proposal(existing, result.title, result.body)
        result.status = ProposalStatus.RECREATED if recreate else ProposalStatus.UPDATED

    def _keep_human_branch(
        self,
        result: ProposalResult,
        existing: Proposal,
        metadata: ProposalMetadata,
        suggestion: Suggestion,
        change: FileChange,
        foreign: Sequence[CommitInfo],
        tip: str | None,
    ) -> None:
        """Someone else pushed: never touch the branch; say so (and any conflict) once each."""
        if foreign and not metadata.human_edits:  # humanEdits: said by an earlier version too
            metadata = self._say_once(
                existing,
                metadata,
                "human_edits",
                f"patternbot will no longer update this branch: commit {foreign[0].sha[:12]} "
                f"({inert(foreign[0].summary)}) was not made by patternbot. "
                "The branch and this description stay as they are; "
                "merge or close the pull request as you see fit.",
            )
            metadata = replace(metadata, human_edits=True)
        conflict = tip is not None and self._base_changed_file(tip, change.path)
        if conflict:
            metadata = self._say_once(
                existing,
                metadata,
                "conflict",
                f"{code(self.base)} changed {code(change.path)} since this branch was made, and "
                "the branch has commits patternbot did not make, so patternbot does not rebuild "
                "it. Merge the base branch into it or resolve the conflict on GitHub.",
            )
        # The hidden record follows the evidence, so a later close rejects what it is now.
        current = replace(
            metadata,
            hits=suggestion.evidence.hits,
            cases=suggestion.evidence.cases,
            confidence=suggestion.confidence,
            human_edits=True,
        )
        body = with_metadata(existing.body, current)
        if body != existing.body and not self.dry_run:
            self.platform.update_proposal(existing, existing.title, body)
            existing.body = body
        result.body = existing.body
        result.status = ProposalStatus.CONFLICT if conflict else ProposalStatus.BLOCKED_HUMAN_EDITS
        result.reason = (
            f"{self.base} changed {change.path} and someone else pushed to {existing.branch}"
            if conflict
            else f"someone else pushed to {existing.branch}; patternbot no longer updates it"
        )

    # -- closing obsolete pull requests ------------------------------------------------------

    def obsolete_reason(self, metadata: ProposalMetadata, results: Sequence[ProposalResult]) -> str:
        """Why an open pull request's suggestion no longer qualifies, as specific as known."""
        for result in results:
            if (
                result.fingerprint != metadata.fingerprint
                and result.type == metadata.type
                and result.target == metadata.target
                and metadata.type not in {kind.value for kind in _CREATES}
                and result.status not in (ProposalStatus.HELD_BACK, ProposalStatus.INVALID)
            ):
                where = result.url or result.branch
                return f"superseded by a different change to {metadata.target} ({where})"
        if metadata.type not in {kind.value for kind in _CREATES}:
            paths = self.config.paths
            path = f"{paths.patterns.rstrip('/')}/{metadata.target}.yaml"
            known = self.item_files.get(f"pattern:{metadata.target}")
            if known is None and self.repo.read_file(self.base_sha, path) is None:
                return f"{path} no longer exists on {self.base}"
        held = self.held_back.get(metadata.fingerprint)
        if held:
            return f"the learning engine held it back: {held}"
        learning = self.config.learning
        return (
            "the logs no longer support it: no signal reaches learning.minSupport "
            f"{learning.min_support} with confidence {learning.min_confidence:.2f} for it"
        )

    def close_obsolete(
        self, proposal: Proposal, reason: str, suggestion: Suggestion | None = None
    ) -> ProposalResult:
        metadata = proposal.metadata
        assert metadata is not None
        result = ProposalResult.of_proposal(proposal, metadata, ProposalStatus.CLOSED_OBSOLETE)
        if suggestion is not None:
            result.suggestion = suggestion
        result.reason = reason
        tip = self.platform.branch_tip(proposal.branch)
        foreign = self.repo.foreign_commits(self.base_sha, tip) if tip else []
        if foreign or metadata.human_edits:
            self._say_once(
                proposal,
                metadata,
                "obsolete_kept",
                f"patternbot no longer proposes this: {inert(reason)}. Someone else pushed to "
                "this branch, so patternbot leaves the pull request open: merge or close it as "
                "you see fit.",
            )
            result.status = ProposalStatus.BLOCKED_HUMAN_EDITS
            result.body = proposal.body
            return result
        back = (
            "patternbot proposes it again in a new pull request when the logs support it again "
            f"(at least {self.config.learning.min_support} supporting cases and confidence at "
            "or above its type's threshold)."
        )
        self.open_count -= 1
        if self.dry_run:
            result.status = ProposalStatus.WOULD_CLOSE
            return result
        self.platform.comment(
            proposal, f"patternbot closes this pull request: {inert(reason)}. {back}"
        )
        closed = with_metadata(proposal.body, replace(metadata, closed_reason=reason))
        self.platform.update_proposal(proposal, proposal.title, closed)
        self.platform.close_proposal(proposal)
        if tip is not None:
            self.platform.delete_branch(proposal.branch, tip)
        result.body = closed
        return result

    # -- rejections --------------------------------------------------------------------------

    def acknowledge_rejections(self) -> list[str]:
        """One comment per rejection saying what would bring the suggestion back."""
        latest: dict[str, Decision] = {}
        for decision in self.feedback.decisions:
            latest[decision.fingerprint] = decision
        by_number = {p.number: p for p in self.feedback.proposals}
        answered = []
        growth = self.config.learning.resubmit_growth
        for decision in latest.values():
            if decision.outcome != "rejected" or "rejected" in decision.notices:
                continue
            if decision.fingerprint in self.open_by_fp:
                continue
            proposal = by_number.get(decision.number)
            metadata = proposal.metadata if proposal else None
            if proposal is None or metadata is None:
                continue
            try:
                self._say_once(
                    proposal,
                    metadata,
                    "rejected",
                    "patternbot recorded this as rejected and won't propose this again unless "
                    f"{rejection_bar(decision, growth)}.",
                )
            except PlatformUnavailableError:
                raise
            except PlatformError as exc:  # the next run says it; the rejection holds meanwhile
                self.warnings.append(f"{decision.url}: {exc}")
                continue
            answered.append(decision.url)
        return answered


def propose(
    config: Config,
    platform: Platform,
    repo: GitRepo,
    suggestions: Sequence[Suggestion],
    feedback: Feedback,
    *,
    report: UsageReport | None = None,
    dry_run: bool = False,
    held_back: Mapping[str, str] | None = None,
    engine_held: Sequence[Mapping[str, Any]] = (),
    item_files: Mapping[str, Path] | None = None,
) -> ProposeOutcome:
    """Propose each suggestion and reconcile every open bot pull request; stops cleanly on outage.

    `held_back` maps fingerprints the engine held back to why, so an open pull request closed
    as obsolete says why; `engine_held` is the engine's held-back list, shown on the dashboard;
    `item_files` (KnowledgeBase.files) says which file each existing item was loaded from.
    """
    proposer = Proposer(
        config,
        platform,
        repo,
        feedback,
        dry_run=dry_run,
        held_back=held_back,
        item_files=item_files,
    )
    outcome = ProposeOutcome(platform=platform.name, base=proposer.base, dry_run=dry_run)
    try:
        _propose(proposer, suggestions, outcome)
    except PlatformUnavailableError as exc:
        outcome.stopped = str(exc)
    if config.proposals.dashboard and outcome.stopped is None:
        from bot.platform.dashboard import publish_dashboard

        try:
            publish_dashboard(config, platform, outcome, feedback, report, engine_held)
        except PlatformUnavailableError as exc:
            outcome.stopped = str(exc)
    return outcome


def _propose(
    proposer: Proposer, suggestions: Sequence[Suggestion], outcome: ProposeOutcome
) -> None:
    checked: list[ProposalResult | _Ready] = []
    seen: set[str] = set()
    for suggestion in suggestions:
        if suggestion.evidence.fingerprint in seen:
            continue  # one identity, one proposal, whatever else the drafts say
        seen.add(suggestion.evidence.fingerprint)
        checked.append(proposer.check(suggestion))
    results = [item.result if isinstance(item, _Ready) else item for item in checked]
    outcome.results = results
    # Open pull requests whose suggestion did not pass: reconciled first, freeing their slots.
    ready_fps = {
        item.suggestion.evidence.fingerprint for item in checked if isinstance(item, _Ready)
    }
    for fingerprint, proposal in sorted(proposer.open_by_fp.items(), key=lambda kv: kv[1].number):
        if fingerprint in ready_fps:
            continue
        metadata = proposal.metadata
        assert metadata is not None
        mine = next((r for r in results if r.fingerprint == fingerprint), None)
        if mine is not None and mine.status in (ProposalStatus.INVALID, ProposalStatus.FAILED):
            # A draft that does not validate, or a fault checking it, says nothing about the
            # evidence: the pull request stays open and untouched, listed with the problem.
            mine.url, mine.number, mine.branch = proposal.url, proposal.number, proposal.branch
            continue
        reason = (
            mine.reason
            if mine is not None and mine.reason
            else proposer.obsolete_reason(metadata, results)
        )
        # Listed before the platform work, so a failure still shows the open pull request.
        placeholder = ProposalResult.of_proposal(proposal, metadata, ProposalStatus.PENDING)
        placeholder.reason = reason
        if mine is None:
            results.append(placeholder)
        else:
            placeholder.suggestion, placeholder.diff = mine.suggestion, mine.diff
            results[results.index(mine)] = placeholder
        _guarded(
            outcome,
            placeholder,
            lambda p=proposal, r=reason, old=placeholder: _replace_result(
                results, old, proposer.close_obsolete(p, r, old.suggestion)
            ),
        )
    for proposal in _duplicates(proposer.feedback.proposals, proposer.open_by_fp):
        metadata = proposal.metadata
        assert metadata is not None
        kept = proposer.open_by_fp[metadata.fingerprint]
        placeholder = ProposalResult.of_proposal(proposal, metadata, ProposalStatus.PENDING)
        placeholder.reason = f"the same change is proposed in {kept.url}"
        results.append(placeholder)
        proposer.open_count += 1  # it counted toward the limits until now
        _guarded(
            outcome,
            placeholder,
            lambda p=proposal, old=placeholder: _replace_result(
                results, old, proposer.close_obsolete(p, str(old.reason))
            ),
        )
    outcome.acknowledged = proposer.acknowledge_rejections()
    outcome.warnings.extend(proposer.warnings)
    for item in checked:
        if not isinstance(item, _Ready):
            continue
        existing = proposer.open_by_fp.get(item.suggestion.evidence.fingerprint)
        if existing is not None:
            _guarded(outcome, item.result, lambda i=item, e=existing: proposer.update(i, e))
    for item in checked:
        if isinstance(item, _Ready) and item.result.status is ProposalStatus.PENDING:
            _guarded(outcome, item.result, lambda i=item: proposer.create(i))


def _replace_result(
    results: list[ProposalResult], old: ProposalResult, new: ProposalResult
) -> None:
    new.diff = old.diff
    results[results.index(old)] = new


def _guarded(outcome: ProposeOutcome, result: ProposalResult, action: Any) -> None:
    """Run one proposal's platform work; a platform error fails that one, an outage stops all."""
    try:
        action()
    except PlatformUnavailableError as exc:
        outcome.stopped = str(exc)
        result.status, result.reason = ProposalStatus.PENDING, str(exc)
        for other in outcome.results:
            if other.status is ProposalStatus.PENDING and other is not result:
                other.reason = "the run stopped before it"
        raise
    except PlatformError as exc:
        result.status, result.reason = ProposalStatus.FAILED, str(exc)
