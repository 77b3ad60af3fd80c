"""What a run did with each suggestion and each open suggestion pull request: the run's record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.learning.suggestion import Suggestion
from bot.platform.base import Proposal, ProposalStatus
from bot.platform.pr_body import ProposalMetadata, title_of


@dataclass
class ProposalResult:
    """What happened to one suggestion, or to one open pull request, in this run."""

    branch: str
    title: str
    status: ProposalStatus
    type: str
    target: str
    confidence: float
    fingerprint: str
    suggestion: Suggestion | None = None
    body: str = ""
    reason: str | None = None
    url: str | None = None
    number: int | None = None
    diff: str = ""

    @classmethod
    def of(cls, suggestion: Suggestion, branch: str, status: ProposalStatus) -> ProposalResult:
        return cls(
            branch=branch,
            title=title_of(suggestion),
            status=status,
            type=suggestion.type.value,
            target=suggestion.item_id,
            confidence=suggestion.confidence,
            fingerprint=suggestion.evidence.fingerprint,
            suggestion=suggestion,
        )

    @classmethod
    def of_proposal(
        cls, proposal: Proposal, metadata: ProposalMetadata, status: ProposalStatus
    ) -> ProposalResult:
        return cls(
            branch=proposal.branch,
            title=proposal.title,
            status=status,
            type=metadata.type,
            target=metadata.target,
            confidence=metadata.confidence,
            fingerprint=metadata.fingerprint,
            body=proposal.body,
            url=proposal.url,
            number=proposal.number,
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "title": self.title,
            "status": self.status.value,
            "reason": self.reason,
            "type": self.type,
            "target": self.target,
            "confidence": self.confidence,
            "fingerprint": self.fingerprint,
            "number": self.number,
            "url": self.url,
            "diff": self.diff,
            "body": self.body,
        }


@dataclass
class ProposeOutcome:
    """The run's proposals plus what it read, said and what stopped it, if anything."""

    platform: str
    base: str
    dry_run: bool
    results: list[ProposalResult] = field(default_factory=list)
    dashboard: str | None = None
    dashboard_url: str | None = None
    dashboard_body: str | None = None  # what the dashboard says (or would say, in a dry run)
    stopped: str | None = None
    acknowledged: list[str] = field(default_factory=list)  # rejections answered this run
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status.value] = counts.get(result.status.value, 0) + 1
        return counts
