"""A Qdrant server or cluster through qdrant-client (`QDRANT_URL`), and qdrant-client's local mode.

The server is what `index.url` selects. qdrant-client's local mode (`QdrantClientIndex.local`) was
the embedded default before Qdrant Edge: it stays here to read an older folder once (sync moves
its payloads over) and for the side-by-side benchmark and equivalence test of the two engines.
Qdrant's own errors are translated into IndexUnavailableError here, so no caller sees a
qdrant-client or httpx exception.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import (
    ApiException,
    ResponseHandlingException,
    UnexpectedResponse,
)

from bot.errors import IndexUnavailableError
from bot.index.sparse import SparseTerms
from bot.index.store import (
    DENSE,
    IN_USE,
    LEXICAL,
    SCROLL_PAGE,
    UPSERT_BATCH,
    Hit,
    Index,
    IndexPoint,
    Kind,
    Layout,
    dense_rows,
    hits_in_order,
    point_id,
    stored_item_id,
)

DEPRECATED = "deprecated"
_NOT_DEPRECATED = models.Filter(
    must_not=[models.FieldCondition(key=DEPRECATED, match=models.MatchValue(value=True))]
)


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



class QdrantClientIndex(Index):
    """The patterns and policies collections through a QdrantClient (server or local mode)."""

    engine = "qdrant-client"

    def __init__(
        self, client: QdrantClient, prefix: str, location: str, *, payload_index: bool = False
    ) -> None:
        """`payload_index`: index the `deprecated` flag (a server; local mode has no indexes)."""
        super().__init__(prefix, location)
        self.client = client
        self._payload_index = payload_index

    @classmethod
    def local(cls, folder: Path, prefix: str) -> QdrantClientIndex:
        """qdrant-client's local mode on `folder` (the benchmark, the equivalence test, and
        reading a folder an older patternbot wrote); close it, or use it in a `with`."""
        try:
            client = QdrantClient(path=str(folder))
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise IndexUnavailableError(f"Qdrant at {folder}: {IN_USE}") from exc
            raise IndexUnavailableError(f"Qdrant at {folder}: cannot open: {exc}") from exc
        except (OSError, ValueError) as exc:
            raise IndexUnavailableError(f"Qdrant at {folder}: cannot open: {exc}") from exc
        return cls(client, prefix, str(folder))

    @contextlib.contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """Turn Qdrant, HTTP and local-storage errors into one-line IndexUnavailableErrors."""
        try:
            yield
        except (ApiException, httpx.HTTPError, OSError, RuntimeError, ValueError) as exc:
            raise IndexUnavailableError(
                f"Qdrant at {self.location}: cannot {action}: {_describe(exc)}"
            ) from exc

    def exists(self, kind: Kind) -> bool:
        with self._translated(f"look up collection {self.collection(kind)}"):
            return self.client.collection_exists(self.collection(kind))

    def layout(self, kind: Kind) -> Layout:
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
        if size is not None and DEPRECATED not in (info.payload_schema or {}):
            # A collection an older patternbot created: it gets the index here, once.
            self._index_deprecated(kind)
        return Layout(size, idf and multivector)

    def _index_deprecated(self, kind: Kind) -> None:
        """Index the `deprecated` flag, as Qdrant Edge does: without it the filter that leaves
        deprecated patterns out reads every point's payload."""
        if not self._payload_index:
            return
        with self._translated(f"index the payload of collection {self.collection(kind)}"):
            self.client.create_payload_index(
                self.collection(kind), DEPRECATED, field_schema=models.PayloadSchemaType.BOOL
            )

    def create(self, kind: Kind, dimension: int) -> None:
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
        self._index_deprecated(kind)

    def drop(self, kind: Kind) -> None:
        with self._translated(f"delete collection {self.collection(kind)}"):
            self.client.delete_collection(self.collection(kind))

    def payloads(self, kind: Kind) -> dict[str, dict[str, Any]]:
        if not self.exists(kind):
            return {}
        found: dict[str, dict[str, Any]] = {}
        offset: Any = None
        with self._translated(f"read collection {self.collection(kind)}"):
            while True:
                points, offset = self.client.scroll(
                    self.collection(kind),
                    limit=SCROLL_PAGE,
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
        """Batches of UPSERT_BATCH points: local mode commits per batch."""
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
        if not item_ids:
            return
        ids: list[models.ExtendedPointId] = [point_id(kind, i) for i in item_ids]
        with self._translated(f"delete from collection {self.collection(kind)}"):
            self.client.delete(
                self.collection(kind), points_selector=models.PointIdsList(points=ids), wait=True
            )

    def set_payload(self, kind: Kind, values: Mapping[str, Mapping[str, Any]]) -> int:
        if not values or not self.exists(kind):
            return 0
        wanted = {point_id(kind, item_id): item_id for item_id in values}
        with self._translated(f"read collection {self.collection(kind)}"):
            present = self.client.retrieve(
                self.collection(kind), ids=list(wanted), with_payload=False, with_vectors=False
            )
        operations: list[models.UpdateOperation] = [
            models.SetPayloadOperation(
                set_payload=models.SetPayload(
                    payload=dict(values[wanted[str(point.id)]]), points=[point.id]
                )
            )
            for point in present
        ]
        if operations:
            with self._translated(f"write to collection {self.collection(kind)}"):
                self.client.batch_update_points(self.collection(kind), operations, wait=True)
        return len(operations)

    def nearest(self, kind: Kind, vector: Sequence[float], limit: int) -> list[tuple[str, float]]:
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
        return [(stored_item_id(p), float(p.score)) for p in response.points]

    def search(
        self,
        kind: Kind,
        dense: Sequence[float],
        sparse: SparseTerms | None,
        limit: int,
        *,
        exclude_deprecated: bool,
    ) -> list[list[tuple[str, float]]]:
        query_filter = _NOT_DEPRECATED if exclude_deprecated else None
        requests = [
            models.QueryRequest(
                query=[[float(x) for x in dense]], using=DENSE, limit=limit,
                filter=query_filter, with_payload=["id"],
            )
        ]  # fmt: skip
        if sparse is not None:
            requests.append(
                models.QueryRequest(
                    query=models.SparseVector(indices=sparse.indices, values=sparse.values),
                    using=LEXICAL,
                    limit=limit,
                    filter=query_filter,
                    with_payload=["id"],
                )
            )
        with self._translated(f"search collection {self.collection(kind)}"):
            responses = self.client.query_batch_points(self.collection(kind), requests)
        return [
            [(stored_item_id(p), float(p.score)) for p in response.points]
            for response in responses
        ]

    def hits(self, kind: Kind, item_ids: Sequence[str]) -> list[Hit]:
        if not item_ids:
            return []
        ids: list[models.ExtendedPointId] = [point_id(kind, i) for i in item_ids]
        with self._translated(f"read collection {self.collection(kind)}"):
            records = self.client.retrieve(
                self.collection(kind), ids=ids, with_payload=True, with_vectors=[DENSE]
            )
        return hits_in_order(records, item_ids)

    def item_vectors(
        self, kind: Kind, item_ids: Sequence[str] | None = None
    ) -> dict[str, npt.NDArray[np.float32]]:
        if not self.exists(kind):
            return {}
        collection = self.collection(kind)
        with self._translated(f"read collection {collection}"):
            if item_ids is not None:
                ids: list[models.ExtendedPointId] = [point_id(kind, i) for i in item_ids]
                records = self.client.retrieve(
                    collection, ids=ids, with_payload=["id"], with_vectors=[DENSE]
                )
            else:
                records, offset = [], None
                while True:
                    page, offset = self.client.scroll(
                        collection, limit=SCROLL_PAGE, offset=offset, with_payload=["id"],
                        with_vectors=[DENSE],
                    )  # fmt: skip
                    records.extend(page)
                    if offset is None:
                        break
        return {stored_item_id(r): dense_rows(r.vector) for r in records}

    def close(self) -> None:
        with contextlib.suppress(Exception):  # never hide the error that ended a command
            self.client.close()


def open_server(url: str, api_key: str | None, timeout_seconds: float, prefix: str) -> Index:
    """A Qdrant server or cluster; the first real request reports connection problems."""
    try:
        client = QdrantClient(
            url=url,
            api_key=api_key,
            timeout=max(1, round(timeout_seconds)),
            # The version probe warns instead of failing; the first real request reports problems.
            check_compatibility=False,
        )
    except (ApiException, httpx.HTTPError, OSError, ValueError, RuntimeError) as exc:
        raise IndexUnavailableError(f"Qdrant at {url}: cannot open: {_describe(exc)}") from exc
    return QdrantClientIndex(client, prefix, url, payload_index=True)
