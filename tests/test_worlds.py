"""The evaluation worlds: valid v1 logs, truth consistent with the logs, corpus worlds sane.

The generator is tested on a small hand-made world (no corpus needed); the corpus worlds are built
and drawn briefly when the corpus is present and skipped with the reason when it is not.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from bot.knowledge.repository import load_knowledge_base
from bot.logs.events import EVENT_ADAPTER
from testing.simulation.groundtruth import MANIFEST_NAME, GroundTruth, Regularity
from testing.worlds import CorpusMissing, World, generate, load_world, write_repo
from testing.worlds.model import Burst, Family, KindDraw, SettingDraw

SECCOMP = "spec.template.spec.securityContext.seccompProfile.type"
GRACE = "spec.template.spec.terminationGracePeriodSeconds"


def _pattern(item_id: str, kinds: list[str]) -> dict[str, Any]:
    return {
        "id": item_id,
        "description": f"the {item_id} pattern",
        "triggers": [item_id],
        "suggestedResources": kinds,
        "rationale": "test",
        "createdAt": "2026-07-01",
        "createdBy": "test",
    }


def tiny_world() -> World:
    web = (KindDraw("Deployment", 1.0), KindDraw("Service", 1.0))
    return World(
        name="tiny",
        description="a hand-made world for the generator's tests",
        patterns=[
            _pattern("web", ["Deployment", "Service"]),
            _pattern("proxy", ["Deployment", "ConfigMap"]),
            _pattern("db", ["StatefulSet", "Service"]),
        ],
        policies=[
            {
                "id": "limits",
                "description": "Require limits",
                "triggers": ["limits"],
                "rationale": "test",
                "createdAt": "2026-07-01",
                "createdBy": "test",
                "appliesTo": ["Pod"],
            }
        ],
        families=[
            Family(
                name="proxy-uses",
                weight=0.3,
                intents=("put a proxy in front of {team}'s app in {env}",),
                leading=(("proxy", 0.6, 0.8), ("web", 0.5, 0.6)),
                kinds=(KindDraw("Deployment", 1.0), KindDraw("ConfigMap", 1.0)),
                choices=((("proxy", "web"), 0.8, (*web, KindDraw("PodDisruptionBudget", 1.0))),),
                fallback_used=("proxy",),
            ),
            Family(
                name="db-uses",
                weight=0.3,
                intents=("a database for {team}",),
                leading=(("db", 0.6, 0.8),),
                kinds=(
                    KindDraw("StatefulSet", 1.0),
                    KindDraw("Service", 1.0),
                    KindDraw("NetworkPolicy", 1.0, cluster="prod-eu"),
                    KindDraw("VerticalPodAutoscaler", 1.0, since_day=20.0),
                ),
                fallback_used=("db",),
                failure_rate=0.5,
                dominant_error="connect ECONNREFUSED {ip}:{port}",
                dominant_share=0.75,
            ),
            Family(
                name="gap",
                weight=0.2,
                intents=("a message broker for {team}",),
                leading=(),
                kinds=(KindDraw("StatefulSet", 0.9), KindDraw("Secret", 0.9)),
                weak=True,
            ),
            Family(
                name="web-tiny",
                weight=0.0,
                intents=("a web app",),
                leading=(("web", 0.6, 0.8),),
                kinds=(*web, KindDraw("CronJob", 1.0)),
                fallback_used=("web",),
                count=3,
            ),
        ],
        settings=[
            SettingDraw(SECCOMP, ("RuntimeDefault",), 1.0, until_day=15.0),
            SettingDraw(GRACE, (30, 60), 0.5),
        ],
        truth=[
            Regularity(
                name="partner",
                type="none",
                signal="common_additions",
                target="proxy",
                expected={
                    "proposal": "add_kinds",
                    "add": ["PodDisruptionBudget"],
                    "partner": "web",
                },
                must_not_suggest={"proposal": "add_kinds", "type": "update_pattern"},
                description="test",
            ),
            Regularity(
                name="cluster",
                type="update_pattern",
                signal="common_additions",
                target="db",
                cluster="prod-eu",
                expected={"proposal": "add_kinds", "add": ["NetworkPolicy"]},
                description="test",
            ),
            Regularity(
                name="recent",
                type="update_pattern",
                signal="recent_addition",
                target="db",
                expected={
                    "proposal": "add_kinds",
                    "add": ["VerticalPodAutoscaler"],
                    "sinceDay": 20.0,
                },
                description="test",
            ),
            Regularity(
                name="failing",
                type="update_pattern",
                signal="failing",
                target="db",
                expected={"proposal": "note", "errorMarker": "ECONNREFUSED"},
                description="test",
            ),
            Regularity(
                name="stopped",
                type="none",
                signal="common_configuration",
                expected={
                    "proposal": "policy",
                    "path": SECCOMP,
                    "value": "RuntimeDefault",
                    "untilDay": 15.0,
                },
                must_not_suggest={"type": "create_policy"},
                description="test",
            ),
        ],
        days=30,
        errors=("CrashLoopBackOff: exit code {n}",),
        burst=Burst(10.0, 1.0, 1.0, "etcdserver: request timed out ({pod})"),
    )


def _lines(out: Path, truth: GroundTruth) -> list[str]:
    return [
        line
        for name in truth.files
        for line in (out / name).read_text(encoding="utf-8").splitlines()
    ]


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth, list[str]]:
    out = tmp_path_factory.mktemp("tiny")
    truth, _ = generate(tiny_world(), out, events=2000, seed=5, files=2)
    return out, truth, _lines(out, truth)


def test_every_line_is_a_valid_v1_event(drawn: tuple[Path, GroundTruth, list[str]]) -> None:
    _out, truth, lines = drawn
    events = [EVENT_ADAPTER.validate_json(line, strict=True) for line in lines]
    assert len(events) == truth.events == truth.lines
    assert len({event.event_id for event in events}) == len(events)
    assert truth.world == "tiny"
    assert truth.files == ["workflows-01.jsonl", "workflows-02.jsonl"]


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    world = tiny_world()
    first, _ = generate(world, tmp_path / "a", events=400, seed=3)
    generate(world, tmp_path / "b", events=400, seed=3)
    generate(world, tmp_path / "c", events=400, seed=4)
    name = first.files[0]
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert (tmp_path / "a" / MANIFEST_NAME).read_bytes() == (
        tmp_path / "b" / MANIFEST_NAME
    ).read_bytes()


def _workflows(lines: list[str]) -> dict[str, dict[str, Any]]:
    flows: dict[str, dict[str, Any]] = {}
    for line in lines:
        event = json.loads(line)
        flows.setdefault(event["workflowId"], {})[event["type"]] = event
    return flows


def test_observed_figures_are_what_the_logs_hold(
    drawn: tuple[Path, GroundTruth, list[str]],
) -> None:
    out, truth, lines = drawn
    flows = _workflows(lines)
    start = truth.window.start
    by_name = {reg.name: reg for reg in GroundTruth.read(out / MANIFEST_NAME).regularities}

    def kinds(flow: dict[str, Any]) -> set[str]:
        return {r["kind"] for r in flow["solution"]["resources"]}

    solved = [f for f in flows.values() if "solution" in f]
    proxy = [f for f in solved if "proxy" in f["solution"]["patternsUsed"]]
    with_web = [f for f in proxy if "web" in f["solution"]["patternsUsed"]]
    partner = by_name["partner"].observed
    assert partner["cases"] == len(proxy)
    assert partner["withPartner"] == {
        "hits": len(with_web),
        "cases": len(with_web),
        "frequency": 1.0,
    }
    assert partner["withoutPartner"]["hits"] == 0
    assert partner["withoutPartner"]["cases"] == len(proxy) - len(with_web) > 0

    db = [f for f in solved if f["solution"]["patternsUsed"] == ["db"]]
    eu = [f for f in db if f["solution"]["cluster"] == "prod-eu"]
    assert by_name["cluster"].observed["hits"] == by_name["cluster"].observed["cases"] == len(eu)
    assert by_name["cluster"].observed["elsewhere"]["hits"] == 0

    def day(event: dict[str, Any]) -> float:
        import datetime as dt

        moment = dt.datetime.fromisoformat(event["ts"].replace("Z", "+00:00"))
        return (moment - start).total_seconds() / 86_400

    recent = [f for f in db if day(f["retrieved"]) >= 20.0]
    assert all("VerticalPodAutoscaler" in kinds(f) for f in recent)
    assert not any("VerticalPodAutoscaler" in kinds(f) for f in db if day(f["retrieved"]) < 20.0)
    assert by_name["recent"].observed["recent"]["hits"] == len(recent)
    assert by_name["recent"].observed["hits"] == len(recent) < len(db)

    failed = [f for f in db if f.get("outcome", {}).get("status") == "failed"]
    assert by_name["failing"].observed["hits"] == len(failed)
    dominant = by_name["failing"].observed["dominantError"]
    assert dominant["cases"] == len(failed)
    assert dominant["hits"] == sum("ECONNREFUSED" in f["outcome"]["error"] for f in failed)
    assert all(f["outcome"].get("error") for f in failed)

    tiny = [f for f in solved if "CronJob" in kinds(f)]
    assert len(tiny) == 3 and all(f["solution"]["patternsUsed"] == ["web"] for f in tiny)


def test_time_window_settings_and_burst(drawn: tuple[Path, GroundTruth, list[str]]) -> None:
    _out, truth, lines = drawn
    import datetime as dt

    start = truth.window.start
    flows = _workflows(lines)
    times = [
        dt.datetime.fromisoformat(f["retrieved"]["ts"].replace("Z", "+00:00"))
        for f in flows.values()
    ]
    assert min(times) - start < dt.timedelta(minutes=5)
    assert dt.timedelta(days=29) < max(times) - start < dt.timedelta(days=30)
    burst_errors = Counter[bool]()
    for flow in flows.values():
        moment = dt.datetime.fromisoformat(flow["retrieved"]["ts"].replace("Z", "+00:00"))
        days = (moment - start).total_seconds() / 86_400
        settings = flow.get("solution", {}).get("settings", {})
        assert (SECCOMP in settings) <= (days < 15.0)
        error = flow.get("outcome", {}).get("error") or ""
        if "etcdserver" in error:
            burst_errors[10.0 <= days < 11.0] += 1
    assert burst_errors[True] > 0 and burst_errors[False] == 0
    assert truth.regularities[-1].observed["afterStop"]["hits"] == 0


def test_weak_families_rank_nothing_strongly(drawn: tuple[Path, GroundTruth, list[str]]) -> None:
    _out, _truth, lines = drawn
    for flow in _workflows(lines).values():
        retrieved = flow["retrieved"]
        if "message broker" in retrieved["intent"]:
            assert retrieved["patterns"][0]["score"] < 0.4
            assert flow.get("solution", {}).get("patternsUsed", []) == []
        else:
            assert retrieved["patterns"][0]["score"] >= 0.6


# -- the corpus worlds ---------------------------------------------------------------------------


def _world_or_skip(name: str) -> World:
    try:
        return load_world(name)
    except CorpusMissing as exc:
        pytest.skip(f"the evaluation corpus is needed for the {name} world: {exc}")


@pytest.mark.parametrize("name", ["charts", "kyverno", "holdout"])
def test_corpus_world_is_a_valid_knowledge_base_with_consistent_truth(
    name: str, tmp_path: Path
) -> None:
    world = _world_or_skip(name)
    write_repo(world, tmp_path)
    config = load_config(tmp_path)
    kb = load_knowledge_base(tmp_path, config.paths.patterns, config.paths.policies)
    assert kb.problems == []
    assert len(kb.patterns) == len(world.patterns) >= 15
    assert len(kb.policies) == len(world.policies) >= 3
    names = [reg.name for reg in world.truth]
    assert len(names) == len(set(names))
    planted = {reg.name: reg for reg in world.truth if reg.type != "none"}
    controls = {reg.name: reg for reg in world.truth if reg.type == "none"}
    # The phenomena the worlds exist for, each with ground truth.
    for needed in (
        "partner-explained-addition",
        "co-usage",
        "common-addition",
        "failing",
        "cluster-specific-addition",
        "rarely-chosen",
    ):
        assert needed in planted
    for needed in (
        "partner-inherited-addition",
        "tiny-sample",
        "duplicate-combination",
        "covered-differently-worded",
        "gap-filled-since",
        "failure-burst",
    ):
        assert needed in controls
    assert sum(n.startswith("gap-") and reg.type != "none" for n, reg in planted.items()) == 2
    assert any(n.startswith("noise-addition-") for n in controls)
    assert any(n.startswith("covered-setting-") for n in controls)
    assert any(n.startswith(("recent-", "common-setting-")) for n in planted)
    for reg in planted.values():
        target = reg.target
        assert target is None or target in kb.patterns
        if reg.expected["proposal"] == "add_kinds":
            assert target is not None
            assert not set(reg.expected["add"]) & set(kb.patterns[target].suggested_resources)
        if reg.expected["proposal"] == "new_pattern":
            rates = reg.expected["kindRates"]
            assert all(0.85 <= rate <= 0.97 for rate in rates.values())
            assert all(0.15 <= rate <= 0.25 for rate in reg.expected["noiseKinds"].values())
    for reg in controls.values():
        if reg.name.startswith("covered-setting-"):
            assert reg.expected["coveredBy"] in kb.policies
            assert kb.policies[reg.expected["coveredBy"]].settings == {}  # named in text only
        if reg.name.startswith("noise-addition-"):
            assert 0.15 <= reg.expected["frequency"] <= 0.25
    assert sorted(name for name, _ in world.clusters) == ["dev", "prod-eu", "prod-us", "staging"]


def test_corpus_world_draws_what_it_plants(tmp_path: Path) -> None:
    world = _world_or_skip("charts")
    truth, _ = generate(world, tmp_path, events=4000, seed=2)
    by_name = {reg.name: reg.observed for reg in truth.regularities}
    assert by_name["partner-inherited-addition"]["withoutPartner"]["hits"] == 0
    assert by_name["partner-inherited-addition"]["withPartner"]["frequency"] > 0.85
    assert by_name["failing"]["dominantError"]["frequency"] > 0.6
    recent = by_name["recent-adoption"]
    assert recent["frequency"] < 0.4 < 0.85 < recent["recent"]["frequency"]
    assert by_name["cluster-specific-addition"]["elsewhere"]["hits"] == 0
    assert by_name["gap-messaging"]["bestScore"] < 0.4
    lines = _lines(tmp_path, truth)
    for line in lines[:: max(1, len(lines) // 500)]:
        EVENT_ADAPTER.validate_json(line, strict=True)
