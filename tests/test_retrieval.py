"""Hybrid retrieval over a realistic knowledge base: the right pattern first, scores are cosines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.errors import IndexUnavailableError
from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.index.retrieval import retrieve
from bot.index.store import Index
from bot.index.sync import sync_index
from bot.knowledge.repository import load_knowledge_base
from tests.support.kb import make_kb_repo, pattern_data, policy_data

PATTERNS = [
    pattern_data(
        "stateless-web-app",
        description="Stateless HTTP web application or website served behind an Ingress",
        triggers=["web application", "website", "frontend", "REST service"],
        suggestedResources=["Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"],
        rationale="Stateless replicas scale horizontally and are exposed through the ingress.",
    ),
    pattern_data(
        "stateful-database",
        description="Relational or document database that stores its data on persistent volumes",
        triggers=["database", "PostgreSQL", "MySQL", "MongoDB"],
        suggestedResources=["StatefulSet", "Service", "PersistentVolumeClaim", "Secret"],
        rationale="Stable identities and volumes keep the data when pods are rescheduled.",
    ),
    pattern_data(
        "scheduled-batch-job",
        description="Batch task that runs on a schedule, such as a nightly report or cleanup",
        triggers=["cron job", "scheduled task", "periodic batch"],
        suggestedResources=["CronJob", "ConfigMap", "Secret"],
        rationale="A CronJob starts the task at fixed times and keeps a history of runs.",
    ),
    pattern_data(
        "message-queue",
        description="Message broker or event streaming cluster such as RabbitMQ or Kafka",
        triggers=["message broker", "event streaming", "pub/sub"],
        suggestedResources=["StatefulSet", "Service", "PersistentVolumeClaim"],
        rationale="Brokers decouple producers from consumers and buffer work.",
    ),
    pattern_data(
        "cache-service",
        description="In-memory cache such as Redis or Memcached to speed up reads",
        triggers=["cache", "Redis", "Memcached"],
        suggestedResources=["Deployment", "Service"],
        rationale="A cache in memory answers repeated reads without hitting the database.",
    ),
    pattern_data(
        "monitoring-stack",
        description="Metrics scraping, dashboards and alerting with the Prometheus operator",
        triggers=["monitoring", "metrics", "alerts", "Prometheus"],
        suggestedResources=["ServiceMonitor", "PrometheusRule", "GrafanaDashboard"],
        rationale="Every service exposes metrics that are scraped and alerted on.",
    ),
    pattern_data(
        "node-agent",
        description="Agent that runs one pod on every node, such as a log shipper",
        triggers=["daemon on each node", "node agent", "log collector"],
        suggestedResources=["DaemonSet", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"],
        rationale="A DaemonSet places exactly one copy on each node, including new nodes.",
    ),
    pattern_data(
        "public-api-gateway",
        description="Public API gateway that routes external HTTPS traffic to internal services",
        triggers=["API gateway", "public API", "external traffic routing"],
        suggestedResources=["Gateway", "HTTPRoute", "Certificate"],
        rationale="One entry point terminates TLS and routes requests by host and path.",
    ),
    pattern_data(
        "legacy-vm-database",
        description="Database on a virtual machine outside the cluster, reached by an ExternalName",
        triggers=["database", "PostgreSQL on a VM"],
        suggestedResources=["Service"],
        rationale="Kept for old systems only.",
        deprecated=True,
        deprecatedReason="run databases in the cluster with stateful-database",
    ),
]

POLICIES = [
    policy_data(
        "require-resource-limits",
        description="Containers must declare CPU and memory requests and limits",
        triggers=["resource limits", "cpu", "memory"],
        appliesTo=["Deployment", "StatefulSet", "DaemonSet", "CronJob"],
    ),
    policy_data(
        "require-ingress-tls",
        description="Ingresses must terminate TLS with a certificate",
        triggers=["https", "tls", "certificate"],
        appliesTo=["Ingress"],
    ),
]

INTENTS = [
    ("run a postgres instance that keeps its data across restarts", "stateful-database"),
    ("host our company's marketing site with autoscaling", "stateless-web-app"),
    ("generate a sales report every night at 2am", "scheduled-batch-job"),
    ("let services publish events that other services consume asynchronously", "message-queue"),
    ("keep hot keys in memory so reads are faster", "cache-service"),
    ("get paged when error rates go up and see graphs of latency", "monitoring-stack"),
    ("ship container logs from every machine in the cluster", "node-agent"),
    ("expose our APIs to partners on the internet over https", "public-api-gateway"),
    ("a mysql server for the billing team", "stateful-database"),
    ("a nightly cron to clean up old files", "scheduled-batch-job"),
    ("route https traffic from the internet to services", "public-api-gateway"),
    ("store uploaded files and user records durably", "stateful-database"),
    ("run a website with a REST backend", "stateless-web-app"),
]


@pytest.fixture
def kb_root(tmp_path: Path) -> Path:
    return make_kb_repo(tmp_path / "kb", PATTERNS, POLICIES)


@pytest.fixture
def index(
    kb_root: Path, index_factory: Callable[[Path], Index], minilm: MiniLMOnnxEmbedder
) -> Index:
    opened = index_factory(kb_root)
    sync_index(opened, minilm, load_knowledge_base(kb_root))
    return opened


@pytest.mark.parametrize(("intent", "expected"), INTENTS)
def test_the_right_pattern_comes_first(
    index: Index, minilm: MiniLMOnnxEmbedder, intent: str, expected: str
) -> None:
    retrieval = retrieve(index, minilm, intent, 3)
    assert retrieval.patterns[0].id == expected


def test_deprecated_patterns_are_left_out_unless_asked(
    index: Index, minilm: MiniLMOnnxEmbedder
) -> None:
    intent = "PostgreSQL database"
    without = retrieve(index, minilm, intent, 10)
    assert "legacy-vm-database" not in [m.id for m in without.patterns]
    assert len(without.patterns) == 8
    with_deprecated = retrieve(index, minilm, intent, 10, include_deprecated=True)
    assert "legacy-vm-database" in [m.id for m in with_deprecated.patterns]
    assert len(with_deprecated.patterns) == 9


def test_scores_are_the_cosine_of_intent_and_item(
    index: Index, minilm: MiniLMOnnxEmbedder, kb_root: Path
) -> None:
    intent = "run a postgres instance that keeps its data across restarts"
    retrieval = retrieve(index, minilm, intent, 3)
    first = retrieval.patterns[0]
    item = load_knowledge_base(kb_root).patterns[first.id]
    intent_vector = minilm.embed([intent])[0]
    closest = float((minilm.embed(item.semantic_texts()) @ intent_vector).max())
    assert first.score == pytest.approx(closest, abs=1e-5)


def test_matches_carry_description_and_resources(index: Index, minilm: MiniLMOnnxEmbedder) -> None:
    retrieval = retrieve(index, minilm, "nightly cleanup cron job", 1)
    assert [m.to_data() | {"score": 0} for m in retrieval.patterns] == [
        {
            "id": "scheduled-batch-job",
            "score": 0,
            "description": PATTERNS[2]["description"],
            "suggestedResources": ["CronJob", "ConfigMap", "Secret"],
        }
    ]
    assert len(retrieval.policies) == 1
    assert set(retrieval.policies[0].to_data()) == {"id", "score", "description", "appliesTo"}


def test_limit_bounds_each_kind(index: Index, minilm: MiniLMOnnxEmbedder) -> None:
    retrieval = retrieve(index, minilm, "a web app", 2)
    assert (len(retrieval.patterns), len(retrieval.policies)) == (2, 2)


def test_an_intent_of_stop_words_only_still_gets_dense_results(
    index: Index, minilm: MiniLMOnnxEmbedder
) -> None:
    assert len(retrieve(index, minilm, "what is the", 3).patterns) == 3


def test_an_index_that_was_never_synced_says_so(
    kb_repo_factory: Callable[..., Path],
    index_factory: Callable[[Path], Index],
    minilm: MiniLMOnnxEmbedder,
) -> None:
    empty = index_factory(kb_repo_factory())
    with pytest.raises(IndexUnavailableError) as info:
        retrieve(empty, minilm, "anything", 3)
    assert str(info.value) == "index is empty: run `patternbot sync`"
