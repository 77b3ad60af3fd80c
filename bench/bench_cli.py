"""Benchmark of the cold CLI and the warm API (run by hand, not a test).

Copies the shipped knowledge base into a temporary repository, syncs it, then runs each command
--runs times, interleaved (one run of each in turn, so machine load hits all alike), and prints
the minimum and median wall time and CPU time (user + system) of the whole process, beside
`python -c pass` and `python -c "import numpy"` in the same run. Then it measures the warm API
(bot.api.Recommender): construction once, then per-call latency.

    python bench/bench_cli.py --runs 10 [--compare-tree /tmp/before [/tmp/other ...]] [--steps 9]

Each --compare-tree is another source tree (`git archive` of a commit, or a copy with one change)
measured on its own synced copy in the same interleaved runs. The load average is printed before
and after. --steps N times each step of a cold recommend (imports, settings, model, index) in N
fresh interpreters.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

INTENTS = [
    "deploy redis so the app can cache sessions",
    "run a postgres database that keeps its data",
    "a nightly job that cleans up old records",
    "expose our public api with tls",
    "ship logs from every node",
]


def commands(repo: Path, others: list[tuple[Path, Path]]) -> dict[str, list[str]]:
    """The timed commands: the baselines, then a cold recommend (plain, logged, as a table) of this
    tree and of each other tree, each on its own synced copy of the knowledge base."""
    python = sys.executable
    this_tree = ["env", f"PYTHONPATH={REPO_ROOT}", python, "-m", "bot"]
    rows = {
        "python -c pass": [python, "-c", "pass"],
        'python -c "import numpy"': [python, "-c", "import numpy"],
        "patternbot --version": [*this_tree, "--version"],
    }
    for tree, tree_repo in [(REPO_ROOT, repo), *others]:
        label = "this tree" if tree == REPO_ROOT else f"code at {tree}"
        recommend = [
            "env", f"PYTHONPATH={tree}", python, "-m", "bot", "recommend", INTENTS[0],
            "--repo", str(tree_repo),
        ]  # fmt: skip
        rows[f'recommend "..." --json, {label}'] = [*recommend, "--json"]
        log = str(tree_repo / "workflows.jsonl")
        rows[f'recommend "..." --json --log FILE, {label}'] = [*recommend, "--json", "--log", log]
    rows['recommend "..." (table), this tree'] = [
        *this_tree, "recommend", INTENTS[0], "--repo", str(repo),
    ]  # fmt: skip
    return rows


# The cold recommend's steps in the order the command runs them, each timed (wall, CPU) in one
# fresh interpreter; the checksum is taken apart from the session so both show.
STEPS_PROBE = """
import json, os, sys, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
marks = [("start", time.perf_counter(), time.process_time())]
def mark(name):
    marks.append((name, time.perf_counter(), time.process_time()))
