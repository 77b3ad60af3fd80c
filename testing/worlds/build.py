"""Turning a world plan (which charts and policies play which role) into a World with its truth.

Every phenomenon of a plan becomes workflow families and ground-truth entries together, so the
truth is exactly what was planted. Rates and roles are the plan's; the builder only checks that
they make sense (a planted addition is not already suggested, a covering policy exists...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testing.simulation.groundtruth import Regularity
from testing.simulation.intents import COVERED_TEMPLATES, SCATTERED_INTENTS, SCATTERED_KINDS
from testing.worlds import corpus
from testing.worlds.model import Burst, Family, KindDraw, SettingDraw, World

CREATED_AT = "2026-07-01"
FILLED_AT = "2026-10-29"  # two days before the simulated window ends
OWN_KIND_RATE = 0.97  # a solution holds each of its pattern's kinds (one left out now and then)
GENERIC_ERRORS = (
    "ImagePullBackOff: back-off pulling image registry.internal/{pod}:1.{n}.0",
    "CrashLoopBackOff: container exited with code {n}",
    "rollout timed out after {n}s waiting for ready replicas",
    "OOMKilled: container {pod} exceeded its memory limit",
    "FailedScheduling: 0/{n} nodes are available: insufficient cpu",
    "Readiness probe failed: HTTP probe failed with statuscode: 503",
)
GAP_TEMPLATES = (
    "we need {np} for the {{team}} team",
    "set up {np} in {{env}}",
    "deploy {np} on Kubernetes",
    "can you give us {np}?",
    "{{team}} wants {np} in production",
    "I'm looking for {np}",
)


@dataclass(frozen=True)
class GapPlan:
    """A recurring request no pattern covers: held-out charts, paraphrases, independent kinds."""

    name: str
    charts: tuple[str, ...]  # held out of the knowledge base; their texts feed the intents
    phrases: tuple[str, ...]  # hand-written paraphrases of the same need
    kinds: tuple[tuple[str, float], ...]  # each kind of the set, drawn independently
    noise: tuple[tuple[str, float], ...] = ()  # kinds that join now and then (not in the set)
    weight: float = 0.05


@dataclass(frozen=True)
class SettingPlan:
    """A setting in solutions, and who (if anyone) already governs it."""

    name: str
    path: str
    values: tuple[str | int | float | bool, ...]  # one value: a value convention; several: presence
    rate: float
    covered_by: str | None = None  # a policy id of the knowledge base
    since_day: float = 0.0
    until_day: float = 1e9
    noise: bool = False


@dataclass(frozen=True)
class WorldPlan:
    """Which charts and policies play which role in a world, and how strongly."""

    name: str
    description: str
    patterns: tuple[str, ...]  # charts that become patterns
    partner: tuple[str, str, str]  # (ingress-like pattern, web-like partner, kind the partner adds)
    partner_share: float  # share of the first pattern's uses that co-use the partner
    addition: tuple[str, str, float]
    cluster_addition: tuple[str, str, str, float]
    recent_kind: tuple[str, str, float] | None  # (pattern, kind, day it starts)
    noise: tuple[tuple[str, str, float], ...]
    tiny: tuple[str, str, int]
    failing: tuple[str, float, str, str, float]  # (pattern, rate, error template, marker, share)
    rarely: tuple[str, str, tuple[str, ...]]  # (pattern, rival, intents that rank it first)
    duplicate: tuple[str, str, str, str]  # (a, b, combined id, combined description)
    covered_worded: tuple[str, tuple[str, ...]]  # (pattern, paraphrases it does not match well)
    filled_gap: tuple[str, tuple[str, ...]]  # (pattern added after the logs, requests it matches)
    gaps: tuple[GapPlan, ...]
    policies: tuple[dict[str, Any], ...]
    settings: tuple[SettingPlan, ...]
    burst: Burst
    background: tuple[str, ...]
    clusters: tuple[tuple[str, float], ...]
    sources: dict[str, str] = field(default_factory=dict)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def chart_pattern(record: dict[str, Any]) -> dict[str, Any]:
    """A pattern made from a Helm chart: its description, keywords and default-on core kinds."""
    name = str(record["chart"])
    keywords = corpus.informative_keywords(record)
    triggers = list(dict.fromkeys([name.replace("-", " "), *keywords]))[:6]
    return {
        "id": name,
        "description": corpus.first_sentence(str(record["description"])),
        "triggers": triggers,
        "suggestedResources": corpus.core_kinds(record),
        "rationale": f"What the {record['source']} chart {name} creates with its default values.",
        "createdAt": CREATED_AT,
        "createdBy": "platform-team",
    }


def _things(pattern: dict[str, Any], record: dict[str, Any] | None) -> tuple[str, ...]:
    name = str(pattern["id"]).replace("-", " ")
    things = [name, f"a {name} instance"]
    things += [f"a {keyword} setup" for keyword in pattern["triggers"][1:4]]
    if record is not None:
        things.append(corpus.what_it_is(str(record["description"])))
    return tuple(dict.fromkeys(things))


def _covered_intents(pattern: dict[str, Any], record: dict[str, Any] | None) -> tuple[str, ...]:
    return tuple(
        template.replace("{team}", "{team}")
        .replace("{env}", "{env}")
        .format(thing=thing.replace("{", "(").replace("}", ")"), team="{team}", env="{env}")
        for template in COVERED_TEMPLATES
        for thing in _things(pattern, record)
    )


def _own(pattern: dict[str, Any]) -> tuple[KindDraw, ...]:
    return tuple(KindDraw(kind, OWN_KIND_RATE) for kind in pattern["suggestedResources"])


def _reg(name: str, kind: str, signal: str, description: str, **fields: Any) -> Regularity:
    if kind == "none":
        return Regularity(
            name=name,
            type="none",
            signal=signal,
            description=description,
            expected=fields.pop("expected", {}),
            must_not_suggest=fields.pop("must_not"),
            **fields,
        )
    return Regularity(name=name, type=kind, signal=signal, description=description, **fields)  # type: ignore[arg-type]


class _Builder:
    def __init__(self, plan: WorldPlan, folder: Path) -> None:
        self.plan = plan
        self.charts = corpus.charts(folder)
        self.patterns: dict[str, dict[str, Any]] = {}
        self.families: list[Family] = []
        self.truth: list[Regularity] = []

    def chart(self, name: str) -> dict[str, Any]:
        if name not in self.charts:
            raise corpus.CorpusMissing(f"chart {name!r} is not in charts.jsonl")
        return self.charts[name]

    def pattern(self, name: str) -> dict[str, Any]:
        if name not in self.patterns:
            self.patterns[name] = chart_pattern(self.chart(name))
        return self.patterns[name]

    def kinds(self, name: str) -> list[str]:
        return list(self.pattern(name)["suggestedResources"])

    def lacks(self, name: str, kind: str) -> None:
        if kind in self.kinds(name):
            raise ValueError(f"{self.plan.name}: {name} already suggests {kind}")

    def plain(
        self, name: str, weight: float, extra: tuple[KindDraw, ...] = (), **more: Any
    ) -> None:
        pattern = self.pattern(name)
        self.families.append(
            Family(
                name=f"{name}-uses",
                weight=weight,
                intents=_covered_intents(pattern, self.charts.get(name)),
                leading=((name, 0.6, 0.8),),
                kinds=_own(pattern) + extra,
                fallback_used=(name,),
                app=name,
                **more,
            )
        )

    def build(self) -> World:
        plan = self.plan
        for name in plan.patterns:
            self.pattern(name)
        self._partner()
        self._additions()
        self._failing_and_rarely()
        self._duplicate()
        self._covered_worded()
        self._filled_gap()
        for gap in plan.gaps:
            self._gap(gap)
        self.families.append(
            Family(
                name="scattered",
                weight=0.03,
                intents=SCATTERED_INTENTS,
                leading=(),
                kinds=tuple(KindDraw(kind, 0.3) for kind in SCATTERED_KINDS),
                weak=True,
                app="ops",
            )
        )
        for rank, name in enumerate(plan.background):
            self.plain(name, 0.1 / (rank + 1) ** 0.8 / len(plan.background) * 2)
        settings = self._settings()
        seen = {
            item
            for family in self.families
            for item in (
                *(lead[0] for lead in family.leading),
                *(item for used, _, _ in family.choices for item in used),
                *family.fallback_used,
            )
        }
        missing = [p for p in self.patterns if p not in seen and p != plan.filled_gap[0]]
        if missing:
            raise ValueError(f"{plan.name}: patterns never given a role: {missing}")
        self.truth.append(
            _reg(
                "failure-burst",
                "none",
                "failing",
                "every pattern fails for a day or two at once: no pattern's fault",
                expected={"burstStartDay": plan.burst.start_day, "burstDays": plan.burst.days},
                must_not={
                    "proposal": "failing_any",
                    "type": "update_pattern",
                    "targets": sorted(p for p in self.patterns if p != plan.failing[0]),
                    "burstStartDay": plan.burst.start_day,
                    "burstDays": plan.burst.days,
                },
            )
        )
        return World(
            name=plan.name,
            description=plan.description,
            patterns=list(self.patterns.values()),
            policies=list(plan.policies),
            families=self.families,
            settings=settings,
            truth=self.truth,
            clusters=plan.clusters,
            errors=GENERIC_ERRORS,
            burst=plan.burst,
            sources=dict(plan.sources),
        )

    # -- phenomena ---------------------------------------------------------------------------

    def _partner(self) -> None:
        plan = self.plan
        first, partner, kind = plan.partner
        self.lacks(first, kind)
        self.lacks(partner, kind)
        joined = (*_own(self.pattern(partner)), KindDraw(kind, 0.95))
        self.families.append(
            Family(
                name=f"{first}-uses",
                weight=0.07,
                intents=_covered_intents(self.pattern(first), self.charts.get(first)),
                leading=((first, 0.62, 0.8), (partner, 0.5, 0.6)),
                kinds=_own(self.pattern(first)),
                choices=(((first, partner), plan.partner_share, joined),),
                fallback_used=(first,),
                app=first,
            )
        )
        self.plain(partner, 0.09, (KindDraw(kind, 0.95),))
        self.truth += [
            _reg(
                "partner-explained-addition",
                "update_pattern",
                "common_additions",
                f"{partner} solutions add {kind}; {first} holds it only co-used with {partner}",
                target=partner,
                expected={"proposal": "add_kinds", "add": [kind], "frequency": 0.95},
            ),
            _reg(
                "co-usage",
                "create_pattern",
                "co_usage",
                f"{partner} is used in most of {first}'s uses",
                expected={
                    "proposal": "combine",
                    "patterns": sorted([first, partner]),
                    "confidence": plan.partner_share,
                },
            ),
            _reg(
                "partner-inherited-addition",
                "none",
                "common_additions",
                f"{first} holds {kind} only through {partner} (0% without it): not {first}'s kind",
                target=first,
                expected={"proposal": "add_kinds", "add": [kind], "partner": partner},
                must_not={
                    "proposal": "add_kinds",
                    "type": "update_pattern",
                    "target": first,
                    "add": [kind],
                    "anyCluster": True,
                    "partner": partner,
                },
            ),
        ]

    def _additions(self) -> None:
        plan = self.plan
        name, kind, rate = plan.addition
        self.lacks(name, kind)
        self.plain(name, 0.08, (KindDraw(kind, rate),))
        self.truth.append(
            _reg(
                "common-addition",
                "update_pattern",
                "common_additions",
                f"{name} solutions add {kind} in most uses",
                target=name,
                expected={"proposal": "add_kinds", "add": [kind], "frequency": rate},
            )
        )
        name, kind, cluster, rate = plan.cluster_addition
        self.lacks(name, kind)
        self.plain(name, 0.08, (KindDraw(kind, rate, cluster=cluster),))
        self.truth.append(
            _reg(
                "cluster-specific-addition",
                "update_pattern",
                "common_additions",
                f"on {cluster} only, {name} solutions add {kind}",
                target=name,
                cluster=cluster,
                expected={"proposal": "add_kinds", "add": [kind], "frequency": rate},
            )
        )
        if plan.recent_kind is not None:
            name, kind, since = plan.recent_kind
            self.lacks(name, kind)
            self.plain(name, 0.08, (KindDraw(kind, 0.96, since_day=since),))
            self.truth.append(
                _reg(
                    "recent-adoption",
                    "update_pattern",
                    "recent_addition",
                    f"since day {since:g} every team using {name} adds {kind}",
                    target=name,
                    expected={"proposal": "add_kinds", "add": [kind], "sinceDay": since},
                )
            )
        for name, kind, rate in plan.noise:
            self.lacks(name, kind)
            self.plain(name, 0.05, (KindDraw(kind, rate),))
            self.truth.append(
                _reg(
                    f"noise-addition-{name}",
                    "none",
                    "common_additions",
                    f"{name} solutions add {kind} in about {rate:.0%} of uses: noise",
                    target=name,
                    expected={"proposal": "add_kinds", "add": [kind], "frequency": rate},
                    must_not={
                        "proposal": "add_kinds",
                        "type": "update_pattern",
                        "target": name,
                        "add": [kind],
                        "anyCluster": True,
                    },
                )
            )
        name, kind, uses = plan.tiny
        self.lacks(name, kind)
        pattern = self.pattern(name)
        self.families.append(
            Family(
                name=f"{name}-tiny",
                weight=0.0,
                intents=_covered_intents(pattern, self.charts.get(name)),
                leading=((name, 0.6, 0.8),),
                kinds=(
                    *(KindDraw(k, 1.0) for k in pattern["suggestedResources"]),
                    KindDraw(kind, 1.0),
                ),
                fallback_used=(name,),
                count=uses,
                app=name,
            )
        )
        self.truth.append(
            _reg(
                "tiny-sample",
                "none",
                "common_additions",
                f"{name} is used about {uses} times, each adding {kind}: too few",
                target=name,
                expected={"proposal": "add_kinds", "add": [kind], "uses": uses},
                must_not={
                    "proposal": "add_kinds",
                    "type": "update_pattern",
                    "target": name,
                    "add": [kind],
                    "anyCluster": True,
                },
            )
        )

    def _failing_and_rarely(self) -> None:
        plan = self.plan
        name, rate, error, marker, share = plan.failing
        self.plain(name, 0.07, failure_rate=rate, dominant_error=error, dominant_share=share)
        self.truth.append(
            _reg(
                "failing",
                "update_pattern",
                "failing",
                f"{name} deployments fail far more often, mostly with one error",
                target=name,
                expected={
                    "proposal": "note",
                    "failureRate": rate,
                    "errorMarker": marker,
                    "dominantShare": share,
                },
            )
        )
        name, rival, intents = plan.rarely
        rival_pattern = self.pattern(rival)
        self.families.append(
            Family(
                name=f"{name}-rarely-chosen",
                weight=0.05,
                intents=intents,
                leading=((name, 0.62, 0.76), (rival, 0.4, 0.54)),
                choices=(
                    ((name,), 0.05, _own(self.pattern(name))),
                    ((rival,), 0.65, _own(rival_pattern)),
                ),
                fallback_kinds=_own(rival_pattern),
                app=name,
            )
        )
        self.plain(rival, 0.03)
        self.truth.append(
            _reg(
                "rarely-chosen",
                "deprecate_pattern",
                "rarely_used",
                f"{name} is retrieved first for its intents but seldom chosen ({rival} is)",
                target=name,
                expected={"proposal": "deprecate", "usedShareBelow": 0.1},
            )
        )

    def _duplicate(self) -> None:
        a, b, combined, description = self.plan.duplicate
        union = list(dict.fromkeys(self.kinds(a) + self.kinds(b)))
        triggers = [*self.pattern(a)["triggers"][:2], *self.pattern(b)["triggers"][:2]]
        self.patterns[combined] = {
            "id": combined,
            "description": description,
            "triggers": list(dict.fromkeys(triggers)),
            "suggestedResources": union,
            "rationale": f"The {a} and {b} charts deployed together, as most teams do.",
            "createdAt": CREATED_AT,
            "createdBy": "platform-team",
        }
        self.families.append(
            Family(
                name=f"{a}-with-{b}",
                weight=0.05,
                intents=_covered_intents(self.pattern(a), self.charts.get(a)),
                leading=((a, 0.62, 0.8), (b, 0.5, 0.6)),
                kinds=_own(self.pattern(a)),
                choices=(((a, b), 0.8, _own(self.pattern(b))),),
                fallback_used=(a,),
                app=a,
            )
        )
        self.plain(b, 0.03)
        self.plain(combined, 0.02)
        self.truth.append(
            _reg(
                "duplicate-combination",
                "none",
                "co_usage",
                f"{a} and {b} are used together, but {combined} already combines them",
                expected={"proposal": "combine", "patterns": sorted([a, b]), "existing": combined},
                must_not={
                    "proposal": "combine",
                    "type": "create_pattern",
                    "patterns": sorted([a, b]),
                    "resources": union,
                },
            )
        )

    def _covered_worded(self) -> None:
        name, phrases = self.plan.covered_worded
        pattern = self.pattern(name)
        intents = tuple(
            template.format(np=phrase) for template in GAP_TEMPLATES for phrase in phrases
        )
        self.families.append(
            Family(
                name=f"{name}-worded-differently",
                weight=0.04,
                intents=intents,
                leading=((name, 0.25, 0.38),),
                kinds=tuple(KindDraw(kind, 0.95) for kind in pattern["suggestedResources"]),
                choices=(((name,), 0.2, ()),),
                weak=True,
                app=name,
            )
        )
        self.plain(name, 0.02)
        self.truth.append(
            _reg(
                "covered-differently-worded",
                "none",
                "gap",
                f"requests worded unlike {name}'s text (weak in the logs) that {name} covers",
                expected={
                    "proposal": "new_pattern",
                    "resources": list(pattern["suggestedResources"]),
                    "family": f"{name}-worded-differently",
                    "coveredBy": name,
                },
                must_not={
                    "proposal": "new_pattern",
                    "type": "create_pattern",
                    "resources": list(pattern["suggestedResources"]),
                },
            )
        )

    def _filled_gap(self) -> None:
        name, phrases = self.plan.filled_gap
        pattern = self.pattern(name)
        pattern["createdAt"] = FILLED_AT  # written after the logged requests found nothing
        intents = tuple(
            template.format(np=phrase) for template in GAP_TEMPLATES for phrase in phrases
        )
        self.families.append(
            Family(
                name=f"{name}-filled-since",
                weight=0.03,
                intents=intents,
                leading=(),
                kinds=tuple(KindDraw(kind, 0.95) for kind in pattern["suggestedResources"]),
                weak=True,
                app=name,
            )
        )
        self.truth.append(
            _reg(
                "gap-filled-since",
                "none",
                "gap",
                f"weak requests from before {name} was added; {name} now covers them",
                expected={
                    "proposal": "new_pattern",
                    "resources": list(pattern["suggestedResources"]),
                    "family": f"{name}-filled-since",
                    "coveredBy": name,
                },
                must_not={
                    "proposal": "new_pattern",
                    "type": "create_pattern",
                    "resources": list(pattern["suggestedResources"]),
                },
            )
        )

    def _gap(self, gap: GapPlan) -> None:
        phrases = list(gap.phrases)
        for chart_name in gap.charts:
            record = self.chart(chart_name)
            if chart_name in self.plan.patterns:
                raise ValueError(f"{self.plan.name}: gap chart {chart_name} is a pattern")
            phrases.append(corpus.what_it_is(str(record["description"])))
            phrases += [f"a {k} service" for k in corpus.informative_keywords(record)[:2]]
        intents = tuple(
            template.format(np=phrase.replace("{", "(").replace("}", ")"))
            for template in GAP_TEMPLATES
            for phrase in dict.fromkeys(phrases)
        )
        self.families.append(
            Family(
                name=f"gap-{gap.name}",
                weight=gap.weight,
                intents=intents,
                leading=(),
                kinds=tuple(KindDraw(k, r) for k, r in gap.kinds)
                + tuple(KindDraw(k, r) for k, r in gap.noise),
                weak=True,
                app=gap.name,
            )
        )
        self.truth.append(
            _reg(
                f"gap-{gap.name}",
                "create_pattern",
                "gap",
                f"recurring {gap.name} requests (paraphrased from {', '.join(gap.charts)}) no "
                "pattern covers; each kind of the set drawn independently",
                expected={
                    "proposal": "new_pattern",
                    "family": f"gap-{gap.name}",
                    "resources": sorted(k for k, _ in gap.kinds),
                    "kindRates": dict(gap.kinds),
                    "noiseKinds": dict(gap.noise),
                },
            )
        )

    def _settings(self) -> list[SettingDraw]:
        plan = self.plan
        policy_ids = {str(p["id"]) for p in plan.policies}
        draws = []
        for s in plan.settings:
            draws.append(SettingDraw(s.path, s.values, s.rate, s.since_day, s.until_day))
            value = s.values[0] if len(s.values) == 1 else None
            # Planted: this path (= value for a value convention). A control forbids any policy
            # on the path, whatever value it would require.
            spec = {"proposal": "policy", "path": s.path, "value": value}
            if s.covered_by is not None:
                if s.covered_by not in policy_ids:
                    raise ValueError(f"{plan.name}: covering policy {s.covered_by} is not planted")
                self.truth.append(
                    _reg(
                        f"covered-setting-{s.name}",
                        "none",
                        "common_configuration",
                        f"{s.path} in most solutions, governed by policy {s.covered_by}",
                        expected={**spec, "frequency": s.rate, "coveredBy": s.covered_by},
                        must_not={**spec, "type": "create_policy", "value": None},
                    )
                )
            elif s.noise or s.until_day < 1e9:
                why = (
                    "in a fifth of solutions: noise"
                    if s.noise
                    else (f"common until day {s.until_day:g}, then stopped")
                )
                self.truth.append(
                    _reg(
                        f"{'noise' if s.noise else 'stopped'}-setting-{s.name}",
                        "none",
                        "common_configuration",
                        f"{s.path} {why}",
                        expected={**spec, "frequency": s.rate, "untilDay": s.until_day}
                        if not s.noise
                        else {**spec, "frequency": s.rate},
                        must_not={**spec, "type": "create_policy", "value": None},
                    )
                )
            else:
                recent = s.since_day > 0
                self.truth.append(
                    _reg(
                        f"{'recent' if recent else 'common'}-setting-{s.name}",
                        "create_policy",
                        "recent_configuration" if recent else "common_configuration",
                        f"{s.path} in most solutions"
                        + (f" since day {s.since_day:g}" if recent else "")
                        + ("; values vary: a presence convention" if value is None else "")
                        + "; no policy of the knowledge base governs it",
                        expected={**spec, "frequency": s.rate}
                        | ({"sinceDay": s.since_day} if recent else {}),
                    )
                )
        return draws


def build_world(plan: WorldPlan, folder: Path | None = None) -> World:
    """The world of `plan`, its texts read from the corpus (CorpusMissing when it is absent)."""
    return _Builder(plan, corpus.corpus_dir(folder)).build()


def kyverno_policy(record: dict[str, Any]) -> dict[str, Any]:
    """A policy item from a real Kyverno policy: its title, description and subject kinds."""
    title = str(record.get("title") or record["name"])
    data: dict[str, Any] = {
        "id": str(record["name"]),
        "description": title,
        "triggers": [title.lower()],
        "rationale": str(record.get("description") or title),
        "createdAt": CREATED_AT,
        "createdBy": "security-team",
    }
    kinds = corpus.valid_kinds([str(k) for k in record.get("subject_kinds") or []])
    if kinds:
        data["appliesTo"] = kinds
    return data


def dotai_policy(record: dict[str, Any], item_id: str) -> dict[str, Any]:
    """A policy item from a dot-ai policy intent: its description, triggers and rationale."""
    return {
        "id": item_id,
        "description": str(record["description"]),
        "triggers": [str(t) for t in record.get("triggers") or []] or [item_id.replace("-", " ")],
        "rationale": str(record.get("rationale") or record["description"]),
        "createdAt": CREATED_AT,
        "createdBy": "security-team",
        "appliesTo": ["Pod"],
    }


def slug(text: str) -> str:
    return _slug(text)
