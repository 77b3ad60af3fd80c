"""The ground-truth manifest: every planted regularity and negative control, with what was drawn.

The manifest is written next to the logs as `ground-truth.json` (not `.jsonl`: log readers skip it).
"Expected" holds the planted parameters; "observed" holds the counts in the written logs, computed
the way the metrics define them (each workflow's latest solution and outcome).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from bot.knowledge.repository import KnowledgeBase
from bot.knowledge.schema import CamelModel
from testing.simulation.intents import GAP_FAMILIES
from testing.simulation.scenario import (
    NON_ROOT_PATH,
    NON_ROOT_VALUE,
    SECCOMP_PATH,
    SECCOMP_VALUE,
    Scenario,
)

MANIFEST_NAME = "ground-truth.json"
MANIFEST_VERSION = 1

RegularityType = Literal[
    "update_pattern", "create_pattern", "create_policy", "deprecate_pattern", "none"
]


class Regularity(CamelModel):
    """A planted regularity (a suggestion to make) or a negative control (type "none")."""

    name: str
    type: RegularityType
    signal: str
    target: str | None = None
    cluster: str | None = None
    expected: dict[str, Any]
    must_not_suggest: dict[str, Any] | None = None
    observed: dict[str, Any] = Field(default_factory=dict)
    description: str


class MessyCounts(CamelModel):
    """How much deliberate mess the logs hold (all zero for clean logs)."""

    duplicates: int = 0
    out_of_order: int = 0
    second_solutions: int = 0
    malformed: int = 0
    malformed_by_reason: dict[str, int] = Field(default_factory=dict)


class ManifestWindow(CamelModel):
    start: dt.datetime
    end: dt.datetime


class GroundTruth(CamelModel):
    """What a simulation wrote and what it planted."""

    version: int = MANIFEST_VERSION
    world: str | None = None  # the testing.worlds world, None for the calibration simulator
    seed: int
    events: int  # distinct valid events
    workflows: int
    lines: int  # every line written, duplicates and malformed ones included
    window: ManifestWindow
    files: list[str]
    knowledge_base: dict[str, int]
    messy: MessyCounts | None = None
    regularities: list[Regularity]

    def planted(self) -> list[Regularity]:
        """The regularities a learning engine should turn into suggestions."""
        return [item for item in self.regularities if item.type != "none"]

    def controls(self) -> list[Regularity]:
        """The negative controls: what must not be suggested."""
        return [item for item in self.regularities if item.type == "none"]

    def write(self, path: Path) -> None:
        """Write the manifest as indented JSON with camelCase keys."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> GroundTruth:
        """Load a manifest written by `write`."""
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


@dataclass
class Observation:
    """What the logs say about one workflow, as the metrics see it (latest solution and outcome)."""

    role: str
    cluster: str
    ranking: list[tuple[str, float]]
    used: list[str] | None  # None when the workflow has no solution
    kinds: list[str]
    settings: dict[str, object]
    status: str | None


def _share(hits: int, cases: int) -> dict[str, Any]:
    return {"hits": hits, "cases": cases, "frequency": round(hits / cases, 4) if cases else None}


