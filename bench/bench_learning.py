"""Benchmark of the learning engine (run by hand, not a test): quality against ground truth, speed.

Quality, per world and seed: the world's knowledge base is written to a temporary repository and
synced into a real local Qdrant index with the real MiniLM model; its logs are simulated with
ground truth; the real pipeline runs (analyse_logs -> suggest, default settings, no threshold
tuned per world, the per-run cap lifted so that judgement and not the cap is measured) and every
suggestion is matched to the ground truth by what it proposes (bench/matching.py). Reported:
precision and recall per suggestion type, negative controls hit, calibration (correct share per
confidence band, from a second run at threshold 0), and the association-rule baseline
(bench/baseline_assoc.py) on the same logs.

Worlds: `calibration` is testing.simulation over --repo (the world the engine's defaults were
calibrated on); `charts`, `kyverno` and `holdout` are testing.worlds, built from the corpus at run
time ($PATTERNBOT_CORPUS or ../shared/corpus beside the repository). The engine's owners saw
what went wrong on charts and kyverno while they worked (--eval-md); the holdout world's results
were never reported to them (--eval-md leaves it out) and it runs only when named (--world holdout
or final).

    python bench/bench_learning.py --world charts --seeds 1
    python bench/bench_learning.py --world new --seeds 1 --eval-md /tmp/team/EVAL.md
    python bench/bench_learning.py --world final --seeds 1 2 3 --json /tmp/learning.json
    python bench/bench_learning.py --table-from /tmp/learning.json
    python bench/bench_learning.py --skip-quality --perf-events 1000000 --perf-patterns 500
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.baseline_assoc import baseline_suggestions
from bench.matching import describe, owner_of, owner_of_proposal, proposal_of, score, spec_of
from bot.config import Config, load_config
from bot.index.embeddings import Embedder, load_embedder
from bot.index.store import open_index
from bot.index.sync import sync_index
from bot.knowledge.repository import KnowledgeBase, load_knowledge_base
from bot.learning.engine import suggest
from bot.learning.history import InMemoryDecisionHistory
from bot.logs.analysis import analyse_logs
from testing.simulation import GroundTruth, Scenario, generate_knowledge_base, simulate
from testing.worlds import DEVELOPMENT_WORLDS, WORLD_NAMES, generate, load_world, write_repo

TYPES = ("update_pattern", "create_pattern", "create_policy", "deprecate_pattern")
BANDS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0001)
UNCAPPED = 1000
DEFAULT_EVENTS = {"calibration": 50_000, "charts": 45_000, "kyverno": 45_000, "holdout": 45_000}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def _band(confidence: float) -> int:
    return next(i for i in range(len(BANDS) - 1) if BANDS[i] <= confidence < BANDS[i + 1])


def _prepare(
    world: str, repo: Path, work: Path, events: int, seed: int
) -> tuple[Path, Path, GroundTruth]:
    """(repository, logs folder, ground truth) of one world and seed."""
    logs = work / "logs"
    if world == "calibration":
        config = load_config(repo)
        kb = load_knowledge_base(repo, config.paths.patterns, config.paths.policies)
        truth = simulate(kb, Scenario.for_knowledge_base(kb), logs, events=events, seed=seed)
        return repo, logs, truth
    built = load_world(world)
    world_repo = work / "repo"
    write_repo(built, world_repo)
    truth, _ = generate(built, logs, events=events, seed=seed)
    return world_repo, logs, truth


@contextlib.contextmanager
def _synced_index(config: Config, kb: KnowledgeBase, embedder: Embedder, work: Path) -> Any:
    """A real local Qdrant index of `kb` in a scratch folder (never the repository's own)."""
    local = config.model_copy(
        update={
            "index": config.index.model_copy(update={"path": str(work / "qdrant"), "url": None})
        }
    )
    with open_index(local) as index:
        sync_index(index, embedder, kb)
        yield index


def run_world(world: str, seed: int, events: int, repo: Path, embedder: Embedder) -> dict[str, Any]:
    """One world and seed through the real pipeline and the baseline, judged against the truth."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"pb-bench-{world}-") as tmp:
        work = Path(tmp)
        repo_used, logs, truth = _prepare(world, repo, work, events, seed)
        simulated = time.perf_counter() - started
        config = load_config(repo_used)
        kb = load_knowledge_base(repo_used, config.paths.patterns, config.paths.policies)
        kb.require_valid()
        kb_resources = {pid: list(p.suggested_resources) for pid, p in kb.patterns.items()}
        report = analyse_logs(config, kb, [str(logs)])
        analysed = time.perf_counter() - started - simulated
        with _synced_index(config, kb, embedder, work) as index:
            t0 = time.perf_counter()
            run = suggest(
                config,
                kb,
                report,
                embedder=embedder,
                index=index,
                history=InMemoryDecisionHistory(),
                limit=UNCAPPED,
            )
            suggest_seconds = time.perf_counter() - t0
            everything = suggest(
                config,
                kb,
                report,
                embedder=embedder,
                index=index,
                history=InMemoryDecisionHistory(),
                min_confidence=0.0,
                limit=UNCAPPED,
            )
        planted, controls = truth.planted(), truth.controls()
        ours = score(planted, controls, [proposal_of(s) for s in run.suggestions], kb_resources)
        candidates = [proposal_of(s) for s in everything.suggestions]
        all_scored = score(planted, controls, candidates, kb_resources)
        baseline = [_baseline_proposal(b) for b in baseline_suggestions(logs, kb)]
        base = score(planted, controls, baseline, kb_resources)
        held = [h.model_dump(mode="json", by_alias=True) for h in run.held_back]
    return {
        "world": world,
        "seed": seed,
        "events": truth.events,
        "workflows": truth.workflows,
        "seconds": {
            "total": round(time.perf_counter() - started, 1),
            "simulate": round(simulated, 1),
            "analyse": round(analysed, 1),
            "suggest": round(suggest_seconds, 1),
        },
        "patternbot": _table(ours, planted),
        "baseline": _table(base, planted),
        "calibration": _calibration(all_scored),
        # Candidates of the threshold-0 run at or above the default threshold that are not right
        # (the default run may have dropped them: duplicates, cluster scope), for the docs.
        "wrongAboveThreshold": [
            f"{describe(j['proposal'])} conf {j['proposal']['confidence']:.2f} ({j['verdict']}"
            f"{': ' + j['regularity'] if j['regularity'] else ''})"
            for j in all_scored["judged"]
            if j["verdict"] != "correct" and j["proposal"]["confidence"] >= 0.7
        ],
        "falsePositives": _false_positives(ours),
        "misses": _misses(ours, candidates, planted, controls, kb_resources, held),
        "controlsHit": sorted(
            {j["regularity"] for j in ours["judged"] if j["verdict"] == "control"}
        ),
        "errorQuoted": _error_quoted(ours, planted),
        "baselineControlsHit": sorted(
            {j["regularity"] for j in base["judged"] if j["verdict"] == "control"}
        ),
        "warnings": run.warnings[:10],
    }


def _error_quoted(scored: dict[str, Any], planted: list[Any]) -> dict[str, bool]:
    """For each found failing pattern: does its suggestion quote the dominant error?"""
    markers = {r.name: r.expected["errorMarker"] for r in planted if "errorMarker" in r.expected}
    return {
        j["regularity"]: markers[j["regularity"]] in j["proposal"].get("said", "")
        for j in scored["judged"]
        if j["verdict"] == "correct" and j["regularity"] in markers
    }


def _baseline_proposal(b: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": b["type"],
        "signal": "co_usage" if b["type"] == "create_pattern" else "common_additions",
        "target": b.get("target"),
        "id": b.get("target") or "+".join(b.get("patterns", [])),
        "add": list(b.get("add", [])),
        "cluster": None,
        "resources": [],
        "patterns": sorted(b.get("patterns", [])),
        "settings": {},
        "confidence": float(b["confidence"]),
        "reason": "association rule",
    }


def _table(scored: dict[str, Any], planted: list[Any]) -> dict[str, dict[str, Any]]:
    counts: dict[str, dict[str, int]] = {
        t: {"emitted": 0, "correct": 0, "planted": 0, "found": 0} for t in TYPES
    }
    for j in scored["judged"]:
        counts[j["proposal"]["type"]]["emitted"] += 1
        counts[j["proposal"]["type"]]["correct"] += j["verdict"] == "correct"
    for reg in planted:
        counts[reg.type]["planted"] += 1
        counts[reg.type]["found"] += reg.name in scored["found"]
    counts["all"] = {k: sum(counts[t][k] for t in TYPES) for k in counts[TYPES[0]]}
    return counts


def _calibration(scored: dict[str, Any]) -> list[list[int]]:
    """Per confidence band: [candidates, correct] over every candidate at threshold 0."""
    bands = [[0, 0] for _ in range(len(BANDS) - 1)]
    for j in scored["judged"]:
        band = bands[_band(j["proposal"]["confidence"])]
        band[0] += 1
        band[1] += j["verdict"] == "correct"
    return bands


def _false_positives(scored: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "proposal": describe(j["proposal"]),
            "confidence": j["proposal"]["confidence"],
            "reason": j["proposal"]["reason"],
            "verdict": j["verdict"],
            "regularity": j["regularity"],
            "owner": owner_of_proposal(j["proposal"]),
        }
        for j in scored["judged"]
        if j["verdict"] != "correct"
    ]


def _misses(
    scored: dict[str, Any],
    candidates: list[dict[str, Any]],
    planted: list[Any],
    controls: list[Any],
    kb_resources: dict[str, list[str]],
    held: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    from bench.matching import matches

    out = []
    for reg in scored["missed"]:
        spec = spec_of(reg, control=False)
        near = [c for c in candidates if matches(spec, c, kb_resources)]
        best = max(near, key=lambda c: c["confidence"]) if near else None
        held_for = [
            h
            for h in held
            if (reg.target is not None and h.get("item") == reg.target)
            or (best is not None and h.get("item") == best["id"])
        ]
        out.append(
            {
                "regularity": reg.name,
                "type": reg.type,
                "target": reg.target,
                "cluster": reg.cluster,
                "expected": {k: v for k, v in reg.expected.items() if k != "proposal"},
                "observed": {k: v for k, v in reg.observed.items() if k != "perKind"},
                "owner": owner_of(spec),
                "nearest": None
                if best is None
                else {
                    "proposal": describe(best),
                    "confidence": best["confidence"],
                    "reason": best["reason"],
                },
                "heldBack": [
                    f"{h.get('type')} {h.get('item')} conf {h.get('confidence'):.2f}: "
                    f"{h.get('reason')}"
                    for h in held_for[:3]
                ],
            }
        )
    return out


# -- aggregation and output ------------------------------------------------------------------------


def _sum_tables(rows: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, Any]]:
    total: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        for t, counts in row.items():
            for k, n in counts.items():
                total[t][k] += n
    return {
        t: {
            **dict(total[t]),
            "precision": _ratio(total[t]["correct"], total[t]["emitted"]),
            "recall": _ratio(total[t]["found"], total[t]["planted"]),
        }
        for t in (*TYPES, "all")
    }


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def print_result(r: dict[str, Any]) -> None:
    print(
        f"\n== world {r['world']} seed {r['seed']}: {r['events']} events, "
        f"{r['workflows']} workflows, {r['seconds']}"
    )
    for who in ("patternbot", "baseline"):
        rows = _sum_tables([r[who]])
        print(
            f"  {who:10} "
            + "  ".join(
                f"{t}: P {_fmt(rows[t]['precision'])} R {_fmt(rows[t]['recall'])} "
                f"({rows[t]['correct']}/{rows[t]['emitted']}, "
                f"{rows[t]['found']}/{rows[t]['planted']})"
                for t in (*TYPES, "all")
            )
        )
    for fp in r["falsePositives"]:
        print(
            f"  FP [{fp['owner']}] {fp['proposal']} conf {fp['confidence']:.2f} "
            f"({fp['verdict']}{': ' + fp['regularity'] if fp['regularity'] else ''}) "
            f"— {fp['reason']}"
        )
    for m in r["misses"]:
        near = m["nearest"]
        print(
            f"  MISS [{m['owner']}] {m['regularity']} {m['type']} {m['target'] or ''} "
            f"expected {m['expected']} observed {m['observed']}"
            + (
                f"; best candidate {near['proposal']} conf {near['confidence']:.2f}: "
                f"{near['reason']}"
                if near
                else "; no candidate at any confidence"
            )
            + (f"; held back: {m['heldBack']}" if m["heldBack"] else "")
        )
    print(f"  failing pattern's dominant error quoted: {r['errorQuoted']}")
    print(
        "  calibration: "
        + ", ".join(
            f"[{BANDS[i]:.1f},{min(BANDS[i + 1], 1.0):.1f}) {c}/{n}"
            for i, (n, c) in enumerate(r["calibration"])
            if n
        )
    )


def eval_markdown(results: list[dict[str, Any]], state: str) -> str:
    """What the engine gets wrong, for /tmp/team/EVAL.md (appended, timestamped)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"\n## {now} — WORLDS harness on the current engine ({state})\n"]
    for r in results:
        rows = _sum_tables([r["patternbot"]])
        base = _sum_tables([r["baseline"]])["all"]
        lines.append(
            f"### world `{r['world']}` seed {r['seed']} ({r['events']} events): "
            f"precision {_fmt(rows['all']['precision'])}, recall {_fmt(rows['all']['recall'])} "
            f"(baseline P {_fmt(base['precision'])} R {_fmt(base['recall'])}); "
            + ", ".join(
                f"{t} P {_fmt(rows[t]['precision'])}/R {_fmt(rows[t]['recall'])}" for t in TYPES
            )
        )
        for fp in r["falsePositives"]:
            what = {
                "control": "hits negative control",
                "duplicate": "duplicate of planted",
                "unplanned": "not planted",
            }[fp["verdict"]]
            lines.append(
                f"- FALSE POSITIVE [{fp['owner']}] `{fp['proposal']}` conf {fp['confidence']:.2f}"
                f" — {what}{' `' + fp['regularity'] + '`' if fp['regularity'] else ''}."
                f" Engine's reason: {fp['reason']}"
            )
        for m in r["misses"]:
            near = m["nearest"]
            where = f" on {m['cluster']}" if m["cluster"] else ""
            lines.append(
                f"- MISS [{m['owner']}] `{m['regularity']}` "
                f"({m['type']} {m['target'] or ''}{where})"
                f" expected {json.dumps(m['expected'])}; observed {json.dumps(m['observed'])}; "
                + (
                    f"best candidate at threshold 0: `{near['proposal']}` "
                    f"conf {near['confidence']:.2f}"
                    f" ({near['reason']})"
                    if near
                    else "no candidate at any confidence"
                )
                + (f"; heldBack: {'; '.join(m['heldBack'])}" if m["heldBack"] else "")
            )
        for name, quoted in r.get("errorQuoted", {}).items():
            if not quoted:
                lines.append(
                    f"- [SIGNALS] `{name}` was found but its reason and evidence do not quote the "
                    "pattern's dominant error"
                )
        if not r["falsePositives"] and not r["misses"]:
            lines.append("- nothing wrong")
    return "\n".join(lines) + "\n"


