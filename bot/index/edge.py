"""The embedded index: Qdrant Edge (`qdrant-edge-py`), the Qdrant server's Rust core in-process.

Layout on disk: one Edge shard per collection, `<folder>/<prefix>_patterns/` and
`<folder>/<prefix>_policies/`, and a `.lock` file held (exclusively) while the index is open, so
one process at a time writes the folder. It is the same lock file qdrant-client's local mode
took, so an older patternbot and this one also exclude each other.

Search is exact (no HNSW graph is built: `indexing_threshold = 0`), so results are the ones
Qdrant's brute-force search gives: MAX_SIM multivectors and the IDF modifier run in the engine,
the fusion in bot/index/fusion.py. The `deprecated` flag has a payload index, so the filter that
leaves deprecated patterns out never reads a payload from disk. Figures in docs/index.md.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import qdrant_edge as qe

from bot.errors import IndexUnavailableError
from bot.index.sparse import SparseTerms
from bot.index.store import (
    DENSE,
    IN_USE,
    KINDS,
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

CONFIG_FILE = "edge_config.json"
LOCK_FILE = ".lock"
# What qdrant-client's local mode wrote: <folder>/meta.json and <folder>/collection/<name>/.
LEGACY_META = "meta.json"
LEGACY_COLLECTIONS = "collection"
# qdrant-edge-py 0.9 turns a Python bool in MatchValue into the integer 1 (bool subclasses int),
# which never equals the stored boolean; numpy's bool converts as a boolean. Pinned by
# tests/test_index_engines.py (a deprecated item must not be retrieved).
_TRUE = np.bool_(True)
DEPRECATED = "deprecated"
_NOT_DEPRECATED = qe.Filter(
    must_not=[qe.FieldCondition(key=DEPRECATED, match=qe.MatchValue(_TRUE))]  # type: ignore[arg-type]
)


class _FolderLock:
    """An exclusive, non-blocking lock on `<folder>/.lock`, held while the index is open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stream: IO[str] | None = None

    def acquire(self) -> bool:
        stream = self.path.open("a+")
        try:
            if sys.platform == "win32":  # pragma: no cover - CI runs on Linux
                import portalocker

                try:
                    portalocker.lock(
                        stream,
                        portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING,
                    )
                except portalocker.exceptions.LockException:
                    stream.close()
                    return False
            else:
                import fcntl

                try:
                    fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    stream.close()
                    return False
        except BaseException:
            stream.close()
            raise
        self._stream = stream
        return True

    def release(self) -> None:
        if self._stream is not None:
            self._stream.close()  # closing the file releases the lock
            self._stream = None


def _is_engine_error(exc: BaseException) -> bool:
    # qdrant-edge-py raises plain `Exception` for storage and request errors. Anything more
    # specific (TypeError, AttributeError, ...) is a bug on our side and must not be hidden.
    return type(exc) is Exception or isinstance(exc, OSError)


def _config(dimension: int) -> qe.EdgeConfig:
    return qe.EdgeConfig(
        vectors={
            DENSE: qe.EdgeVectorParams(
                size=dimension,
                distance=qe.Distance.Cosine,
                multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim),
            )
        },
        sparse_vectors={LEXICAL: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        # Exact search: at 10,000 patterns it answers in tens of milliseconds, gives the same
        # results as a brute-force Qdrant, and sync never spends minutes building an HNSW graph.
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=0),
    )


def _index_deprecated(shard: qe.EdgeShard) -> None:
    """Index the `deprecated` flag. Without it the filter that leaves deprecated patterns out
    reads every point's payload from disk: at 10,000 patterns that was 35 ms of a 42 ms search."""
    shard.update(qe.UpdateOperation.create_field_index(DEPRECATED, qe.PayloadSchemaType.Bool))


def _sparse(terms: SparseTerms) -> qe.SparseVector:
    return qe.SparseVector(terms.indices, terms.values)


