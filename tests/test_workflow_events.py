"""One workflow's events read back from the logs: found by search, whatever the chunk boundaries."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from bot.workflow.workflow_events import lines_mentioning, read_workflow
from tests.support.logs import outcome, retrieved, solution, write_log

LINES = [f'{{"n":{n},"w":"{"wf-7" if n % 3 == 0 else "wf-8"}"}}'.encode() for n in range(40)]


@pytest.mark.parametrize("name", ["w.jsonl", "w.jsonl.gz"])
@pytest.mark.parametrize("chunk_size", [1, 2, 7, 16, 17, 18, 19, 64, 1 << 20])
def test_every_line_that_mentions_the_id_is_found_at_any_chunk_size(
    tmp_path: Path, name: str, chunk_size: int
) -> None:
    # Line feeds fall on every offset of small chunks; the file has no final line feed.
    data = b"\n".join(LINES)
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)

    found = list(lines_mentioning(path, b'"wf-7"', chunk_size))

    assert found == [line for line in LINES if b'"wf-7"' in line]


def test_the_latest_event_of_each_type_counts_and_others_are_ignored(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "w.jsonl",
        [
            retrieved("wf-7", "e1", "2026-03-01T10:00:00Z", "a web shop", {"web": 0.3}),
            solution("wf-7", "e2", "2026-03-01T10:01:00Z", ["web"], ["Deployment"]),
            solution("wf-7", "e3", "2026-03-01T10:02:00Z", ["web"], ["Deployment", "Service"]),
            solution("wf-7", "e3", "2026-03-01T10:02:00Z", ["web"], ["Deployment", "Service"]),
            outcome("wf-70", "e4", "2026-03-01T10:03:00Z", "failed"),
            '{"v":1,"workflowId":"wf-7","broken"',
            outcome("wf-7", "e5", "2026-03-01T10:03:00Z", "deployed"),
        ],
    )

    facts = read_workflow("wf-7", [str(log)])

    assert facts.events == 4
    assert facts.solution is not None and facts.solution.event_id == "e3"
    assert facts.kinds == ["Deployment", "Service"]
    assert facts.best_pattern == ("web", 0.3)
    assert facts.outcome is not None and facts.outcome.status == "deployed"
