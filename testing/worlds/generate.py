"""Drawing a world's workflows and writing them as v1 logs, with its knowledge base and truth.

Everything comes from one seeded generator and a fixed start, so the same world, seed and event
count give byte-identical files. Timestamps advance with the events written over `world.days` days.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import UsageError
from bot.knowledge.schema import Pattern, Policy
from bot.logs.events import LOG_VERSION
from bot.yamlfile import dump_text
from testing.simulation.groundtruth import MANIFEST_NAME, GroundTruth, ManifestWindow, Regularity
from testing.simulation.intents import ENVIRONMENTS, TEAMS
from testing.simulation.workload import API_VERSIONS, WORKLOAD_KINDS
from testing.simulation.writer import LogWriter, log_file_names, remove_previous_output
from testing.worlds.model import Family, KindDraw, World

START = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
LAST_DAYS = 30  # learning.recentDays' default: the engine's recent window, shown beside "recent"
SECONDARY_SCORE_CAP = 0.5  # other listed patterns stay below the strong-match threshold
APPLIED_POLICIES = (1, 2, 2, 3)


def write_repo(world: World, repo: Path) -> None:
    """Write the world's knowledge base as YAML into `repo` (patterns/ and policies/)."""
    for folder, items, model in (
        ("patterns", world.patterns, Pattern),
        ("policies", world.policies, Policy),
    ):
        (repo / folder).mkdir(parents=True, exist_ok=True)
        for data in items:
            checked = model.model_validate(data).to_data()
            (repo / folder / f"{data['id']}.yaml").write_text(dump_text(checked), encoding="utf-8")


