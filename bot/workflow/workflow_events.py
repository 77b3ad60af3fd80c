"""One workflow's own events, read back from the logs: what it retrieved, built and how it ended."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from bot.logs.events import EVENT_ADAPTER, OutcomeEvent, RetrievedEvent, SolutionEvent
from bot.logs.reader import log_files
from bot.logs.redact import redact

AnyEvent = RetrievedEvent | SolutionEvent | OutcomeEvent


@dataclass
class WorkflowFacts:
    """The latest retrieved, solution and outcome events of one workflow (each may be missing)."""

    workflow_id: str
    retrieved: RetrievedEvent | None = None
    solution: SolutionEvent | None = None
    outcome: OutcomeEvent | None = None
    events: int = 0

    @property
    def intent(self) -> str | None:
        """The request, secrets redacted (it is shown back and compared, never trusted)."""
        return redact(self.retrieved.intent) if self.retrieved else None

    @property
    def kinds(self) -> list[str]:
        """The solution's resource kinds, each once, sorted."""
        return sorted({r.kind for r in self.solution.resources}) if self.solution else []

    @property
    def best_pattern(self) -> tuple[str, float] | None:
        """The best retrieved pattern and its score, when retrieval returned any."""
        if self.retrieved is None or not self.retrieved.patterns:
            return None
        best = max(self.retrieved.patterns, key=lambda p: p.score)
        return best.id, best.score


_CHUNK = 8 << 20


def lines_mentioning(path: Path, needle: bytes, chunk_size: int = _CHUNK) -> Iterator[bytes]:
    """The lines of a log file that contain `needle`, found by search rather than line by line."""
    opener = gzip.open if path.name.endswith(".gz") else open
    carry = b""
    with opener(path, "rb") as stream:
        while True:
            chunk = stream.read(chunk_size)
            data = carry + chunk
            if not chunk:
                if needle in data:
                    yield data
                return
            end = data.rfind(b"\n") + 1
            block, carry = data[:end], data[end:]
            start = block.find(needle)
            while start != -1:
                line_start = block.rfind(b"\n", 0, start) + 1
                line_end = block.find(b"\n", start)
                yield block[line_start:line_end]
                start = block.find(needle, line_end)


def _later(new: AnyEvent, old: AnyEvent | None) -> bool:
    # The log contract: the latest by ts counts, on equal ts the greatest eventId.
    return old is None or (new.ts, new.event_id) > (old.ts, old.event_id)


def read_workflow(workflow_id: str, paths: Sequence[str]) -> WorkflowFacts:
    """The workflow's events from the logs at `paths`; lines that do not validate are skipped.

    Only lines that mention the id are parsed, so this stays fast on large logs.
    """
    facts = WorkflowFacts(workflow_id)
    needle = json.dumps(workflow_id)[1:-1].encode("utf-8")
    seen: set[str] = set()
    with log_files(paths) as files:
        for log_file in files:
            for line in lines_mentioning(log_file.path, needle):
                try:
                    event = EVENT_ADAPTER.validate_json(line.strip(), strict=True)
                except ValidationError:
                    continue  # `metrics` reports rejected lines; here they only cannot count
                if event.workflow_id != workflow_id or event.event_id in seen:
                    continue
                seen.add(event.event_id)
                facts.events += 1
                if isinstance(event, RetrievedEvent) and _later(event, facts.retrieved):
                    facts.retrieved = event
                elif isinstance(event, SolutionEvent) and _later(event, facts.solution):
                    facts.solution = event
                elif isinstance(event, OutcomeEvent) and _later(event, facts.outcome):
                    facts.outcome = event
    return facts
