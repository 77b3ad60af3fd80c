"""The simulated workload: workflows drawn from a scenario, streamed to JSON Lines files.

Each workflow is a `retrieved` event, usually a `solution`, usually an `outcome`, in the v1 format
of bot/logs/events.py. Everything is drawn from one seeded random generator and fixed start time,
so the same arguments give byte-identical files.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import UsageError
from bot.knowledge.repository import KnowledgeBase
from bot.knowledge.schema import Policy
from bot.logs.events import LOG_VERSION
from testing.simulation.groundtruth import (
    MANIFEST_NAME,
    GroundTruth,
    ManifestWindow,
    Observation,
    Tally,
)
from testing.simulation.intents import (
    GAP_FAMILIES,
    SCATTERED_KINDS,
    TEAMS,
    covered_intent,
    node_level_intent,
    scattered_intent,
    things_for,
)
from testing.simulation.scenario import (
    NON_ROOT_PATH,
    NON_ROOT_VALUE,
    SECCOMP_PATH,
    SECCOMP_VALUE,
    Scenario,
)
from testing.simulation.writer import LogWriter, log_file_names, remove_previous_output

WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet", "Pod"}
)
API_VERSIONS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Service": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "PersistentVolumeClaim": "v1",
    "ServiceAccount": "v1",
    "Namespace": "v1",
    "ResourceQuota": "v1",
    "Pod": "v1",
    "CronJob": "batch/v1",
    "Job": "batch/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
    "Ingress": "networking.k8s.io/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "Role": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "ServiceMonitor": "monitoring.coreos.com/v1",
    "PodMonitor": "monitoring.coreos.com/v1",
    "PrometheusRule": "monitoring.coreos.com/v1",
    "Prometheus": "monitoring.coreos.com/v1",
    "Alertmanager": "monitoring.coreos.com/v1",
    "VerticalPodAutoscaler": "autoscaling.k8s.io/v1",
    "Certificate": "cert-manager.io/v1",
    "Issuer": "cert-manager.io/v1",
    "Gateway": "gateway.networking.k8s.io/v1",
    "HTTPRoute": "gateway.networking.k8s.io/v1",
    "GRPCRoute": "gateway.networking.k8s.io/v1",
}
FAILURE_ERRORS = (
    "ImagePullBackOff: image not found in registry",
    "CrashLoopBackOff: container exited with code 1",
    "rollout timed out after 600s waiting for ready replicas",
    "admission webhook denied the request: resource limits are required",
    "OOMKilled: container exceeded its memory limit",
    "FailedScheduling: 0/12 nodes are available: insufficient cpu",
)
REPLICAS = (1, 2, 2, 3, 3, 3, 4, 6)
MEMORY_LIMITS = ("256Mi", "512Mi", "512Mi", "1Gi", "2Gi")
SECOND_SOLUTION_RATE = 0.04  # with mess: a revised solution follows a first draft
DROP_ONE_RATE = 0.15  # a solution leaves out one of its pattern's suggested resources
OPERATE_RATE = 0.1
# How many of the policies that fit a solution's kinds it applies (at most), drawn evenly.
APPLIED_POLICIES = (1, 2, 2, 3, 3, 4)
SECONDARY_SCORE_CAP = 0.5  # below the strong-match threshold, so only planted retrievals are strong


def _format_ms(ms: int) -> str:
    t = time.gmtime(ms // 1000)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
        f"T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
        f".{ms % 1000:03d}Z"
    )


@dataclass
class _Solution:
    ts: int
    used: list[str]
    policies: list[str]
    kinds: list[str]
    settings: dict[str, Any]


@dataclass
class _Workflow:
    workflow_id: str
    workflow: str
    cluster: str
    role: str
    ts: int
    intent: str
    ranking: list[tuple[str, float]]
    policy_ranking: list[tuple[str, float]]
    app: str
    solutions: list[_Solution] = field(default_factory=list)
    outcome: tuple[int, str, str | None] | None = None


@dataclass
class _Draft:
    """What a role decides: the intent, what retrieval ranked first, and the solution if any."""

    intent: str
    leading: list[tuple[str, float]]
    used: list[str]
    kinds: list[str]
    app: str
    weak: bool = False
    solution: bool = True


class _Generator:
    def __init__(self, kb: KnowledgeBase, scenario: Scenario, seed: int, events: int) -> None:
        self.kb = kb
        self.s = scenario
        self.rng = random.Random(seed)
        # A separate stream for the optional mess, so clean and messy runs hold the same events.
        self.mess = random.Random(seed + 7919)
        self.target = events
        self.start_ms = int(scenario.start.timestamp() * 1000)
        self.span_ms = scenario.days * 86_400_000 - 3_600_000
        self.active = [p.id for _, p in sorted(kb.patterns.items()) if not p.deprecated]
        roles = set(scenario.role_patterns())
        self.background = [item for item in self.active if item not in roles]
        self.rng.shuffle(self.background)
        self.background_weights = list(
            itertools.accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(len(self.background)))
        )
        shares = [
            (name, share)
            for name, share in scenario.shares
            if name != "background" or self.background
        ]
        self.roles = [name for name, _ in shares]
        self.role_weights = list(itertools.accumulate(share for _, share in shares))
        self.clusters = [name for name, _ in scenario.clusters]
        self.cluster_weights = list(itertools.accumulate(weight for _, weight in scenario.clusters))
        self.family = next(family for family in GAP_FAMILIES if family.name == scenario.gap_family)
        self.things = {item: things_for(kb.patterns[item]) for item in self.active}
        self.policies = [policy for _, policy in sorted(kb.policies.items())]
        self._fitting_cache: dict[frozenset[str], list[str]] = {}
        self.pair_rate = scenario.base_rate_pair_rate()
        with_workload = self._workload_share()
        self.seccomp_rate = min(1.0, scenario.seccomp_share / with_workload)
        self.non_root_rate = min(1.0, scenario.non_root_share / with_workload)

    def _has_workload(self, *pattern_ids: str) -> float:
        kinds = {
            kind for item in pattern_ids for kind in self.kb.patterns[item].suggested_resources
        }
        return 1.0 if kinds & WORKLOAD_KINDS else 0.0

    def _workload_share(self) -> float:
        """About which share of deployed solutions holds a pod-bearing workload."""
        s = self.s
        shares = dict(s.shares)
        background = 0.0
        if self.background:
            weights = [
                b - a
                for a, b in zip(
                    [0.0, *self.background_weights], self.background_weights, strict=False
                )
            ]
            background = sum(
                w * self._has_workload(item)
                for w, item in zip(weights, self.background, strict=True)
            )
            background /= self.background_weights[-1]
        node_level = s.rarely_used_rate * self._has_workload(
            s.rarely_used
        ) + s.rival_rate * self._has_workload(s.rival)
        node_level += 1.0 - s.rarely_used_rate - s.rival_rate
        together = s.co_usage_rate * self._has_workload(s.co_used, s.addition_target)
        by_role = {
            "addition": self._has_workload(s.addition_target),
            "co_usage": together + (1 - s.co_usage_rate) * self._has_workload(s.co_used),
            "noise": self._has_workload(s.noise_target),
            "failing": self._has_workload(s.failing_target),
            "cluster": self._has_workload(s.cluster_target),
            "rival": self._has_workload(s.rival),
            "rarely_used": node_level,
            "base_rate": self._has_workload(s.base_rate_pair[0]),
            "gap": 1.0 if WORKLOAD_KINDS.intersection(self.family.resources) else 0.0,
            "scattered": 0.0,
            "background": background,
        }
        # Failed deployments are not deployed ones; few scattered requests get a solution.
        weight = {
            role: share
            * (0.4 if role == "scattered" else 1.0)
            * (1 - (s.failure_rate if role == "failing" else s.base_failure_rate))
            for role, share in shares.items()
            if role != "background" or self.background
        }
        total = sum(weight.values())
        share = (
            sum(weight[role] * by_role.get(role, 1.0) for role in weight) / total if total else 1.0
        )
        return max(share, 0.01)

    # -- drawing helpers -------------------------------------------------------------------------

    def _weighted(self, names: list[str], cumulative: list[float]) -> str:
        return names[bisect.bisect_right(cumulative, self.rng.random() * cumulative[-1])]

    def _uuid(self, rng: random.Random) -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def _score(self, low: float, high: float) -> float:
        return round(self.rng.uniform(low, high), 4)

    def _kinds_of(self, *pattern_ids: str) -> list[str]:
        kinds: list[str] = []
        for item in pattern_ids:
            suggested = list(self.kb.patterns[item].suggested_resources)
            if len(suggested) > 2 and self.rng.random() < DROP_ONE_RATE:
                suggested.pop(self.rng.randrange(1, len(suggested)))
            kinds.extend(kind for kind in suggested if kind not in kinds)
        return kinds

    def _covered(self, item: str, team: str) -> str:
        return covered_intent(self.rng, self.things[item], team)

    def _app(self, team: str, item: str) -> str:
        return f"{team}-{item.split('-')[0]}"

    def _ranking(self, leading: list[tuple[str, float]], weak: bool) -> list[tuple[str, float]]:
        ranking = list(leading)
        if weak and not ranking:
            ranking.append((self.rng.choice(self.active), self._score(0.2, 0.38)))
        wanted = self.rng.randint(3, 5)
        seen = {item for item, _ in ranking}
        ceiling = min(min(score for _, score in ranking) - 0.02, SECONDARY_SCORE_CAP)
        while len(ranking) < min(wanted, len(self.active)):
            item = self.rng.choice(self.active)
            if item in seen:
                continue
            seen.add(item)
            ceiling = round(self.rng.uniform(max(0.2, ceiling - 0.12), max(0.2, ceiling)), 4)
            ranking.append((item, ceiling))
        return sorted(ranking, key=lambda pair: -pair[1])

    # -- roles -----------------------------------------------------------------------------------

    def _draft(self, role: str, team: str, cluster: str) -> _Draft:
        s, rng = self.s, self.rng
        if role == "addition":
            kinds = self._kinds_of(s.addition_target)
            if rng.random() < s.addition_rate:
                kinds.append(s.added_kind)
            return _Draft(
                self._covered(s.addition_target, team),
                [(s.addition_target, self._score(0.6, 0.8))],
                [s.addition_target],
                kinds,
                self._app(team, "web"),
            )
        if role == "co_usage":
            leading = [
                (s.co_used, self._score(0.62, 0.8)),
                (s.addition_target, self._score(0.5, 0.6)),
            ]
            if rng.random() < s.co_usage_rate:
                kinds = self._kinds_of(s.co_used, s.addition_target)
                if rng.random() < s.addition_rate_with_partner:
                    kinds.append(s.added_kind)
                used = [s.co_used, s.addition_target]
            else:
                kinds, used = self._kinds_of(s.co_used), [s.co_used]
            return _Draft(
                self._covered(s.co_used, team), leading, used, kinds, self._app(team, "cache")
            )
        if role == "noise":
            kinds = self._kinds_of(s.noise_target)
            if rng.random() < s.noise_rate:
                kinds.append(s.noise_kind)
            return self._plain(s.noise_target, team, kinds)
        if role == "failing":
            return self._plain(s.failing_target, team, self._kinds_of(s.failing_target))
        if role == "cluster":
            kinds = self._kinds_of(s.cluster_target)
            if cluster == s.cluster and rng.random() < s.cluster_rate:
                kinds.append(s.cluster_kind)
            return self._plain(s.cluster_target, team, kinds)
        if role == "rival":
            top = self._score(0.66, 0.8)
            leading = [(s.rival, top), (s.rarely_used, self._score(0.6, top - 0.02))]
            return _Draft(
                self._covered(s.rival, team),
                leading,
                [s.rival],
                self._kinds_of(s.rival),
                self._app(team, "monitoring"),
            )
        if role == "rarely_used":
            top = self._score(0.62, 0.76)
            leading = [(s.rarely_used, top), (s.rival, self._score(0.4, 0.54))]
            draw = rng.random()
            if draw < s.rarely_used_rate:
                used, kinds = [s.rarely_used], self._kinds_of(s.rarely_used)
            elif draw < s.rarely_used_rate + s.rival_rate:
                used, kinds = [s.rival], self._kinds_of(s.rival)
            else:
                used, kinds = [], ["DaemonSet", "ServiceAccount", "ConfigMap"]
            return _Draft(
                node_level_intent(rng, team), leading, used, kinds, self._app(team, "node-agent")
            )
        if role == "base_rate":
            first, second = s.base_rate_pair
            leading = [(first, self._score(0.6, 0.8))]
            used = [first]
            if rng.random() < self.pair_rate:
                leading.append((second, self._score(0.45, 0.55)))
                used.append(second)
            return _Draft(
                self._covered(first, team),
                leading,
                used,
                self._kinds_of(*used),
                self._app(team, first),
            )
        if role == "gap":
            intent, subject = self.family.intent(rng, team)
            kinds = [kind for kind in self.family.resources if rng.random() > 0.03]
            if rng.random() < 0.15:
                kinds.append("ServiceMonitor")
            used = [s.addition_target] if rng.random() < s.gap_pattern_rate else []
            leading = [(s.addition_target, self._score(0.2, 0.38))] if used else []
            return _Draft(intent, leading, used, kinds, f"{subject}-{self.family.name}", weak=True)
        if role == "scattered":
            kinds = rng.sample(SCATTERED_KINDS, rng.randint(1, 2))
            return _Draft(
                scattered_intent(rng, team),
                [],
                [],
                kinds,
                f"{team}-ops",
                weak=True,
                solution=rng.random() < 0.4,
            )
        item = self._weighted(self.background, self.background_weights)
        return self._plain(item, team, self._kinds_of(item))

    def _plain(self, item: str, team: str, kinds: list[str]) -> _Draft:
        return _Draft(
            self._covered(item, team),
            [(item, self._score(0.6, 0.8))],
            [item],
            kinds,
            self._app(team, item),
        )

    def _tiny(self, team: str) -> _Draft:
        s = self.s
        kinds = [*self.kb.patterns[s.tiny_target].suggested_resources, s.tiny_kind]
        return self._plain(s.tiny_target, team, kinds)

    # -- workflows -------------------------------------------------------------------------------

    def _fitting(self, kinds: list[str]) -> list[str]:
        key = frozenset(kinds)
        fitting = self._fitting_cache.get(key)
        if fitting is None:
            has_workload = bool(key & WORKLOAD_KINDS)
            fitting = [p.id for p in self.policies if self._fits(p, set(key), has_workload)]
            self._fitting_cache[key] = fitting
        return fitting

    def _policies_for(self, kinds: list[str]) -> tuple[list[str], list[tuple[str, float]]]:
        rng = self.rng
        fitting = self._fitting(kinds) if kinds else []
        count = min(len(fitting), rng.choice(APPLIED_POLICIES))
        applied = sorted(rng.sample(fitting, count))
        ranking = [(item, self._score(0.45, 0.75)) for item in applied]
        for _ in range(min(2, len(self.policies))):
            policy = rng.choice(self.policies).id
            if all(policy != item for item, _ in ranking):
                ranking.append((policy, self._score(0.2, 0.42)))
        ranking.sort(key=lambda pair: -pair[1])
        return applied, ranking[:4]

    @staticmethod
    def _fits(policy: Policy, present: set[str], has_workload: bool) -> bool:
        if not policy.applies_to:
            return True
        return bool(present.intersection(policy.applies_to)) or (
            "Pod" in policy.applies_to and has_workload
        )

    def _settings(self, kinds: list[str]) -> dict[str, Any]:
        if not WORKLOAD_KINDS.intersection(kinds):
            return {}
        rng = self.rng
        settings: dict[str, Any] = {}
        if "Deployment" in kinds or "StatefulSet" in kinds:
            settings["spec.replicas"] = rng.choice(REPLICAS)
        if rng.random() < self.seccomp_rate:
            settings[SECCOMP_PATH] = SECCOMP_VALUE
        if rng.random() < self.non_root_rate:
            settings[NON_ROOT_PATH] = NON_ROOT_VALUE
        settings["spec.template.spec.containers[0].resources.limits.memory"] = rng.choice(
            MEMORY_LIMITS
        )
        return settings

    def workflow(self, progress: float, draft_role: str | None = None) -> _Workflow:
        rng, s = self.rng, self.s
        role = draft_role or self._weighted(self.roles, self.role_weights)
        cluster = self._weighted(self.clusters, self.cluster_weights)
        team = rng.choice(TEAMS)
        draft = self._tiny(team) if role == "tiny" else self._draft(role, team, cluster)
        ts = self.start_ms + int(progress * self.span_ms) + rng.randrange(60_000)
        flow = _Workflow(
            workflow_id=f"wf-{self._uuid(rng)}",
            workflow="operate" if rng.random() < OPERATE_RATE else "recommend",
            cluster=cluster,
            role=role,
            ts=ts,
            intent=draft.intent,
            ranking=self._ranking(draft.leading, draft.weak),
            policy_ranking=[],
            app=draft.app,
        )
        has_solution = draft.solution and (role == "tiny" or rng.random() < s.solution_rate)
        if has_solution:
            applied, flow.policy_ranking = self._policies_for(draft.kinds)
            solution_ts = ts + rng.randint(5_000, 120_000)
            flow.solutions.append(
                _Solution(
                    solution_ts, draft.used, applied, draft.kinds, self._settings(draft.kinds)
                )
            )
            if role == "tiny":
                flow.outcome = (solution_ts + rng.randint(30_000, 900_000), "deployed", None)
            elif rng.random() < s.outcome_rate:
                flow.outcome = (
                    solution_ts + rng.randint(30_000, 900_000),
                    *self._status(draft.used),
                )
        else:
            _, flow.policy_ranking = self._policies_for([])
            if rng.random() < 0.5:
                flow.outcome = (ts + rng.randint(60_000, 1_800_000), "abandoned", None)
        return flow

    def _status(self, used: list[str]) -> tuple[str, str | None]:
        rng, s = self.rng, self.s
        if rng.random() < s.abandon_rate:
            return "abandoned", None
        failure = s.failure_rate if s.failing_target in used else s.base_failure_rate
        if rng.random() < failure:
            return "failed", rng.choice(FAILURE_ERRORS)
        return "deployed", None

    def add_first_draft(self, flow: _Workflow) -> bool:
        """With mess: put an earlier, different solution before the final one."""
        if not flow.solutions or self.mess.random() >= SECOND_SOLUTION_RATE:
            return False
        final = flow.solutions[0]
        kinds = list(final.kinds)
        if len(kinds) > 1:
            kinds.pop(self.mess.randrange(len(kinds)))
        else:
            kinds.append("ConfigMap")
        ts = flow.ts + self.mess.randint(1_000, 4_000)
        flow.solutions.insert(
            0, _Solution(ts, list(final.used), list(final.policies), kinds, dict(final.settings))
        )
        return True

    def events(self, flow: _Workflow, rng: random.Random) -> list[dict[str, Any]]:
        common = {"v": LOG_VERSION}
        head = {"workflowId": flow.workflow_id, "workflow": flow.workflow}
        events: list[dict[str, Any]] = [
            {
                **common,
                "eventId": f"ev-{self._uuid(rng)}",
                **head,
                "type": "retrieved",
                "ts": _format_ms(flow.ts),
                "cluster": flow.cluster,
                "intent": flow.intent,
                "patterns": [{"id": item, "score": score} for item, score in flow.ranking],
                "policies": [{"id": item, "score": score} for item, score in flow.policy_ranking],
            }
        ]
        last = len(flow.solutions) - 1
        for number, solution in enumerate(flow.solutions):
            events.append(
                {
                    **common,
                    "eventId": f"ev-{self._uuid(rng if number == last else self.mess)}",
                    **head,
                    "type": "solution",
                    "ts": _format_ms(solution.ts),
                    "cluster": flow.cluster,
                    "patternsUsed": solution.used,
                    "policiesApplied": solution.policies,
                    "resources": [self._resource(kind, flow.app) for kind in solution.kinds],
                    "settings": solution.settings,
                }
            )
        if flow.outcome is not None:
            outcome_ts, status, error = flow.outcome
            outcome: dict[str, Any] = {
                **common,
                "eventId": f"ev-{self._uuid(rng)}",
                **head,
                "type": "outcome",
                "ts": _format_ms(outcome_ts),
                "cluster": flow.cluster,
                "status": status,
            }
            if error is not None:
                outcome["error"] = error
            events.append(outcome)
        return events

    @staticmethod
    def _resource(kind: str, app: str) -> dict[str, str]:
        api_version = API_VERSIONS.get(kind)
        resource = {"kind": kind, "apiVersion": api_version} if api_version else {"kind": kind}
        resource["name"] = app
        return resource


def _observation(flow: _Workflow, kept: list[dict[str, Any]]) -> Observation:
    solutions = [event for event in kept if event["type"] == "solution"]
    outcomes = [event for event in kept if event["type"] == "outcome"]
    latest = max(solutions, key=lambda event: event["ts"]) if solutions else None
    return Observation(
        role=flow.role,
        cluster=flow.cluster,
        ranking=flow.ranking,
        used=list(latest["patternsUsed"]) if latest else None,
        kinds=[resource["kind"] for resource in latest["resources"]] if latest else [],
        settings=dict(latest["settings"]) if latest else {},
        status=outcomes[-1]["status"] if outcomes else None,
    )


def simulate(
    kb: KnowledgeBase,
    scenario: Scenario,
    out_dir: Path,
    *,
    events: int,
    seed: int,
    files: int = 1,
    gzip: bool = False,
    messy: bool = False,
) -> GroundTruth:
    """Write `events` events planted with `scenario` into `out_dir`, and the manifest."""
    if events < 1:
        raise UsageError(f"--events must be at least 1, not {events}")
    if files < 1:
        raise UsageError(f"--files must be at least 1, not {files}")
    scenario.check(kb)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_previous_output(out_dir)
    generator = _Generator(kb, scenario, seed, events)
    names = log_file_names(files, gzip_all=gzip, messy=messy)
    writer = LogWriter(out_dir, names, messy=messy, rng=generator.mess)
    tally = Tally(scenario, kb)
    emitted = workflows = second_solutions = tiny_done = 0
    try:
        while emitted < events:
            progress = emitted / events
            due_tiny = tiny_done < scenario.tiny_uses and progress >= (tiny_done + 1) / (
                scenario.tiny_uses + 1
            )
            flow = generator.workflow(progress, "tiny" if due_tiny else None)
            tiny_done += due_tiny
            if messy:
                generator.add_first_draft(flow)
            # The last workflow is cut short when the event budget ends inside it.
            kept = generator.events(flow, generator.rng)[: events - emitted]
            second_solutions += sum(event["type"] == "solution" for event in kept) > 1
            file_index = generator.rng.randrange(files)
            writer.write(file_index, kept)
            tally.observe(_observation(flow, kept))
            emitted += len(kept)
            workflows += 1
    finally:
        counts = writer.close()
    counts.second_solutions = second_solutions
    truth = GroundTruth(
        seed=seed,
        events=emitted,
        workflows=workflows,
        lines=writer.lines,
        window=ManifestWindow(start=scenario.start, end=scenario.end),
        files=names,
        knowledge_base={"patterns": len(kb.patterns), "policies": len(kb.policies)},
        messy=counts if messy else None,
        regularities=tally.regularities(),
    )
    truth.write(out_dir / MANIFEST_NAME)
    return truth
