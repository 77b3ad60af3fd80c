"""Test fixtures for the index: the real MiniLM model, loaded once, and the embedded index."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.config import load_config
from bot.index.embeddings import MiniLMOnnxEmbedder, Vectors, normalise
from bot.index.sparse import tokenize
from bot.index.store import Index, open_index


class HashingEmbedder:
    """A small deterministic embedder (hashed bag of words): a second, different real model."""

    model_id = "hashing-test-v1"

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in tokenize(text) or ["empty"]:
                digest = hashlib.sha256(word.encode("utf-8")).digest()
                rows[row, int.from_bytes(digest[:4], "big") % self.dimension] += 1.0
        return normalise(rows)


class CountingEmbedder:
    """Wraps a real embedder and records every text it was asked to embed."""

    def __init__(self, inner: MiniLMOnnxEmbedder | HashingEmbedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts.extend(texts)
        return self.inner.embed(texts)


@pytest.fixture(scope="session")
def minilm() -> MiniLMOnnxEmbedder:
    """The real MiniLM ONNX embedder, loaded once for the whole test session."""
    embedder = MiniLMOnnxEmbedder()
    embedder.load()
    return embedder


@pytest.fixture
def index_factory() -> Iterator[Callable[[Path], Index]]:
    """Open a repository's embedded index: factory(repo_root) -> Index, closed after the test."""
    with contextlib.ExitStack() as stack:

        def factory(root: Path) -> Index:
            return stack.enter_context(open_index(load_config(root)))

        yield factory
