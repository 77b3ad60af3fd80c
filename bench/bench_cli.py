"""Benchmark of the cold CLI and the warm API (run by hand, not a test).

Copies the shipped knowledge base into a temporary repository, syncs it, then runs each command
--runs times, interleaved (one run of each in turn, so machine load hits all alike), and prints
the minimum and median wall time and CPU time (user + system) of the whole process, beside
`python -c pass` and `python -c "import numpy"` in the same run. Then it measures the warm API
(bot.api.Recommender): construction once, then per-call latency.

    python bench/bench_cli.py --runs 10 [--compare-tree /tmp/before]
"""

from __future__ import annotations

import argparse
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


def commands(repo: Path, other: tuple[Path, Path] | None) -> dict[str, list[str]]:
    python = sys.executable
    extra = {}
    if other is not None:
        tree, other_repo = other
        extra[f'recommend "..." --json, code at {tree}'] = [
            "env", f"PYTHONPATH={tree}", python, "-m", "bot", "recommend", INTENTS[0],
            "--repo", str(other_repo), "--json",
        ]  # fmt: skip
    return extra | {
        "python -c pass": [python, "-c", "pass"],
        'python -c "import numpy"': [python, "-c", "import numpy"],
        "patternbot --version": [python, "-m", "bot", "--version"],
        'patternbot recommend "..." --json': [
            python, "-m", "bot", "recommend", INTENTS[0], "--repo", str(repo), "--json",
        ],
        'patternbot recommend "..." (table)': [
            python, "-m", "bot", "recommend", INTENTS[0], "--repo", str(repo),
        ],
    }  # fmt: skip


def run_once(command: list[str], cwd: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # A neutral working directory: `python -m` puts it first on sys.path, before PYTHONPATH.
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
        "--compare-tree",
        type=Path,
        metavar="DIR",
        help="another source tree (e.g. `git archive` of an older commit): its cold recommend, "
        "on its own synced copy, in the same interleaved runs",
    )
    args = parser.parse_args()

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
        other = None
        if args.compare_tree:
            other_repo = Path(tmp) / "kb-other"
            shutil.copytree(repo, other_repo, ignore=shutil.ignore_patterns(".patternbot"))
            subprocess.run(
                ["env", f"PYTHONPATH={args.compare_tree}", sys.executable, "-m", "bot", "sync",
                 "--repo", str(other_repo)],
                check=True, capture_output=True, cwd=tmp,
            )  # fmt: skip
            other = (args.compare_tree, other_repo)
        runs = commands(repo, other)
        timings: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for _ in range(args.runs):
            for name, command in runs.items():
                timings[name].append(run_once(command, Path(tmp)))
        print(f"| whole process ({args.runs} interleaved runs) | wall min | median | CPU min |")
        print("|---|---:|---:|---:|")
        for name, measured in timings.items():
            walls, cpus = [w for w, _ in measured], [c for _, c in measured]
            print(
                f"| `{name}` | {min(walls):.3f} s | {statistics.median(walls):.3f} s "
                f"| {min(cpus):.3f} s |"
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


if __name__ == "__main__":
    main()
