"""Reviewers' decisions read back from the platform: accepted, modified, rejected.

- merged: accepted; merged after someone else pushed to the branch: modified;
- closed without merging: rejected, remembered by fingerprint for the learning engine.

Adaptive thresholds (proposals.adaptiveThresholds): once a suggestion type has at least
`proposals.minDecisions` decisions, its confidence threshold is
    learning.minConfidence + proposals.thresholdStep * (rejected - accepted - modified)
clamped to proposals.thresholdBounds. Each rejection raises the bar one step, each acceptance
lowers it one step; the result is a pure function of the decisions, recomputed every run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.config import Config
from bot.learning.history import RejectedSuggestion
from bot.learning.suggestion import SuggestionType
from bot.platform.base import Proposal

Outcome = Literal["accepted", "modified", "rejected"]


@dataclass(frozen=True)
class Decision:
    """What a reviewer did with one suggestion pull request."""

    fingerprint: str
    type: str
    target: str
    outcome: Outcome
    url: str
    hits: int
    cases: int
    confidence: float
    decided_at: str | None
    number: int = 0
    proposed: Mapping[str, list[str]] = field(default_factory=dict)
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TypeAcceptance:
    """Decisions on one suggestion type; `rate` counts modified as accepted."""

    accepted: int
    modified: int
    rejected: int

    @property
    def decided(self) -> int:
        return self.accepted + self.modified + self.rejected

    @property
    def rate(self) -> float | None:
        return (self.accepted + self.modified) / self.decided if self.decided else None

    def to_data(self) -> dict[str, int | float | None]:
        rate = self.rate
        return {
            "accepted": self.accepted,
            "modified": self.modified,
            "rejected": self.rejected,
            "rate": None if rate is None else round(rate, 4),
        }


def decision_of(proposal: Proposal) -> Decision | None:
    """The decision a closed or merged proposal records, or None while open or not the bot's.

    A pull request patternbot closed itself as obsolete records no decision: nobody rejected it.
    """
    metadata = proposal.metadata
    if metadata is None or proposal.state == "open":
        return None
    if proposal.state == "closed" and metadata.closed_reason:
        return None
    outcome: Outcome
    if proposal.state == "closed":
        outcome = "rejected"
    elif metadata.human_edits or (
        metadata.head and proposal.head and metadata.head != proposal.head
    ):
        outcome = "modified"
    else:
        outcome = "accepted"
    return Decision(
        fingerprint=metadata.fingerprint,
        type=metadata.type,
        target=metadata.target,
        outcome=outcome,
        url=proposal.url,
        hits=metadata.hits,
        cases=metadata.cases,
        confidence=metadata.confidence,
        decided_at=proposal.closed_at,
        number=proposal.number,
        proposed=dict(metadata.proposed),
        notices=tuple(metadata.notices),
    )


def decisions_of(proposals: Iterable[Proposal]) -> list[Decision]:
    """Every decision, in the order the proposals were opened."""
    return [decision for proposal in proposals if (decision := decision_of(proposal)) is not None]


class PlatformHistory:
    """A DecisionHistory over a platform's proposals: the latest decision per fingerprint counts.

    A fingerprint with an open pull request newer than its rejection is not rejected (it came
    back with grown evidence or on request), and `exempt` fingerprints (the dashboard's
    "propose again" boxes) are not rejected for this run.
    """

    def __init__(
        self,
        decisions: Iterable[Decision],
        open_after: Mapping[str, int] | None = None,
        exempt: Iterable[str] = (),
    ) -> None:
        latest: dict[str, Decision] = {}
        for decision in decisions:
            latest[decision.fingerprint] = decision
        for fingerprint, number in (open_after or {}).items():
            if fingerprint in latest and latest[fingerprint].number < number:
                del latest[fingerprint]
        for fingerprint in exempt:
            latest.pop(fingerprint, None)
        self._rejected = {
            fingerprint: RejectedSuggestion(
                fingerprint=fingerprint,
                hits=decision.hits,
                cases=decision.cases,
                confidence=decision.confidence,
                url=decision.url,
                rejected_at=decision.decided_at,
            )
            for fingerprint, decision in latest.items()
            if decision.outcome == "rejected"
        }

    def rejected(self) -> Mapping[str, RejectedSuggestion]:
        return self._rejected


def overall_acceptance(acceptance: Mapping[str, TypeAcceptance]) -> TypeAcceptance:
    """All types together: the PRD's "60%+ approved or modified" is measured on this."""
    return TypeAcceptance(
        sum(figures.accepted for figures in acceptance.values()),
        sum(figures.modified for figures in acceptance.values()),
        sum(figures.rejected for figures in acceptance.values()),
    )


# The PRD's success criterion for the share of decided suggestions accepted or modified.
TARGET_ACCEPTANCE = 0.6


def acceptance_by_type(decisions: Iterable[Decision]) -> dict[str, TypeAcceptance]:
    """Accepted, modified and rejected counts for every suggestion type (zero when undecided)."""
    counts = {kind.value: [0, 0, 0] for kind in SuggestionType}
    index = {"accepted": 0, "modified": 1, "rejected": 2}
    for decision in decisions:
        counts.setdefault(decision.type, [0, 0, 0])[index[decision.outcome]] += 1
    return {kind: TypeAcceptance(*values) for kind, values in counts.items()}


def adapted_thresholds(
    config: Config, acceptance: Mapping[str, TypeAcceptance]
) -> dict[str, float]:
    """The confidence a suggestion of each type needs, adapted to how reviewers decided."""
    base = config.learning.min_confidence
    proposals = config.proposals
    low, high = proposals.threshold_bounds
    thresholds = {}
    for kind in SuggestionType:
        figures = acceptance.get(kind.value, TypeAcceptance(0, 0, 0))
        if not proposals.adaptive_thresholds or figures.decided < proposals.min_decisions:
            thresholds[kind.value] = base
            continue
        moved = base + proposals.threshold_step * (
            figures.rejected - figures.accepted - figures.modified
        )
        thresholds[kind.value] = round(min(max(moved, low), high), 4)
    return thresholds


def rejection_bar(decision: Decision, growth: float) -> str:
    """What brings a rejected suggestion back (the engine's rule, learning.resubmitGrowth)."""
    needed = math.ceil(decision.cases * growth)
    return (
        f"its evidence grows to at least {needed} cases (it had {decision.hits} of "
        f"{decision.cases}) at confidence {decision.confidence:.2f} or more"
    )
