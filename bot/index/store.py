"""The Qdrant index: one collection of patterns and one of policies, local or on a server.

Embedded local mode (a folder under `.patternbot/`) and a Qdrant server (`QDRANT_URL`) go through
the same code: only the `QdrantClient` constructor differs. Qdrant's own errors are translated into
IndexUnavailableError here, so no caller sees a qdrant-client or httpx exception.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import (
    ApiException,
    ResponseHandlingException,
    UnexpectedResponse,
)

from bot.config import Config
from bot.errors import IndexUnavailableError
from bot.index.sparse import SparseTerms
from bot.knowledge.schema import UsageMetrics

Kind = Literal["pattern", "policy"]
KINDS: tuple[Kind, ...] = ("pattern", "policy")
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
_SCROLL_PAGE = 1000


def point_id(kind: Kind, item_id: str) -> str:
    """The Qdrant point id of an item: a uuid5 of "<kind>:<id>", stable across runs and machines."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}:{item_id}"))


@dataclass(frozen=True)
class IndexPoint:
    """One item as stored: its dense and sparse vectors and its payload (which carries `id`)."""

    item_id: str
    dense: Sequence[Sequence[float]]  # one vector per semantic text (a multivector)
    sparse: SparseTerms
    payload: Mapping[str, Any]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ResponseHandlingException):
        return _describe(exc.source)
    if isinstance(exc, UnexpectedResponse):
        try:
            detail = exc.structured().get("status", {}).get("error")
        except ValueError:
            detail = None
        return f"HTTP {exc.status_code} {exc.reason_phrase}" + (f": {detail}" if detail else "")
    return " ".join(str(exc).split()) or type(exc).__name__


