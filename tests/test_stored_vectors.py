"""The knowledge base's vectors read back from the index (StoredVectors), never stale."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.index.store import Index
from bot.index.sync import sync_index
from bot.index.vectors import StoredVectors
from bot.knowledge.repository import load_knowledge_base
from tests.support.index import CountingEmbedder, HashingEmbedder
from tests.support.kb import make_kb_repo, pattern_data, policy_data, write_item


def test_synced_texts_come_from_the_index_and_changed_items_are_embedded_again(
    tmp_path: Path, index_factory: Callable[[Path], Index], minilm: MiniLMOnnxEmbedder
) -> None:
    root = make_kb_repo(
        tmp_path / "kb",
        [pattern_data("web-app"), pattern_data("database", triggers=["postgres", "mysql"])],
        [policy_data("non-root")],
    )
    index = index_factory(root)
    sync_index(index, minilm, load_knowledge_base(root))
    write_item(root, "patterns", pattern_data("web-app", description="A changed web app"))
    kb = load_knowledge_base(root)
    counting = CountingEmbedder(minilm)
    stored = StoredVectors(counting, index, kb)
    database, web_app = kb.patterns["database"], kb.patterns["web-app"]
    texts = [*database.semantic_texts(), *kb.policies["non-root"].triggers, web_app.naming_text()]
    vectors = stored.embed(texts)
    # Only the changed item's text reached the model; the rest are the stored rows.
    assert counting.texts == [web_app.naming_text()]
    assert stored.reused == len(texts) - 1
    assert vectors.shape == (len(texts), 384)
    assert np.abs(vectors - minilm.embed(texts)).max() < 1e-5


def test_vectors_of_another_model_are_never_reused(
    tmp_path: Path, index_factory: Callable[[Path], Index], minilm: MiniLMOnnxEmbedder
) -> None:
    root = make_kb_repo(tmp_path / "kb", [pattern_data("web-app")])
    index = index_factory(root)
    kb = load_knowledge_base(root)
    sync_index(index, HashingEmbedder(384), kb)
    counting = CountingEmbedder(minilm)
    stored = StoredVectors(counting, index, kb)
    stored.embed([kb.patterns["web-app"].naming_text()])
    assert counting.texts == [kb.patterns["web-app"].naming_text()]
