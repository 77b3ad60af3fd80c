"""The one interface every learning signal implements, and the registry the engine runs.

A signal measures findings (one proportion each) on a usage report, builds suggestions from the
findings that pass, and says how its findings behave around the engine's generic steps: how their
confidence is recomputed at another z (cluster correction, second looks at a recent window), how
clusters pool, whether a held-back finding is worth listing, and which findings it can measure as
zero on a report that shows no instance (to tell a regularity that stopped).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from bot.learning.confidence import wilson_lower_bound, wilson_upper_bound
from bot.learning.findings import Finding, SignalContext
from bot.learning.suggestion import SignalName, Suggestion
from bot.logs.usage import UsageReport

__all__ = [
    "Pooling",
    "ProportionSignal",
    "Signal",
    "SignalName",
    "could_be_a_regularity",
    "registered",
]


class Pooling(StrEnum):
    """How a finding measured in several clusters combines into one overall finding."""

    SUM = "sum"  # the clusters' hits and cases add up; confidence is recomputed on the sums
    NEVER = "never"  # figures relative to a per-report baseline cannot be added up


class Signal(Protocol):
    """One learning signal: measure findings on a report, build suggestions from passing ones."""

    @property
    def name(self) -> SignalName: ...

    @property
    def pooling(self) -> Pooling: ...

    @property
    def drafts_from_used_patterns(self) -> bool:
        """True when drafts combine the patterns in evidence.patternsUsed (never duplicates)."""
        ...

    def measure(self, ctx: SignalContext, report: UsageReport) -> list[Finding]:
        """Every finding the report holds, passing or not."""
        ...

    def build(
        self, ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
    ) -> list[Suggestion]:
        """Suggestions from findings that passed; new ids are drawn from `taken_ids` (updated)."""
        ...

    def confidence(self, finding: Finding, z: float) -> float:
        """The finding's confidence at another z (corrections for testing several times)."""
        ...

    def listed_when_held(self, finding: Finding, threshold: float) -> bool:
        """Whether a finding that did not pass belongs in heldBack (a near miss, not noise)."""
        ...

    def unseen(
        self, ctx: SignalContext, report: UsageReport, key: tuple[str, ...]
    ) -> Finding | None:
        """The finding for `key` on a report that holds no instance of it (0 hits), or None."""
        ...


class ProportionSignal:
    """Defaults for a signal whose confidence is the Wilson lower bound of hits / cases.

    Subclasses set `name` and implement `measure` and `build`.
    """

    name: SignalName
    pooling: Pooling = Pooling.SUM
    drafts_from_used_patterns: bool = False

    def measure(self, ctx: SignalContext, report: UsageReport) -> list[Finding]:
        raise NotImplementedError

    def build(
        self, ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
    ) -> list[Suggestion]:
        raise NotImplementedError

    def confidence(self, finding: Finding, z: float) -> float:
        return wilson_lower_bound(finding.hits, finding.cases, z)

    def listed_when_held(self, finding: Finding, threshold: float) -> bool:
        return could_be_a_regularity(finding.hits, finding.cases, threshold)

    def unseen(
        self, ctx: SignalContext, report: UsageReport, key: tuple[str, ...]
    ) -> Finding | None:
        return None


def could_be_a_regularity(hits: int, cases: int, threshold: float) -> bool:
    """Whether the data cannot rule out that hits / cases holds in most cases (a near miss).

    Its Wilson upper bound reaches one half (or the threshold, when that is lower): noise such as a
    kind added in 20% of 100 uses is ruled out and not listed, while 5 of 12 cannot be ruled out.
    """
    return wilson_upper_bound(hits, cases) >= min(threshold, 0.5)


def registered() -> tuple[Signal, ...]:
    """Every signal the engine runs, in the order their suggestions are built."""
    # Imported here: the signal modules import this interface.
    from bot.learning import additions, co_usage, configurations, deprecation, gaps

    return (
        additions.COMMON_ADDITIONS,
        gaps.GAP,
        co_usage.CO_USAGE,
        configurations.COMMON_CONFIGURATION,
        deprecation.RARELY_USED,
        deprecation.FAILING,
    )
