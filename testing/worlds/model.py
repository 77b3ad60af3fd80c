"""What a simulated world is made of: a knowledge base, workflow families, settings and truth.

A world is plain data. `testing.worlds.generate` draws workflows from its families and writes v1
logs; the ground truth (what a reviewer would want proposed, and what must not be) is part of the
world, so it is fixed before a single event is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from testing.simulation.groundtruth import Regularity

CLUSTERS: tuple[str, ...] = ("dev", "staging", "prod-us", "prod-eu")


@dataclass(frozen=True)
class KindDraw:
    """A resource kind a family's solutions hold with probability `rate`, drawn independently.

    `since_day`/`until_day` bound the days of the window in which the kind is drawn at all (a
    recent adoption starts late; an abandoned habit stops early); `cluster` limits it to one.
    """

    kind: str
    rate: float
    since_day: float = 0.0
    until_day: float = 1e9
    cluster: str | None = None

    def active(self, day: float, cluster: str) -> bool:
        return self.since_day <= day < self.until_day and (
            self.cluster is None or self.cluster == cluster
        )


@dataclass(frozen=True)
class SettingDraw:
    """A setting path a pod-bearing solution carries with probability `rate`, value drawn evenly."""

    path: str
    values: tuple[str | int | float | bool, ...]
    rate: float
    since_day: float = 0.0
    until_day: float = 1e9

    def active(self, day: float) -> bool:
        return self.since_day <= day < self.until_day


@dataclass(frozen=True)
class Family:
    """One kind of workflow: what users ask, what retrieval ranked, what the solution held.

    `leading` are the retrieval's first entries as (pattern id, lowest score, highest score); the
    ranking is filled with other patterns below them. `choices` are the alternative pattern sets a
    solution uses, with their probabilities (the rest: `fallback_used`); `kinds` are drawn
    independently per solution, plus `choice_kinds` for the chosen set.
    """

    name: str
    weight: float  # share of workflows (ignored when `count` is set)
    intents: tuple[str, ...]
    leading: tuple[tuple[str, float, float], ...]
    kinds: tuple[KindDraw, ...] = ()
    choices: tuple[tuple[tuple[str, ...], float, tuple[KindDraw, ...]], ...] = ()
    fallback_used: tuple[str, ...] = ()
    fallback_kinds: tuple[KindDraw, ...] = ()
    failure_rate: float | None = None  # None: the world's base rate
    dominant_error: str | None = None  # a template with {ip}, {port}, {id}, {n} placeholders
    dominant_share: float = 0.0
    count: int | None = None  # exactly this many workflows, spread over the window
    weak: bool = False  # the best retrieval score is below the weak-match threshold
    app: str = "app"


@dataclass(frozen=True)
class Burst:
    """A failure burst: for a day or two every deployment fails often with one message."""

    start_day: float
    days: float
    failure_rate: float
    error: str


@dataclass
class World:
    """A knowledge base, the workload drawn against it and what a reviewer would want proposed."""

    name: str
    description: str
    patterns: list[dict[str, Any]]
    policies: list[dict[str, Any]]
    families: list[Family]
    settings: list[SettingDraw]
    truth: list[Regularity]
    days: int = 90
    clusters: tuple[tuple[str, float], ...] = (
        ("dev", 0.24),
        ("staging", 0.21),
        ("prod-us", 0.29),
        ("prod-eu", 0.26),
    )
    base_failure_rate: float = 0.04
    errors: tuple[str, ...] = ()
    burst: Burst | None = None
    solution_rate: float = 0.93
    outcome_rate: float = 0.95
    abandon_rate: float = 0.05
    sources: dict[str, str] = field(default_factory=dict)  # corpus file -> what it supplied

    def pattern_ids(self) -> list[str]:
        return [str(p["id"]) for p in self.patterns]

    def resources_of(self, pattern_id: str) -> list[str]:
        return next(list(p["suggestedResources"]) for p in self.patterns if p["id"] == pattern_id)
