"""The knowledge base's vectors, read back from the index instead of computed again.

Sync stores one dense row per semantic text of every item (`item.semantic_texts()`, in order). A
later stage that embeds those same texts (deduplication compares drafts with each pattern's naming
text; policy coverage reads policy triggers) can take them from the index: `StoredVectors`
answers a text the index holds for an item whose stored content hash and embedding model match
the current item and embedder, and embeds everything else with the model. Git stays the source
of truth: an item changed since the last sync, or embedded by another model, is embedded again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar, cast

import numpy as np
import numpy.typing as npt

from bot.errors import IndexUnavailableError
from bot.index.embeddings import Embedder, Vectors
from bot.index.store import KINDS, Index, Kind
from bot.index.sync import CONTENT_HASH, EMBEDDING_MODEL, content_hash
from bot.knowledge.repository import KnowledgeBase
from bot.knowledge.schema import Pattern, Policy


def _items(kb: KnowledgeBase, kind: Kind) -> Mapping[str, Pattern | Policy]:
    return kb.patterns if kind == "pattern" else kb.policies


class StoredVectors:
    """An Embedder that takes the vectors sync stored for known texts and embeds the rest.

    Nothing is read up front but the payloads: an item's rows are fetched the first time one of
    its texts is asked for, so a run that needs ten texts reads ten items, not the whole index.
    """

    def __init__(self, inner: Embedder, index: Index, kb: KnowledgeBase) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self._index = index
        self.known: dict[str, npt.NDArray[np.float32]] = {}
        self.reused = 0  # texts answered from the index (for tests and benchmarks)
        # Text -> the up-to-date stored items it is a semantic text of.
        self._owners: dict[str, list[tuple[Kind, str]]] = {}
        self._fetched: set[tuple[Kind, str]] = set()
        for kind in KINDS:
            items: Mapping[str, Pattern | Policy] = (
                kb.patterns if kind == "pattern" else kb.policies
            )
            if not items or not index.exists(kind):
                continue
            payloads = index.payloads(kind)
            for item_id, item in items.items():
                payload = payloads.get(item_id)
                if (
                    payload is not None
                    and payload.get(EMBEDDING_MODEL) == inner.model_id
                    and payload.get(CONTENT_HASH) == content_hash(item.to_data())
                ):
                    for text in item.semantic_texts():
                        self._owners.setdefault(text, []).append((kind, item_id))
        self._texts = {
            owner: _items(kb, owner[0])[owner[1]].semantic_texts()
            for owners in self._owners.values()
            for owner in owners
        }

    def _fetch(self, texts: Sequence[str]) -> None:
        wanted: dict[Kind, set[str]] = {}
        for text in texts:
            if text not in self.known and text in self._owners:
                kind, item_id = self._owners[text][0]
                if (kind, item_id) not in self._fetched:
                    wanted.setdefault(kind, set()).add(item_id)
        for kind, ids in wanted.items():
            rows_by_item = self._index.item_vectors(kind, sorted(ids))
            for item_id in ids:
                self._fetched.add((kind, item_id))
                rows = rows_by_item.get(item_id)
                item_texts = self._texts[(kind, item_id)]
                if rows is not None and rows.shape[0] == len(item_texts):
                    self.known.update(zip(item_texts, rows, strict=True))

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit row per text: stored rows where known, the model's for the rest (one call)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self._fetch(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        computed = dict(zip(missing, self.inner.embed(missing), strict=True)) if missing else {}
        self.reused += sum(1 for t in texts if t in self.known)
        rows = [self.known[t] if t in self.known else computed[t] for t in texts]
        return np.stack(rows).astype(np.float32)


_E = TypeVar("_E")


def reuse_index_vectors(embedder: _E, index: object, kb: KnowledgeBase) -> _E | StoredVectors:
    """`embedder` answering the knowledge base's synced texts from `index` (when it is an Index
    and the embedder names its model); `embedder` itself otherwise, or when the index fails."""
    if not isinstance(index, Index) or not hasattr(embedder, "model_id"):
        return embedder
    try:
        return StoredVectors(cast(Embedder, embedder), index, kb)
    except IndexUnavailableError:
        return embedder  # the model computes everything, as without an index