class EdgeIndex(Index):
    """The patterns and policies collections as Qdrant Edge shards in one local folder."""

    engine = "edge"

    def __init__(self, folder: Path, prefix: str, lock: _FolderLock) -> None:
        super().__init__(prefix, str(folder))
        self.folder = folder
        self._lock = lock
        self._shards: dict[Kind, qe.EdgeShard] = {}
        self._legacy: dict[Kind, dict[str, dict[str, Any]]] | None = None

    @classmethod
    def open(cls, folder: Path, prefix: str) -> EdgeIndex:
        """Lock `folder` (created if missing) and return the index; shards load on first use."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            lock = _FolderLock(folder / LOCK_FILE)
            locked = lock.acquire()
        except OSError as exc:
            raise IndexUnavailableError(f"Qdrant at {folder}: cannot open: {exc}") from exc
        if not locked:
            raise IndexUnavailableError(f"Qdrant at {folder}: {IN_USE}")
        return cls(folder, prefix, lock)

    @contextlib.contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """Turn Qdrant Edge and file-system errors into one-line IndexUnavailableErrors."""
        try:
            yield
        except Exception as exc:
            if not _is_engine_error(exc):
                raise
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise IndexUnavailableError(
                f"Qdrant at {self.location}: cannot {action}: {detail}"
            ) from exc

    def _path(self, kind: Kind) -> Path:
        return self.folder / self.collection(kind)

    def _shard(self, kind: Kind) -> qe.EdgeShard:
        shard = self._shards.get(kind)
        if shard is None:
            with self._translated(f"open collection {self.collection(kind)}"):
                shard = qe.EdgeShard.load(str(self._path(kind)))
                self._shards[kind] = shard
                # Shards written before the index existed get it here, once (it is kept on disk).
                if DEPRECATED not in shard.info().payload_schema:
                    _index_deprecated(shard)
        return shard

    def exists(self, kind: Kind) -> bool:
        return (self._path(kind) / CONFIG_FILE).is_file()

    def layout(self, kind: Kind) -> Layout:
        config_file = self._path(kind) / CONFIG_FILE
        with self._translated(f"read collection {self.collection(kind)}"):
            text = config_file.read_text(encoding="utf-8")
        try:
            stored = json.loads(text)
        except ValueError as exc:
            raise IndexUnavailableError(
                f"Qdrant at {self.location}: cannot read collection {self.collection(kind)}: "
                f"{config_file.name} is not JSON ({exc})"
            ) from exc
        dense = (stored.get("vectors") or {}).get(DENSE) or {}
        lexical = (stored.get("sparse_vectors") or {}).get(LEXICAL) or {}
        current = (
            str(dense.get("distance", "")).lower() == "cosine"
            and (dense.get("multivector_config") or {}).get("comparator") == "max_sim"
            and lexical.get("modifier") == "idf"
        )
        size = dense.get("size")
        return Layout(int(size) if size is not None else None, current)

    def create(self, kind: Kind, dimension: int) -> None:
        with self._translated(f"create collection {self.collection(kind)}"):
            shard = qe.EdgeShard.create(str(self._path(kind)), _config(dimension))
            self._shards[kind] = shard
            _index_deprecated(shard)

    def drop(self, kind: Kind) -> None:
        shard = self._shards.pop(kind, None)
        with self._translated(f"delete collection {self.collection(kind)}"):
            if shard is not None:
                shard.close()
            shutil.rmtree(self._path(kind), ignore_errors=False)

    def payloads(self, kind: Kind) -> dict[str, dict[str, Any]]:
        if not self.exists(kind):
            return {}
        shard = self._shard(kind)
        found: dict[str, dict[str, Any]] = {}
        offset: Any = None
        with self._translated(f"read collection {self.collection(kind)}"):
            while True:
                records, offset = shard.scroll(
                    qe.ScrollRequest(
                        offset=offset, limit=SCROLL_PAGE, with_payload=True, with_vector=False
                    )
                )
                for record in records:
                    payload = dict(record.payload or {})
                    found[str(payload.get("id", record.id))] = payload
                if offset is None:
                    return found

    def upsert(self, kind: Kind, points: Sequence[IndexPoint]) -> None:
        shard = self._shard(kind)
        for start in range(0, len(points), UPSERT_BATCH):
            batch = [
                qe.Point(
                    point_id(kind, p.item_id),
                    {
                        DENSE: [[float(x) for x in row] for row in p.dense],
                        LEXICAL: _sparse(p.sparse),
                    },
                    dict(p.payload),
                )
                for p in points[start : start + UPSERT_BATCH]
            ]
            with self._translated(f"write to collection {self.collection(kind)}"):
                shard.update(qe.UpdateOperation.upsert_points(batch))

    def delete(self, kind: Kind, item_ids: Sequence[str]) -> None:
        if not item_ids:
            return
        ids: list[Any] = [point_id(kind, i) for i in item_ids]
        with self._translated(f"delete from collection {self.collection(kind)}"):
            self._shard(kind).update(qe.UpdateOperation.delete_points(ids))

    def set_payload(self, kind: Kind, values: Mapping[str, Mapping[str, Any]]) -> int:
        if not values or not self.exists(kind):
            return 0
        shard = self._shard(kind)
        wanted = {point_id(kind, item_id): item_id for item_id in values}
        with self._translated(f"read collection {self.collection(kind)}"):
            present = shard.retrieve(list(wanted), False, False)
        with self._translated(f"write to collection {self.collection(kind)}"):
            for record in present:
                item_id = wanted[str(record.id)]
                shard.update(qe.UpdateOperation.set_payload([record.id], dict(values[item_id])))
        return len(present)

    def nearest(self, kind: Kind, vector: Sequence[float], limit: int) -> list[tuple[str, float]]:
        if not self.exists(kind):
            return []
        # A one-vector multivector query: MAX_SIM is then the best single cosine.
        query = [[float(x) for x in np.asarray(vector).ravel()]]
        with self._translated(f"search collection {self.collection(kind)}"):
            points = self._shard(kind).query(
                qe.QueryRequest(
                    limit=limit, query=qe.Query.Nearest(query, using=DENSE), with_payload=["id"]
                )
            )
        return [(stored_item_id(p), float(p.score)) for p in points]

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
        queries = [qe.Query.Nearest([[float(x) for x in dense]], using=DENSE)]
        if sparse is not None:
            queries.append(qe.Query.Nearest(_sparse(sparse), using=LEXICAL))
        batch = qe.QueryBatchRequest(
            [
                qe.QueryRequest(limit=limit, query=q, filter=query_filter, with_payload=["id"])
                for q in queries
            ]
        )
        with self._translated(f"search collection {self.collection(kind)}"):
            results = self._shard(kind).query_batch(batch)
        return [[(stored_item_id(p), float(p.score)) for p in points] for points in results]

    def hits(self, kind: Kind, item_ids: Sequence[str]) -> list[Hit]:
        if not item_ids:
            return []
        ids: list[Any] = [point_id(kind, i) for i in item_ids]
        with self._translated(f"read collection {self.collection(kind)}"):
            records = self._shard(kind).retrieve(ids, True, [DENSE])
        return hits_in_order(records, item_ids)

    def item_vectors(
        self, kind: Kind, item_ids: Sequence[str] | None = None
    ) -> dict[str, npt.NDArray[np.float32]]:
        if not self.exists(kind):
            return {}
        shard = self._shard(kind)
        with self._translated(f"read collection {self.collection(kind)}"):
            if item_ids is not None:
                records = shard.retrieve([point_id(kind, i) for i in item_ids], ["id"], [DENSE])
            else:
                records, offset = [], None
                while True:
                    page, offset = shard.scroll(
                        qe.ScrollRequest(
                            offset=offset, limit=SCROLL_PAGE, with_payload=["id"],
                            with_vector=[DENSE],
                        )
                    )  # fmt: skip
                    records.extend(page)
                    if offset is None:
                        break
        return {stored_item_id(r): dense_rows(r.vector) for r in records}

    def legacy_note(self) -> str | None:
        if not (self.folder / LEGACY_META).is_file():
            return None
        return "the folder holds an index written by qdrant-client's local mode (older patternbot)"

    def retire_legacy(self, kind: Kind) -> tuple[str, dict[str, dict[str, Any]]] | None:
        if self._legacy is None:
            self._legacy = self._take_legacy()
        if kind not in self._legacy:
            return None
        reason = (
            f"collection {self.collection(kind)} was written by qdrant-client's local mode; "
            "the embedded index is now Qdrant Edge"
        )
        return reason, self._legacy.pop(kind)

    def _take_legacy(self) -> dict[Kind, dict[str, dict[str, Any]]]:
        """Payloads of our collections in a folder qdrant-client's local mode wrote (to keep
        usage metrics), then those collections removed from disk.

        Both kinds are read in one session: qdrant-client recreates a collection its meta.json
        lists. It takes the same lock file, so ours is released while it reads.
        """
        legacy = self.folder / LEGACY_COLLECTIONS
        kinds: list[Kind] = [k for k in KINDS if (legacy / self.collection(k)).is_dir()]
        if not kinds:
            return {}
        from bot.index.client import QdrantClientIndex

        self._lock.release()
        try:
            with QdrantClientIndex.local(self.folder, self.prefix) as old:
                taken = {kind: old.payloads(kind) for kind in kinds}
        finally:
            if not self._lock.acquire():
                raise IndexUnavailableError(f"Qdrant at {self.location}: {IN_USE}")
        with self._translated("remove the qdrant-client local-mode collections"):
            for kind in kinds:
                shutil.rmtree(legacy / self.collection(kind))
            if not any(legacy.iterdir()):
                legacy.rmdir()
                (self.folder / LEGACY_META).unlink(missing_ok=True)
        return taken

    def close(self) -> None:
        shards, self._shards = list(self._shards.values()), {}
        try:
            for shard in shards:
                with contextlib.suppress(Exception):  # never hide the error that ended a command
                    shard.close()
        finally:
            self._lock.release()
