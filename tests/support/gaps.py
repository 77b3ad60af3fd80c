"""Weak-intent families for gap tests: paraphrases with independent resources, and other topics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from bot.logs.usage import UsageReport, WeakIntent
from tests.support.learning import report

# One topic phrased six ways (the wording of issue 8's failure): MiniLM puts some phrasings at
# cosine 0.2 of each other, while each phrasing recurs with several subjects.
BROKER_PHRASINGS = (
    "a message broker for {s}",
    "a durable queue between services for {s}",
    "event streaming for {s}",
    "kafka topics for {s}",
    "rabbitmq to decouple {s} workers",
    "buffer {s} in a persistent log",
)
BROKER_SUBJECTS = (
    "order events", "payment callbacks", "clickstream", "inventory updates",
    "shipping notices", "signups", "audit trail", "sensor readings",
)  # fmt: skip
BROKER_KINDS = ("StatefulSet", "Service", "PersistentVolumeClaim", "PodDisruptionBudget")
# Each kind is left out of a few solutions, never two in one: every kind is in 85-98% of the
# solutions while the whole set is in only 28 of 40 (70%).
BROKER_MISSING: Mapping[str, frozenset[int]] = {
    "StatefulSet": frozenset({3, 17}),
    "Service": frozenset({8}),
    "PersistentVolumeClaim": frozenset({5, 21, 30, 36}),
    "PodDisruptionBudget": frozenset({1, 12, 25, 33, 39}),
}
# Other recurring weak topics, each with its own consistent resources and subjects.
OTHER_TOPICS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "transcode uploaded {s} videos to HLS",
        ("ConfigMap", "Job", "PersistentVolumeClaim"),
        ("lecture", "webinar", "support-call", "product-demo"),
    ),
    (
        "host dedicated {s} game servers",
        ("ConfigMap", "PodDisruptionBudget", "Service", "StatefulSet"),
        ("racing", "puzzle", "card", "strategy"),
    ),
    (
        "serve the {s} model for online predictions",
        ("Deployment", "HorizontalPodAutoscaler", "Service"),
        ("fraud", "churn", "ranking", "spam"),
    ),
    (
        "feature flags for the {s} team",
        ("ConfigMap", "Deployment"),
        ("checkout", "mobile", "search", "growth"),
    ),
)
ONE_OFFS = (
    ("a status page for the order events outage notices", ("Deployment", "Ingress", "Service")),
    ("translate payment callbacks documents into french", ("Job",)),
    ("scrape prices from clickstream websites", ("CronJob", "Secret")),
)

# Backups asked for with four words of one meaning, inflected: no exact token is in 30% of them.
BACKUP_PHRASINGS = (
    "backups of the {s} records",
    "keep backups for {s}",
    "a backup of {s} each night",
    "backup {s} before upgrades",
    "dumps of {s} to object storage",
    "dump {s} tables weekly",
    "snapshots of {s} volumes",
    "snapshot {s} disks hourly",
    "archive {s} snapshots offsite",
    "restore points for {s} from dumps",
)
BACKUP_SUBJECTS = (
    "billing", "orders", "crm", "wiki", "inventory", "payroll", "tickets", "analytics",
)  # fmt: skip
BACKUP_KINDS = ("CronJob", "PersistentVolumeClaim", "Secret")


def weak(
    index: int,
    intent: str,
    kinds: Sequence[str],
    *,
    score: float = 0.31,
    cluster: str | None = None,
) -> WeakIntent:
    """One weak-match workflow whose solution deployed `kinds`."""
    return WeakIntent(
        workflow_id=f"wf-{index}",
        intent=intent,
        best_pattern="web-app",
        best_score=score,
        kinds=sorted(kinds),
        status="deployed",
        cluster=cluster,
        ts=dt.datetime(2026, 1, 10, tzinfo=dt.UTC),
    )


def broker_family(count: int = 40) -> list[WeakIntent]:
    """The message-broker family: six phrasings, eight subjects, independently missing kinds."""
    return [
        weak(
            i,
            BROKER_PHRASINGS[i % 6].format(s=BROKER_SUBJECTS[(i * 5) % 8]),
            [kind for kind in BROKER_KINDS if i not in BROKER_MISSING[kind]],
        )
        for i in range(count)
    ]


def other_topics() -> list[WeakIntent]:
    """Four other recurring topics of eight requests each, and three one-off requests."""
    intents = [
        weak(100 + 8 * topic + j, template.format(s=subjects[j % 4]), kinds)
        for topic, (template, kinds, subjects) in enumerate(OTHER_TOPICS)
        for j in range(8)
    ]
    intents += [weak(200 + i, text, kinds) for i, (text, kinds) in enumerate(ONE_OFFS)]
    return intents


def backup_family(count: int = 40, start: int = 300) -> list[WeakIntent]:
    """Backup requests in ten phrasings over eight subjects; every solution uses BACKUP_KINDS."""
    return [
        weak(
            start + i,
            BACKUP_PHRASINGS[i % 10].format(s=BACKUP_SUBJECTS[(i * 3) % 8]),
            BACKUP_KINDS,
        )
        for i in range(count)
    ]


def weak_report(intents: list[WeakIntent]) -> UsageReport:
    """A usage report holding only these weak intents."""
    return report(weak_intents=intents, weak_intents_total=len(intents))
