"""The workload simulator: same bytes per seed, valid v1 events, planted proportions, mess."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.errors import KnowledgeBaseError
from bot.knowledge.repository import KnowledgeBase, load_knowledge_base
from bot.logs.events import EVENT_ADAPTER
from testing.simulation import GroundTruth, Scenario, generate_knowledge_base, simulate
from testing.simulation.__main__ import main
from tests.support.kb import pattern_data, policy_data, write_item

SECCOMP = "spec.template.spec.securityContext.seccompProfile.type"
NON_ROOT = "spec.template.spec.securityContext.runAsNonRoot"

# The example knowledge base's ids and resources, written here so these tests do not depend on
# the shipped YAML (the examples test below covers that).
EXAMPLE_PATTERNS = {
    "stateless-web-app": ["Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"],
    "stateful-database": ["StatefulSet", "Service", "PersistentVolumeClaim", "Secret"],
    "background-worker": ["Deployment", "ConfigMap", "Secret"],
    "scheduled-batch-job": ["CronJob", "ConfigMap", "Secret"],
    "message-queue": ["StatefulSet", "Service", "PersistentVolumeClaim", "PodDisruptionBudget"],
    "cache-service": ["StatefulSet", "Service", "ConfigMap"],
    "monitoring-stack": ["ServiceMonitor", "PrometheusRule", "ConfigMap"],
    "internal-grpc-service": ["Deployment", "Service", "NetworkPolicy"],
    "node-agent": ["DaemonSet", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"],
    "public-api-gateway": ["Gateway", "HTTPRoute", "Certificate"],
}


def write_example_kb(root: Path, **resources: list[str]) -> Path:
    for item_id, kinds in {**EXAMPLE_PATTERNS, **resources}.items():
        write_item(root, "patterns", pattern_data(item_id, suggestedResources=kinds))
    write_item(root, "policies", policy_data("require-run-as-non-root", settings={NON_ROOT: True}))
    write_item(root, "policies", policy_data("require-resource-limits"))
    return root


def read_lines(out_dir: Path, names: list[str]) -> list[str]:
    lines: list[str] = []
    for name in names:
        path = out_dir / name
        raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
        lines.extend(raw.decode("utf-8").splitlines())
    return lines


@pytest.fixture(scope="module")
def example_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = write_example_kb(tmp_path_factory.mktemp("kb"))
    kb = load_knowledge_base(root)
    assert kb.problems == []
    return kb


@pytest.fixture(scope="module")
def clean_run(
    example_kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, GroundTruth]:
    out = tmp_path_factory.mktemp("clean")
    truth = simulate(example_kb, Scenario.default_for_examples(), out, events=12_000, seed=11)
    return out, truth


def test_same_seed_gives_the_same_bytes(example_kb: KnowledgeBase, tmp_path: Path) -> None:
    outputs = []
    for run, seed in (("a", 3), ("b", 3), ("c", 4)):
        out = tmp_path / run
        simulate(
            example_kb,
            Scenario.default_for_examples(),
            out,
            events=1500,
            seed=seed,
            files=3,
            messy=True,
        )
        outputs.append({path.name: path.read_bytes() for path in sorted(out.iterdir())})
    assert sorted(outputs[0]) == [
        "ground-truth.json",
        "workflows-01.jsonl",
        "workflows-02.jsonl.gz",
        "workflows-03.jsonl",
    ]
    assert outputs[0] == outputs[1]
    assert outputs[0]["workflows-01.jsonl"] != outputs[2]["workflows-01.jsonl"]


def test_every_line_is_a_valid_v1_event(clean_run: tuple[Path, GroundTruth]) -> None:
    out, truth = clean_run
    lines = read_lines(out, truth.files)
    events = [EVENT_ADAPTER.validate_json(line) for line in lines]
    assert truth.files == ["workflows.jsonl"]
    assert len(events) == truth.lines == truth.events == 12_000
    assert len({event.event_id for event in events}) == 12_000
    by_workflow: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        by_workflow[event.workflow_id].append(event)
    assert len(by_workflow) == truth.workflows
    for flow in by_workflow.values():
        assert flow[0].type == "retrieved"
        assert [event.type for event in flow].count("retrieved") == 1
        assert [event.ts for event in flow] == sorted(event.ts for event in flow)
        assert truth.window.start <= flow[0].ts < truth.window.end
        scores = [item.score for item in flow[0].patterns]
        assert scores == sorted(scores, reverse=True)
        assert all(0.2 <= score <= 0.9 for score in scores)


def _workflows(lines: list[str]) -> list[dict[str, Any]]:
    """Per workflow: its retrieved event, latest solution and latest outcome (as metrics count)."""
    flows: dict[str, dict[str, Any]] = defaultdict(dict)
    for line in lines:
        event = json.loads(line)
        flow = flows[event["workflowId"]]
        previous = flow.get(event["type"])
        if previous is None or previous["ts"] < event["ts"]:
            flow[event["type"]] = event
    return list(flows.values())


def _uses(flows: list[dict[str, Any]], pattern: str) -> list[dict[str, Any]]:
    return [
        flow for flow in flows if "solution" in flow and pattern in flow["solution"]["patternsUsed"]
    ]


def _kinds(flow: dict[str, Any]) -> set[str]:
    return {resource["kind"] for resource in flow["solution"]["resources"]}


def _share(flows: list[dict[str, Any]], kind: str) -> tuple[int, int]:
    return sum(kind in _kinds(flow) for flow in flows), len(flows)


def test_planted_proportions_hold_in_the_logs(clean_run: tuple[Path, GroundTruth]) -> None:
    out, truth = clean_run
    flows = _workflows(read_lines(out, truth.files))
    observed = {item.name: item.observed for item in truth.regularities}
    with_solution = [flow for flow in flows if "solution" in flow]

    hits, cases = _share(_uses(flows, "stateless-web-app"), "PodDisruptionBudget")
    assert (hits, cases) == (
        observed["common-addition"]["hits"],
        observed["common-addition"]["cases"],
    )
    assert 0.75 <= hits / cases <= 0.85

    gap = [flow for flow in with_solution if flow["retrieved"]["patterns"][0]["score"] < 0.45]
    gap_set = {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
        "ConfigMap",
    }
    ml = [flow for flow in gap if gap_set <= _kinds(flow)]
    assert len(ml) >= 300
    assert sum(not flow["solution"]["patternsUsed"] for flow in ml) / len(ml) >= 0.85

    cache = _uses(flows, "cache-service")
    both = [flow for flow in cache if "stateless-web-app" in flow["solution"]["patternsUsed"]]
    assert 0.7 <= len(both) / len(cache) <= 0.8
    lift = len(both) * len(with_solution) / (len(cache) * len(_uses(flows, "stateless-web-app")))
    assert lift > 2.0
    assert observed["co-usage"]["hits"] == len(both)

    deployed = [
        flow for flow in with_solution if flow.get("outcome", {}).get("status") == "deployed"
    ]
    seccomp = sum(
        flow["solution"]["settings"].get(SECCOMP) == "RuntimeDefault" for flow in deployed
    )
    non_root = sum(flow["solution"]["settings"].get(NON_ROOT) is True for flow in deployed)
    assert 0.81 <= seccomp / len(deployed) <= 0.89
    assert 0.86 <= non_root / len(deployed) <= 0.94
    assert observed["common-configuration"] == {
        "hits": seccomp,
        "cases": len(deployed),
        "frequency": round(seccomp / len(deployed), 4),
    }

    strong = [
        flow
        for flow in flows
        if any(
            item["id"] == "node-agent" and item["score"] >= 0.6
            for item in flow["retrieved"]["patterns"]
        )
    ]
    chosen = [
        flow
        for flow in strong
        if "solution" in flow and "node-agent" in flow["solution"]["patternsUsed"]
    ]
    assert len(strong) >= 300
    assert len(chosen) / len(strong) < 0.1

    def failure_rate(group: list[dict[str, Any]]) -> float:
        ended = [
            flow["outcome"]["status"]
            for flow in group
            if flow.get("outcome", {}).get("status") in ("deployed", "failed")
        ]
        return ended.count("failed") / len(ended)

    worker = _uses(flows, "background-worker")
    others = [
        flow
        for flow in with_solution
        if "background-worker" not in flow["solution"]["patternsUsed"]
    ]
    assert 0.33 <= failure_rate(worker) <= 0.47
    assert 0.03 <= failure_rate(others) <= 0.07

    batch = _uses(flows, "scheduled-batch-job")
    eu_hits, eu_cases = _share(
        [flow for flow in batch if flow["retrieved"]["cluster"] == "prod-eu"], "NetworkPolicy"
    )
    rest_hits, _ = _share(
        [flow for flow in batch if flow["retrieved"]["cluster"] != "prod-eu"], "NetworkPolicy"
    )
    assert 0.85 <= eu_hits / eu_cases <= 0.95
    assert rest_hits == 0

    # Negative controls.
    db_hits, db_cases = _share(_uses(flows, "stateful-database"), "ServiceMonitor")
    assert 0.15 <= db_hits / db_cases <= 0.25
    assert _share(_uses(flows, "message-queue"), "Job") == (3, 3)
    grpc = _uses(flows, "internal-grpc-service")
    pair = [flow for flow in grpc if "monitoring-stack" in flow["solution"]["patternsUsed"]]
    pair_lift = len(pair) * len(with_solution) / (len(grpc) * len(_uses(flows, "monitoring-stack")))
    # About 15 joint uses in this sample, so the lift is noisy; far from the planted pair's 2.5+.
    assert 0.4 <= pair_lift <= 1.6
    assert observed["base-rate-pair"]["lift"] == round(pair_lift, 4)


def test_manifest_lists_every_regularity(clean_run: tuple[Path, GroundTruth]) -> None:
    out, truth = clean_run
    assert GroundTruth.read(out / "ground-truth.json") == truth
    assert [(item.name, item.type, item.target, item.cluster) for item in truth.regularities] == [
        ("common-addition", "update_pattern", "stateless-web-app", None),
        ("gap", "create_pattern", None, None),
        ("co-usage", "create_pattern", None, None),
        ("common-configuration", "create_policy", None, None),
        ("rarely-used", "deprecate_pattern", "node-agent", None),
        ("failing", "update_pattern", "background-worker", None),
        ("cluster-specific-addition", "update_pattern", "scheduled-batch-job", "prod-eu"),
        ("noise-addition", "none", "stateful-database", None),
        ("partner-addition", "none", "cache-service", None),
        ("tiny-sample", "none", "message-queue", None),
        ("base-rate-pair", "none", None, None),
        ("covered-configuration", "none", None, None),
    ]
    assert truth.regularities[0].expected == {"add": ["PodDisruptionBudget"], "frequency": 0.8}
    assert truth.controls()[-1].must_not_suggest == {
        "type": "create_policy",
        "path": NON_ROOT,
        "value": True,
    }
    assert len(truth.planted()) == 7


def test_mess_is_counted_exactly(example_kb: KnowledgeBase, tmp_path: Path) -> None:
    truth = simulate(
        example_kb,
        Scenario.default_for_examples(),
        tmp_path,
        events=12_000,
        seed=5,
        files=2,
        messy=True,
    )
    assert truth.messy is not None
    lines = read_lines(tmp_path, truth.files)
    seen: dict[str, str] = {}
    malformed = duplicates = 0
    solutions: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        try:
            event = EVENT_ADAPTER.validate_json(line)
        except ValidationError:
            malformed += 1
            continue
        if event.event_id in seen:
            assert seen[event.event_id] == line  # a re-delivery is the very same line
            duplicates += 1
            continue
        seen[event.event_id] = line
        if event.type == "solution":
            solutions[event.workflow_id].add(event.event_id)
    assert truth.files == ["workflows-01.jsonl", "workflows-02.jsonl.gz"]
    assert len(lines) == truth.lines == 12_000 + duplicates + malformed
    assert len(seen) == truth.events == 12_000
    assert (duplicates, malformed) == (truth.messy.duplicates, truth.messy.malformed)
    assert sum(len(ids) == 2 for ids in solutions.values()) == truth.messy.second_solutions
    assert 80 <= duplicates <= 160
    assert 5 <= malformed <= 25
    assert sum(truth.messy.malformed_by_reason.values()) == malformed
    assert truth.messy.out_of_order > 100
    assert 0.02 <= truth.messy.second_solutions / truth.workflows <= 0.05


def test_a_scenario_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    root = write_example_kb(
        tmp_path, **{"stateless-web-app": ["Deployment", "PodDisruptionBudget"]}
    )
    kb = load_knowledge_base(root)
    with pytest.raises(KnowledgeBaseError) as caught:
        simulate(kb, Scenario.default_for_examples(), tmp_path / "out", events=10, seed=1)
    assert str(caught.value) == (
        "cannot plant the simulation scenario: pattern 'stateless-web-app' already suggests "
        "PodDisruptionBudget, so adding it is no signal"
    )


def test_examples_in_the_repository_are_current(repo_root: Path, tmp_path: Path) -> None:
    examples = repo_root / "examples" / "logs"
    shipped = GroundTruth.read(examples / "ground-truth.json")
    kb = load_knowledge_base(repo_root)
    assert Scenario.for_knowledge_base(kb) == Scenario.default_for_examples()
    simulate(
        kb,
        Scenario.default_for_examples(),
        tmp_path,
        events=shipped.events,
        seed=shipped.seed,
        files=len(shipped.files),
    )
    for name in [*shipped.files, "ground-truth.json"]:
        assert (tmp_path / name).read_bytes() == (examples / name).read_bytes(), (
            f"regenerate {name} (examples/README.md)"
        )
    assert sum((examples / name).stat().st_size for name in shipped.files) < 2_000_000


def test_cli_generates_a_knowledge_base_and_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, out = tmp_path / "repo", tmp_path / "out"
    code = main(
        ["--repo", str(repo), "--out", str(out), "--events", "2000", "--patterns", "40", "--gzip"]
    )
    assert code == 0
    assert capsys.readouterr().out.splitlines()[
        0
    ] == "wrote 40 patterns and 5 policies into " + str(repo)
    kb = load_knowledge_base(repo)
    assert (len(kb.patterns), len(kb.policies), kb.problems) == (40, 5, [])
    truth = GroundTruth.read(out / "ground-truth.json")
    assert truth.files == ["workflows.jsonl.gz"]
    targets = {item.target for item in truth.regularities if item.target}
    assert targets <= set(kb.patterns)
    assert len(read_lines(out, truth.files)) == 2000


def test_cli_reports_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--repo", str(tmp_path), "--out", str(tmp_path / "out"), "--events", "10"]) == 1
    assert capsys.readouterr().err == f"patternbot: no patterns in {tmp_path / 'patterns'}\n"
    write_example_kb(tmp_path)
    assert main(["--repo", str(tmp_path), "--out", str(tmp_path / "out"), "--events", "0"]) == 2
    assert capsys.readouterr().err == "patternbot: error: --events must be at least 1, not 0\n"


def test_knowledge_base_from_a_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    charts = [
        {
            "chart": "redis",
            "source": "bitnami/charts",
            "type": "application",
            "description": "Redis. A cache.",
            "keywords": ["redis", "cache"],
            "kinds_default_on": ["StatefulSet", "Service", "pods"],
        },
        {
            "chart": "redis",
            "source": "grafana/helm-charts",
            "type": "application",
            "description": "Another Redis.",
            "keywords": [],
            "kinds_default_on": ["Deployment"],
        },
        {
            "chart": "common",
            "source": "bitnami/charts",
            "type": "library",
            "description": "Helpers.",
            "keywords": [],
            "kinds_default_on": [],
        },
    ]
    policies = [
        {
            "name": "require-run-as-nonroot",
            "folder": "pod-security",
            "title": "Require runAsNonRoot",
            "description": "Run as non-root.",
            "subject_kinds": ["Pod"],
        },
        {
            "name": "restrict-seccomp",
            "folder": "pod-security",
            "title": "Restrict Seccomp",
            "description": "Seccomp profiles.",
            "subject_kinds": ["Pod"],
        },
    ]
    (corpus / "charts.jsonl").write_text(
        "".join(json.dumps(c) + "\n" for c in charts), encoding="utf-8"
    )
    (corpus / "kyverno_policies.jsonl").write_text(
        "".join(json.dumps(p) + "\n" for p in policies), encoding="utf-8"
    )
    assert generate_knowledge_base(corpus, 5, tmp_path / "repo") == (5, 1)
    kb = load_knowledge_base(tmp_path / "repo")
    assert kb.problems == []
    assert sorted(kb.patterns) == [
        "redis",
        "redis-grafana",
        "redis-grafana-ha",
        "redis-ha",
        "redis-secure",
    ]
    assert kb.patterns["redis"].suggested_resources == ["StatefulSet", "Service"]
    assert kb.patterns["redis-ha"].suggested_resources == [
        "StatefulSet",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    ]
    assert kb.policies["require-run-as-nonroot"].settings == {NON_ROOT: True}
