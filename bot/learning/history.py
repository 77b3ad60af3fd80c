"""The decision history the learning engine consults: what reviewers already rejected.

The pull-request layer (bot/platform) implements it from closed pull requests; tests and dry runs
use InMemoryDecisionHistory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from pydantic import Field

from bot.knowledge.schema import CamelModel


class RejectedSuggestion(CamelModel):
    """A suggestion a reviewer rejected (closed its pull request unmerged), with its evidence."""

    fingerprint: str
    hits: int
    cases: int
    confidence: float
    url: str | None = None  # the closed pull request, linked from a re-proposal
    rejected_at: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)


class DecisionHistory(Protocol):
    """Source of past decisions, keyed by suggestion fingerprint."""

    def rejected(self) -> Mapping[str, RejectedSuggestion]:
        """Every rejected suggestion still remembered, by fingerprint."""
        ...


class InMemoryDecisionHistory:
    """A DecisionHistory held in memory: no rejections unless given."""

    def __init__(self, rejected: Mapping[str, RejectedSuggestion] | None = None) -> None:
        self._rejected = dict(rejected or {})

    def rejected(self) -> Mapping[str, RejectedSuggestion]:
        return self._rejected
