"""`patternbot sync` and `patternbot recommend` through `bot.main.main`, as a user runs them."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.logs.events import EVENT_ADAPTER, RetrievedEvent
from bot.main import main
from tests.support.kb import pattern_data, policy_data

RepoFactory = Callable[..., Path]


@pytest.fixture
def repo(kb_repo_factory: RepoFactory) -> Path:
    return kb_repo_factory(
        patterns=[
            pattern_data(
                "stateful-database",
                description="Relational database that keeps its data on persistent volumes",
                triggers=["database", "PostgreSQL"],
                suggestedResources=["StatefulSet", "PersistentVolumeClaim"],
            ),
            pattern_data(
                "scheduled-batch-job",
                description="Batch task that runs on a schedule",
                triggers=["cron job"],
                suggestedResources=["CronJob"],
            ),
        ],
        policies=[policy_data("require-resource-limits")],
    )


def test_sync_json_reports_counts_and_a_second_sync_changes_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--repo", str(repo), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "added": 3,
        "updated": 0,
        "removed": 0,
        "unchanged": 0,
        "rebuilt": None,
    }
    assert err == ""
    assert (repo / ".patternbot" / "qdrant").is_dir()
    assert main(["sync", "--repo", str(repo), "--json"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out) == {
        "added": 0,
        "updated": 0,
        "removed": 0,
        "unchanged": 3,
        "rebuilt": None,
    }


def test_sync_rebuild_says_so_on_stderr(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--repo", str(repo)]) == 0
    capsys.readouterr()
    assert main(["sync", "--repo", str(repo), "--rebuild", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["rebuilt"] == "requested with --rebuild"
    assert err == "patternbot: rebuilt the index from git: requested with --rebuild\n"


def test_sync_human_output(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--repo", str(repo)]) == 0
    out, _ = capsys.readouterr()
    location = repo / ".patternbot" / "qdrant"
    assert out == f"synced {location}: 3 added, 0 updated, 0 removed, 0 unchanged\n"


def test_sync_refuses_an_invalid_knowledge_base(
    kb_repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("x", triggers=[])])
    assert main(["sync", "--repo", str(root)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "patternbot: cannot sync: the knowledge base has 1 problem(s) "
        "(syncing it would remove items from the index):\n"
        "  patterns/x.yaml:3: triggers: must not be empty\n"
    )


def test_recommend_json_lists_patterns_and_policies_best_first(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["sync", "--repo", str(repo)])
    capsys.readouterr()
    intent = "run a postgres instance that keeps its data across restarts"
    assert main(["recommend", intent, "--repo", str(repo), "--json", "--limit", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["patterns", "policies"]
    assert [p["id"] for p in data["patterns"]] == ["stateful-database", "scheduled-batch-job"]
    assert list(data["patterns"][0]) == ["id", "score", "description", "suggestedResources"]
    assert data["patterns"][0]["suggestedResources"] == ["StatefulSet", "PersistentVolumeClaim"]
    assert [p["id"] for p in data["policies"]] == ["require-resource-limits"]
    assert list(data["policies"][0]) == ["id", "score", "description", "appliesTo"]


def test_recommend_log_appends_one_retrieved_event(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["sync", "--repo", str(repo)])
    capsys.readouterr()
    log = tmp_path / "logs" / "workflows.jsonl"
    argv = ["recommend", "a nightly cron job", "--repo", str(repo), "--json", "--log", str(log)]
    assert main([*argv, "--cluster", "prod-eu", "--workflow", "operate"]) == 0
    data = json.loads(capsys.readouterr().out)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    event = EVENT_ADAPTER.validate_json(lines[0])
    assert isinstance(event, RetrievedEvent)
    assert event.workflow_id == data["workflowId"]
    assert event.workflow_id.startswith("wf-")
    assert (event.workflow, event.cluster, event.intent) == (
        "operate",
        "prod-eu",
        "a nightly cron job",
    )
    assert [(s.id, s.score) for s in event.patterns] == [
        (p["id"], p["score"]) for p in data["patterns"]
    ]
    assert [s.id for s in event.policies] == ["require-resource-limits"]
    assert main([*argv, "--workflow-id", "wf-given"]) == 0
    assert json.loads(capsys.readouterr().out)["workflowId"] == "wf-given"
    assert (
        EVENT_ADAPTER.validate_json(log.read_text(encoding="utf-8").splitlines()[1]).workflow_id
        == "wf-given"
    )


def test_recommend_human_output_is_a_table_per_kind(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["sync", "--repo", str(repo)])
    capsys.readouterr()
    assert main(["recommend", "postgres database", "--repo", str(repo), "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Patterns"
    assert "stateful-database" in out
    assert "Policies" in out
    assert "require-resource-limits" in out


def test_recommend_on_an_empty_index_says_to_sync(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["recommend", "anything", "--repo", str(repo)]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", "patternbot: index is empty: run `patternbot sync`\n")


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("command", [["sync"], ["recommend", "a web app"]])
def test_a_qdrant_url_that_refuses_connections_is_one_line(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("QDRANT_URL", url)
    monkeypatch.setenv("PATTERNBOT_INDEX_TIMEOUT_SECONDS", "2")
    assert main([*command, "--repo", str(repo)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"patternbot: Qdrant at {url}: cannot look up collection patternbot_patterns: "
        "[Errno 111] Connection refused\n"
    )


def test_recommend_shows_the_settings_warnings_on_every_start(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "patternbot.yaml").write_text("retrieval:\n  limt: 1\n", encoding="utf-8")
    assert main(["sync", "--repo", str(repo), "--json"]) == 0
    capsys.readouterr()
    warning = (
        "patternbot: warning: patternbot.yaml:2: unknown key 'retrieval.limt' "
        "(did you mean 'limit'?); ignored\n"
    )
    outputs = []
    for _ in range(2):  # validated, then read back from .patternbot/cache/settings.json
        assert main(["recommend", "a postgres database", "--repo", str(repo), "--json"]) == 0
        out, err = capsys.readouterr()
        assert err == warning
        outputs.append(json.loads(out))
    assert (repo / ".patternbot" / "cache" / "settings.json").is_file()
    assert outputs[0] == outputs[1]
    assert [match["id"] for match in outputs[0]["patterns"]] == [
        "stateful-database",
        "scheduled-batch-job",
    ]


def test_the_warm_api_still_gives_the_whole_configuration(repo: Path) -> None:
    from bot.api import Recommender

    (repo / "patternbot.yaml").write_text("retrieval:\n  limit: 1\n", encoding="utf-8")
    assert main(["sync", "--repo", str(repo), "--json"]) == 0
    with Recommender(repo) as recommender:
        assert recommender.settings.limit == 1
        assert recommender.config.retrieval.limit == 1
        assert recommender.config.root == repo
        assert [m.id for m in recommender.recommend("a postgres database").retrieval.patterns] == [
            "stateful-database"
        ]