class Index:
    """The patterns and policies collections of one Qdrant database."""

    def __init__(self, client: QdrantClient, prefix: str, location: str) -> None:
        self.client = client
        self.prefix = prefix
        self.location = location

    @contextlib.contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """Turn Qdrant, HTTP and local-storage errors into one-line IndexUnavailableErrors."""
        try:
            yield
        except (ApiException, httpx.HTTPError, OSError, RuntimeError, ValueError) as exc:
            raise IndexUnavailableError(
                f"Qdrant at {self.location}: cannot {action}: {_describe(exc)}"
            ) from exc

    def collection(self, kind: Kind) -> str:
        """The collection name for a kind: `<prefix>_patterns` or `<prefix>_policies`."""
        return f"{self.prefix}_{kind}s"

    def exists(self, kind: Kind) -> bool:
        """True when the kind's collection exists."""
        with self._translated(f"look up collection {self.collection(kind)}"):
            return self.client.collection_exists(self.collection(kind))

    def layout(self, kind: Kind) -> tuple[int | None, bool]:
        """A collection's dense vector size, and whether the rest of its layout is the current one.

        Current: the dense vector is a MAX_SIM multivector and the lexical one has the IDF modifier.
        """
        with self._translated(f"read collection {self.collection(kind)}"):
            info = self.client.get_collection(self.collection(kind))
        vectors = info.config.params.vectors
        dense = vectors.get(DENSE) if isinstance(vectors, dict) else None
        size = dense.size if dense is not None else None
        multivector = (
            dense is not None
            and dense.multivector_config is not None
            and dense.multivector_config.comparator == models.MultiVectorComparator.MAX_SIM
        )
        sparse = info.config.params.sparse_vectors or {}
        idf = LEXICAL in sparse and sparse[LEXICAL].modifier == models.Modifier.IDF
        return size, idf and multivector

    def create(self, kind: Kind, dimension: int) -> None:
        """Create the kind's collection: dense cosine multivectors scored by their closest member
        (MAX_SIM), and IDF-weighted lexical vectors."""
        with self._translated(f"create collection {self.collection(kind)}"):
            self.client.create_collection(
                self.collection(kind),
                vectors_config={
                    DENSE: models.VectorParams(
                        size=dimension,
                        distance=models.Distance.COSINE,
                        multivector_config=models.MultiVectorConfig(
                            comparator=models.MultiVectorComparator.MAX_SIM
                        ),
                    )
                },
                sparse_vectors_config={
                    LEXICAL: models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
            )

    def drop(self, kind: Kind) -> None:
        """Delete the kind's collection and everything in it."""
        with self._translated(f"delete collection {self.collection(kind)}"):
            self.client.delete_collection(self.collection(kind))

    def payloads(self, kind: Kind) -> dict[str, dict[str, Any]]:
        """Every stored item's payload by item id (empty when the collection does not exist)."""
        if not self.exists(kind):
            return {}
        found: dict[str, dict[str, Any]] = {}
        offset: Any = None
        with self._translated(f"read collection {self.collection(kind)}"):
            while True:
                points, offset = self.client.scroll(
                    self.collection(kind),
                    limit=_SCROLL_PAGE,
                    offset=offset,
                    with_payload=True,
                    with_vectors=False,
                )
                for point in points:
                    payload = dict(point.payload or {})
                    found[str(payload.get("id", point.id))] = payload
                if offset is None:
                    return found

    def upsert(self, kind: Kind, points: Sequence[IndexPoint]) -> None:
        """Write points (vectors and whole payloads) in batches: local mode commits per batch."""
        for start in range(0, len(points), UPSERT_BATCH):
            batch = [
                models.PointStruct(
                    id=point_id(kind, p.item_id),
                    vector={
                        DENSE: [[float(x) for x in row] for row in p.dense],
                        LEXICAL: models.SparseVector(
                            indices=p.sparse.indices, values=p.sparse.values
                        ),
                    },
                    payload=dict(p.payload),
                )
                for p in points[start : start + UPSERT_BATCH]
            ]
            with self._translated(f"write to collection {self.collection(kind)}"):
                self.client.upsert(self.collection(kind), points=batch, wait=True)

    def delete(self, kind: Kind, item_ids: Sequence[str]) -> None:
        """Remove items by id."""
        if not item_ids:
            return
        ids: list[models.ExtendedPointId] = [point_id(kind, i) for i in item_ids]
        with self._translated(f"delete from collection {self.collection(kind)}"):
            self.client.delete(
                self.collection(kind), points_selector=models.PointIdsList(points=ids), wait=True
            )

    def set_usage_metrics(self, kind: Kind, metrics: Mapping[str, UsageMetrics]) -> int:
        """Store each item's `usageMetrics` payload key, leaving content and vectors alone.

        Items not in the index are skipped; returns how many points were updated.
        """
        if not metrics or not self.exists(kind):
            return 0
        wanted = {point_id(kind, item_id): item_id for item_id in metrics}
        with self._translated(f"read collection {self.collection(kind)}"):
            present = self.client.retrieve(
                self.collection(kind), ids=list(wanted), with_payload=False, with_vectors=False
            )
        operations: list[models.UpdateOperation] = []
        for point in present:
            item_id = wanted[str(point.id)]
            value = metrics[item_id].model_dump(mode="json", by_alias=True, exclude_none=True)
            operations.append(
                models.SetPayloadOperation(
                    set_payload=models.SetPayload(
                        payload={"usageMetrics": value}, points=[point.id]
                    )
                )
            )
        if operations:
            with self._translated(f"write to collection {self.collection(kind)}"):
                self.client.batch_update_points(self.collection(kind), operations, wait=True)
        return len(operations)

    def nearest(self, kind: Kind, vector: Sequence[float], limit: int) -> list[tuple[str, float]]:
        """The `limit` items closest to `vector`: (id, cosine to the closest semantic text)."""
        if not self.exists(kind):
            return []
        with self._translated(f"search collection {self.collection(kind)}"):
            response = self.client.query_points(
                self.collection(kind),
                # A one-vector multivector query: MAX_SIM is then the best single cosine.
                query=[[float(x) for x in np.asarray(vector).ravel()]],
                using=DENSE,
                limit=limit,
                with_payload=["id"],
            )
        return [(str((p.payload or {}).get("id", p.id)), float(p.score)) for p in response.points]

    def hybrid_query(
        self,
        kind: Kind,
        dense: Sequence[float],
        sparse: SparseTerms,
        limit: int,
        query_filter: models.Filter | None = None,
    ) -> list[models.ScoredPoint]:
        """Points ranked by Reciprocal Rank Fusion of dense and lexical search + dense vectors."""
        candidates = max(limit * 4, 20)
        dense_query = [[float(x) for x in dense]]
        prefetch = [
            models.Prefetch(query=dense_query, using=DENSE, limit=candidates, filter=query_filter)
        ]
        if sparse.indices:
            prefetch.append(
                models.Prefetch(
                    query=models.SparseVector(indices=sparse.indices, values=sparse.values),
                    using=LEXICAL,
                    limit=candidates,
                    filter=query_filter,
                )
            )
        with self._translated(f"search collection {self.collection(kind)}"):
            response = self.client.query_points(
                self.collection(kind),
                prefetch=prefetch,
                query=models.RrfQuery(
                    rrf=models.Rrf(k=RRF_K, weights=list(RRF_WEIGHTS[: len(prefetch)]))
                ),
                query_filter=query_filter,
                limit=limit,
                with_payload=True,
                with_vectors=[DENSE],
            )
        return list(response.points)

    def close(self) -> None:
        """Release the client (and, in local mode, the folder's lock)."""
        with contextlib.suppress(Exception):  # never hide the error that ended a command
            self.client.close()


def _client_for(config: Config) -> tuple[QdrantClient, str]:
    if config.index.url:
        client = QdrantClient(
            url=config.index.url,
            api_key=config.index.api_key,
            timeout=max(1, round(config.index.timeout_seconds)),
            # The version probe warns instead of failing; the first real request reports problems.
            check_compatibility=False,
        )
        return client, config.index.url
    path = config.qdrant_path
    path.mkdir(parents=True, exist_ok=True)
    if _locked_by_another_client(path):
        raise RuntimeError("already accessed by another instance of Qdrant client")
    return QdrantClient(path=str(path)), str(path)


def _locked_by_another_client(path: Path) -> bool:
    """True when another client holds the local folder's lock (the one QdrantLocal takes)."""
    import portalocker

    lock_file = path / ".lock"
    if not lock_file.exists():
        return False
    # Checked here because a QdrantLocal that fails to lock leaks its open lock file.
    with lock_file.open("r+") as stream:
        try:
            portalocker.lock(
                stream, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING
            )
        except portalocker.exceptions.LockException:
            return True
        portalocker.unlock(stream)
    return False


@contextlib.contextmanager
def open_index(config: Config) -> Iterator[Index]:
    """Open the configured index (a server when index.url is set, else the local folder) once."""
    location = config.index.url or str(config.qdrant_path)
    try:
        client, location = _client_for(config)
    except RuntimeError as exc:
        if "already accessed" in str(exc):
            raise IndexUnavailableError(
                f"Qdrant at {location}: the folder is in use by another process "
                "(local mode allows one at a time; set QDRANT_URL to share a Qdrant server)"
            ) from exc
        raise IndexUnavailableError(f"Qdrant at {location}: cannot open: {_describe(exc)}") from exc
    except (ApiException, httpx.HTTPError, OSError, ValueError) as exc:
        raise IndexUnavailableError(f"Qdrant at {location}: cannot open: {_describe(exc)}") from exc
    index = Index(client, config.index.collection_prefix, location)
    try:
        yield index
    finally:
        index.close()
