"""The index: one collection of patterns and one of policies, embedded or on a Qdrant server.

`Index` is the one interface every caller uses. Two engines implement it with the same
collections, vectors and payloads:

- `bot.index.edge.EdgeIndex`: the embedded default, Qdrant Edge (`qdrant-edge-py`, the server's
  Rust core in-process), one shard per collection under the local folder;
- `bot.index.client.QdrantClientIndex`: a Qdrant server or cluster through qdrant-client, used when
  `QDRANT_URL` (index.url) is set.

Each engine is imported only when it is opened, so a command that never touches the index never
loads either library. Engine errors become IndexUnavailableError inside the engines.
"""

from __future__ import annotations

import abc
import contextlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, Self

import numpy as np
import numpy.typing as npt

from bot.index.fusion import rrf
from bot.index.sparse import SparseTerms

if TYPE_CHECKING:
    from bot.knowledge.schema import UsageMetrics

Kind = Literal["pattern", "policy"]
KINDS: tuple[Kind, ...] = ("pattern", "policy")
Engine = Literal["edge", "qdrant-client"]
DENSE = "dense"
LEXICAL = "lexical"
UPSERT_BATCH = 256
# Reciprocal Rank Fusion tuned for small knowledge bases. Qdrant scores a result at 0-based rank
# `pos` in a list of weight `w` as 1 / ((pos + 1) / w + k - 1). With k=2 and the lexical list at
# w=0.38, the lexical top result (0.275) lifts an item from dense rank 3 (0.25) above the dense
# winner (0.5) but not from dense rank 4 (0.2), and dense 2 + lexical 2 (0.493) does not beat it
# either: one shared common word ("host", "services") cannot win on its own.
RRF_K = 2
RRF_WEIGHTS = (1.0, 0.38)
SCROLL_PAGE = 1000
IN_USE = (
    "the folder is in use by another process "
    "(local mode allows one at a time; set QDRANT_URL to share a Qdrant server)"
)


def point_id(kind: Kind, item_id: str) -> str:
    """The Qdrant point id of an item: a uuid5 of "<kind>:<id>", stable across runs and machines."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}:{item_id}"))


def candidates_for(limit: int) -> int:
    """How many candidates each prefetch (dense, lexical) hands to fusion."""
    return max(limit * 4, 20)


@dataclass(frozen=True)
class IndexPoint:
    """One item as stored: its dense and sparse vectors and its payload (which carries `id`)."""

    item_id: str
    dense: Sequence[Sequence[float]]  # one vector per semantic text (a multivector)
    sparse: SparseTerms
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Hit:
    """One result of a hybrid query, in fusion order: payload and the stored dense rows."""

    item_id: str
    payload: dict[str, Any]
    dense: npt.NDArray[np.float32] = field(repr=False)  # shape (texts, dimension), unit rows


def dense_rows(vector: Any) -> npt.NDArray[np.float32]:
    """The dense multivector of a stored point (both engines return named vectors as a dict)."""
    stored = vector.get(DENSE) if isinstance(vector, dict) else None
    return np.asarray(stored if stored else np.zeros((0, 0)), dtype=np.float32)


def stored_item_id(point: Any) -> str:
    """The item id of a stored point: its payload's `id` (point ids are derived UUIDs)."""
    return str((point.payload or {}).get("id", point.id))


def hits_in_order(points: Sequence[Any], item_ids: Sequence[str]) -> list[Hit]:
    """Hits of retrieved points in the order of `item_ids` (ids without a point left out)."""
    found = {
        stored_item_id(p): Hit(stored_item_id(p), dict(p.payload or {}), dense_rows(p.vector))
        for p in points
    }
    return [found[i] for i in item_ids if i in found]


class Layout(NamedTuple):
    """A collection as stored: its dense size, and whether the rest is the current layout.

    Current: the dense vector is a cosine MAX_SIM multivector and the lexical one has the IDF
    modifier.
    """

    size: int | None
    current: bool


