"""Benchmark: the learning engine's `suggest()` on the report of ~1M events and 500 patterns.

Run by hand (not a test):

    python bench/bench_engine.py --events 1000000 --patterns 500 --out /tmp/pb-bench-engine

It writes the knowledge base and logs of bench/bench_metrics.py, analyses the logs once (timed
apart: that is `patternbot metrics`' work), loads the embedding model (not timed), then times
`suggest()` --repeat times with a fresh context each (no index: drafts are compared with the
knowledge base directly, the slower path). The goal is under 2 s beyond the log analysis.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_metrics import write_kb, write_logs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--patterns", type=int, default=500)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--recent-days", type=int, default=10, help="so the periods are filled")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one run")
    parser.add_argument("--out", type=Path, default=Path("/tmp/patternbot-bench-engine"))
    args = parser.parse_args()

    from bot.config import Config
    from bot.index.embeddings import load_embedder
    from bot.knowledge.repository import load_knowledge_base
    from bot.learning.engine import suggest
    from bot.learning.history import InMemoryDecisionHistory
    from bot.logs.analysis import analyse_logs
    from bot.logs.usage import UsageReport

    root = args.out / "kb"
    logs = args.out / "logs"
    if not (logs / "log-00.jsonl").exists():
        ids = write_kb(root, args.patterns, 20)
        written = write_logs(logs, args.events, ids, args.files)
        print(f"wrote {written} events, {args.patterns} patterns under {args.out}")
    config = Config()
    config.root = root
    config.learning = config.learning.model_copy(update={"recent_days": args.recent_days})
    kb = load_knowledge_base(root)
    saved = args.out / f"report-{args.recent_days}.json"
    started = time.perf_counter()
    if saved.exists():
        report = UsageReport.model_validate_json(saved.read_text(encoding="utf-8"))
        print(f"report read from {saved} (delete it to analyse the logs again)")
    else:
        report = analyse_logs(config, kb, [str(logs)])
        saved.write_text(report.model_dump_json(), encoding="utf-8")
    analysis = time.perf_counter() - started
    print(
        f"log analysis: {analysis:.2f} s ({report.events} events, "
        f"{len(report.solution_profiles)} solution profiles, {len(report.clusters)} clusters, "
        f"periods: {sorted(report.periods)})"
    )
    embedder = load_embedder(config.embedding)
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        run = suggest(
            config, kb, report, embedder=embedder, index=None, history=InMemoryDecisionHistory()
        )
        times.append(time.perf_counter() - started)
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        suggest(
            config, kb, report, embedder=embedder, index=None, history=InMemoryDecisionHistory()
        )
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    print(
        f"suggest(): median {statistics.median(times):.2f} s over {args.repeat} runs "
        f"({', '.join(f'{t:.2f}' for t in times)}); {len(run.suggestions)} suggestions, "
        f"{len(run.held_back)} held back"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
