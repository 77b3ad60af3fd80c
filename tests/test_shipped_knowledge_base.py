"""The example knowledge base the quick start runs on: valid, and found by plain-language intents.

It also pins the calibration of `metrics.weakMatchThreshold`: requests the knowledge base covers
score at or above it, requests it does not cover score below it (docs/index.md).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Config
from bot.index.edge import EdgeIndex
from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.index.retrieval import retrieve
from bot.index.store import Index
from bot.index.sync import SyncReport, sync_index
from bot.knowledge.repository import load_knowledge_base

REPO_ROOT = Path(__file__).resolve().parent.parent
WEAK = Config().metrics.weak_match_threshold

# Plain-language requests that do not repeat a trigger word for word, and the pattern they need.
COVERED = [
    ("I need a REST backend for the mobile app that scales with traffic", "stateless-web-app"),
    ("host the marketing website", "stateless-web-app"),
    ("run a postgres instance that keeps its data across restarts", "stateful-database"),
    ("set up a MySQL database for orders", "stateful-database"),
    ("we need mongodb for the catalog team", "stateful-database"),
    ("a service that pulls jobs off our queue and processes them", "background-worker"),
    ("celery workers for image thumbnails", "background-worker"),
    ("clean up old records weekly", "scheduled-batch-job"),
    ("deploy kafka for event streaming between teams", "message-queue"),
    ("we need rabbitmq", "message-queue"),
    ("add redis so the app can cache sessions", "cache-service"),
    ("memcached for the api", "cache-service"),
    ("scrape metrics from my app and alert when latency is high", "monitoring-stack"),
    ("prometheus alerts for the checkout service", "monitoring-stack"),
    ("a gRPC service only other services call", "internal-grpc-service"),
    ("private backend api used by the billing service", "internal-grpc-service"),
    ("ship logs from every node to elasticsearch", "node-agent"),
    ("run node exporter on all machines", "node-agent"),
    ("expose our public api with TLS and path routing", "public-api-gateway"),
    ("set up a gateway for external partners", "public-api-gateway"),
]

# Requests no shipped pattern covers: their best score must read as a weak match.
UNCOVERED = [
    "serve our fraud-detection model behind an HTTP endpoint",
    "deploy an ML inference server with GPUs",
    "host a jupyter notebook environment for data scientists",
    "run a spark cluster for analytics",
    "set up a vpn server",
    "deploy keycloak for single sign-on",
]


@pytest.fixture(scope="module")
def shipped_index(
    tmp_path_factory: pytest.TempPathFactory, minilm: MiniLMOnnxEmbedder
) -> Iterator[Index]:
    root = tmp_path_factory.mktemp("shipped")
    for folder in ("patterns", "policies"):
        shutil.copytree(REPO_ROOT / folder, root / folder)
    with EdgeIndex.open(root / "qdrant", "patternbot") as index:
        assert sync_index(index, minilm, load_knowledge_base(root)) == SyncReport(added=20)
        yield index


def test_the_shipped_knowledge_base_is_valid() -> None:
    kb = load_knowledge_base(REPO_ROOT)
    assert kb.problems == []
    assert (len(kb.patterns), len(kb.policies)) == (10, 10)


@pytest.mark.parametrize(("intent", "expected"), COVERED)
def test_the_right_shipped_pattern_comes_first(
    shipped_index: Index, minilm: MiniLMOnnxEmbedder, intent: str, expected: str
) -> None:
    first = retrieve(shipped_index, minilm, intent, 3).patterns[0]
    assert first.id == expected
    assert first.score >= WEAK


@pytest.mark.parametrize("intent", UNCOVERED)
def test_uncovered_requests_are_weak_matches(
    shipped_index: Index, minilm: MiniLMOnnxEmbedder, intent: str
) -> None:
    best = max(match.score for match in retrieve(shipped_index, minilm, intent, 3).patterns)
    assert best < WEAK