def _format(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Observation:
    """One workflow as the metrics see it (its solution and outcome)."""

    family: str
    day: float
    cluster: str
    ranking: dict[str, float]
    used: tuple[str, ...] | None
    kinds: frozenset[str]
    settings: dict[str, Any]
    status: str | None
    error: str | None


class _Drawer:
    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.ids = world.pattern_ids()
        weighted = [family for family in world.families if family.count is None]
        self.families = weighted
        self.cumulative = list(itertools.accumulate(family.weight for family in weighted))
        self.clusters = [name for name, _ in world.clusters]
        self.cluster_weights = list(itertools.accumulate(w for _, w in world.clusters))
        self.policies = world.policies

    def _pick(self, names: list[Any], cumulative: list[float]) -> Any:
        return names[bisect.bisect_right(cumulative, self.rng.random() * cumulative[-1])]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _score(self, low: float, high: float) -> float:
        return round(self.rng.uniform(low, high), 4)

    def _ranking(self, family: Family) -> list[tuple[str, float]]:
        rng = self.rng
        ranking = [(item, self._score(low, high)) for item, low, high in family.leading]
        if not ranking:
            ranking.append((rng.choice(self.ids), self._score(0.2, 0.38)))
        ceiling = min(min(score for _, score in ranking) - 0.02, SECONDARY_SCORE_CAP)
        seen = {item for item, _ in ranking}
        wanted = min(rng.randint(3, 5), len(self.ids))
        while len(ranking) < wanted:
            item = rng.choice(self.ids)
            if item in seen:
                continue
            seen.add(item)
            ceiling = round(rng.uniform(max(0.15, ceiling - 0.12), max(0.15, ceiling)), 4)
            ranking.append((item, ceiling))
        return sorted(ranking, key=lambda pair: -pair[1])

    def _kinds(self, draws: tuple[KindDraw, ...], day: float, cluster: str) -> list[str]:
        kinds: list[str] = []
        for draw in draws:
            drawn = draw.active(day, cluster) and self.rng.random() < draw.rate
            if drawn and draw.kind not in kinds:
                kinds.append(draw.kind)
        return kinds

    def _solution(self, family: Family, day: float, cluster: str) -> tuple[list[str], list[str]]:
        draw = self.rng.random()
        acc = 0.0
        for used, share, extra in family.choices:
            acc += share
            if draw < acc:
                kinds = self._kinds(family.kinds + extra, day, cluster)
                return list(used), kinds
        kinds = self._kinds(family.kinds + family.fallback_kinds, day, cluster)
        return list(family.fallback_used), kinds

    def _policies(self, kinds: list[str]) -> tuple[list[str], list[tuple[str, float]]]:
        rng = self.rng
        present = set(kinds)
        workload = bool(present & WORKLOAD_KINDS)
        fitting = [
            str(p["id"])
            for p in self.policies
            if not p.get("appliesTo")
            or present.intersection(p["appliesTo"])
            or ("Pod" in p["appliesTo"] and workload)
        ]
        applied = sorted(rng.sample(fitting, min(len(fitting), rng.choice(APPLIED_POLICIES))))
        ranking = [(item, self._score(0.45, 0.75)) for item in applied]
        for _ in range(min(2, len(self.policies))):
            other = str(rng.choice(self.policies)["id"])
            if all(other != item for item, _ in ranking):
                ranking.append((other, self._score(0.2, 0.42)))
        ranking.sort(key=lambda pair: -pair[1])
        return applied, ranking[:4]

    def _settings(self, kinds: list[str], day: float) -> dict[str, Any]:
        if not WORKLOAD_KINDS.intersection(kinds):
            return {}
        settings: dict[str, Any] = {}
        for draw in self.world.settings:
            if draw.active(day) and self.rng.random() < draw.rate:
                settings[draw.path] = self.rng.choice(draw.values)
        return settings

    def _error(self, template: str) -> str:
        rng = self.rng
        return template.format(
            ip=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            port=rng.choice((5432, 6379, 27017, 9092, 8080, 443)),
            id=f"{rng.getrandbits(32):08x}",
            n=rng.randint(2, 900),
            pod=f"{rng.choice(TEAMS)}-{rng.getrandbits(20):05x}",
        )

    def _outcome(self, family: Family, day: float) -> tuple[str, str | None]:
        rng, world = self.rng, self.world
        if rng.random() < world.abandon_rate:
            return "abandoned", None
        burst = world.burst
        in_burst = burst is not None and burst.start_day <= day < burst.start_day + burst.days
        if in_burst and burst is not None and rng.random() < burst.failure_rate:
            return "failed", self._error(burst.error)
        rate = world.base_failure_rate if family.failure_rate is None else family.failure_rate
        if rng.random() >= rate:
            return "deployed", None
        if family.dominant_error is not None and rng.random() < family.dominant_share:
            return "failed", self._error(family.dominant_error)
        return "failed", self._error(rng.choice(world.errors))

    def workflow(
        self, family: Family, moment: dt.datetime, day: float
    ) -> tuple[list[dict[str, Any]], Observation]:
        rng = self.rng
        cluster = self._pick(self.clusters, self.cluster_weights)
        team = rng.choice(TEAMS)
        intent = rng.choice(family.intents).format(team=team, env=rng.choice(ENVIRONMENTS))
        ranking = self._ranking(family)
        head = {
            "v": LOG_VERSION,
            "workflowId": f"wf-{self._uuid()}",
            "workflow": "operate" if rng.random() < 0.1 else "recommend",
        }
        used: list[str] | None = None
        kinds: list[str] = []
        settings: dict[str, Any] = {}
        status = error = None
        events: list[dict[str, Any]] = []
        if rng.random() < self.world.solution_rate:
            used, kinds = self._solution(family, day, cluster)
            applied, policy_ranking = self._policies(kinds)
            settings = self._settings(kinds, day)
        else:
            applied, policy_ranking = self._policies([])
        events.append(
            {
                **head,
                "eventId": f"ev-{self._uuid()}",
                "type": "retrieved",
                "ts": _format(moment),
                "cluster": cluster,
                "intent": intent,
                "patterns": [{"id": item, "score": score} for item, score in ranking],
                "policies": [{"id": item, "score": score} for item, score in policy_ranking],
            }
        )
        app = f"{team}-{family.app}"
        if used is not None:
            solved = moment + dt.timedelta(seconds=rng.randint(5, 120))
            events.append(
                {
                    **head,
                    "eventId": f"ev-{self._uuid()}",
                    "type": "solution",
                    "ts": _format(solved),
                    "cluster": cluster,
                    "patternsUsed": used,
                    "policiesApplied": applied,
                    "resources": [_resource(kind, app) for kind in kinds],
                    "settings": settings,
                }
            )
            if rng.random() < self.world.outcome_rate:
                status, error = self._outcome(family, day)
                outcome: dict[str, Any] = {
                    **head,
                    "eventId": f"ev-{self._uuid()}",
                    "type": "outcome",
                    "ts": _format(solved + dt.timedelta(seconds=rng.randint(30, 900))),
                    "cluster": cluster,
                    "status": status,
                }
                if error is not None:
                    outcome["error"] = error
                events.append(outcome)
        elif rng.random() < 0.5:
            status = "abandoned"
            events.append(
                {
                    **head,
                    "eventId": f"ev-{self._uuid()}",
                    "type": "outcome",
                    "ts": _format(moment + dt.timedelta(seconds=rng.randint(60, 1800))),
                    "cluster": cluster,
                    "status": status,
                }
            )
        observation = Observation(
            family=family.name,
            day=day,
            cluster=cluster,
            ranking=dict(ranking),
            used=None if used is None else tuple(used),
            kinds=frozenset(kinds),
            settings=settings,
            status=status,
            error=error,
        )
        return events, observation


def _resource(kind: str, app: str) -> dict[str, str]:
    api_version = API_VERSIONS.get(kind)
    resource = {"kind": kind, "apiVersion": api_version} if api_version else {"kind": kind}
    resource["name"] = app
    return resource


def generate(
    world: World,
    out_dir: Path,
    *,
    events: int,
    seed: int,
    files: int = 1,
    start: dt.datetime = START,
) -> tuple[GroundTruth, list[Observation]]:
    """Write about `events` events of `world` into `out_dir` with its manifest; whole workflows.

    Returns the manifest (also written as ground-truth.json) and every workflow's observation.
    """
    if events < 1:
        raise UsageError(f"--events must be at least 1, not {events}")
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_previous_output(out_dir)
    drawer = _Drawer(world, seed)
    counted = [family for family in world.families if family.count is not None]
    done = Counter[str]()
    names = log_file_names(files, gzip_all=False, messy=False)
    writer = LogWriter(out_dir, names, messy=False, rng=random.Random(seed + 1))
    span = dt.timedelta(days=world.days) - dt.timedelta(hours=1)
    observations: list[Observation] = []
    emitted = 0
    try:
        while emitted < events:
            progress = emitted / events
            family = next(
                (
                    f
                    for f in counted
                    if done[f.name] < (f.count or 0)
                    and progress >= (done[f.name] + 1) / ((f.count or 0) + 1)
                ),
                None,
            )
            if family is None:
                family = drawer._pick(drawer.families, drawer.cumulative)
            else:
                done[family.name] += 1
            moment = start + progress * span + dt.timedelta(seconds=drawer.rng.randrange(60))
            day = (moment - start).total_seconds() / 86_400
            lines, observation = drawer.workflow(family, moment, day)
            writer.write(drawer.rng.randrange(files), lines)
            observations.append(observation)
            emitted += len(lines)
    finally:
        writer.close()
    truth = GroundTruth(
        world=world.name,
        seed=seed,
        events=emitted,
        workflows=len(observations),
        lines=writer.lines,
        window=ManifestWindow(start=start, end=start + dt.timedelta(days=world.days)),
        files=names,
        knowledge_base={"patterns": len(world.patterns), "policies": len(world.policies)},
        regularities=[_observed(reg, observations, world.days) for reg in world.truth],
    )
    truth.write(out_dir / MANIFEST_NAME)
    return truth, observations


def _share(hits: int, cases: int) -> dict[str, Any]:
    return {"hits": hits, "cases": cases, "frequency": round(hits / cases, 4) if cases else None}


def _observed(reg: Regularity, observations: list[Observation], days: int) -> Regularity:
    """The regularity with `observed` counted from the drawn workflows."""
    spec = {**reg.expected, **(reg.must_not_suggest or {})}
    proposal = spec.get("proposal")
    solved = [o for o in observations if o.used is not None]
    observed: dict[str, Any] = {}
    if proposal == "add_kinds":
        uses = [o for o in solved if reg.target in (o.used or ())]
        if reg.cluster is not None:
            elsewhere = [o for o in uses if o.cluster != reg.cluster]
            uses = [o for o in uses if o.cluster == reg.cluster]
            observed["elsewhere"] = _share(
                sum(set(spec["add"]) <= o.kinds for o in elsewhere), len(elsewhere)
            )
        hits = sum(set(spec["add"]) <= o.kinds for o in uses)
        observed.update(_share(hits, len(uses)))
        since = spec.get("sinceDay")
        if since is not None:
            recent = [o for o in uses if o.day >= since]
            last = [o for o in uses if o.day >= days - LAST_DAYS]
            observed["last30Days"] = _share(
                sum(set(spec["add"]) <= o.kinds for o in last), len(last)
            )
            observed["recent"] = _share(
                sum(set(spec["add"]) <= o.kinds for o in recent), len(recent)
            )
        partner = spec.get("partner")
        if partner is not None:
            with_partner = [o for o in uses if partner in (o.used or ())]
            without = [o for o in uses if partner not in (o.used or ())]
            observed["withPartner"] = _share(
                sum(set(spec["add"]) <= o.kinds for o in with_partner), len(with_partner)
            )
            observed["withoutPartner"] = _share(
                sum(set(spec["add"]) <= o.kinds for o in without), len(without)
            )
    elif proposal == "note":
        finished = [o for o in solved if o.status in ("deployed", "failed")]
        mine = [o for o in finished if reg.target in (o.used or ())]
        others = [o for o in finished if reg.target not in (o.used or ())]
        observed.update(_share(sum(o.status == "failed" for o in mine), len(mine)))
        observed["others"] = _share(sum(o.status == "failed" for o in others), len(others))
        marker = spec.get("errorMarker")
        if marker:
            failed = [o for o in mine if o.status == "failed"]
            observed["dominantError"] = _share(
                sum(marker in (o.error or "") for o in failed), len(failed)
            )
    elif proposal == "deprecate":
        strong = [o for o in observations if o.ranking.get(reg.target or "", 0.0) >= 0.55]
        observed.update(_share(sum(reg.target in (o.used or ()) for o in strong), len(strong)))
    elif proposal == "new_pattern":
        mine = [o for o in solved if o.family == spec.get("family")]
        want = set(spec["resources"])
        observed.update(_share(sum(want <= o.kinds for o in mine), len(mine)))
        observed["perKind"] = {
            kind: round(sum(kind in o.kinds for o in mine) / len(mine), 4) if mine else None
            for kind in sorted(want)
        }
        family_all = [o for o in observations if o.family == spec.get("family")]
        observed["workflows"] = len(family_all)
        observed["bestScore"] = round(
            max((max(o.ranking.values()) for o in family_all), default=0.0), 4
        )
    elif proposal == "combine":
        a, b = spec["patterns"]
        uses_a = sum(a in (o.used or ()) for o in solved)
        uses_b = sum(b in (o.used or ()) for o in solved)
        both = sum(a in (o.used or ()) and b in (o.used or ()) for o in solved)
        observed.update(_share(both, min(uses_a, uses_b)))
        observed["lift"] = (
            round(both * len(solved) / (uses_a * uses_b), 3) if uses_a and uses_b else None
        )
    elif proposal == "policy":
        deployed = [o for o in solved if o.status == "deployed"]
        value = spec.get("value")

        def holds(o: Observation) -> bool:
            return spec["path"] in o.settings and (
                value is None or o.settings[spec["path"]] == value
            )

        observed.update(_share(sum(holds(o) for o in deployed), len(deployed)))
        since, until = spec.get("sinceDay"), spec.get("untilDay")
        if since is not None:
            recent = [o for o in deployed if o.day >= since]
            observed["recent"] = _share(sum(holds(o) for o in recent), len(recent))
            last = [o for o in deployed if o.day >= days - LAST_DAYS]
            observed["last30Days"] = _share(sum(holds(o) for o in last), len(last))
        if until is not None:
            late = [o for o in deployed if o.day >= until]
            observed["afterStop"] = _share(sum(holds(o) for o in late), len(late))
            last = [o for o in deployed if o.day >= days - LAST_DAYS]
            observed["last30Days"] = _share(sum(holds(o) for o in last), len(last))
    elif proposal == "failing_any":
        finished = [o for o in solved if o.status in ("deployed", "failed")]
        start, days = spec["burstStartDay"], spec["burstDays"]
        inside = [o for o in finished if start <= o.day < start + days]
        outside = [o for o in finished if not start <= o.day < start + days]
        observed["inBurst"] = _share(sum(o.status == "failed" for o in inside), len(inside))
        observed["outsideBurst"] = _share(sum(o.status == "failed" for o in outside), len(outside))
    return reg.model_copy(update={"observed": observed})
