"""A workflow through `patternbot mcp` with the MCP SDK's own client, then propose, then stage."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from bot.logs.emitter import WorkflowLog
from bot.main import main
from tests.support.logs import web_workflows

INTENT = "our storefront web app, highly available"


def _environment() -> dict[str, str]:
    keep = ("HOME", "PATH", "ORT_DISABLE_TELEMETRY", "PATTERNBOT_LOG_DIR", "XDG_CONFIG_HOME",
            "XDG_CACHE_HOME", "PYTHONPATH")  # fmt: skip
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return env


async def _agent(repo: Path, mcp_log: Path, logs: Path) -> dict[str, Any]:
    """What an agent does: recommend, build, record, then ask for the final stage."""
    server = StdioServerParameters(
        command=sys.executable,
        args=[
            *("-m", "bot", "mcp", "--repo", str(repo), "--log", str(mcp_log)),
            *("--logs", str(logs), "--cluster", "prod-eu"),
        ],
        env=_environment(),
    )
    results: dict[str, Any] = {}
    async with Client(server, read_timeout_seconds=120) as client:
        results["tools"] = sorted(tool.name for tool in (await client.list_tools()).tools)
        recommended = await client.call_tool("recommend", {"intent": INTENT})
        assert not recommended.is_error, recommended.content
        results["recommend"] = recommended.structured_content
        workflow_id = recommended.structured_content["workflowId"]  # type: ignore[index]
        resources = [{"kind": k} for k in
                     ("Deployment", "Service", "Ingress", "PodDisruptionBudget")]  # fmt: skip
        solved = await client.call_tool(
            "record_solution",
            {
                "workflow_id": workflow_id,
                "resources": resources,
                "patterns_used": ["stateless-web-app"],
            },
        )
        assert not solved.is_error, solved.content
        ended = await client.call_tool(
            "record_outcome", {"workflow_id": workflow_id, "status": "deployed"}
        )
        assert not ended.is_error, ended.content
        stage = await client.call_tool("learning_suggestions", {"workflow_id": workflow_id})
        assert not stage.is_error, stage.content
        results["stage"] = stage.structured_content
    return results


def test_an_agent_workflow_through_mcp_is_logged_proposed_and_staged(
    platform_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--repo", str(platform_kb)]) == 0
    logs = tmp_path / "logs"
    # Earlier workflows: 35 of 39 added a PodDisruptionBudget to stateless-web-app.
    web_workflows(logs / "history.jsonl", workflows=39, with_pdb=35)
    mcp_log = logs / "mcp.jsonl"
    capsys.readouterr()

    results = anyio.run(_agent, platform_kb, mcp_log, logs)

    assert results["tools"] == [
        "learning_suggestions", "recommend", "record_outcome", "record_solution",
    ]  # fmt: skip
    workflow_id = results["recommend"]["workflowId"]
    assert results["recommend"]["patterns"][0]["id"] == "stateless-web-app"
    events = [json.loads(line) for line in mcp_log.read_text("utf-8").splitlines()]
    assert [(e["type"], e["workflowId"], e["cluster"]) for e in events] == [
        ("retrieved", workflow_id, "prod-eu"),
        ("solution", workflow_id, "prod-eu"),
        ("outcome", workflow_id, "prod-eu"),
    ]
    assert events[0]["patterns"] == [
        {"id": p["id"], "score": p["score"]} for p in results["recommend"]["patterns"]
    ]
    before = results["stage"]["suggestions"]["patterns"]
    assert [(e["finding"], e["resource"], e["proposal"], e["notProposed"]) for e in before] == [
        ("resource_added", "PodDisruptionBudget", None,
         "suggested; its pull request opens on the next scheduled run"),
    ]  # fmt: skip

    assert main(["propose", "--repo", str(platform_kb), "--logs", str(logs), "--json"]) == 0
    proposed = json.loads(capsys.readouterr().out)
    pull = next(p for p in proposed["proposals"] if p["type"] == "update_pattern")
    assert main(["stage", "--repo", str(platform_kb), "--workflow", workflow_id,
                 "--logs", str(logs), "--json"]) == 0  # fmt: skip
    stage = json.loads(capsys.readouterr().out)

    assert stage == {
        "stage": "learningSuggestions",
        "result": "success",
        "workflowId": workflow_id,
        "suggestions": {
            "patterns": [
                {
                    "finding": "resource_added",
                    "resource": "PodDisruptionBudget",
                    "patternsUsed": ["stateless-web-app"],
                    "target": "stateless-web-app",
                    "summary": "added PodDisruptionBudget, which stateless-web-app does not "
                    "suggest",
                    "hits": 36,
                    "cases": 40,
                    "frequency": 0.9,
                    "howCommon": "added in 36 of 40 (90%) of the solutions that used "
                    "stateless-web-app",
                    "proposal": {
                        "number": pull["number"],
                        "title": "patternbot: add PodDisruptionBudget to stateless-web-app",
                        "url": pull["url"],
                        "status": "open",
                        "confidence": pull["confidence"],
                    },
                    "notProposed": None,
                }
            ],
            "policies": [],
        },
        "instructions": (
            "Suggestions become pull requests in the knowledge-base repository: a reviewer merges "
            "one to accept it (editing it first if needed) or closes it to reject it. Nothing "
            "here needs an answer; skipping this stage changes nothing."
        ),
    }


def test_a_workflow_with_nothing_new_gets_an_empty_stage(
    platform_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "logs" / "one.jsonl"
    log.parent.mkdir()
    with log.open("w", encoding="utf-8") as stream:
        events = WorkflowLog(stream)
        events.retrieved("wf-plain", "a web shop", [("stateless-web-app", 0.8)])
        events.solution("wf-plain", patterns_used=["stateless-web-app"], resources=["Deployment"])
        events.outcome("wf-plain", "deployed")

    code = main(["stage", "--repo", str(platform_kb), "--workflow", "wf-plain", "--logs", str(log)])
    empty = capsys.readouterr()
    missing = main(["stage", "--repo", str(platform_kb), "--workflow", "wf-nope",
                    "--logs", str(log), "--json"])  # fmt: skip

    assert (code, empty.out) == (0, "")
    assert missing == 1
    assert json.loads(capsys.readouterr().out) == {
        "stage": "learningSuggestions",
        "result": "unknown_workflow",
        "workflowId": "wf-nope",
        "suggestions": {"patterns": [], "policies": []},
    }