def markdown_tables(results: dict[str, Any]) -> str:
    """The docs tables (per world and seed; calibration per world) from a --json result."""
    runs = results["runs"]
    out = [
        "| world | seed | update_pattern | create_pattern | create_policy | deprecate_pattern "
        "| **all** P / R | controls hit | baseline all P / R |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(row: dict[str, Any]) -> str:
        if not row["planted"] and not row["emitted"]:
            return "-"
        return (
            f"{_fmt(row['precision'])} / {_fmt(row['recall'])} "
            f"({row['correct']}/{row['emitted']}, {row['found']}/{row['planted']})"
        )

    worlds = list(dict.fromkeys(r["world"] for r in runs))
    for world in worlds:
        mine = [r for r in runs if r["world"] == world]
        for r in [*mine, None]:
            rows = _sum_tables([x["patternbot"] for x in ([r] if r else mine)])
            base = _sum_tables([x["baseline"] for x in ([r] if r else mine)])["all"]
            hit = r["controlsHit"] if r else sorted({c for x in mine for c in x["controlsHit"]})
            seed = str(r["seed"]) if r else f"**{len(mine)} seeds**"
            out.append(
                f"| {world} | {seed} | "
                + " | ".join(cell(rows[t]) for t in TYPES)
                + f" | **{_fmt(rows['all']['precision'])} / {_fmt(rows['all']['recall'])}** | "
                + (", ".join(hit) or "none")
                + f" | {_fmt(base['precision'])} / {_fmt(base['recall'])} |"
            )
    out += [
        "",
        "| world | "
        + " | ".join(
            f"[{BANDS[i]:.1f}, {min(BANDS[i + 1], 1.0):.1f})" for i in range(len(BANDS) - 1)
        )
        + " |",
        "|---|" + "---|" * (len(BANDS) - 1),
    ]
    for world in worlds:
        bands = [[0, 0] for _ in range(len(BANDS) - 1)]
        for r in (x for x in runs if x["world"] == world):
            for i, (n, c) in enumerate(r["calibration"]):
                bands[i][0] += n
                bands[i][1] += c
        out.append(
            f"| {world} | "
            + " | ".join(f"{_fmt(c / n if n else None)} of {n}" if n else "-" for n, c in bands)
            + " |"
        )
    return "\n".join(out) + "\n"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _engine_state() -> str:
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return f"work tree on top of {out[:70]}"


def speed(events: int, patterns: int, corpus: Path | None, work: Path, seed: int) -> dict[str, Any]:
    repo = work / "perf-kb"
    generate_knowledge_base(corpus, patterns, repo)
    config = load_config(repo)
    kb = load_knowledge_base(repo, config.paths.patterns, config.paths.policies)
    kb.require_valid()
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
    # The whole command as a scheduled run meets it: the index synced from git beforehand (its
    # stored vectors serve deduplication and gap re-scoring), then `suggest`, min of 3.
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", "sync", "--repo", str(repo)], check=True)
    synced = time.perf_counter() - started
    processes = [_suggest_process(repo, logs) for _ in range(3)]
    return {
        "events": report.events,
        "patterns": len(kb.patterns),
        "policies": len(kb.policies),
        "simulateSeconds": round(simulated, 2),
        "analyseLogsSeconds": round(analysed, 2),
        "suggestSeconds": round(suggested, 2),
        "suggestions": len(run.suggestions),
        "modelSeconds": run.model_seconds,
        "syncProcessSeconds": round(synced, 2),
        # `patternbot suggest --json` as its own process (no API key: no model), min of 3.
        "processWallSeconds": round(min(p[0] for p in processes), 2),
        "processCpuSeconds": round(min(p[1] for p in processes), 2),
        "processPeakMiB": max(p[2] for p in processes),
        "loadAverage": round(os.getloadavg()[0], 1),
    }


def _suggest_process(repo: Path, logs: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds and peak RSS (MiB) of one `patternbot suggest --json` process."""
    environ = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    command = [sys.executable, "-m", "bot", "suggest", "--repo", str(repo), "--json"]
    started = time.perf_counter()
    proc = subprocess.Popen([*command, "--logs", str(logs)], stdout=subprocess.DEVNULL, env=environ)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"patternbot suggest failed ({os.waitstatus_to_exitcode(status)})")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--world",
        choices=("calibration", *WORLD_NAMES, "all", "new", "final"),
        default="all",
        help=f"new: the development worlds ({', '.join(DEVELOPMENT_WORLDS)}); all: calibration "
        "and those; final: all and the holdout world",
    )
    parser.add_argument("--repo", type=Path, default=Path("."), help="calibration world's repo")
    parser.add_argument("--events", type=int, help="events per world and seed (default per world)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--perf-events", type=int, default=0, help="events for the speed run")
    parser.add_argument("--perf-patterns", type=int, default=500)
    parser.add_argument("--corpus", type=Path, help="corpus folder (else $PATTERNBOT_CORPUS)")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--eval-md", type=Path, help="append what went wrong here (Markdown)")
    parser.add_argument("--table-from", type=Path, help="print the docs tables of a --json result")
    args = parser.parse_args()
    if args.table_from is not None:
        print(markdown_tables(json.loads(args.table_from.read_text(encoding="utf-8"))), end="")
        return
    if args.corpus is not None:
        os.environ["PATTERNBOT_CORPUS"] = str(args.corpus)
    worlds = {
        "all": ["calibration", *DEVELOPMENT_WORLDS],
        "new": list(DEVELOPMENT_WORLDS),
        "final": ["calibration", *WORLD_NAMES],
    }.get(args.world, [args.world])
    results: dict[str, Any] = {}
    if not args.skip_quality:
        config = load_config(args.repo)
        embedder = load_embedder(config.embedding)
        runs = []
        for world in worlds:
            for seed in args.seeds:
                events = args.events or DEFAULT_EVENTS[world]
                r = run_world(world, seed, events, args.repo.resolve(), embedder)
                print_result(r)
                runs.append(r)
                if args.json:  # after every run, so a long run can be read while it goes on
                    partial = {"runs": runs, "measuredAt": _now()}
                    args.json.write_text(json.dumps(partial, indent=2, default=str) + "\n")
        results["runs"] = runs
        results["measuredAt"] = _now()
        results["summary"] = {
            w: {
                "patternbot": _sum_tables([r["patternbot"] for r in runs if r["world"] == w]),
                "baseline": _sum_tables([r["baseline"] for r in runs if r["world"] == w]),
            }
            for w in worlds
        }
        if args.eval_md:
            # The holdout world's errors are never reported back while the engine is developed.
            shown = [r for r in runs if r["world"] in (*DEVELOPMENT_WORLDS, "calibration")]
            with args.eval_md.open("a", encoding="utf-8") as stream:
                stream.write(eval_markdown(shown, _engine_state()))
    if args.perf_events:
        with tempfile.TemporaryDirectory(prefix="pb-bench-speed-") as tmp:
            results["speed"] = speed(
                args.perf_events, args.perf_patterns, args.corpus, Path(tmp), args.seeds[0]
            )
        print(f"\nspeed: {json.dumps(results['speed'])}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
