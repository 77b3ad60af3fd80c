"""A Qdrant server (`QDRANT_URL`) gets the payload index on `deprecated` that Qdrant Edge has.

The server is a stand-in on 127.0.0.1 speaking Qdrant's REST API to the real qdrant-client: it
records every request and describes collections the way qdrant-client's local mode does for the
same layout. qdrant-client's local mode itself has no payload indexes (it warns when asked for
one), so it is never asked.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.index.client import QdrantClientIndex, open_server
from bot.index.store import Layout

_OK: dict[str, Any] = {"status": "ok", "time": 0.0}


def _collection_info(folder: Path) -> dict[str, Any]:
    """What a server answers for patternbot's patterns collection (4 dimensions, no index)."""
    with QdrantClientIndex.local(folder, "patternbot") as local:
        local.create("pattern", 4)
        info: dict[str, Any] = local.client.get_collection("patternbot_patterns").model_dump(
            mode="json"
        )
    assert info["payload_schema"] == {}
    return info


class _Recorder:
    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.requests: list[tuple[str, str, Any]] = []


def _handler(recorder: _Recorder) -> type[BaseHTTPRequestHandler]:
    class QdrantStandIn(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, result: object) -> None:
            body = json.dumps({**_OK, "result": result}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _record(self) -> str:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            path = self.path.split("?")[0]
            recorder.requests.append((self.command, path, body))
            return path

        def do_GET(self) -> None:
            self._record()
            self._reply(recorder.info)

        def do_PUT(self) -> None:
            path = self._record()
            if path.endswith("/index"):
                self._reply({"operation_id": 1, "status": "completed"})
            else:
                self._reply(True)

    return QdrantStandIn


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, _Recorder]]:
    recorder = _Recorder(_collection_info(tmp_path / "local"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", recorder
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


_INDEX_REQUEST = (
    "PUT",
    "/collections/patternbot_patterns/index",
    {"field_name": "deprecated", "field_schema": "bool"},
)


def test_a_new_server_collection_gets_the_index(server: tuple[str, _Recorder]) -> None:
    url, recorder = server
    index = open_server(url, None, 5.0, "patternbot")
    try:
        index.create("pattern", 4)
    finally:
        index.close()

    assert [(method, path) for method, path, _ in recorder.requests] == [
        ("PUT", "/collections/patternbot_patterns"),
        ("PUT", "/collections/patternbot_patterns/index"),
    ]
    assert recorder.requests[1] == _INDEX_REQUEST


@pytest.mark.parametrize("indexed", [False, True])
def test_an_older_server_collection_gets_the_index_once(
    server: tuple[str, _Recorder], indexed: bool
) -> None:
    url, recorder = server
    if indexed:
        recorder.info["payload_schema"] = {"deprecated": {"data_type": "bool", "points": 0}}
    index = open_server(url, None, 5.0, "patternbot")
    try:
        layout = index.layout("pattern")
    finally:
        index.close()

    assert layout == Layout(4, True)
    reads = [("GET", "/collections/patternbot_patterns", None)]
    assert recorder.requests == (reads if indexed else [*reads, _INDEX_REQUEST])


def test_local_mode_is_never_asked_for_an_index(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # local mode warns that payload indexes have no effect
        with QdrantClientIndex.local(tmp_path / "local", "patternbot") as local:
            local.create("pattern", 4)
            assert local.layout("pattern") == Layout(4, True)
