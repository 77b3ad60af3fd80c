"""A small read API over the proposals patternbot left on a platform, for other features.

Other commands (for example one that shows "the open pull request that proposes this" next to a
workflow) read the state here instead of parsing pull-request bodies themselves:

    from bot.platform.all_platforms import open_platform
    from bot.platform.state import load_proposal_state
    platform = open_platform(None, config, GitRepo(config.root), os.environ)
    records = load_proposal_state(config, platform)

Reading never writes to the platform (the local platform may freeze a decision into its record,
as every run does).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.config import Config
from bot.platform.base import Platform, Proposal
from bot.platform.feedback import decision_of

ProposalRecordStatus = Literal["open", "accepted", "modified", "rejected", "closed_obsolete"]


@dataclass(frozen=True)
class ProposalRecord:
    """One suggestion pull request patternbot opened, and where it stands."""

    number: int
    url: str
    branch: str
    title: str  # untrusted for Markdown: render it through bot.platform.markdown
    status: ProposalRecordStatus
    fingerprint: str
    type: str  # a SuggestionType value
    target: str  # the pattern or policy id it creates or changes
    confidence: float
    hits: int
    cases: int
    human_edits: bool


def record_of(proposal: Proposal) -> ProposalRecord | None:
    """The record of one proposal, or None when it has no patternbot metadata."""
    metadata = proposal.metadata
    if metadata is None:
        return None
    status: ProposalRecordStatus
    if proposal.state == "open":
        status = "open"
    elif proposal.state == "closed" and metadata.closed_reason:
        status = "closed_obsolete"
    else:
        decision = decision_of(proposal)
        status = decision.outcome if decision is not None else "rejected"
    return ProposalRecord(
        number=proposal.number,
        url=proposal.url,
        branch=proposal.branch,
        title=proposal.title,
        status=status,
        fingerprint=metadata.fingerprint,
        type=metadata.type,
        target=metadata.target,
        confidence=metadata.confidence,
        hits=metadata.hits,
        cases=metadata.cases,
        human_edits=metadata.human_edits,
    )


def records_of(proposals: Iterable[Proposal]) -> list[ProposalRecord]:
    """Every patternbot proposal among `proposals`, oldest first."""
    found = [record for proposal in proposals if (record := record_of(proposal)) is not None]
    return sorted(found, key=lambda record: record.number)


def load_proposal_state(config: Config, platform: Platform) -> list[ProposalRecord]:
    """Every proposal patternbot opened on `platform`, open or decided, oldest first."""
    prefix = f"{config.proposals.branch_prefix}/"
    return records_of(p for p in platform.proposals() if p.branch.startswith(prefix))


def open_for(records: Iterable[ProposalRecord], target: str) -> list[ProposalRecord]:
    """The open proposals that create or change the item `target`."""
    return [record for record in records if record.status == "open" and record.target == target]