@dataclass
class Tally:
    """Counts the observed side of every regularity while the logs are written."""

    scenario: Scenario
    kb: KnowledgeBase
    counters: Counter[str] = field(default_factory=Counter)
    best_gap_score: float = 0.0

    def _added(self, obs: Observation, target: str, kind: str) -> tuple[bool, bool]:
        """(the workflow used `target`, and its solution added `kind` beyond every used pattern)."""
        if obs.used is None or target not in obs.used:
            return False, False
        suggested = {
            k
            for item in obs.used
            if item in self.kb.patterns
            for k in self.kb.patterns[item].suggested_resources
        }
        return True, kind in obs.kinds and kind not in suggested

    def _count_addition(self, name: str, obs: Observation, target: str, kind: str) -> None:
        used, added = self._added(obs, target, kind)
        self.counters[f"{name}.cases"] += used
        self.counters[f"{name}.hits"] += added

    def observe(self, obs: Observation) -> None:
        """Count one workflow."""
        s, c = self.scenario, self.counters
        self._count_addition("addition", obs, s.addition_target, s.added_kind)
        self._count_addition("addition_partner", obs, s.co_used, s.added_kind)
        self._count_addition("noise", obs, s.noise_target, s.noise_kind)
        self._count_addition("tiny", obs, s.tiny_target, s.tiny_kind)
        where = "cluster" if obs.cluster == s.cluster else "elsewhere"
        self._count_addition(where, obs, s.cluster_target, s.cluster_kind)
        scores = dict(obs.ranking)
        if scores.get(s.rarely_used, -1.0) >= s.strong_threshold:
            c["rarely.cases"] += 1
            c["rarely.hits"] += obs.used is not None and s.rarely_used in obs.used
        if obs.role == "gap":
            c["gap.workflows"] += 1
            self.best_gap_score = max(
                self.best_gap_score, obs.ranking[0][1] if obs.ranking else 0.0
            )
            if obs.used is not None:
                c["gap.cases"] += 1
                c["gap.hits"] += set(self._family().resources) <= set(obs.kinds)
                c["gap.withoutPattern"] += not obs.used
        if obs.used is None:
            return
        c["solutions"] += 1
        for name, (a, b) in (("co", (s.co_used, s.addition_target)), ("pair", s.base_rate_pair)):
            c[f"{name}.a"] += a in obs.used
            c[f"{name}.b"] += b in obs.used
            c[f"{name}.both"] += a in obs.used and b in obs.used
        if obs.status in ("deployed", "failed"):
            group = "failing" if s.failing_target in obs.used else "others"
            c[f"{group}.cases"] += 1
            c[f"{group}.hits"] += obs.status == "failed"
        if obs.status == "deployed":
            c["deployed"] += 1
            c["seccomp"] += obs.settings.get(SECCOMP_PATH) == SECCOMP_VALUE
            c["nonRoot"] += obs.settings.get(NON_ROOT_PATH) is NON_ROOT_VALUE

    def _family(self) -> Any:
        return next(family for family in GAP_FAMILIES if family.name == self.scenario.gap_family)

    def _lift(self, name: str) -> dict[str, Any]:
        c = self.counters
        total, a, b, both = c["solutions"], c[f"{name}.a"], c[f"{name}.b"], c[f"{name}.both"]
        lift = round(both * total / (a * b), 4) if a and b else None
        return {**_share(both, a), "lift": lift, "solutions": total, "usesOfSecond": b}

    def regularities(self) -> list[Regularity]:
        """The manifest entries, with the observed counts."""
        s, c = self.scenario, self.counters
        shares = dict(s.shares)
        alone = shares["addition"]
        together = shares["co_usage"] * s.co_usage_rate
        in_gap = shares["gap"] * s.gap_pattern_rate
        addition_expected = (alone * s.addition_rate + together * s.addition_rate_with_partner) / (
            alone + together + in_gap
        )
        family = self._family()
        pair = sorted(s.base_rate_pair)
        entries = [
            Regularity(
                name="common-addition",
                type="update_pattern",
                signal="common_additions",
                target=s.addition_target,
                expected={"add": [s.added_kind], "frequency": round(addition_expected, 2)},
                observed=_share(c["addition.hits"], c["addition.cases"]),
                description=f"{s.addition_target} solutions add {s.added_kind} in most of its uses",
            ),
            Regularity(
                name="gap",
                type="create_pattern",
                signal="gap",
                expected={
                    "family": family.name,
                    "resources": sorted(family.resources),
                    "maxBestScore": 0.4,
                },
                observed={
                    **_share(c["gap.hits"], c["gap.cases"]),
                    "workflows": c["gap.workflows"],
                    "withoutPattern": c["gap.withoutPattern"],
                    "bestScore": round(self.best_gap_score, 4),
                },
                description=f"recurring {family.name} intents no pattern covers, one resource set",
            ),
            Regularity(
                name="co-usage",
                type="create_pattern",
                signal="co_usage",
                expected={
                    "patterns": sorted([s.co_used, s.addition_target]),
                    "confidence": s.co_usage_rate,
                    "minLift": 1.5,
                },
                observed=self._lift("co"),
                description=f"{s.addition_target} is used in most of {s.co_used}'s uses",
            ),
            Regularity(
                name="common-configuration",
                type="create_policy",
                signal="common_configuration",
                expected={
                    "path": SECCOMP_PATH,
                    "value": SECCOMP_VALUE,
                    "frequency": s.seccomp_share,
                },
                observed=_share(c["seccomp"], c["deployed"]),
                description=f"{SECCOMP_PATH} = {SECCOMP_VALUE} in most deployed solutions",
            ),
            Regularity(
                name="rarely-used",
                type="deprecate_pattern",
                signal="rarely_used",
                target=s.rarely_used,
                expected={"minScore": 0.6, "usedShareBelow": 0.1},
                observed=_share(c["rarely.hits"], c["rarely.cases"]),
                description=f"{s.rarely_used} is retrieved with a strong score but seldom chosen",
            ),
            Regularity(
                name="failing",
                type="update_pattern",
                signal="failing",
                target=s.failing_target,
                expected={"failureRate": s.failure_rate, "othersFailureRate": s.base_failure_rate},
                observed={
                    **_share(c["failing.hits"], c["failing.cases"]),
                    "others": _share(c["others.hits"], c["others.cases"]),
                },
                description=f"{s.failing_target} deployments fail far more often than the rest",
            ),
            Regularity(
                name="cluster-specific-addition",
                type="update_pattern",
                signal="common_additions",
                target=s.cluster_target,
                cluster=s.cluster,
                expected={"add": [s.cluster_kind], "frequency": s.cluster_rate, "elsewhere": 0.0},
                observed={
                    **_share(c["cluster.hits"], c["cluster.cases"]),
                    "elsewhere": _share(c["elsewhere.hits"], c["elsewhere.cases"]),
                },
                description=f"in {s.cluster} only, {s.cluster_target} adds {s.cluster_kind}",
            ),
            Regularity(
                name="noise-addition",
                type="none",
                signal="common_additions",
                target=s.noise_target,
                expected={"add": [s.noise_kind], "frequency": s.noise_rate},
                must_not_suggest={
                    "type": "update_pattern",
                    "target": s.noise_target,
                    "add": [s.noise_kind],
                },
                observed=_share(c["noise.hits"], c["noise.cases"]),
                description=f"{s.noise_target} adds {s.noise_kind} in a fifth of its uses: noise",
            ),
            Regularity(
                name="partner-addition",
                type="none",
                signal="common_additions",
                target=s.co_used,
                expected={
                    "add": [s.added_kind],
                    "frequency": round(s.co_usage_rate * s.addition_rate_with_partner, 2),
                },
                must_not_suggest={
                    "type": "update_pattern",
                    "target": s.co_used,
                    "add": [s.added_kind],
                },
                observed=_share(c["addition_partner.hits"], c["addition_partner.cases"]),
                description=f"{s.co_used} solutions hold {s.added_kind} via {s.addition_target}",
            ),
            Regularity(
                name="tiny-sample",
                type="none",
                signal="common_additions",
                target=s.tiny_target,
                expected={"add": [s.tiny_kind], "uses": s.tiny_uses, "frequency": 1.0},
                must_not_suggest={
                    "type": "update_pattern",
                    "target": s.tiny_target,
                    "add": [s.tiny_kind],
                },
                observed=_share(c["tiny.hits"], c["tiny.cases"]),
                description=f"{s.tiny_target} adds {s.tiny_kind} in all {s.tiny_uses} uses",
            ),
            Regularity(
                name="base-rate-pair",
                type="none",
                signal="co_usage",
                expected={"patterns": pair, "lift": 1.0},
                must_not_suggest={"type": "create_pattern", "patterns": pair},
                observed=self._lift("pair"),
                description=f"{pair[0]} and {pair[1]} are used together only by chance",
            ),
        ]
        if s.covered_policy is not None:
            entries.append(
                Regularity(
                    name="covered-configuration",
                    type="none",
                    signal="common_configuration",
                    expected={
                        "path": NON_ROOT_PATH,
                        "value": NON_ROOT_VALUE,
                        "frequency": s.non_root_share,
                        "coveredBy": s.covered_policy,
                    },
                    must_not_suggest={
                        "type": "create_policy",
                        "path": NON_ROOT_PATH,
                        "value": NON_ROOT_VALUE,
                    },
                    observed=_share(c["nonRoot"], c["deployed"]),
                    description=f"{NON_ROOT_PATH} = true, declared by {s.covered_policy}",
                )
            )
        return entries