class Index(abc.ABC):
    """The patterns and policies collections of one Qdrant database, whatever the engine."""

    engine: Engine

    def __init__(self, prefix: str, location: str) -> None:
        self.prefix = prefix
        self.location = location

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def collection(self, kind: Kind) -> str:
        """The collection name for a kind: `<prefix>_patterns` or `<prefix>_policies`."""
        return f"{self.prefix}_{kind}s"

    @abc.abstractmethod
    def exists(self, kind: Kind) -> bool:
        """True when the kind's collection exists."""

    @abc.abstractmethod
    def layout(self, kind: Kind) -> Layout:
        """The collection's dense size and whether its layout is the current one."""

    @abc.abstractmethod
    def create(self, kind: Kind, dimension: int) -> None:
        """Create the kind's collection: dense cosine multivectors scored by their closest member
        (MAX_SIM), and IDF-weighted lexical vectors."""

    @abc.abstractmethod
    def drop(self, kind: Kind) -> None:
        """Delete the kind's collection and everything in it."""

    @abc.abstractmethod
    def payloads(self, kind: Kind) -> dict[str, dict[str, Any]]:
        """Every stored item's payload by item id (empty when the collection does not exist)."""

    @abc.abstractmethod
    def upsert(self, kind: Kind, points: Sequence[IndexPoint]) -> None:
        """Write points (vectors and whole payloads)."""

    @abc.abstractmethod
    def delete(self, kind: Kind, item_ids: Sequence[str]) -> None:
        """Remove items by id."""

    @abc.abstractmethod
    def set_payload(self, kind: Kind, values: Mapping[str, Mapping[str, Any]]) -> int:
        """Set payload keys per item id, leaving other keys and the vectors alone.

        Items not in the index are skipped; returns how many points were updated.
        """

    @abc.abstractmethod
    def nearest(self, kind: Kind, vector: Sequence[float], limit: int) -> list[tuple[str, float]]:
        """The `limit` items closest to `vector`: (id, cosine to the closest semantic text)."""

    def hybrid_query(
        self,
        kind: Kind,
        dense: Sequence[float],
        sparse: SparseTerms,
        limit: int,
        *,
        exclude_deprecated: bool,
    ) -> list[Hit]:
        """Items ranked by weighted Reciprocal Rank Fusion (RRF_K, RRF_WEIGHTS) of a dense MAX_SIM
        search and a lexical IDF search, `candidates_for(limit)` each; `deprecated: true` items
        left out when asked. The engine searches; the fusion is ours (bot/index/fusion.py), so
        equal scores order the same way in every engine and every run."""
        depth = candidates_for(limit)
        # Twice the candidates, cut in our order: items tied at the cut-off stay the same ones.
        lists = self.search(
            kind, dense, sparse if sparse.indices else None, 2 * depth,
            exclude_deprecated=exclude_deprecated,
        )  # fmt: skip
        fused = rrf(lists, RRF_WEIGHTS[: len(lists)], RRF_K, depth)[:limit]
        return self.hits(kind, [item_id for item_id, _ in fused])

    @abc.abstractmethod
    def search(
        self,
        kind: Kind,
        dense: Sequence[float],
        sparse: SparseTerms | None,
        limit: int,
        *,
        exclude_deprecated: bool,
    ) -> list[list[tuple[str, float]]]:
        """The dense (MAX_SIM cosine) and, given terms, lexical (IDF-weighted dot product)
        results, `limit` each, as (item id, score) lists: one batch for the engine."""

    @abc.abstractmethod
    def hits(self, kind: Kind, item_ids: Sequence[str]) -> list[Hit]:
        """Payloads and dense rows of items, in the order asked (missing ones left out)."""

    @abc.abstractmethod
    def item_vectors(
        self, kind: Kind, item_ids: Sequence[str] | None = None
    ) -> dict[str, npt.NDArray[np.float32]]:
        """Stored dense rows (one per semantic text, in order) by item id: all items, or those
        asked for that exist."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the engine (and, embedded, the folder's lock)."""

    def legacy_note(self) -> str | None:
        """Why an empty index may hold an older format sync would rebuild (None: nothing to say)."""
        return None

    def retire_legacy(self, kind: Kind) -> tuple[str, dict[str, dict[str, Any]]] | None:
        """An older on-disk format of the kind's collection: (why it is replaced, its payloads),
        removed from disk. None when there is none (only the embedded engine has one)."""
        return None

    def set_usage_metrics(self, kind: Kind, metrics: Mapping[str, UsageMetrics]) -> int:
        """Store each item's `usageMetrics` payload key, leaving content and vectors alone.

        Items not in the index are skipped; returns how many points were updated.
        """
        if not metrics or not self.exists(kind):
            return 0
        return self.set_payload(
            kind,
            {
                item_id: {
                    "usageMetrics": value.model_dump(mode="json", by_alias=True, exclude_none=True)
                }
                for item_id, value in metrics.items()
            },
        )


class IndexSettings(Protocol):
    """The index settings open_index reads (bot.config.IndexConfig has them)."""

    @property
    def url(self) -> str | None: ...
    @property
    def api_key(self) -> str | None: ...
    @property
    def timeout_seconds(self) -> float: ...
    @property
    def collection_prefix(self) -> str: ...


class IndexPlace(Protocol):
    """Where the index is: bot.config.Config, or a cold recommend's bot.config_snapshot settings."""

    @property
    def index(self) -> IndexSettings: ...
    @property
    def qdrant_path(self) -> Path: ...


@contextlib.contextmanager
def open_index(config: IndexPlace) -> Iterator[Index]:
    """Open the configured index once: a server when index.url is set, else the local folder."""
    index: Index
    if config.index.url:
        from bot.index.client import open_server

        index = open_server(
            config.index.url, config.index.api_key, config.index.timeout_seconds,
            config.index.collection_prefix,
        )  # fmt: skip
    else:
        from bot.index.edge import EdgeIndex

        index = EdgeIndex.open(config.qdrant_path, config.index.collection_prefix)
    try:
        yield index
    finally:
        index.close()
