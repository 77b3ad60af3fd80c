"""Which regularities a simulation plants, on which patterns, and how strongly."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.errors import KnowledgeBaseError
from bot.knowledge.repository import KnowledgeBase
from bot.knowledge.schema import Pattern
from testing.simulation.intents import GAP_FAMILIES, gap_family_for

SECCOMP_PATH = "spec.template.spec.securityContext.seccompProfile.type"
SECCOMP_VALUE = "RuntimeDefault"
NON_ROOT_PATH = "spec.template.spec.securityContext.runAsNonRoot"
NON_ROOT_VALUE = True

# Kinds a planted "added resource" may be, in order of preference, for knowledge bases whose
# patterns already suggest the usual ones.
_ADDABLE_KINDS = (
    "PodDisruptionBudget",
    "NetworkPolicy",
    "HorizontalPodAutoscaler",
    "ServiceMonitor",
    "PodMonitor",
)
MIN_PATTERNS = 9

# Share of workflows of each kind (the tiny sample is three extra workflows, not a share).
DEFAULT_SHARES: tuple[tuple[str, float], ...] = (
    ("addition", 0.23),  # the addition target used on its own
    ("co_usage", 0.07),  # the co-used pattern, often together with the addition target
    ("noise", 0.10),  # the noise-addition control
    ("failing", 0.10),  # the failing pattern
    ("cluster", 0.15),  # the cluster-specific addition
    ("rival", 0.03),  # the pattern chosen instead of the rarely used one
    ("rarely_used", 0.06),  # intents the rarely used pattern ranks first for
    ("base_rate", 0.08),  # the first pattern of the base-rate pair
    ("gap", 0.10),  # the gap family
    ("scattered", 0.04),  # one-off weak requests
    ("background", 0.04),  # every other pattern, Zipf-weighted
)
# A knowledge base of hundreds of patterns spends most of its workflows on the background.
BACKGROUND_SHARE_LARGE = 0.5


def shares_with_background(background: float) -> tuple[tuple[str, float], ...]:
    """DEFAULT_SHARES rescaled so that the background gets `background` of all workflows."""
    rest = 1.0 - dict(DEFAULT_SHARES)["background"]
    scale = (1.0 - background) / rest
    return tuple(
        (name, background if name == "background" else round(share * scale, 6))
        for name, share in DEFAULT_SHARES
    )


@dataclass(frozen=True)
class Scenario:
    """The planted regularities and the background a simulation writes, with their rates.

    Rates are probabilities per workflow; the ground-truth manifest reports what was actually drawn.
    """

    addition_target: str = "stateless-web-app"
    added_kind: str = "PodDisruptionBudget"
    co_used: str = "cache-service"
    noise_target: str = "stateful-database"
    noise_kind: str = "ServiceMonitor"
    failing_target: str = "background-worker"
    cluster_target: str = "scheduled-batch-job"
    cluster_kind: str = "NetworkPolicy"
    cluster: str = "prod-eu"
    tiny_target: str = "message-queue"
    tiny_kind: str = "Job"
    tiny_uses: int = 3
    rarely_used: str = "node-agent"
    rival: str = "monitoring-stack"
    base_rate_pair: tuple[str, str] = ("internal-grpc-service", "monitoring-stack")
    covered_policy: str | None = "require-run-as-non-root"
    gap_family: str = "ml-inference"
    clusters: tuple[tuple[str, float], ...] = (
        ("dev", 0.25),
        ("staging", 0.2),
        ("prod-us", 0.27),
        ("prod-eu", 0.28),
    )
    start: dt.datetime = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    days: int = 30
    shares: tuple[tuple[str, float], ...] = DEFAULT_SHARES
    addition_rate: float = 0.9  # alone; overall about 0.8 once co-used workflows count
    addition_rate_with_partner: float = 0.5
    co_usage_rate: float = 0.75
    noise_rate: float = 0.2
    failure_rate: float = 0.4
    base_failure_rate: float = 0.05
    cluster_rate: float = 0.9
    rarely_used_rate: float = 0.06  # the rarely used pattern chosen when it ranks first
    rival_rate: float = 0.3  # the rival chosen instead; otherwise no pattern is used
    gap_pattern_rate: float = 0.08  # gap workflows that still name the addition target
    # Shares of deployed solutions carrying the settings; solutions without a pod-bearing workload
    # carry no pod settings, so the rate among the others is raised to reach these overall.
    seccomp_share: float = 0.85
    non_root_share: float = 0.9
    solution_rate: float = 0.93
    outcome_rate: float = 0.95
    abandon_rate: float = 0.07
    strong_threshold: float = 0.55  # learning.strongMatchThreshold's default
    weak_threshold: float = 0.4  # metrics.weakMatchThreshold's default

    @classmethod
    def default_for_examples(cls) -> Scenario:
        """The scenario of the repository's example knowledge base and examples/logs/."""
        return cls()

    @classmethod
    def for_knowledge_base(cls, kb: KnowledgeBase) -> Scenario:
        """A scenario whose roles are patterns of `kb`: the example ids if they fit, else picked."""
        example = cls.default_for_examples()
        if not example.problems(kb):
            return example
        return _pick_roles(kb, example)

    @property
    def end(self) -> dt.datetime:
        """The end of the simulated window (exclusive)."""
        return self.start + dt.timedelta(days=self.days)

    def base_rate_pair_rate(self) -> float:
        """How often the base-rate pair's second pattern joins the first: its share everywhere else.

        Using the second pattern at its overall rate makes the pair's lift about 1.
        """
        shares = dict(self.shares)
        elsewhere = shares.get("rival", 0.0) + shares.get("rarely_used", 0.0) * self.rival_rate
        with_solutions = (
            sum(shares.values()) - shares.get("scattered", 0.0) * 0.6 - shares.get("base_rate", 0.0)
        )
        return elsewhere / with_solutions if with_solutions > 0 else 0.0

    def role_patterns(self) -> list[str]:
        """Every pattern id the scenario gives a role, in a fixed order, without repeats."""
        ids = [
            self.addition_target,
            self.co_used,
            self.noise_target,
            self.failing_target,
            self.cluster_target,
            self.tiny_target,
            self.rarely_used,
            self.rival,
            *self.base_rate_pair,
        ]
        return list(dict.fromkeys(ids))

    def problems(self, kb: KnowledgeBase) -> list[str]:
        """Why this scenario cannot be planted on `kb` (empty when it can)."""
        found: list[str] = []
        for item_id in self.role_patterns():
            pattern = kb.patterns.get(item_id)
            if pattern is None:
                found.append(f"pattern {item_id!r} is not in the knowledge base")
            elif pattern.deprecated:
                found.append(f"pattern {item_id!r} is deprecated")
        for item_id, kind in (
            (self.addition_target, self.added_kind),
            (self.co_used, self.added_kind),
            (self.noise_target, self.noise_kind),
            (self.cluster_target, self.cluster_kind),
            (self.tiny_target, self.tiny_kind),
        ):
            pattern = kb.patterns.get(item_id)
            if pattern is not None and kind in pattern.suggested_resources:
                found.append(
                    f"pattern {item_id!r} already suggests {kind}, so adding it is no signal"
                )
        if self.covered_policy is not None:
            policy = kb.policies.get(self.covered_policy)
            if policy is None:
                found.append(f"policy {self.covered_policy!r} is not in the knowledge base")
            elif policy.settings.get(NON_ROOT_PATH) is not NON_ROOT_VALUE:
                found.append(
                    f"policy {self.covered_policy!r} does not declare "
                    f"settings {{{NON_ROOT_PATH!r}: true}}"
                )
        for policy in kb.policies.values():
            if SECCOMP_PATH in policy.settings:
                found.append(f"policy {policy.id!r} already covers {SECCOMP_PATH}")
        names = [name for name, _ in self.clusters]
        if self.cluster not in names:
            found.append(f"cluster {self.cluster!r} is not one of {names}")
        if self.gap_family not in {family.name for family in GAP_FAMILIES}:
            found.append(f"unknown gap family {self.gap_family!r}")
        elif gap_family_for(list(kb.patterns.values())).name != self.gap_family:
            found.append(f"the knowledge base already covers the gap family {self.gap_family!r}")
        return found

    def check(self, kb: KnowledgeBase) -> None:
        """Raise KnowledgeBaseError naming the first reason the scenario does not fit `kb`."""
        found = self.problems(kb)
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise KnowledgeBaseError(f"cannot plant the simulation scenario: {found[0]}{more}")


