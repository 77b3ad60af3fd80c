"""Benchmark of the learning engine (run by hand, not a test): quality against ground truth, speed.

Quality: for each seed, testing.simulation writes logs with planted regularities and negative controls
over the repository's knowledge base; the engine runs at the default threshold and its suggestions
are matched against the ground-truth manifest (precision and recall per suggestion type, negative
controls hit). The same logs go through the association-rule baseline (bench/baseline_assoc.py).
Calibration: a second run at threshold 0 buckets every candidate's confidence against whether it
matched a planted regularity.

Speed (--perf-events): a generated knowledge base of --perf-patterns patterns, --perf-events
events; analyse_logs and suggest are timed apart (the embedding model is loaded before timing;
no Claude call, whose latency is reported by the engine as model_seconds when used).

    python bench/bench_learning.py --repo . --events 50000 --seeds 1 2 3
    python bench/bench_learning.py --repo . --seeds 1 --perf-events 1000000 --perf-patterns 500
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.baseline_assoc import baseline_suggestions
from bot.config import load_config
from bot.index.embeddings import load_embedder
from bot.knowledge.repository import load_knowledge_base
from bot.learning.engine import suggest
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import Suggestion
from bot.logs.analysis import analyse_logs
from testing.simulation import GroundTruth, Regularity, Scenario, generate_knowledge_base, simulate

TYPES = ("update_pattern", "create_pattern", "create_policy", "deprecate_pattern")
BUCKETS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0001)


def _ours(s: Suggestion) -> dict[str, Any]:
    """A suggestion in the neutral shape the matcher reads."""
    add = (s.changes or {}).get("add", {}).get("suggestedResources", [])
    return {
        "type": s.type.value,
        "signal": s.evidence.signal,
        "target": s.target,
        "add": add,
        "cluster": s.evidence.cluster,
        "patterns": sorted(s.evidence.patterns_used),
        "resources": s.draft.get("suggestedResources", []),
        "path": s.evidence.details.get("path"),
        "value": s.evidence.details.get("value"),
        "confidence": s.confidence,
    }


def matches(
    spec: dict[str, Any], signal: str, target: str | None, cluster: str | None, s: dict[str, Any]
) -> bool:
    """Does suggestion `s` make the change a regularity (or a must-not control) describes?"""
    if s["type"] != spec["type"]:
        return False
    if signal == "common_additions":
        return (
            s.get("signal", signal) == signal
            and s["target"] == target
            and set(spec["add"]) <= set(s["add"])
            and s.get("cluster") == cluster
        )
    if signal in ("failing", "rarely_used"):
        return s.get("signal") == signal and s["target"] == target
    if signal == "gap":
        want, got = set(spec["resources"]), set(s.get("resources", []))
        return s.get("signal") == "gap" and len(want & got) / len(want | got) >= 0.8
    if signal == "co_usage":
        return bool(
            s.get("signal", signal) == "co_usage" and s["patterns"] == sorted(spec["patterns"])
        )
    if signal == "common_configuration":
        return (
            s.get("signal") == signal and s["path"] == spec["path"] and s["value"] == spec["value"]
        )
    return False


def _planted_spec(reg: Regularity) -> dict[str, Any]:
    return {"type": reg.type, **reg.expected}


def _control_spec(reg: Regularity) -> dict[str, Any]:
    return dict(reg.must_not_suggest or {})


def score(truth: GroundTruth, suggestions: list[dict[str, Any]]) -> dict[str, Any]:
    """Per type: emitted, correct, planted, found; plus the negative controls that were hit."""
    per_type: dict[str, dict[str, int]] = {
        t: {"emitted": 0, "correct": 0, "planted": 0, "found": 0} for t in TYPES
    }
    planted = truth.planted()
    for s in suggestions:
        per_type[s["type"]]["emitted"] += 1
        if any(matches(_planted_spec(r), r.signal, r.target, r.cluster, s) for r in planted):
            per_type[s["type"]]["correct"] += 1
    for r in planted:
        per_type[r.type]["planted"] += 1
        if any(matches(_planted_spec(r), r.signal, r.target, r.cluster, s) for s in suggestions):
            per_type[r.type]["found"] += 1
    controls_hit = [
        r.name
        for r in truth.controls()
        if any(matches(_control_spec(r), r.signal, r.target, r.cluster, s) for s in suggestions)
    ]
    return {"perType": per_type, "controlsHit": controls_hit}


def _add(total: dict[str, dict[str, int]], part: dict[str, dict[str, int]]) -> None:
    for t, counts in part.items():
        for key, n in counts.items():
            total[t][key] += n


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def quality(repo: Path, events: int, seeds: list[int], work: Path) -> dict[str, Any]:
    config = load_config(repo)
    kb = load_knowledge_base(repo, config.paths.patterns, config.paths.policies)
    embedder = load_embedder(config.embedding)
    scenario = Scenario.for_knowledge_base(kb)
    ours: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    base: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    controls: dict[str, list[str]] = {"patternbot": [], "baseline": []}
    buckets: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for seed in seeds:
        out = work / f"seed-{seed}"
        truth = simulate(kb, scenario, out, events=events, seed=seed)
        report = analyse_logs(config, kb, [str(out)])
        run = suggest(
            config, kb, report, embedder=embedder, index=None, history=InMemoryDecisionHistory()
        )
        result = score(truth, [_ours(s) for s in run.suggestions])
        _add(ours, result["perType"])
        controls["patternbot"] += [f"seed {seed}: {name}" for name in result["controlsHit"]]
        baseline = baseline_suggestions(out, kb)
        signals = {"update_pattern": "common_additions", "create_pattern": "co_usage"}
        shaped = [
            {"signal": signals[str(b["type"])], "cluster": None, "resources": [], **b}
            for b in baseline
        ]
        result = score(truth, shaped)
        _add(base, result["perType"])
        controls["baseline"] += [f"seed {seed}: {name}" for name in result["controlsHit"]]
        everything = suggest(
            config, kb, report, embedder=embedder, index=None, history=InMemoryDecisionHistory(),
            min_confidence=0.0, limit=1000,
        )  # fmt: skip
        for s in map(_ours, everything.suggestions):
            bucket = next(
                i for i in range(len(BUCKETS) - 1) if BUCKETS[i] <= s["confidence"] < BUCKETS[i + 1]
            )
            correct = any(
                matches(_planted_spec(r), r.signal, r.target, r.cluster, s) for r in truth.planted()
            )
            buckets[bucket][0] += 1
            buckets[bucket][1] += correct

    def table(counts: dict[str, dict[str, int]]) -> dict[str, Any]:
        rows = {
            t: {
                "precision": _ratio(counts[t]["correct"], counts[t]["emitted"]),
                "recall": _ratio(counts[t]["found"], counts[t]["planted"]),
                **counts[t],
            }
            for t in TYPES
        }
        total = {
            k: sum(counts[t][k] for t in TYPES) for k in ("emitted", "correct", "planted", "found")
        }
        rows["all"] = {
            "precision": _ratio(total["correct"], total["emitted"]),
            "recall": _ratio(total["found"], total["planted"]),
            **total,
        }
        return rows

    calibration = [
        {
            "confidence": f"[{BUCKETS[i]:.1f}, {min(BUCKETS[i + 1], 1.0):.1f})",
            "suggestions": n,
            "fractionCorrect": _ratio(correct, n),
        }
        for i, (n, correct) in sorted(buckets.items())
    ]
    return {
        "events": events,
        "seeds": seeds,
        "patternbot": table(ours),
        "baseline": table(base),
        "controlsHit": controls,
        "calibration": calibration,
    }


def speed(events: int, patterns: int, corpus: Path | None, work: Path, seed: int) -> dict[str, Any]:
    repo = work / "perf-kb"
    generate_knowledge_base(corpus, patterns, repo)
    config = load_config(repo)
    kb = load_knowledge_base(repo, config.paths.patterns, config.paths.policies)
    if kb.problems:
        raise SystemExit(f"generated knowledge base is invalid: {kb.problems[0]}")
    logs = work / "perf-logs"
    started = time.perf_counter()
    simulate(kb, Scenario.for_knowledge_base(kb), logs, events=events, seed=seed)
    simulated = time.perf_counter() - started
    embedder = load_embedder(config.embedding)
    embedder.embed(["warm up"])
    started = time.perf_counter()
    report = analyse_logs(config, kb, [str(logs)])
    analysed = time.perf_counter() - started
    started = time.perf_counter()
    run = suggest(
        config, kb, report, embedder=embedder, index=None, history=InMemoryDecisionHistory()
    )
    suggested = time.perf_counter() - started
    return {
        "events": report.events,
        "patterns": len(kb.patterns),
        "policies": len(kb.policies),
        "simulateSeconds": round(simulated, 2),
        "analyseLogsSeconds": round(analysed, 2),
        "suggestSeconds": round(suggested, 2),
        "suggestions": len(run.suggestions),
        "modelSeconds": run.model_seconds,
    }


def _print_table(name: str, rows: dict[str, Any]) -> None:
    print(f"\n{name}")
    print(
        f"  {'type':18} {'precision':>9} {'recall':>7} "
        f"{'emitted':>8} {'correct':>8} {'planted':>8} {'found':>6}"
    )
    for t, row in rows.items():
        p = "-" if row["precision"] is None else f"{row['precision']:.3f}"
        r = "-" if row["recall"] is None else f"{row['recall']:.3f}"
        print(
            f"  {t:18} {p:>9} {r:>7} "
            f"{row['emitted']:>8} {row['correct']:>8} {row['planted']:>8} {row['found']:>6}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repo", type=Path, default=Path("."), help="knowledge base for the quality runs"
    )
    parser.add_argument("--events", type=int, default=50_000, help="events per quality seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--perf-events", type=int, default=0, help="events for the speed run (0: skip)"
    )
    parser.add_argument("--perf-patterns", type=int, default=500)
    parser.add_argument(
        "--corpus", type=Path, help="corpus folder for the generated knowledge base"
    )
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="pb-bench-learning-") as tmp:
        work = Path(tmp)
        if not args.skip_quality:
            results["quality"] = quality(args.repo, args.events, args.seeds, work)
            q = results["quality"]
            _print_table(
                f"patternbot ({len(args.seeds)} seeds x {args.events} events)", q["patternbot"]
            )
            _print_table("association-rule baseline (same logs)", q["baseline"])
            print(f"\nnegative controls hit: {q['controlsHit']}")
            print("\ncalibration (threshold 0, all candidates):")
            for row in q["calibration"]:
                print(
                    f"  {row['confidence']:12} n={row['suggestions']:>4} "
                    f"correct={row['fractionCorrect']}"
                )
        if args.perf_events:
            results["speed"] = speed(
                args.perf_events, args.perf_patterns, args.corpus, work, args.seeds[0]
            )
            print(f"\nspeed: {json.dumps(results['speed'])}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
