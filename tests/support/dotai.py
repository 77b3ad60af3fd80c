"""A dot-ai pattern and policy store for tests: real Qdrant (local mode) in dot-ai's payload
layout, optionally served over HTTP on 127.0.0.1 the way a Qdrant server answers qdrant-client.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client.models import Distance, PointStruct, VectorParams

from testing.worlds.corpus import DEFAULT_CORPUS

CORPUS = DEFAULT_CORPUS / "dotai_examples.jsonl"
# dot-ai's payload keys for organizational patterns and policy intents (organizational-types.ts).
PAYLOAD_KEYS = (
    "description",
    "triggers",
    "suggestedResources",
    "rationale",
    "createdAt",
    "createdBy",
    "deployedPolicies",
)
_NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


def dotai_payload(record: Mapping[str, Any]) -> dict[str, Any]:
    """The payload dot-ai stores for a pattern or policy intent, with its own search keys."""
    payload = {key: record[key] for key in PAYLOAD_KEYS if key in record}
    if "id" in record:
        payload["id"] = record["id"]
    words = [str(payload.get("description", "")), *map(str, payload.get("triggers", []))]
    payload["searchText"] = " ".join(words).lower()
    payload["hasEmbedding"] = True
    return payload


def point_id(record: Mapping[str, Any], number: int) -> str:
    """dot-ai's point id: the item's UUID (a stable one for records whose id is not a UUID)."""
    own = record.get("id")
    try:
        return str(uuid.UUID(str(own)))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, f"{number}:{own}"))


def corpus_points() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The corpus's 16 patterns and 7 policy intents as (point id, payload), read at run time."""
    points: dict[str, list[tuple[str, dict[str, Any]]]] = {"patterns": [], "policies": []}
    for number, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines()):
        record = json.loads(line)
        if record["record_type"] == "pattern":
            points["patterns"].append((point_id(record, number), dotai_payload(record)))
        elif record["record_type"] == "policy_intent":
            points["policies"].append((point_id(record, number), dotai_payload(record)))
    return points


def build_store(
    path: Path, collections: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]]
) -> QdrantClient:
    """A local Qdrant at `path` holding the given collections (vectors are placeholders)."""
    client = QdrantClient(path=str(path))
    for name, points in collections.items():
        vectors = VectorParams(size=4, distance=Distance.COSINE)
        client.create_collection(name, vectors_config=vectors)
        if points:
            client.upsert(
                name,
                [
                    PointStruct(id=pid, vector=[1.0, 0.0, 0.0, float(n)], payload=dict(payload))
                    for n, (pid, payload) in enumerate(points)
                ],
            )
    return client


def _handler(client: QdrantClient, api_key: str | None) -> type[BaseHTTPRequestHandler]:
    class QdrantRestStandIn(BaseHTTPRequestHandler):
        """The two REST calls the import makes: collection exists, and scroll."""

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, result: Any) -> None:
            body = json.dumps({"result": result, "status": "ok", "time": 0.0}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorised(self) -> bool:
            if api_key is None or self.headers.get("api-key") == api_key:
                return True
            self._reply(403, None)
            return False

        def do_GET(self) -> None:
            parts = self.path.split("?")[0].strip("/").split("/")
            if not self._authorised():
                return
            if len(parts) == 3 and parts[0] == "collections" and parts[2] == "exists":
                self._reply(200, {"exists": client.collection_exists(parts[1])})
            else:
                self._reply(404, None)

        def do_POST(self) -> None:
            parts = self.path.split("?")[0].strip("/").split("/")
            body = json.loads(self.rfile.read(int(self.headers["content-length"])) or b"{}")
            if not self._authorised():
                return
            if len(parts) == 4 and parts[0] == "collections" and parts[2:] == ["points", "scroll"]:
                records, offset = client.scroll(
                    parts[1],
                    limit=body.get("limit", 10),
                    offset=body.get("offset"),
                    with_payload=True,
                    with_vectors=False,
                )
                points = [{"id": r.id, "payload": r.payload} for r in records]
                self._reply(200, {"points": points, "next_page_offset": offset})
            else:
                self._reply(404, None)

    return QdrantRestStandIn


@contextmanager
def serve_store(client: QdrantClient, api_key: str | None = None) -> Iterator[str]:
    """Serve `client`'s collections over Qdrant's REST API on 127.0.0.1; yields the URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(client, api_key))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
