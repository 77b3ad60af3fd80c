"""The two index engines side by side: Qdrant Edge (the embedded default) and qdrant-client.

Both run for real in temporary folders. Every intent of the retrieval and shipped-knowledge-base
tests gets the same ids, in the same order, with the same scores from both engines; Edge keeps
the folder to one process, persists across reopening, and rebuilds a folder an older patternbot
wrote with qdrant-client's local mode, keeping its usage metrics.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import qdrant_edge as qe

from bot.config import load_config
from bot.errors import IndexUnavailableError
from bot.index.client import QdrantClientIndex
from bot.index.edge import EdgeIndex
from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.index.retrieval import retrieve
from bot.index.store import Index, open_index
from bot.index.sync import SyncReport, sync_index
from bot.knowledge.repository import load_knowledge_base
from bot.knowledge.schema import UsageMetrics
from tests.support.index import HashingEmbedder
from tests.support.kb import make_kb_repo
from tests.test_retrieval import INTENTS, PATTERNS, POLICIES
from tests.test_shipped_knowledge_base import COVERED, UNCOVERED

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = list[tuple[str, list[tuple[str, float]], list[tuple[str, float]]]]


def _results(index: Index, minilm: MiniLMOnnxEmbedder, intents: list[str]) -> RESULTS:
    found: RESULTS = []
    for intent in intents:
        for deprecated in (False, True):
            r = retrieve(index, minilm, intent, 5, include_deprecated=deprecated)
            found.append(
                (
                    intent,
                    [(m.id, m.score) for m in r.patterns],
                    [(m.id, m.score) for m in r.policies],
                )
            )
    return found


@pytest.fixture(scope="module")
def both_engines(
    tmp_path_factory: pytest.TempPathFactory, minilm: MiniLMOnnxEmbedder
) -> Iterator[dict[str, tuple[Index, Index]]]:
    """The shipped knowledge base and the retrieval test's, each synced into both engines."""
    shipped = tmp_path_factory.mktemp("shipped")
    for folder in ("patterns", "policies"):
        shutil.copytree(REPO_ROOT / folder, shipped / folder)
    realistic = make_kb_repo(tmp_path_factory.mktemp("realistic") / "kb", PATTERNS, POLICIES)
    opened: dict[str, tuple[Index, Index]] = {}
    indexes: list[Index] = []
    try:
        for name, root in (("shipped", shipped), ("realistic", realistic)):
            edge = EdgeIndex.open(root / "edge", "patternbot")
            indexes.append(edge)
            client = QdrantClientIndex.local(root / "client", "patternbot")
            indexes.append(client)
            kb = load_knowledge_base(root)
            assert sync_index(edge, minilm, kb) == sync_index(client, minilm, kb)
            opened[name] = (edge, client)
        yield opened
    finally:
        for index in indexes:
            index.close()


@pytest.mark.parametrize(
    ("kb", "intents"),
    [
        ("shipped", [intent for intent, _ in COVERED] + UNCOVERED),
        ("realistic", [intent for intent, _ in INTENTS] + ["PostgreSQL database", "what is the"]),
    ],
)
def test_both_engines_return_the_same_items_in_the_same_order_with_the_same_scores(
    both_engines: dict[str, tuple[Index, Index]],
    minilm: MiniLMOnnxEmbedder,
    kb: str,
    intents: list[str],
) -> None:
    edge, client = both_engines[kb]
    assert (edge.engine, client.engine) == ("edge", "qdrant-client")
    on_edge, on_client = _results(edge, minilm, intents), _results(client, minilm, intents)
    ids = [(i, [m for m, _ in p], [m for m, _ in q]) for i, p, q in on_edge]
    assert ids == [(i, [m for m, _ in p], [m for m, _ in q]) for i, p, q in on_client]
    # Each engine normalises the stored vectors itself: a score may differ in its last digit.
    scores = [s for _, p, q in on_edge for _, s in p + q]
    assert scores == pytest.approx([s for _, p, q in on_client for _, s in p + q], abs=2e-6)


def test_both_engines_store_the_same_payloads_and_vectors(
    both_engines: dict[str, tuple[Index, Index]],
) -> None:
    edge, client = both_engines["shipped"]
    for kind in ("pattern", "policy"):
        assert edge.payloads(kind) == client.payloads(kind)
        edge_vectors, client_vectors = edge.item_vectors(kind), client.item_vectors(kind)
        assert sorted(edge_vectors) == sorted(client_vectors)
        for item_id, rows in edge_vectors.items():
            assert rows.shape == client_vectors[item_id].shape
            assert abs(rows - client_vectors[item_id]).max() < 1e-6


def test_item_vectors_are_the_embeddings_of_the_semantic_texts(
    both_engines: dict[str, tuple[Index, Index]], minilm: MiniLMOnnxEmbedder
) -> None:
    edge, _ = both_engines["shipped"]
    kb = load_knowledge_base(REPO_ROOT)
    stored = edge.item_vectors("pattern", ["cache-service", "no-such-pattern"])
    assert list(stored) == ["cache-service"]
    expected = minilm.embed(kb.patterns["cache-service"].semantic_texts())
    assert stored["cache-service"].shape == expected.shape
    assert abs(stored["cache-service"] - expected).max() < 1e-5


