"""Benchmark: `patternbot metrics` over ~1M events against a bare DuckDB query on the same files.

Run by hand (not a test):

    python bench/bench_metrics.py --events 1000000 --out /tmp/pb-bench

It writes a knowledge base of a few hundred patterns and JSON Lines logs, then times, each as its
own process and alternately (--repeat times, the minimum counts): (a) `patternbot metrics --json
--no-index` and (b) a hand-written DuckDB query that computes timesRecommended, timesUsed and
successRate per pattern, and checks that both give the same counts. Reports wall and CPU times
(user + system, which a busy machine inflates less than wall time), the ratio, the peak RSS of
each process, the load average, and a Markdown row for docs/metrics.md. The goal is a ratio of at
most 1.5. `--delete` removes the generated logs afterwards (10M events are about 4 GB).
`--before DIR` also times the `patternbot metrics` of another copy of the code (the version before
a change), interleaved; `--scan-only` times only the reading and checking of the lines
(load_lines) inside each process, for this version and the one at `--before`, alternately.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KINDS = (
    "Deployment", "Service", "Ingress", "ConfigMap", "Secret", "HorizontalPodAutoscaler",
    "PodDisruptionBudget", "NetworkPolicy", "StatefulSet", "PersistentVolumeClaim", "CronJob",
    "ServiceAccount", "ServiceMonitor", "DaemonSet", "Job",
)  # fmt: skip
WORDS = (
    "deploy a stateless web frontend with autoscaling behind an ingress for the payments team",
    "run a nightly batch job that exports reports to object storage and retries on failure",
    "postgres database with persistent storage, backups and a read replica for analytics",
    "internal grpc service with mutual tls, health probes and a pod disruption budget",
)

# The baseline: what a person would write by hand for the same per-pattern counts, with the same
# semantics (eventId dedupe keeping the first by ts, latest solution and outcome per workflow), but
# trusting read_ndjson's type coercions: no validation, no line numbers, no quarantine.
BARE_QUERY = """
WITH raw AS (
    SELECT * FROM read_ndjson({files}, columns = {{
        eventId: 'VARCHAR', workflowId: 'VARCHAR', type: 'VARCHAR', ts: 'TIMESTAMPTZ',
        patterns: 'STRUCT(id VARCHAR, score DOUBLE)[]', patternsUsed: 'VARCHAR[]', status: 'VARCHAR'
    }})
),
e AS (SELECT * FROM raw QUALIFY row_number() OVER (PARTITION BY eventId ORDER BY ts) = 1),
rec AS (
    SELECT DISTINCT workflowId, unnest(patterns).id AS id FROM e WHERE type = 'retrieved'
),
sol AS (
    SELECT * FROM e WHERE type = 'solution'
    QUALIFY row_number() OVER (PARTITION BY workflowId ORDER BY ts DESC, eventId DESC) = 1
),
outc AS (
    SELECT * FROM e WHERE type = 'outcome'
    QUALIFY row_number() OVER (PARTITION BY workflowId ORDER BY ts DESC, eventId DESC) = 1
),
used AS (SELECT DISTINCT workflowId, unnest(patternsUsed) AS id FROM sol),
used_stats AS (
    SELECT id, count(*) AS used,
        count(*) FILTER (WHERE o.status = 'deployed') AS deployed,
        count(*) FILTER (WHERE o.status = 'failed') AS failed
    FROM used LEFT JOIN outc o USING (workflowId) GROUP BY id
),
rec_stats AS (SELECT id, count(*) AS recommended FROM rec GROUP BY id)
SELECT coalesce(r.id, u.id) AS id, coalesce(recommended, 0), coalesce(used, 0),
    CASE WHEN deployed + failed > 0 THEN deployed / (deployed + failed) END