from pathlib import Path
import numpy; mark("import numpy (one BLAS thread)")
import bot.config_snapshot; mark("import bot.config_snapshot")
import bot.commands.recommend; mark("import bot.api, bot.index.*, the command")
settings = bot.config_snapshot.load_recommend_settings(Path(sys.argv[1]))
mark("settings (from the snapshot after the first run)")
from bot.index.edge import EdgeIndex; mark("import qdrant_edge")
from bot.index.retrieval import require_index, retrieve
index = EdgeIndex.open(settings.qdrant_path, settings.index.collection_prefix)
require_index(index); mark("lock the folder, check the collections")
import onnxruntime, tokenizers; mark("import onnxruntime, tokenizers")
import bot.index.embeddings as embeddings
embeddings.verify_model_file(embeddings.default_minilm_path(), record=settings.model_record)
mark("the model file's checksum (recorded after the first run)")
embedder = embeddings.load_embedder(
    settings.embedding, quick_start=True, verified_record=settings.model_record
)
embedder.load(); mark("tokenizer and InferenceSession (no graph optimisation)")
index._shard("pattern"); index._shard("policy"); mark("load the two Edge shards")
retrieve(index, embedder, sys.argv[2], 5); mark("retrieve(): one inference, both searches")
index.close(); mark("close the shards")
print(json.dumps([(b[0], b[1] - a[1], b[2] - a[2]) for a, b in zip(marks, marks[1:])]))
"""


def steps(repo: Path, runs: int) -> None:
    """Where a cold recommend's time goes: each step's CPU (min, median) and wall (median)."""
    measured: dict[str, list[tuple[float, float]]] = {}
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", STEPS_PROBE, str(repo), INTENTS[0]],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        for name, wall, cpu in json.loads(done.stdout.splitlines()[-1]):
            measured.setdefault(name, []).append((wall, cpu))
    print(f"\n| step ({runs} fresh interpreters) | CPU min | CPU median | wall median |")
    print("|---|---:|---:|---:|")
    for name, values in [*measured.items(), ("in all", _totals(measured))]:
        walls, cpus = [w * 1000 for w, _ in values], [c * 1000 for _, c in values]
        print(
            f"| {name} | {min(cpus):.0f} ms | {statistics.median(cpus):.0f} ms "
            f"| {statistics.median(walls):.0f} ms |"
        )


def _totals(measured: dict[str, list[tuple[float, float]]]) -> list[tuple[float, float]]:
    columns = list(zip(*measured.values(), strict=True))  # one tuple of steps per run
    return [(sum(w for w, _ in run), sum(c for _, c in run)) for run in columns]


def run_once(command: list[str], cwd: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # A neutral working directory: `python -m` puts it first on sys.path, before PYTHONPATH
    # (each command names its source tree with PYTHONPATH, not an installed copy).
    subprocess.run(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200, help="warm API calls")
    parser.add_argument(
        "--steps",
        type=int,
        default=0,
        metavar="N",
        help="also time each step of a cold recommend in N fresh interpreters",
    )
    parser.add_argument(
        "--compare-tree",
        type=Path,
        nargs="+",
        default=[],
        metavar="DIR",
        help="other source trees (e.g. `git archive` of an older commit): their cold recommend, "
        "each on its own synced copy, in the same interleaved runs",
    )
    args = parser.parse_args()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "kb"
        for folder in ("patterns", "policies"):
            shutil.copytree(REPO_ROOT / folder, repo / folder)
        subprocess.run(
            [sys.executable, "-m", "bot", "sync", "--repo", str(repo)],
            check=True,
            capture_output=True,
            cwd=REPO_ROOT,
        )
        others = []
        for n, tree in enumerate(args.compare_tree):
            other_repo = Path(tmp) / f"kb-other-{n}"
            shutil.copytree(repo, other_repo, ignore=shutil.ignore_patterns(".patternbot"))
            subprocess.run(
                ["env", f"PYTHONPATH={tree}", sys.executable, "-m", "bot", "sync",
                 "--repo", str(other_repo)],
                check=True, capture_output=True, cwd=tmp,
            )  # fmt: skip
            others.append((tree, other_repo))
        runs = commands(repo, others)
        timings: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for _ in range(args.runs):
            for name, command in runs.items():
                timings[name].append(run_once(command, Path(tmp)))
        print("load average after the runs: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        print(
            f"| whole process ({args.runs} interleaved runs) | wall min | median "
            "| CPU min | median |"
        )
        print("|---|---:|---:|---:|---:|")
        for name, measured in timings.items():
            walls, cpus = [w for w, _ in measured], [c for _, c in measured]
            print(
                f"| `{name}` | {min(walls):.3f} s | {statistics.median(walls):.3f} s "
                f"| {min(cpus):.3f} s | {statistics.median(cpus):.3f} s |"
            )

        from bot.api import Recommender

        start = time.perf_counter()
        with Recommender(repo) as recommender:
            recommender.recommend(INTENTS[0])
            ready = time.perf_counter() - start
            latencies = []
            for n in range(args.calls):
                start = time.perf_counter()
                recommender.recommend(INTENTS[n % len(INTENTS)] + f" {n}")
                latencies.append((time.perf_counter() - start) * 1000)
        cuts = statistics.quantiles(latencies, n=100)
        print(
            f"\nwarm API: Recommender() + first recommend {ready:.2f} s; then {args.calls} calls: "
            f"p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms"
        )
        if args.steps:
            steps(repo, args.steps)
            print("load average after the steps: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
