"""`sync_index`: incremental, idempotent mirroring of a git knowledge base into Qdrant."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.errors import IndexUnavailableError, KnowledgeBaseError
from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.index.store import Index
from bot.index.sync import SyncReport, content_hash, sync_index
from bot.knowledge.repository import load_knowledge_base
from bot.knowledge.schema import UsageMetrics
from tests.support.index import CountingEmbedder, HashingEmbedder
from tests.support.kb import pattern_data, policy_data, write_item

RepoFactory = Callable[..., Path]
IndexFactory = Callable[[Path], Index]


@pytest.fixture
def repo(kb_repo_factory: RepoFactory) -> Path:
    return kb_repo_factory(
        patterns=[pattern_data("web-app"), pattern_data("database"), pattern_data("batch-job")],
        policies=[policy_data("resource-limits"), policy_data("non-root")],
    )


def sync(root: Path, index: Index, embedder: object, rebuild: bool = False) -> SyncReport:
    kb = load_knowledge_base(root)
    return sync_index(index, embedder, kb, rebuild=rebuild)  # type: ignore[arg-type]


def test_first_sync_adds_everything_and_the_second_changes_nothing(
    repo: Path, index_factory: IndexFactory, minilm: MiniLMOnnxEmbedder
) -> None:
    index = index_factory(repo)
    counting = CountingEmbedder(minilm)
    assert sync(repo, index, counting) == SyncReport(added=5)
    # Each item has one trigger here: its naming text and that trigger are embedded.
    kb = load_knowledge_base(repo)
    expected = [
        t
        for items in (kb.patterns, kb.policies)
        for i in items.values()
        for t in i.semantic_texts()
    ]
    assert sorted(counting.texts) == sorted(expected)
    assert len(counting.texts) == 10
    counting.texts.clear()
    assert sync(repo, index, counting) == SyncReport(unchanged=5)
    assert counting.texts == []
    assert sorted(index.payloads("pattern")) == ["batch-job", "database", "web-app"]
    assert sorted(index.payloads("policy")) == ["non-root", "resource-limits"]
    assert index.collection("pattern") == "patternbot_patterns"
    assert index.layout("pattern") == (384, True)


def test_the_payload_is_the_item_data_with_its_hash_and_model(
    repo: Path, index_factory: IndexFactory, minilm: MiniLMOnnxEmbedder
) -> None:
    index = index_factory(repo)
    sync(repo, index, minilm)
    item = load_knowledge_base(repo).patterns["database"]
    assert index.payloads("pattern")["database"] == {
        **item.to_data(),
        "contentHash": content_hash(item.to_data()),
        "embeddingModel": "all-MiniLM-L6-v2-onnx-int8",
    }


def test_a_changed_file_is_updated_and_only_it_is_re_embedded(
    repo: Path, index_factory: IndexFactory, minilm: MiniLMOnnxEmbedder
) -> None:
    index = index_factory(repo)
    sync(repo, index, minilm)
    write_item(
        repo, "patterns", pattern_data("database", description="PostgreSQL on a StatefulSet")
    )
    counting = CountingEmbedder(minilm)
    assert sync(repo, index, counting) == SyncReport(updated=1, unchanged=4)
    changed = load_knowledge_base(repo).patterns["database"]
    assert counting.texts == changed.semantic_texts()
    assert index.payloads("pattern")["database"]["description"] == "PostgreSQL on a StatefulSet"


def test_a_deleted_file_is_removed_from_the_index(
    repo: Path, index_factory: IndexFactory, minilm: MiniLMOnnxEmbedder
) -> None:
    index = index_factory(repo)
    sync(repo, index, minilm)
    (repo / "patterns" / "batch-job.yaml").unlink()
    assert sync(repo, index, minilm) == SyncReport(removed=1, unchanged=4)
    assert sorted(index.payloads("pattern")) == ["database", "web-app"]
    assert sorted(index.item_vectors("pattern")) == ["database", "web-app"]
    assert index.item_vectors("pattern", ["batch-job"]) == {}


def test_usage_metrics_and_other_stored_keys_survive_content_updates(
    repo: Path, index_factory: IndexFactory, minilm: MiniLMOnnxEmbedder
) -> None:
    index = index_factory(repo)
    sync(repo, index, minilm)
    metrics = {"database": UsageMetrics(times_recommended=7, times_used=3, success_rate=0.5)}
    assert index.set_usage_metrics("pattern", metrics) == 1
    assert index.set_payload("pattern", {"database": {"reviewNote": "keep me"}, "gone": {}}) == 1
    write_item(repo, "patterns", pattern_data("database", rationale="Stateful data needs care."))
    assert sync(repo, index, minilm) == SyncReport(updated=1, unchanged=4)
    assert sync(repo, index, minilm) == SyncReport(unchanged=5)
    payload = index.payloads("pattern")["database"]
    assert payload["usageMetrics"] == {
        "timesRecommended": 7,
        "timesUsed": 3,
        "successRate": 0.5,
        "commonAdditions": {},
    }
    assert payload["reviewNote"] == "keep me"
    assert payload["rationale"] == "Stateful data needs care."


def test_a_field_removed_from_the_file_is_removed_from_the_payload(
    kb_repo_factory: RepoFactory, index_factory: IndexFactory, minilm: MiniLMOnnxEmbedder
) -> None:
    root = kb_repo_factory(
        patterns=[pattern_data("old", deprecated=True, deprecatedReason="use new")]
    )
    index = index_factory(root)
    sync(root, index, minilm)
    write_item(root, "patterns", pattern_data("old"))
    assert sync(root, index, minilm) == SyncReport(updated=1)
    payload = index.payloads("pattern")["old"]
    assert "deprecated" not in payload
    assert "deprecatedReason" not in payload


def test_set_usage_metrics_skips_items_not_in_the_index(
    repo: Path, index_factory: IndexFactory, minilm: MiniLMOnnxEmbedder
) -> None:
    index = index_factory(repo)
    sync(repo, index, minilm)
    metrics = {"web-app": UsageMetrics(), "gone": UsageMetrics(times_used=1)}
    assert index.set_usage_metrics("pattern", metrics) == 1
    assert index.payloads("pattern")["web-app"]["usageMetrics"] == {
        "timesRecommended": 0,
        "timesUsed": 0,
        "commonAdditions": {},
    }
    assert "usageMetrics" not in index.payloads("pattern")["database"]


def test_legacy_usage_metrics_in_yaml_are_used_only_when_the_index_has_none(
    kb_repo_factory: RepoFactory, index_factory: IndexFactory, minilm: MiniLMOnnxEmbedder
) -> None:
    legacy = {"timesRecommended": 2, "timesUsed": 1}
    root = kb_repo_factory(patterns=[pattern_data("a", usageMetrics=legacy), pattern_data("b")])
    index = index_factory(root)
    sync(root, index, minilm)
    assert index.payloads("pattern")["a"]["usageMetrics"] == legacy
    index.set_usage_metrics("pattern", {"a": UsageMetrics(times_recommended=9)})
    write_item(root, "patterns", pattern_data("a", usageMetrics=legacy, rationale="Changed."))
    assert sync(root, index, minilm) == SyncReport(updated=1, unchanged=1)
    assert index.payloads("pattern")["a"]["usageMetrics"] == {
        "timesRecommended": 9,
        "timesUsed": 0,
        "commonAdditions": {},
    }


def test_a_model_change_rebuilds_the_collections_and_keeps_usage_metrics(
    repo: Path, index_factory: IndexFactory, minilm: MiniLMOnnxEmbedder
) -> None:
    index = index_factory(repo)
    sync(repo, index, HashingEmbedder())
    assert index.layout("pattern") == (64, True)
    index.set_usage_metrics("pattern", {"web-app": UsageMetrics(times_used=4)})
    index.set_usage_metrics("policy", {"non-root": UsageMetrics(times_recommended=5)})
    report = sync(repo, index, minilm)
    assert report == SyncReport(
        added=5,
        rebuilt="embedding model changed from hashing-test-v1 (64 dimensions) "
        "to all-MiniLM-L6-v2-onnx-int8 (384 dimensions)",
    )
    assert index.layout("pattern") == (384, True)
    assert index.layout("policy") == (384, True)
    assert index.payloads("pattern")["web-app"]["usageMetrics"]["timesUsed"] == 4
    assert index.payloads("policy")["non-root"]["usageMetrics"]["timesRecommended"] == 5
    assert {p["embeddingModel"] for p in index.payloads("pattern").values()} == {
        "all-MiniLM-L6-v2-onnx-int8"
    }
    assert sync(repo, index, minilm) == SyncReport(unchanged=5)


def test_a_requested_rebuild_re_embeds_everything_and_keeps_usage_metrics(
    repo: Path, index_factory: IndexFactory
) -> None:
    index = index_factory(repo)
    embedder = CountingEmbedder(HashingEmbedder())
    sync(repo, index, embedder)
    index.set_usage_metrics("pattern", {"database": UsageMetrics(times_used=2)})
    embedder.texts.clear()
    assert sync(repo, index, embedder, rebuild=True) == SyncReport(
        added=5, rebuilt="requested with --rebuild"
    )
    assert len(embedder.texts) == 10  # naming text + one trigger per item
    assert index.payloads("pattern")["database"]["usageMetrics"]["timesUsed"] == 2


def test_an_invalid_knowledge_base_is_not_synced(
    kb_repo_factory: RepoFactory, index_factory: IndexFactory
) -> None:
    root = kb_repo_factory(
        patterns=[pattern_data("good"), pattern_data("bad", suggestedResources=["PVC"])]
    )
    index = index_factory(root)
    with pytest.raises(KnowledgeBaseError) as info:
        sync(root, index, HashingEmbedder())
    assert str(info.value) == (
        "cannot sync: the knowledge base has 1 problem(s) "
        "(syncing it would remove items from the index):\n"
        "  patterns/bad.yaml:6: suggestedResources.0: 'PVC' is a short name; write the kind "
        "'PersistentVolumeClaim'"
    )
    assert not index.exists("pattern")


def test_nearest_returns_ids_with_cosine_scores(
    repo: Path, index_factory: IndexFactory, minilm: MiniLMOnnxEmbedder
) -> None:
    index = index_factory(repo)
    sync(repo, index, minilm)
    item = load_knowledge_base(repo).patterns["database"]
    vector = minilm.embed([item.naming_text()])[0]
    nearest = index.nearest("pattern", vector.tolist(), 2)
    assert nearest[0][0] == "database"
    assert nearest[0][1] == pytest.approx(1.0, abs=1e-5)
    assert len(nearest) == 2


def test_a_local_index_already_open_elsewhere_is_refused_with_one_line(
    repo: Path, index_factory: IndexFactory
) -> None:
    index = index_factory(repo)
    with pytest.raises(IndexUnavailableError) as info:
        index_factory(repo)
    assert str(info.value) == (
        f"Qdrant at {index.location}: the folder is in use by another process "
        "(local mode allows one at a time; set QDRANT_URL to share a Qdrant server)"
    )
