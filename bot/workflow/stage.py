"""The PRD's final workflow stage, `learningSuggestions`, for one finished workflow.

It says what this workflow did that the knowledge base does not capture (resources added beyond
the patterns it used, a request no pattern matched well, a setting most deployments share), how
common that is across all logs, and the suggestion pull request that already proposes it, or why
nothing is proposed yet. It reads the pull requests the last `propose`/`run` left and runs the
deterministic engine on the logs; it never opens, edits or closes anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bot.config import Config
from bot.knowledge.repository import KnowledgeBase, load_knowledge_base
from bot.workflow.workflow_events import WorkflowFacts, read_workflow

if TYPE_CHECKING:
    from bot.learning.engine import HeldBack, SuggestionRun
    from bot.learning.findings import TextEmbedder
    from bot.learning.suggestion import Suggestion
    from bot.logs.usage import UsageReport
    from bot.platform.proposer import Feedback
    from bot.platform.state import ProposalRecordStatus

STAGE = "learningSuggestions"
FindingKind = Literal["resource_added", "weak_match", "shared_setting"]
StageResult = Literal["success", "unknown_workflow"]
INSTRUCTIONS = (
    "Suggestions become pull requests in the knowledge-base repository: a reviewer merges one to "
    "accept it (editing it first if needed) or closes it to reject it. Nothing here needs an "
    "answer; skipping this stage changes nothing."
)


@dataclass
class ProposalLink:
    """The pull request that proposes a change, as the platform reports it."""

    number: int
    title: str
    url: str
    status: ProposalRecordStatus
    confidence: float

    def to_data(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "url": self.url,
            "status": self.status,
            "confidence": self.confidence,
        }


@dataclass
class StageEntry:
    """One thing this workflow did that the knowledge base does not capture yet."""

    finding: FindingKind
    summary: str
    hits: int
    cases: int
    how_common: str
    details: dict[str, Any] = field(default_factory=dict)
    proposal: ProposalLink | None = None
    not_proposed: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "finding": self.finding,
            **self.details,
            "summary": self.summary,
            "hits": self.hits,
            "cases": self.cases,
            "frequency": round(self.hits / self.cases, 4) if self.cases else None,
            "howCommon": self.how_common,
            "proposal": self.proposal.to_data() if self.proposal else None,
            "notProposed": self.not_proposed,
        }


@dataclass
class LearningStage:
    """The stage object: `{"stage", "result", "suggestions": {"patterns", "policies"}}`."""

    workflow_id: str
    result: StageResult
    patterns: list[StageEntry] = field(default_factory=list)
    policies: list[StageEntry] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.patterns and not self.policies

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "stage": STAGE,
            "result": self.result,
            "workflowId": self.workflow_id,
            "suggestions": {
                "patterns": [e.to_data() for e in self.patterns],
                "policies": [e.to_data() for e in self.policies],
            },
        }
        if not self.empty:
            data["instructions"] = INSTRUCTIONS
        return data


def _percent(hits: int, cases: int) -> str:
    return f"{hits} of {cases} ({hits / cases:.0%})" if cases else f"{hits} of {cases}"


def _not_suggested_by(pattern_ids: Sequence[str]) -> str:
    """'x does not suggest', 'neither x nor y suggests' or 'none of x, y, z suggests'."""
    if len(pattern_ids) == 1:
        return f"{pattern_ids[0]} does not suggest"
    if len(pattern_ids) == 2:
        return f"neither {pattern_ids[0]} nor {pattern_ids[1]} suggests"
    return f"none of {', '.join(pattern_ids)} suggests"


def _uncaptured_kinds(facts: WorkflowFacts, kb: KnowledgeBase) -> list[str]:
    """Kinds of the solution that none of the patterns it used suggests."""
    if facts.solution is None or not facts.solution.patterns_used:
        return []
    suggested = {
        kind
        for pattern_id in facts.solution.patterns_used
        if (pattern := kb.patterns.get(pattern_id)) is not None
        for kind in pattern.suggested_resources
    }
    return [kind for kind in facts.kinds if kind not in suggested]


def _is_weak(facts: WorkflowFacts, config: Config) -> bool:
    best = facts.best_pattern
    return facts.retrieved is not None and (
        best is None or best[1] < config.metrics.weak_match_threshold
    )


def _has_something_to_say(facts: WorkflowFacts, kb: KnowledgeBase, config: Config) -> bool:
    has_settings = facts.solution is not None and bool(facts.solution.settings)
    return bool(_uncaptured_kinds(facts, kb)) or _is_weak(facts, config) or has_settings


class _Proposals:
    """Pull requests and decisions by fingerprint, from what the last propose left."""

    def __init__(self, feedback: Feedback, config: Config) -> None:
        self._feedback = feedback
        self._growth = config.learning.resubmit_growth
        from bot.platform.state import records_of

        self._by_fingerprint = {
            record.fingerprint: ProposalLink(
                record.number, record.title, record.url, record.status, record.confidence
            )
            for record in records_of(feedback.proposals)
            if record.status != "closed_obsolete"
        }

    def link(self, fingerprint: str) -> ProposalLink | None:
        return self._by_fingerprint.get(fingerprint)

    def threshold(self, suggestion: Suggestion) -> float:
        return self._feedback.thresholds.get(suggestion.type.value, 0.0)


def _why_not(
    suggestion: Suggestion | None,
    held: HeldBack | None,
    proposals: _Proposals,
    fallback: str,
) -> tuple[ProposalLink | None, str | None]:
    """The proposal for a suggestion, or the reason nothing proposes it (yet)."""
    if suggestion is not None:
        link = proposals.link(suggestion.evidence.fingerprint)
        if link is not None and link.status == "open":
            return link, None
        if link is not None and link.status == "rejected":
            return link, "a reviewer closed the pull request that proposed this (rejected)"
        threshold = proposals.threshold(suggestion)
        if suggestion.confidence < threshold:
            return None, (
                f"confidence {suggestion.confidence:.4f} is below the threshold {threshold:.4f} "
                "that reviewers' decisions set for this type"
            )
        return None, "suggested; its pull request opens on the next scheduled run"
    if held is not None:
        link = proposals.link(held.fingerprint) if held.fingerprint else None
        return link, held.reason
    return None, fallback


def _addition_entries(
    facts: WorkflowFacts, kb: KnowledgeBase, report: UsageReport, run: SuggestionRun,
    proposals: _Proposals,
) -> list[StageEntry]:  # fmt: skip
    from bot.learning.suggestion import SignalName, SuggestionType

    used = facts.solution.patterns_used if facts.solution else []
    entries = []
    for kind in _uncaptured_kinds(facts, kb):
        suggestion = next(
            (
                s
                for s in run.suggestions
                if s.type is SuggestionType.UPDATE_PATTERN
                and s.target in used
                and kind in ((s.changes or {}).get("add", {}).get("suggestedResources", []))
            ),
            None,
        )
        held = next(
            (
                h
                for h in run.held_back
                if h.signal is SignalName.COMMON_ADDITIONS
                and kind in h.item.split("/")
                and any(p in h.item.split("/") for p in used)
            ),
            None,
        )
        if suggestion is not None:
            target = str(suggestion.target)
            hits, cases = suggestion.evidence.hits, suggestion.evidence.cases
        else:
            target = max(
                (p for p in used if p in report.patterns),
                key=lambda p: (report.patterns[p].common_additions.get(kind, 0), p),
                default=used[0],
            )
            usage = report.patterns.get(target)
            hits = usage.common_additions.get(kind, 0) if usage else 0
            cases = usage.times_used if usage else 0
        how_common = f"added in {_percent(hits, cases)} of the solutions that used {target}"
        proposal, reason = _why_not(
            suggestion, held, proposals, f"{how_common}: too rare to suggest"
        )
        entries.append(
            StageEntry(
                "resource_added",
                f"added {kind}, which {_not_suggested_by(used)}",
                hits,
                cases,
                how_common,
                {"resource": kind, "patternsUsed": list(used), "target": target},
                proposal,
                reason,
            )
        )
    return entries


def _weak_match_entry(
    facts: WorkflowFacts, config: Config, report: UsageReport, run: SuggestionRun,
    embedder: TextEmbedder, proposals: _Proposals,
) -> StageEntry:  # fmt: skip
    from bot.learning.suggestion import SuggestionType

    best = facts.best_pattern
    threshold = config.metrics.weak_match_threshold
    intent = facts.intent or ""
    # The proposed pattern that would answer this request: the closest drafted new pattern whose
    # description and triggers match the request at least as well as a strong-enough retrieval.
    drafts = [s for s in run.suggestions if s.type is SuggestionType.CREATE_PATTERN]
    suggestion = None
    if drafts and intent:
        texts = [
            ". ".join([str(s.draft.get("description", "")), *map(str, s.draft.get("triggers", []))])
            for s in drafts
        ]
        vectors = embedder.embed([intent, *texts])
        scores = vectors[1:] @ vectors[0]
        best_draft = int(scores.argmax())
        if float(scores[best_draft]) >= threshold:
            suggestion = drafts[best_draft]
    hits, cases = report.weak_intents_total, report.workflows
    how_common = f"{_percent(hits, cases)} requests matched no pattern well"
    shown = f"{best[0]} at {best[1]:.3f}" if best else "no pattern"
    proposal, reason = _why_not(
        suggestion,
        None,
        proposals,
        f"{how_common}; no group of similar requests is yet large and consistent enough "
        "to draft a pattern",
    )
    return StageEntry(
        "weak_match",
        f"no pattern matched this request well (best: {shown}, below {threshold})",
        hits,
        cases,
        how_common,
        {"bestPattern": best[0] if best else None, "bestScore": best[1] if best else None},
        proposal,
        reason,
    )


def _setting_entries(
    facts: WorkflowFacts, report: UsageReport, run: SuggestionRun, proposals: _Proposals
) -> list[StageEntry]:
    from bot.learning.suggestion import SignalName, SuggestionType

    if facts.solution is None:
        return []
    entries = []
    deployed = report.deployed_solutions
    for path, value in sorted(facts.solution.settings.items()):
        usage = next(
            (u for u in report.settings if u.path == path and u.value == value), None
        )
        if usage is None or not deployed or usage.deployed_workflows * 2 <= deployed:
            continue  # not something most deployments share
        suggestion = next(
            (
                s
                for s in run.suggestions
                if s.type is SuggestionType.CREATE_POLICY
                and s.evidence.details.get("path") == path
            ),
            None,
        )
        held = next(
            (
                h
                for h in run.held_back
                if h.signal is SignalName.COMMON_CONFIGURATION and h.item.split("/")[0] == path
            ),
            None,
        )
        if suggestion is None and held is None:
            continue  # an existing policy already covers it
        hits = suggestion.evidence.hits if suggestion else usage.deployed_workflows
        cases = suggestion.evidence.cases if suggestion else deployed
        how_common = f"set in {_percent(hits, cases)} deployed solutions"
        proposal, reason = _why_not(suggestion, held, proposals, how_common)
        entries.append(
            StageEntry(
                "shared_setting",
                f"set {path} = {usage.value!r}, which most deployments share and no policy covers",
                hits,
                cases,
                how_common,
                {"setting": path, "value": usage.value},
                proposal,
                reason,
            )
        )
    return entries


def learning_suggestions(
    config: Config,
    workflow_id: str,
    logs: Sequence[str],
    *,
    platform_name: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> LearningStage:
    """The final stage for `workflow_id`, from the logs at `logs` and the proposals on record."""
    kb = load_knowledge_base(config.root, config.paths.patterns, config.paths.policies)
    kb.require_valid()
    facts = read_workflow(workflow_id, logs)
    if facts.events == 0:
        return LearningStage(workflow_id, "unknown_workflow")
    if not _has_something_to_say(facts, kb, config):
        return LearningStage(workflow_id, "success")
    from bot.index.embeddings import load_embedder
    from bot.learning.engine import suggest
    from bot.logs.analysis import analyse_logs
    from bot.platform.all_platforms import check_platform, open_platform
    from bot.platform.gitrepo import GitRepo
    from bot.platform.proposer import read_feedback

    environ = os.environ if environ is None else environ
    check_platform(platform_name, environ)  # before the slow work: missing settings fail fast
    report = analyse_logs(config, kb, list(logs))
    platform = open_platform(platform_name, config, GitRepo(config.root), environ)
    feedback = read_feedback(config, platform)
    embedder = load_embedder(config.embedding)
    # Deterministic wording (no drafter): the figures and fingerprints are what matter here.
    run = suggest(
        config, kb, report,
        embedder=embedder, index=None,
        history=feedback.history, min_confidence=min(feedback.thresholds.values()),
    )  # fmt: skip
    proposals = _Proposals(feedback, config)
    stage = LearningStage(workflow_id, "success")
    stage.patterns = _addition_entries(facts, kb, report, run, proposals)
    if _is_weak(facts, config):
        stage.patterns.append(_weak_match_entry(facts, config, report, run, embedder, proposals))
    stage.policies = _setting_entries(facts, report, run, proposals)
    return stage


def stage_lines(stage: LearningStage) -> list[str]:
    """The stage as plain text for a terminal (each value rendered by the console, inert)."""
    if stage.result == "unknown_workflow":
        return [f"no events of workflow {stage.workflow_id} in the logs"]
    if stage.empty:
        return []
    lines = [f"What the knowledge base is learning from workflow {stage.workflow_id}:"]
    for entry in [*stage.patterns, *stage.policies]:
        lines.append(f"- {entry.summary}: {entry.how_common}")
        if entry.proposal is not None:
            link = entry.proposal
            lines.append(
                f"  proposed in #{link.number} ({link.status}, confidence {link.confidence:.2f}): "
                f"{link.title} {link.url}"
            )
        if entry.not_proposed:
            lines.append(f"  not proposed: {entry.not_proposed}")
    lines.append(INSTRUCTIONS)
    return lines