def _lacking(pattern: Pattern, kinds: Sequence[str]) -> str | None:
    return next((kind for kind in kinds if kind not in pattern.suggested_resources), None)


def _pick_roles(kb: KnowledgeBase, base: Scenario) -> Scenario:
    active = [pattern for _, pattern in sorted(kb.patterns.items()) if not pattern.deprecated]
    if len(active) < MIN_PATTERNS:
        raise KnowledgeBaseError(
            f"the simulation needs at least {MIN_PATTERNS} patterns that are not deprecated, "
            f"found {len(active)}"
        )
    taken: set[str] = set()

    def pick(accept: Callable[[Pattern], bool]) -> Pattern:
        # Prefer a pattern that fits the role; any free one will do when none fits.
        free = [pattern for pattern in active if pattern.id not in taken]
        chosen = next((pattern for pattern in free if accept(pattern)), free[0])
        taken.add(chosen.id)
        return chosen

    def has(*kinds: str) -> Callable[[Pattern], bool]:
        return lambda pattern: all(kind in pattern.suggested_resources for kind in kinds)

    addition = pick(
        lambda p: has("Deployment", "Service")(p) and _lacking(p, _ADDABLE_KINDS) is not None
    )
    added_kind = _lacking(addition, _ADDABLE_KINDS) or "PodDisruptionBudget"
    co_used = pick(lambda p: added_kind not in p.suggested_resources and has("Service")(p))
    noise = pick(lambda p: "ServiceMonitor" not in p.suggested_resources)
    failing = pick(has("Deployment"))
    cluster_target = pick(lambda p: _lacking(p, ("NetworkPolicy", *_ADDABLE_KINDS)) is not None)
    cluster_kind = _lacking(cluster_target, ("NetworkPolicy", *_ADDABLE_KINDS)) or "NetworkPolicy"
    tiny = pick(lambda p: "Job" not in p.suggested_resources)
    rarely = pick(has("DaemonSet"))
    rival = pick(lambda p: True)
    pair_first = pick(lambda p: True)
    covered = next(
        (
            p.id
            for _, p in sorted(kb.policies.items())
            if p.settings.get(NON_ROOT_PATH) is NON_ROOT_VALUE
        ),
        None,
    )
    scenario = dataclasses.replace(
        base,
        addition_target=addition.id,
        added_kind=added_kind,
        co_used=co_used.id,
        noise_target=noise.id,
        noise_kind="ServiceMonitor"
        if "ServiceMonitor" not in noise.suggested_resources
        else (_lacking(noise, _ADDABLE_KINDS) or "ServiceMonitor"),
        failing_target=failing.id,
        cluster_target=cluster_target.id,
        cluster_kind=cluster_kind,
        tiny_target=tiny.id,
        tiny_kind="Job" if "Job" not in tiny.suggested_resources else "CronJob",
        rarely_used=rarely.id,
        rival=rival.id,
        base_rate_pair=(pair_first.id, rival.id),
        covered_policy=covered,
        gap_family=gap_family_for(list(kb.patterns.values())).name,
        shares=shares_with_background(BACKGROUND_SHARE_LARGE)
        if len(active) > 4 * MIN_PATTERNS
        else base.shares,
    )
    scenario.check(kb)
    return scenario
