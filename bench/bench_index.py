"""Benchmark of the two index engines (run by hand, not a test): Qdrant Edge and qdrant-client.

Generates N patterns from the Helm charts of the evaluation corpus (description + keywords +
kinds), writes them as YAML in a temporary repository, embeds every semantic text ONCE with the
real MiniLM model, then, for each engine in the same run, on the same vectors:
  - a full sync (vectors precomputed, so this is the engine's write time plus hashing),
    and a no-change re-sync;
  - opening the folder and answering the first `retrieve()` (what a cold `recommend` pays);
  - `retrieve()` latency p50/p95 over --intents intents (each embeds its intent: about 5 ms);
  - whether both engines return the same top 5 ids for every intent;
  - the intent's embedding alone (p50/p95), to split retrieve() into model and search;
  - with --hnsw M:EF_CONSTRUCT, Qdrant Edge again on a copy of its folder after building the HNSW
    graph (`EdgeShard.optimize()`): the build's wall and CPU time, retrieve() latency, and how
    many intents get the same top 5 as exact search (ids in order, and scores: ties between
    identical generated patterns can swap ids at equal scores).

    python bench/bench_index.py --corpus ../shared/corpus --sizes 1000 10000 --cache /tmp/vectors
    python bench/bench_index.py --sizes 10000 --intents 100 --engines edge --hnsw 16:100 --cache DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.index.client import QdrantClientIndex
from bot.index.edge import CONFIG_FILE, EdgeIndex
from bot.index.embeddings import MiniLMOnnxEmbedder, Vectors
from bot.index.retrieval import retrieve
from bot.index.store import DENSE, LEXICAL, Index
from bot.index.sync import sync_index
from bot.knowledge.kinds import is_kind_name
from bot.knowledge.repository import KnowledgeBase, load_knowledge_base
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
ENGINES: dict[str, Callable[[Path], Index]] = {
    "edge": lambda folder: EdgeIndex.open(folder, "bench"),
    "qdrant-client local": lambda folder: QdrantClientIndex.local(folder, "bench"),
}


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


class Precomputed:
    """The real model's vectors, computed once (optionally cached on disk) and then looked up,
    so both engines are measured on exactly the same vectors and sync measures the engine."""

    def __init__(self, model: MiniLMOnnxEmbedder, cache: Path | None) -> None:
        self.model = model
        self.model_id = model.model_id
        self.dimension = model.dimension
        self.cache = cache
        self.vectors: dict[str, np.ndarray[Any, Any]] = {}
        self.embed_seconds = 0.0

    def prepare(self, texts: Sequence[str]) -> None:
        unique = sorted(set(texts) - set(self.vectors))
        digest = hashlib.sha256("\n".join(unique).encode()).hexdigest()[:16]
        path = self.cache / f"{digest}.npy" if self.cache else None
        if path is not None and path.is_file():
            rows = np.load(path)
        else:
            start = time.perf_counter()
            rows = self.model.embed(unique)
            self.embed_seconds = time.perf_counter() - start
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, rows)
        self.vectors.update(zip(unique, rows, strict=True))

    def embed(self, texts: Sequence[str]) -> Vectors:
        known = [t for t in texts if t in self.vectors]
        if len(known) == len(texts):
            return np.stack([self.vectors[t] for t in texts]).astype(np.float32)
        return self.model.embed(texts)  # intents: the real model, as retrieve() would


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def measure_retrieval(
    open_index: Callable[[], Index], embedder: Precomputed, intents: list[str]
) -> dict[str, Any]:
    """Open the index, answer the first intent, then time retrieve() for every intent."""
    start = time.perf_counter()
    with open_index() as index:
        retrieve(index, embedder, intents[0], 5)
        open_ms = (time.perf_counter() - start) * 1000
        latencies, top, scores = [], [], []
        for intent in intents:
            start = time.perf_counter()
            found = retrieve(index, embedder, intent, 5)
            latencies.append((time.perf_counter() - start) * 1000)
            top.append([m.id for m in found.patterns])
            scores.append([m.score for m in found.patterns])
    return {
        "open_ms": open_ms,
        "p50": pct(latencies, 50),
        "p95": pct(latencies, 95),
        "top": top,
        "scores": scores,
    }


def measure_engine(
    name: str, kb: KnowledgeBase, embedder: Precomputed, intents: list[str], tmp: Path
) -> dict[str, Any]:
    folder = tmp / name.replace(" ", "-")
    with ENGINES[name](folder) as index:
        start = time.perf_counter()
        report = sync_index(index, embedder, kb)
        sync_s = time.perf_counter() - start
        assert report.added == len(kb.patterns), report
        start = time.perf_counter()
        sync_index(index, embedder, kb)
        again_s = time.perf_counter() - start
    measured = measure_retrieval(lambda: ENGINES[name](folder), embedder, intents)
    return {"sync_s": sync_s, "again_s": again_s, **measured}


def build_hnsw(folder: Path, m: int, ef_construct: int) -> tuple[float, float]:
    """Build the HNSW graph of every Qdrant Edge shard in `folder`: (wall s, CPU s)."""
    wall = cpu = 0.0
    for shard_folder in sorted(p.parent for p in folder.glob(f"*/{CONFIG_FILE}")):
        stored = json.loads((shard_folder / CONFIG_FILE).read_text(encoding="utf-8"))
        config = qe.EdgeConfig(
            vectors={
                DENSE: qe.EdgeVectorParams(
                    size=stored["vectors"][DENSE]["size"],
                    distance=qe.Distance.Cosine,
                    multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim),
                )
            },
            sparse_vectors={LEXICAL: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            hnsw_config=qe.HnswIndexConfig(m=m, ef_construct=ef_construct, full_scan_threshold=10),
            optimizers=qe.EdgeOptimizersConfig(indexing_threshold=1),  # KB: index every segment
        )
        shard = qe.EdgeShard.load(str(shard_folder), config)
        start, start_cpu = time.perf_counter(), time.process_time()
        shard.optimize()
        wall += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        shard.close()
    return wall, cpu


def measure_hnsw(
    m: int, ef_construct: int, embedder: Precomputed, intents: list[str], tmp: Path
) -> dict[str, Any]:
    """Qdrant Edge with an HNSW graph, on a copy of the exact folder (same points)."""
    folder = tmp / f"edge-hnsw-{m}-{ef_construct}"
    shutil.copytree(tmp / "edge", folder, ignore=shutil.ignore_patterns(".lock"))
    build_s, build_cpu = build_hnsw(folder, m, ef_construct)
    measured = measure_retrieval(lambda: EdgeIndex.open(folder, "bench"), embedder, intents)
    return {"build_s": build_s, "build_cpu": build_cpu, **measured}


def embedding_latency(model: MiniLMOnnxEmbedder, intents: list[str]) -> tuple[float, float]:
    """p50 and p95 in ms of embedding one intent: the model's share of a retrieve()."""
    latencies = []
    for intent in intents:
        start = time.perf_counter()
        model.embed([intent])
        latencies.append((time.perf_counter() - start) * 1000)
    return pct(latencies, 50), pct(latencies, 95)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_corpus = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--intents", type=int, default=200)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    parser.add_argument("--cache", type=Path, help="keep the computed vectors here between runs")
    parser.add_argument(
        "--hnsw",
        nargs="+",
        default=[],
        metavar="M:EF_CONSTRUCT",
        help="also measure Qdrant Edge after building its HNSW graph with these parameters",
    )
    args = parser.parse_args()
    hnsw = [tuple(int(x) for x in spec.split(":")) for spec in args.hnsw]
    if hnsw and "edge" not in args.engines:
        parser.error("--hnsw compares with exact search on edge: keep edge in --engines")

    charts = load_charts(args.corpus)
    model = MiniLMOnnxEmbedder()
    model.load()
    intents = intents_from(charts, args.intents)
    print(
        "| patterns | engine | embed all texts | sync (vectors ready) | no-change sync "
        "| open + first retrieve | retrieve() p50 | p95 | same top 5 as edge |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    hnsw_rows: list[str] = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "kb"
            write_repo(root, charts, size)
            kb = load_knowledge_base(root)
            assert not kb.problems, kb.problems[:3]
            embedder = Precomputed(model, args.cache)
            embedder.prepare([t for p in kb.patterns.values() for t in p.semantic_texts()])
            embedded = f"{embedder.embed_seconds:.0f} s" if embedder.embed_seconds else "cached"
            results = {
                name: measure_engine(name, kb, embedder, intents, Path(tmp))
                for name in args.engines
            }
            reference = results.get("edge", {}).get("top")
            for name, r in results.items():
                same = (
                    f"{sum(a == b for a, b in zip(r['top'], reference, strict=True))}"
                    f"/{len(intents)}"
                    if reference
                    else "-"
                )
                print(
                    f"| {size} | {name} | {embedded} | {r['sync_s']:.1f} s | {r['again_s']:.2f} s "
                    f"| {r['open_ms']:.0f} ms | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {same} |"
                )
            for m, ef_construct in hnsw:
                exact = results["edge"]
                h = measure_hnsw(m, ef_construct, embedder, intents, Path(tmp))
                ids = sum(a == b for a, b in zip(h["top"], exact["top"], strict=True))
                scores = sum(a == b for a, b in zip(h["scores"], exact["scores"], strict=True))
                hnsw_rows.append(
                    f"| {size} | m={m}, ef_construct={ef_construct} | {h['build_s']:.1f} s "
                    f"({h['build_cpu']:.1f} s CPU) | {h['open_ms']:.0f} ms | {h['p50']:.1f} ms "
                    f"| {h['p95']:.1f} ms | {ids}/{len(intents)} | {scores}/{len(intents)} |"
                )
    print(f"\n{len(intents)} intents; retrieve() embeds the intent, queries patterns and policies.")
    p50, p95 = embedding_latency(model, intents)
    print(f"Embedding one intent alone (the model's share of retrieve()): p50 {p50:.1f} ms, "
          f"p95 {p95:.1f} ms.")  # fmt: skip
    if hnsw_rows:
        print(
            "\n| patterns | Qdrant Edge HNSW | build | open + first retrieve | retrieve() p50 "
            "| p95 | same top 5 ids as exact | same top 5 scores as exact |"
        )
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
        print("\n".join(hnsw_rows))


if __name__ == "__main__":
    main()
