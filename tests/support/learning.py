"""Test fixtures for learning: hand-built usage reports and a stand-in Messages API on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.knowledge.repository import KnowledgeBase, load_knowledge_base
from bot.logs.usage import ItemUsage, UsageReport, Window
from tests.support.kb import make_kb_repo, pattern_data, policy_data

WINDOW = Window(
    start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), end=dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC)
)


def learning_config(**learning: Any) -> Config:
    """A default Config with learning settings overridden (snake_case names)."""
    config = Config()
    config.learning = config.learning.model_copy(update=learning)
    return config


def knowledge_base(
    tmp_path: Path, patterns: list[dict[str, Any]], policies: list[dict[str, Any]] | None = None
) -> KnowledgeBase:
    """A real knowledge base loaded from YAML files written under tmp_path."""
    root = make_kb_repo(tmp_path / "kb", patterns, policies or [], commit=False)
    kb = load_knowledge_base(root)
    assert kb.problems == []
    return kb


def standard_kb(tmp_path: Path) -> KnowledgeBase:
    """Four patterns and two policies with distinct subjects, for signal tests."""
    return knowledge_base(
        tmp_path,
        [
            pattern_data(
                "web-app",
                description="Stateless web application behind an ingress",
                triggers=["web application", "website", "frontend"],
                suggestedResources=["Deployment", "Service", "Ingress"],
            ),
            pattern_data(
                "database",
                description="Relational database with persistent storage",
                triggers=["database", "postgres", "mysql"],
                suggestedResources=["StatefulSet", "Service", "PersistentVolumeClaim"],
            ),
            pattern_data(
                "cache",
                description="In-memory cache such as Redis",
                triggers=["cache", "redis"],
                suggestedResources=["Deployment", "Service"],
            ),
            pattern_data(
                "batch-job",
                description="Scheduled batch job that runs to completion",
                triggers=["cron job", "nightly batch"],
                suggestedResources=["CronJob"],
            ),
        ],
        [
            policy_data(
                "require-run-as-non-root",
                description="Containers must run as a non-root user",
                triggers=["run as non-root", "security context"],
                settings={"spec.template.spec.securityContext.runAsNonRoot": True},
            ),
            policy_data(
                "require-health-probes",
                description="Containers must declare readiness and liveness probes",
                triggers=["readiness probe", "liveness probe", "health checks"],
            ),
        ],
    )


def usage(**counts: Any) -> ItemUsage:
    """An ItemUsage with the given counters (snake_case names)."""
    return ItemUsage(**counts)


def report(**fields: Any) -> UsageReport:
    """A UsageReport over WINDOW with the given fields (snake_case names)."""
    fields.setdefault("window", WINDOW)
    return UsageReport(**fields)


@dataclass
class MessagesAPI:
    """A stand-in for the Messages API: records requests and answers according to `mode`.

    Modes: "good" (a tool_use reply whose input is `tool_input`), "text" (the same as a text JSON
    block), "garbage" (text that is not JSON), "timeout" (answers after `delay` seconds),
    "overloaded" (HTTP 529), "rate_limited" (HTTP 429).
    """

    url: str = ""
    mode: str = "good"
    tool_input: Any = field(default_factory=lambda: {"suggestions": []})
    delay: float = 2.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        model = body.get("model", "")
        envelope = {
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": model,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 10},
        }
        if self.mode == "overloaded":
            return 529, {
                "type": "error",
                "error": {"type": "overloaded_error", "message": "Overloaded"},
            }
        if self.mode == "rate_limited":
            return 429, {
                "type": "error",
                "error": {"type": "rate_limit_error", "message": "Slow down"},
            }
        if self.mode == "garbage":
            content = [{"type": "text", "text": "I'd rather write a poem about YAML."}]
            return 200, {**envelope, "content": content, "stop_reason": "end_turn"}
        if self.mode == "text":
            content = [{"type": "text", "text": "Here you go:\n" + json.dumps(self.tool_input)}]
            return 200, {**envelope, "content": content, "stop_reason": "end_turn"}
        tool = {
            "type": "tool_use",
            "id": "toolu_test",
            "name": "submit_suggestions",
            "input": self.tool_input,
        }
        return 200, {**envelope, "content": [tool], "stop_reason": "tool_use"}


def _handler(api: MessagesAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            api.requests.append(
                {"path": self.path, "headers": dict(self.headers.items()), "body": body}
            )
            if api.mode == "timeout":
                time.sleep(api.delay)
            status, reply = api.answer(body)
            data = json.dumps(reply).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout mode)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def messages_api() -> Iterator[MessagesAPI]:
    """A Messages API stand-in served over real HTTP on 127.0.0.1 for one test."""
    api = MessagesAPI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