FROM rec_stats r FULL JOIN used_stats u ON r.id = u.id ORDER BY 1
"""


# Floors (--floors): what any reader that checks every line must at least pay, on the same files
# with the same DuckDB settings. `lines` reads every line as text with patternbot's own line
# reader (one thread per file, nothing lost at buffer boundaries); `one parse` also parses each
# line once and hands over its 20 top-level fields, checking nothing.
_LINES = (
    "SELECT line FROM read_csv({files}, columns = {{'line': 'VARCHAR'}}, delim = '{delimiter}', "
    "quote = '', escape = '', header = false, auto_detect = false, strict_mode = false, "
    "new_line = '\\r\\n', parallel = false, ignore_errors = true, "
    "max_line_size = 16777218, buffer_size = 33554436)"
)
FLOOR_QUERIES = {
    "floor: every line read": "SELECT count(*) FROM ({lines})",
    "floor: every line read and parsed once": (
        "CREATE TABLE fields AS SELECT json_extract(line, {paths}) AS f FROM ({lines})"
    ),
}


def floor_script(query: str, files: list[str]) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bot.logs.classify import _DELIMITER, _PATHS

    paths = "[" + ", ".join(f"'$.{p}'" for p in _PATHS) + "]"
    sql = query.format(lines=_LINES.format(files=files, delimiter=_DELIMITER), paths=paths)
    return (
        "import duckdb\n"
        "con = duckdb.connect(config={'threads': 2, 'memory_limit': '2GB'})\n"
        "con.execute('SET enable_progress_bar = false')\n"
        f"con.execute({sql!r}).fetchall()\n"
    )


def write_kb(root: Path, patterns: int, policies: int) -> list[str]:
    """A knowledge base with `patterns` patterns and `policies` policies; returns pattern ids."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bot.yamlfile import dump_text

    rng = random.Random(7)
    ids = []
    for folder, count in (("patterns", patterns), ("policies", policies)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for n in range(count):
            item_id = f"{folder[:-1] if folder == 'patterns' else 'policy'}-{n:04d}"
            data: dict[str, object] = {
                "id": item_id,
                "description": f"item {n}",
                "triggers": [f"trigger {n}"],
                "rationale": "benchmark",
                "createdAt": "2025-01-01",
                "createdBy": "bench",
            }
            if folder == "patterns":
                data["suggestedResources"] = rng.sample(KINDS, 3)
                ids.append(item_id)
            else:
                data["appliesTo"] = ["Deployment"]
            (root / folder / f"{item_id}.yaml").write_text(dump_text(data), encoding="utf-8")
    return ids


def write_logs(folder: Path, events: int, pattern_ids: list[str], files: int) -> int:
    """About `events` events (retrieved, solution, outcome per workflow) in `files` files."""
    rng = random.Random(42)
    folder.mkdir(parents=True, exist_ok=True)
    outs = [(folder / f"log-{n:02d}.jsonl").open("w", encoding="utf-8") for n in range(files)]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    written = 0
    workflow = 0
    while written < events:
        workflow += 1
        wid = f"wf-{workflow:08d}"
        cluster = rng.choice(("prod-eu", "prod-us", "staging"))
        ts = start + dt.timedelta(seconds=workflow * 7)
        picked = rng.sample(pattern_ids, 5)
        common = {"v": 1, "workflowId": wid, "workflow": "recommend", "cluster": cluster}
        lines = [
            {
                **common,
                "eventId": f"{wid}-r",
                "type": "retrieved",
                "ts": ts.isoformat(),
                "intent": rng.choice(WORDS),
                "patterns": [{"id": p, "score": round(rng.random(), 4)} for p in picked],
                "policies": [{"id": "policy-0001", "score": 0.61}],
            },
            {
                **common,
                "eventId": f"{wid}-s",
                "type": "solution",
                "ts": (ts + dt.timedelta(seconds=2)).isoformat(),
                "patternsUsed": picked[: rng.randint(1, 2)],
                "policiesApplied": ["policy-0001"],
                "resources": [
                    {"kind": k, "apiVersion": "v1", "name": f"r{i}"}
                    for i, k in enumerate(rng.sample(KINDS, 4))
                ],
                "settings": {"spec.replicas": rng.choice((2, 3)), "image.tag": "1.2.3"},
            },
            {
                **common,
                "eventId": f"{wid}-o",
                "type": "outcome",
                "ts": (ts + dt.timedelta(seconds=9)).isoformat(),
                "status": rng.choice(("deployed", "deployed", "failed", "abandoned")),
            },
        ]
        out = outs[workflow % files]
        for line in lines:
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
        written += len(lines)
    for out in outs:
        out.close()
    return written


def timed(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, int, str, float]:
    """Wall seconds, peak RSS in MiB, stdout and CPU seconds of one process (its own rusage,
    via wait4)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=errors, env=env)
        assert proc.stdout is not None
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(
                f"{command[0]} failed ({proc.returncode}):\n{errors.read().decode()[-2000:]}"
            )
    return elapsed, usage.ru_maxrss // 1024, stdout.decode(), usage.ru_utime + usage.ru_stime


def same_counts(bare_rows: list[list[Any]], report: dict[str, Any]) -> bool:
    """Whether the bare query's per-pattern counts equal patternbot's (the baseline is honest)."""
    for item_id, recommended, used, rate in bare_rows:
        ours = report["patterns"].get(item_id)
        if ours is None or (ours["timesRecommended"], ours["timesUsed"]) != (recommended, used):
            return False
        if (rate is None) != (ours["successRate"] is None) or (
            rate is not None and abs(rate - ours["successRate"]) > 1e-9
        ):
            return False
    return True


# Times load_lines alone (read, check, typed values, the byte invariant) inside one process, so
# that interpreter start-up and imports do not blur a comparison of two versions of the scan.
SCAN_SCRIPT = """
import json, resource, sys, tempfile, time
from pathlib import Path
import duckdb
from bot.logs.classify import load_lines
from bot.logs.reader import LogFile
files = [LogFile(Path(p), p) for p in sys.argv[1:]]
with tempfile.TemporaryDirectory() as spill:
    con = duckdb.connect(config={"threads": 2, "memory_limit": "2GB", "temp_directory": spill,
                                 "preserve_insertion_order": True})
    con.execute("SET enable_progress_bar = false")
    def cpu():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    started, cpu_started = time.perf_counter(), cpu()
    load_lines(con, files)
    wall, used = time.perf_counter() - started, cpu() - cpu_started
    accepted = con.execute("SELECT count(*) FROM log_lines WHERE reason IS NULL").fetchone()[0]
print(json.dumps([wall, used, accepted]))
"""


def scan_only(files: list[str], out: Path, before: Path | None, repeat: int) -> int:
    """Time the line scan alone, alternating with the version at `before` when given."""
    here = str(Path(__file__).resolve().parent.parent)
    versions = [("now", here)] + ([("before", str(before))] if before else [])
    runs: dict[str, list[list[float]]] = {name: [] for name, _ in versions}
    load_before = os.getloadavg()
    for _ in range(repeat):
        for name, root in versions:
            env = {**os.environ, "PYTHONPATH": root}
            _, rss, stdout, _ = timed([sys.executable, "-c", SCAN_SCRIPT, *files], out, env)
            runs[name].append([*json.loads(stdout), rss])
    load_after = os.getloadavg()
    print(f"load average: {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    for name, found in runs.items():
        print(
            f"scan {name}: wall {', '.join(f'{r[0]:.2f}' for r in found)} s; "
            f"CPU {', '.join(f'{r[1]:.2f}' for r in found)} s (min {min(r[1] for r in found):.2f}, "
            f"median {statistics.median(r[1] for r in found):.2f}); "
            f"accepted {found[-1][2]}; peak RSS {max(int(r[3]) for r in found)} MiB"
        )
    return 0 if len({found[-1][2] for found in runs.values()}) == 1 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--patterns", type=int, default=300)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the minimum counts")
    parser.add_argument("--delete", action="store_true", help="remove the logs afterwards")
    parser.add_argument("--out", type=Path, default=Path("/tmp/patternbot-bench"))
    parser.add_argument(
        "--before",
        type=Path,
        help="a copy of the code before a change: its `patternbot metrics` is timed too, "
        "interleaved with the others, and must report the same",
    )
    parser.add_argument(
        "--scan-only",
        action="store_true",
        help="time only the reading and checking of the lines (load_lines), in process, "
        "alternating with --before",
    )
    parser.add_argument(
        "--floors",
        action="store_true",
        help="also time reading every line, and reading and parsing each once (FLOOR_QUERIES)",
    )
    args = parser.parse_args()

    root = args.out / "kb"
    logs = args.out / "logs"
    if not (logs / "log-00.jsonl").exists():
        ids = write_kb(root, args.patterns, 40)
        count = write_logs(logs, args.events, ids, args.files)
        print(f"wrote {count} events to {logs}", file=sys.stderr)
    files = sorted(str(p) for p in logs.glob("*.jsonl"))
    size = sum(os.path.getsize(f) for f in files) / 1e6
    if args.scan_only:
        return scan_only(files, args.out, args.before, args.repeat)

    bare_script = (
        "import duckdb, json\n"
        "con = duckdb.connect(config={'threads': 2, 'memory_limit': '2GB'})\n"
        "con.execute('SET enable_progress_bar = false')\n"
        f"rows = con.execute({BARE_QUERY.format(files=files)!r}).fetchall()\n"
        "print(json.dumps(rows))\n"
    )
    bare = [sys.executable, "-c", bare_script]
    ours = [sys.executable, "-m", "bot", "metrics", "--repo", str(root), "--json", "--no-index"]
    ours += ["--logs", *files]
    os.environ["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    # The same DuckDB threads and memory ceiling as the bare query's, whatever the machine has.
    os.environ["PATTERNBOT_METRICS_THREADS"] = "2"
    os.environ["PATTERNBOT_METRICS_MEMORY_LIMIT"] = "2GB"
    load_before = os.getloadavg()
    before_env = {**os.environ, "PYTHONPATH": str(args.before)} if args.before else None
    bare_runs, ours_runs, before_runs = [], [], []
    floors: dict[str, list[tuple[float, int, str, float]]] = {}
    if args.floors:
        floors = {name: [] for name in FLOOR_QUERIES}
    # Alternating runs share the machine's state (page cache, other jobs) as fairly as possible.
    for _ in range(args.repeat):
        bare_runs.append(timed(bare, args.out))
        for name, floor_runs in floors.items():
            script = floor_script(FLOOR_QUERIES[name], files)
            floor_runs.append(timed([sys.executable, "-c", script], args.out))
        if before_env is not None:
            before_runs.append(timed(ours, args.out, before_env))
        ours_runs.append(timed(ours, args.out))
    load_after = os.getloadavg()
    report = json.loads(ours_runs[-1][2])
    honest = same_counts(json.loads(bare_runs[-1][2]), report)
    bare_s = min(run[0] for run in bare_runs)
    ours_s = min(run[0] for run in ours_runs)
    bare_cpu = min(run[3] for run in bare_runs)
    ours_cpu = min(run[3] for run in ours_runs)
    bare_rss = max(run[1] for run in bare_runs)
    ours_rss = max(run[1] for run in ours_runs)
    print(
        f"data: {len(files)} files, {size:.0f} MB, {report['events']} events, "
        f"{report['workflows']} workflows, {len(report['patterns'])} patterns"
    )
    print(f"load average: {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    named = [("bare DuckDB query", bare_runs), *floors.items(), ("patternbot metrics", ours_runs)]
    if before_runs:
        named.insert(1, (f"patternbot metrics before ({args.before})", before_runs))
        honest = honest and json.loads(before_runs[-1][2]) == report
    for name, runs in named:
        print(
            f"{name}: wall {', '.join(f'{run[0]:.2f}' for run in runs)} s; "
            f"CPU {', '.join(f'{run[3]:.2f}' for run in runs)} s; "
            f"peak RSS {max(run[1] for run in runs)} MiB"
        )
    print(f"same counts: {honest}")
    print(f"ratio (min wall): {ours_s / bare_s:.2f}; ratio (min CPU): {ours_cpu / bare_cpu:.2f}")
    for name, floor_runs in floors.items():
        floor_s = min(run[0] for run in floor_runs)
        print(f"{name}: {floor_s:.2f} s min wall, {floor_s / bare_s:.2f} x the bare query")
    print(
        f"| {report['events']:,} | {size:,.0f} MB | {bare_s:.2f} s ({bare_cpu:.2f} s CPU) | "
        f"{ours_s:.2f} s ({ours_cpu:.2f} s CPU) | {ours_s / bare_s:.2f} | "
        f"{bare_rss} / {ours_rss} MiB | {load_before[0]:.1f}-{load_after[0]:.1f} |"
    )
    if args.delete:
        for path in files:
            os.remove(path)
    return 0 if honest else 1


if __name__ == "__main__":
    sys.exit(main())
