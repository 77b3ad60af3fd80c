"""`patternbot metrics`: exact JSON, the human table, exit codes and the Qdrant payload write."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import load_config
from bot.index.store import open_index
from bot.main import main
from tests.support.kb import pattern_data, policy_data
from tests.support.logs import outcome, retrieved, solution, write_log

LOGS = [
    retrieved("w1", "e1", "2026-03-01T10:00:00Z", "web app", {"web": 0.9}, {"limits": 0.8},
              cluster="prod"),
    solution("w1", "e2", "2026-03-01T10:01:00Z", ["web"], ["Deployment", "Service", "Ingress"],
             ["limits"], cluster="prod"),
    outcome("w1", "e3", "2026-03-01T10:02:00Z", "deployed", cluster="prod"),
    solution("w2", "e4", "2026-03-01T11:00:00Z", ["ghost"], ["Deployment"]),
]  # fmt: skip


@pytest.fixture
def repo(kb_repo_factory: Callable[..., Path]) -> Path:
    return kb_repo_factory(
        patterns=[pattern_data("web"), pattern_data("db", suggestedResources=["StatefulSet"])],
        policies=[policy_data("limits")],
    )


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


WEB = {
    "timesRecommended": 1, "timesUsed": 1, "successRate": 1.0, "commonAdditions": {"Ingress": 1},
    "lastUsed": "2026-03-01T10:01:00Z", "deployed": 1, "failed": 0, "abandoned": 0,
    "strongRecommendations": 1, "strongRecommendationsUsed": 1,
}  # fmt: skip
UNUSED = {
    "timesRecommended": 0, "timesUsed": 0, "successRate": None, "commonAdditions": {},
    "lastUsed": None, "deployed": 0, "failed": 0, "abandoned": 0, "strongRecommendations": 0,
    "strongRecommendationsUsed": 0,
}  # fmt: skip
LIMITS = {**WEB, "commonAdditions": {}}


def test_metrics_json_is_exact(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(tmp_path / "w.jsonl", LOGS)
    code, out, err = _run(capsys, "metrics", "--repo", str(repo), "--logs", str(log), "--json",
                          "--no-index")  # fmt: skip
    assert (code, err) == (0, "")
    prod = {
        "patterns": {"db": UNUSED, "web": WEB}, "policies": {"limits": LIMITS},
        "rejectedLines": 0, "duplicateEvents": 0, "anomalies": [],
        "window": {"start": "2026-03-01T10:00:00Z", "end": "2026-03-01T10:02:00Z"},
        "events": 3, "workflows": 1, "workflowsWithSolution": 1, "deployedSolutions": 1,
    }  # fmt: skip
    assert json.loads(out) == {
        "patterns": {"db": UNUSED, "web": WEB},
        "policies": {"limits": LIMITS},
        "rejectedLines": 0,
        "duplicateEvents": 0,
        "anomalies": [
            {"kind": "unknown_pattern", "id": "ghost", "workflows": 1, "exampleWorkflow": "w2"}
        ],
        "window": {"start": "2026-03-01T10:00:00Z", "end": "2026-03-01T11:00:00Z"},
        "events": 4,
        "workflows": 2,
        "workflowsWithSolution": 2,
        "deployedSolutions": 1,
        "clusters": {"prod": prod},
        "indexUpdated": None,
    }
    assert list(json.loads(out)["patterns"]["web"])[:5] == [
        "timesRecommended",
        "timesUsed",
        "successRate",
        "commonAdditions",
        "lastUsed",
    ]


def test_metrics_table(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write_log(tmp_path / "w.jsonl", [*LOGS, "not json"])
    quarantine = tmp_path / "q.jsonl"
    code, out, err = _run(capsys, "metrics", "--repo", str(repo), "--logs", str(log),
                          "--no-index", "--quarantine", str(quarantine))  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert "Usage from 2 workflows (4 events)" in lines[0]
    # Not a terminal: a plain table, whole; columns start where their headers start.
    header = lines[1]
    names = ("kind", "id", "recommended", "used", "success", "top additions", "last used")
    starts = [f"{header} ".index(f" {name} " if i else name) + (1 if i else 0)
              for i, name in enumerate(names)]  # fmt: skip
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    cells = [[line[a:b].strip() for a, b in bounds] for line in lines[2:]]
    assert [row for row in cells if row[0] in ("pattern", "policy")] == [
        ["pattern", "db", "0", "0", "-", "-", "-"],
        ["pattern", "web", "1", "1", "100%", "Ingress (1)", "2026-03-01"],
        ["policy", "limits", "1", "1", "100%", "", "2026-03-01"],
    ]
    assert lines[-2:] == [
        "anomaly: unknown_pattern ghost in 1 workflow(s), e.g. w2",
        "rejected lines: 1; duplicate events: 0",
    ]
    assert err.splitlines() == [
        f"patternbot: warning: {log}:5: not valid JSON",
        f"patternbot: warning: 1 log line(s) rejected; kept in {quarantine}",
    ]


def test_metrics_strict_exits_1_with_file_and_line(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(tmp_path / "w.jsonl", [*LOGS, '{"v":1}'])
    code, out, err = _run(capsys, "metrics", "--repo", str(repo), "--logs", str(log), "--strict",
                          "--no-index")  # fmt: skip
    assert (code, out) == (1, "")
    assert err == f"patternbot: {log}:5: missing field 'eventId'\n"


def test_metrics_refuses_a_gzip_file_with_a_crc_error(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "".join(json.dumps(event) + "\n" for event in LOGS).encode()
    data = gzip.compress(text)
    broken = tmp_path / "w.jsonl.gz"
    broken.write_bytes(data[:-8] + bytes(b ^ 0xFF for b in data[-8:-4]) + data[-4:])
    crc = zlib.crc32(text)
    code, out, err = _run(capsys, "metrics", "--repo", str(repo), "--logs", str(broken),
                          "--no-index")  # fmt: skip
    assert (code, out) == (1, "")
    assert err == (
        f"patternbot: {broken}: not a readable gzip file (truncated or corrupt: CRC check failed "
        f"{crc ^ 0xFFFFFFFF:#x} != {crc:#x}); the file was not read\n"
    )


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_metrics_since_outside_the_calendar_is_a_usage_error(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], when: str
) -> None:
    log = write_log(tmp_path / "w.jsonl", LOGS)
    code, out, err = _run(capsys, "metrics", "--repo", str(repo), "--logs", str(log),
                          "--since", when, "--no-index")  # fmt: skip
    assert (code, out) == (2, "")
    assert err == f"patternbot: error: --since: {when!r} is outside years 1-9999 in UTC\n"


def test_metrics_missing_log_exits_1(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.jsonl"
    code, out, err = _run(capsys, "metrics", "--repo", str(repo), "--logs", str(missing))
    assert (code, out, err) == (1, "", f"patternbot: no such log file or directory: {missing}\n")


def test_metrics_are_written_into_the_index_payloads(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(capsys, "sync", "--repo", str(repo))[0] == 0
    config = load_config(repo)
    with open_index(config) as index:
        before = index.payloads("pattern")
    log = write_log(tmp_path / "w.jsonl", LOGS)
    code, out, err = _run(capsys, "metrics", "--repo", str(repo), "--logs", str(log), "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["indexUpdated"] == {"patterns": 2, "policies": 1}
    with open_index(config) as index:
        patterns, policies = index.payloads("pattern"), index.payloads("policy")
    assert patterns["web"]["usageMetrics"] == {
        "timesRecommended": 1, "timesUsed": 1, "successRate": 1.0,
        "commonAdditions": {"Ingress": 1}, "lastUsed": "2026-03-01T10:01:00Z",
    }  # fmt: skip
    assert patterns["db"]["usageMetrics"] == {
        "timesRecommended": 0,
        "timesUsed": 0,
        "commonAdditions": {},
    }
    assert policies["limits"]["usageMetrics"]["timesUsed"] == 1
    # Everything else in the payload is untouched.
    for item_id, payload in before.items():
        assert {k: v for k, v in patterns[item_id].items() if k != "usageMetrics"} == {
            k: v for k, v in payload.items() if k != "usageMetrics"
        }


def test_metrics_are_printed_when_the_index_cannot_be_written(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file where the index folder should be: Qdrant cannot open it.
    (repo / ".patternbot").mkdir()
    (repo / ".patternbot" / "qdrant").write_text("not a folder", encoding="utf-8")
    log = write_log(tmp_path / "w.jsonl", LOGS)
    code, out, err = _run(capsys, "metrics", "--repo", str(repo), "--logs", str(log), "--json")
    assert code == 1
    assert json.loads(out)["patterns"]["web"] == WEB
    assert err.startswith("patternbot: warning: usage metrics were not written to the index: ")


def test_duckdb_takes_its_threads_and_memory_ceiling_from_the_settings(tmp_path: Path) -> None:
    from bot.logs.analysis import available_cpus, connect

    config = load_config(tmp_path, {})
    con = connect(config.metrics, str(tmp_path))
    limits = "SELECT current_setting('threads'), current_setting('memory_limit')"
    assert con.execute(limits).fetchall() == [(available_cpus(), "1.8 GiB")]  # 2 GB in GiB
    con.close()
    environ = {"PATTERNBOT_METRICS_THREADS": "1", "PATTERNBOT_METRICS_MEMORY_LIMIT": "64MiB"}
    con = connect(load_config(tmp_path, environ).metrics, str(tmp_path))
    assert con.execute(limits).fetchall() == [(1, "64.0 MiB")]
    con.close()


def test_metrics_are_the_same_on_one_thread_and_a_small_memory_ceiling(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = write_log(tmp_path / "w.jsonl", LOGS)
    argv = ("metrics", "--repo", str(repo), "--logs", str(log), "--json", "--no-index")
    code, default, _ = _run(capsys, *argv)
    assert code == 0
    monkeypatch.setenv("PATTERNBOT_METRICS_THREADS", "1")
    monkeypatch.setenv("PATTERNBOT_METRICS_MEMORY_LIMIT", "64MB")
    code, limited, _ = _run(capsys, *argv)
    assert code == 0
    assert json.loads(limited) == json.loads(default)
    monkeypatch.delenv("PATTERNBOT_METRICS_MEMORY_LIMIT")
    (repo / "patternbot.yaml").write_text("metrics:\n  memoryLimit: 2 gigabytes\n")
    code, _, err = _run(capsys, *argv)
    assert code == 1
    assert err == (
        "patternbot: patternbot.yaml:2: metrics.memoryLimit: expected a size such as 2GB or "
        "512MiB (KB, MB, GB, TB, KiB to TiB)\n"
    )
