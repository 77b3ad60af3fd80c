"""Aggregated workflow logs: usage metrics per item plus what the learning engine needs.

A UsageReport is a pure function of (logs, knowledge base, analysis options): it is recomputed from
scratch on every run, never updated in place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer

from bot.knowledge.schema import CamelModel, UsageMetrics
from bot.logs.events import OutcomeStatus, SettingValue
from bot.logs.profiles import SolutionProfiles

# A report's profiles are arrays (see bot/logs/profiles.py); given as a list of rows, they are
# converted, and they dump as a list of rows.
Profiles = Annotated[
    SolutionProfiles,
    BeforeValidator(SolutionProfiles.validate),
    PlainSerializer(SolutionProfiles.dump, return_type=list),
]


class Window(CamelModel):
    """The span of event timestamps that were analysed (both None when there were no events)."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class DayUses:
    """Workflows that used an item on one day, and how many of them deployed or failed.

    A plain dataclass: there is one per item and day, in every scope.
    """

    used: int = 0
    deployed: int = 0
    failed: int = 0


class ItemUsage(CamelModel):
    """Usage of one pattern or policy. The first five fields are the PRD's `usageMetrics`."""

    times_recommended: int = 0
    times_used: int = 0
    success_rate: float | None = None
    common_additions: dict[str, int] = Field(
        default_factory=dict
    )  # patterns only; kind -> workflows
    last_used: dt.datetime | None = None
    # Outcomes of the workflows that used it (latest per workflow; missing ones not counted).
    deployed: int = 0
    failed: int = 0
    abandoned: int = 0
    # Workflows whose retrieval listed it with score >= learning.strongMatchThreshold, and how many
    # of those then used it: the "recommended as relevant but seldom chosen" signal.
    strong_recommendations: int = 0
    strong_recommendations_used: int = 0
    # Outcome error texts of the failed workflows that used it: normalised message (numbers, ids
    # and hosts masked, secrets redacted) -> failed workflows; the most common first, bounded.
    errors: dict[str, int] = Field(default_factory=dict)
    # Failed workflows that used it, per UTC day (ISO date -> workflows): burst detection.
    failed_by_day: dict[str, int] = Field(default_factory=dict)
    # Workflows whose latest solution used it, per UTC day of that solution, with their outcomes:
    # what an item did since a given day (a merged suggestion's results).
    uses_by_day: dict[str, DayUses] = Field(default_factory=dict)

    def usage_metrics(self) -> UsageMetrics:
        """The PRD's counters, as stored in the Qdrant payload and shown in reports."""
        return UsageMetrics(
            times_recommended=self.times_recommended,
            times_used=self.times_used,
            success_rate=self.success_rate,
            common_additions=dict(self.common_additions),
            last_used=self.last_used,
        )


@dataclass(frozen=True, slots=True)
class PairUsage:
    """Two patterns used together in one solution: `a` < `b` by id; `workflows` counts solutions.

    A plain dataclass: a report can hold one per pair of patterns, in every scope.
    """

    a: str
    b: str
    workflows: int


class SettingUsage(CamelModel):
    """One configuration setting (path = value) and how many deployed solutions carried it."""

    path: str
    value: SettingValue
    deployed_workflows: int
    # Resource kinds present in those solutions: kind -> workflows (for a policy's appliesTo).
    kinds: dict[str, int] = Field(default_factory=dict)


class DayOutcomes(CamelModel):
    """Outcomes of the workflows whose latest outcome fell on one UTC day."""

    deployed: int = 0
    failed: int = 0
    abandoned: int = 0


class WeakIntent(CamelModel):
    """A workflow whose best pattern score was below metrics.weakMatchThreshold (gap evidence).

    `intent` is truncated to metrics.maxIntentLength and has secrets redacted.
    """

    workflow_id: str
    intent: str
    best_pattern: str | None
    best_score: float | None
    kinds: list[str]  # resource kinds of its latest solution, sorted; empty when none
    status: OutcomeStatus | None
    cluster: str | None
    ts: dt.datetime


class Anomaly(CamelModel):
    """Something well-formed in the logs that does not add up; reported, never dropped silently."""

    kind: Literal["unknown_pattern", "unknown_policy", "used_without_retrieval"]
    id: str
    workflows: int
    example_workflow: str


class UsageReport(CamelModel):
    """Metrics for every pattern and policy of the knowledge base, and the learning inputs."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    window: Window = Field(default_factory=Window)
    events: int = 0  # distinct valid events analysed (after dedupe and filters)
    workflows: int = 0
    workflows_with_solution: int = 0
    deployed_solutions: int = 0
    # Every pattern and policy of the knowledge base appears, with zero counts when unused.
    patterns: dict[str, ItemUsage] = Field(default_factory=dict)
    policies: dict[str, ItemUsage] = Field(default_factory=dict)
    co_usage: list[PairUsage] = Field(default_factory=list)
    settings: list[SettingUsage] = Field(default_factory=list)
    weak_intents: list[WeakIntent] = Field(default_factory=list)
    weak_intents_total: int = 0  # before the max_evidence_intents bound
    anomalies: list[Anomaly] = Field(default_factory=list)
    solution_profiles: Profiles = Field(default_factory=SolutionProfiles)
    # All workflows' outcomes per UTC day (ISO date -> counts): burst detection.
    outcomes_by_day: dict[str, DayOutcomes] = Field(default_factory=dict)
    # The same report per cluster (their own `clusters` are empty); workflows without cluster are
    # in no breakdown.
    clusters: dict[str, UsageReport] = Field(default_factory=dict)
    # The same report for the recent window ("recent": the last learning.recentDays days before
    # the newest event) and for the time before it ("earlier"); their own clusters and periods are
    # empty. Empty when the logs span no more than the recent window.
    periods: dict[str, UsageReport] = Field(default_factory=dict)
    rejected_lines: int = 0
    duplicate_events: int = 0
