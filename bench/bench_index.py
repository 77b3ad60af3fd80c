"""Benchmark of the index (run by hand, not a test): sync time and recommend latency.

Generates N patterns from the Helm charts of the evaluation corpus (description + keywords + kinds),
writes them as YAML in a temporary repository, and measures:
  - a full sync and a no-change re-sync of --sync-size patterns;
  - `retrieve()` latency p50/p95 at each --sizes, beside the raw `query_points` time of the same
    hybrid query (same vectors) on the same collection, and the time to embed the intent alone.

    python bench/bench_index.py --corpus ../shared/corpus
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qdrant_client import models

from bot.config import load_config
from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.index.retrieval import _NOT_DEPRECATED, retrieve
from bot.index.sparse import query_vector
from bot.index.store import DENSE, LEXICAL, RRF_K, RRF_WEIGHTS, Index, open_index
from bot.index.sync import sync_index
from bot.knowledge.kinds import is_kind_name
from bot.knowledge.repository import load_knowledge_base
from bot.yamlfile import dump_text

VARIATIONS = [
    "",
    "for internal teams",
    "with high availability",
    "for the data platform",
    "in the edge clusters",
    "for batch analytics",
    "with strict network isolation",
]
INTENT_TEMPLATES = [
    "deploy {x}",
    "I need {x} for my team",
    "run {x} in production",
    "set up {x} with monitoring",
    "{x} that scales",
]


def load_charts(corpus: Path) -> list[dict[str, Any]]:
    charts = []
    with (corpus / "charts.jsonl").open(encoding="utf-8") as stream:
        for line in stream:
            chart = json.loads(line)
            kinds = [
                k
                for k in chart.get("kinds_default_on") or chart.get("kinds") or []
                if is_kind_name(k)
            ]
            if chart.get("description") and kinds:
                charts.append({**chart, "usable_kinds": kinds})
    return charts


def pattern_from(chart: dict[str, Any], n: int) -> dict[str, Any]:
    variation = (
        VARIATIONS[(n // 1000) % len(VARIATIONS)] if n >= 1000 else VARIATIONS[n % len(VARIATIONS)]
    )
    name = chart["chart"]
    keywords = [str(k) for k in chart.get("keywords") or [name]][:6]
    return {
        "id": f"{name}-{n}",
        "description": f"{chart['description']} {variation}".strip(),
        "triggers": keywords,
        "suggestedResources": chart["usable_kinds"][:12],
        "rationale": f"How we deploy {name} {variation}".strip() + ".",
        "createdAt": "2025-01-15",
        "createdBy": "bench",
    }


def write_repo(root: Path, charts: list[dict[str, Any]], size: int) -> None:
    folder = root / "patterns"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(size):
        data = pattern_from(charts[n % len(charts)], n)
        (folder / f"{data['id']}.yaml").write_text(dump_text(data), encoding="utf-8")


def intents_from(charts: list[dict[str, Any]], count: int) -> list[str]:
    intents = []
    for n in range(count):
        chart = charts[(n * 7) % len(charts)]
        words = (chart.get("keywords") or [chart["chart"]])[: 1 + n % 2]
        intents.append(
            INTENT_TEMPLATES[n % len(INTENT_TEMPLATES)].format(x=" ".join(map(str, words)))
        )
    return intents


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return (time.perf_counter() - start) * 1000, result


def raw_query(index: Index, vector: list[float], intent: str) -> models.QueryResponse:
    """The same hybrid query `retrieve()` sends for patterns, straight through qdrant-client."""
    sparse = query_vector(intent)
    # The dense vector is a MAX_SIM multivector: a one-vector query scores by the closest text.
    prefetch = [models.Prefetch(query=[vector], using=DENSE, limit=20, filter=_NOT_DEPRECATED)]
    if sparse.indices:
        lexical = models.SparseVector(indices=sparse.indices, values=sparse.values)
        prefetch.append(
            models.Prefetch(query=lexical, using=LEXICAL, limit=20, filter=_NOT_DEPRECATED)
        )
    query = models.RrfQuery(rrf=models.Rrf(k=RRF_K, weights=list(RRF_WEIGHTS[: len(prefetch)])))
    return index.client.query_points(
        index.collection("pattern"),
        prefetch=prefetch,
        query=query,
        query_filter=_NOT_DEPRECATED,
        limit=5,
        with_payload=True,
        with_vectors=[DENSE],
    )


def measure_queries(
    index: Index, embedder: MiniLMOnnxEmbedder, intents: list[str]
) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds per intent: retrieve(), the raw query_points call, and embedding alone."""
    ours, raw, embed = [], [], []
    for intent in intents:
        start = time.perf_counter()
        retrieve(index, embedder, intent, 5)
        ours.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        vector = embedder.embed([intent])[0].tolist()
        embed.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        raw_query(index, vector, intent)
        raw.append((time.perf_counter() - start) * 1000)
    return ours, raw, embed


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_corpus = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    parser.add_argument("--sync-size", type=int, default=1000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--intents", type=int, default=300)
    args = parser.parse_args()

    charts = load_charts(args.corpus)
    embedder = MiniLMOnnxEmbedder()
    embedder.load()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "kb"
        write_repo(root, charts, args.sync_size)
        kb = load_knowledge_base(root)
        assert not kb.problems, kb.problems[:3]
        config = load_config(root)
        with open_index(config) as index:
            full_ms, report = timed(lambda: sync_index(index, embedder, kb))
            again_ms, again = timed(lambda: sync_index(index, embedder, load_knowledge_base(root)))
        print("| sync | patterns | time | result |\n|---|---:|---:|---|")
        print(f"| full | {args.sync_size} | {full_ms / 1000:.1f} s | {report.added} added |")
        print(
            f"| no change (incl. loading YAML) | {args.sync_size} | {again_ms / 1000:.2f} s "
            f"| {again.unchanged} unchanged |"
        )

    intents = intents_from(charts, args.intents)
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "kb"
            write_repo(root, charts, size)
            with open_index(load_config(root)) as index:
                kb = load_knowledge_base(root)
                sync_ms, _ = timed(lambda: sync_index(index, embedder, kb))  # noqa: B023
                rows.append((size, sync_ms, *measure_queries(index, embedder, intents)))
    print("\n| patterns | sync | retrieve() p50 | p95 | raw query_points p50 | p95 | embed p50 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, sync_ms, ours, raw, embed in rows:
        print(
            f"| {size} | {sync_ms / 1000:.1f} s | {pct(ours, 50):.1f} ms | {pct(ours, 95):.1f} ms "
            f"| {pct(raw, 50):.1f} ms | {pct(raw, 95):.1f} ms | {pct(embed, 50):.1f} ms |"
        )
    print(
        f"\n{len(intents)} intents; retrieve() embeds the intent and queries patterns AND policies "
        "(no policies here); raw query_points is the patterns query alone."
    )


if __name__ == "__main__":
    main()