def test_edge_persists_and_keeps_the_folder_to_one_process(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    root = make_kb_repo(tmp_path / "kb", PATTERNS, POLICIES)
    config = load_config(root)
    intent = "a nightly cron to clean up old files"
    with open_index(config) as index:
        assert isinstance(index, EdgeIndex)
        sync_index(index, minilm, load_knowledge_base(root))
        index.set_usage_metrics("pattern", {"scheduled-batch-job": UsageMetrics(times_used=3)})
        before = retrieve(index, minilm, intent, 3)
        with pytest.raises(IndexUnavailableError) as info, open_index(config):
            pass
        assert "the folder is in use by another process" in str(info.value)
    with open_index(config) as index:
        assert retrieve(index, minilm, intent, 3) == before
        assert index.payloads("pattern")["scheduled-batch-job"]["usageMetrics"] == {
            "timesRecommended": 0,
            "timesUsed": 3,
            "commonAdditions": {},
        }
        assert sync_index(index, minilm, load_knowledge_base(root)) == SyncReport(unchanged=11)


def test_a_folder_written_by_qdrant_client_local_mode_is_rebuilt_with_its_metrics(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    root = make_kb_repo(tmp_path / "kb", PATTERNS, POLICIES)
    config = load_config(root)
    kb = load_knowledge_base(root)
    with QdrantClientIndex.local(config.qdrant_path, "patternbot") as old:
        sync_index(old, minilm, kb)
        old.set_usage_metrics("pattern", {"cache-service": UsageMetrics(times_recommended=4)})
        old.set_payload("policy", {"require-ingress-tls": {"reviewNote": "kept"}})
    with open_index(config) as index:
        with pytest.raises(IndexUnavailableError) as info:
            retrieve(index, minilm, "redis", 1)
        assert str(info.value) == (
            "index is empty: run `patternbot sync` (the folder holds an index written by "
            "qdrant-client's local mode (older patternbot); sync rebuilds it from git)"
        )
        report = sync_index(index, minilm, kb)
        assert report == SyncReport(
            added=11,
            rebuilt="collection patternbot_patterns was written by qdrant-client's local mode; "
            "the embedded index is now Qdrant Edge",
        )
        assert index.payloads("pattern")["cache-service"]["usageMetrics"]["timesRecommended"] == 4
        assert index.payloads("policy")["require-ingress-tls"]["reviewNote"] == "kept"
        assert retrieve(index, minilm, "keep hot keys in memory", 1).patterns[0].id == (
            "cache-service"
        )
        assert index.legacy_note() is None
    leftovers = sorted(p.name for p in config.qdrant_path.iterdir())
    assert leftovers == [".lock", "patternbot_patterns", "patternbot_policys"]


def test_a_damaged_shard_is_one_clear_error_not_a_traceback(tmp_path: Path) -> None:
    root = make_kb_repo(tmp_path / "kb", PATTERNS[:2])
    config = load_config(root)
    with open_index(config) as index:
        sync_index(index, HashingEmbedder(), load_knowledge_base(root))
    (config.qdrant_path / "patternbot_patterns" / "edge_config.json").write_text("{", "utf-8")
    with open_index(config) as index, pytest.raises(IndexUnavailableError) as info:
        sync_index(index, HashingEmbedder(), load_knowledge_base(root))
    message = str(info.value)
    assert message.startswith(
        f"Qdrant at {config.qdrant_path}: cannot open collection patternbot_patterns: "
    )
    assert message.endswith("edge_config.json: EOF while parsing an object at line 1 column 1")
    assert "\n" not in message


def _payload_indexes(shard_folder: Path) -> dict[str, str]:
    """The payload indexes of a Qdrant Edge shard on disk: field -> schema type."""
    shard = qe.EdgeShard.load(str(shard_folder))
    try:
        return {k: str(v.data_type) for k, v in shard.info().payload_schema.items()}
    finally:
        shard.close()


def test_edge_indexes_the_deprecated_flag_so_the_filter_reads_no_payload(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    # Without this index the `deprecated` filter reads every point's payload from disk: 35 ms of
    # the 42 ms a search took at 10,000 patterns (docs/index.md, "Retrieval at 10,000 patterns").
    root = make_kb_repo(tmp_path / "kb", PATTERNS, POLICIES)
    config = load_config(root)
    kb = load_knowledge_base(root)
    with open_index(config) as index:
        sync_index(index, minilm, kb)
    for collection in ("patternbot_patterns", "patternbot_policys"):
        indexes = _payload_indexes(config.qdrant_path / collection)
        assert indexes == {"deprecated": "PayloadSchemaType.Bool"}
    # A shard an earlier version wrote has no such index: opening it adds one.
    older = qe.EdgeShard.load(str(config.qdrant_path / "patternbot_patterns"))
    older.update(qe.UpdateOperation.delete_field_index("deprecated"))
    older.close()
    assert _payload_indexes(config.qdrant_path / "patternbot_patterns") == {}
    with open_index(config) as index:
        found = retrieve(index, minilm, "a nightly cron to clean up old files", 5)
        assert sync_index(index, minilm, kb) == SyncReport(unchanged=11)
    assert found.patterns[0].id == "scheduled-batch-job"
    assert _payload_indexes(config.qdrant_path / "patternbot_patterns") == {
        "deprecated": "PayloadSchemaType.Bool"
    }
