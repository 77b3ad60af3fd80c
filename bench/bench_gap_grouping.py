"""How well gap grouping keeps paraphrase families together and unrelated topics apart.

Real texts, real resources, real MiniLM: each Helm chart of the corpus (`charts.jsonl`, read at run
time, never copied) is one "request": the first sentence of its description, with the kinds its
templates render by default as the "solution". A family is the set of charts whose authors tagged
them with one topic (their `keywords`: database, monitoring, message queue...); charts tagged with
two topics, or none, are left out. The families' texts were written by the charts' authors, not
by us, and within a family they paraphrase freely ("distributed NoSQL wide-column data store",
"object-relational database known for reliability").

For each method and cut the script reports B-cubed precision (how much of an item's group is its
own family) and recall (how much of its family is in its group), their F1, and how many groups of
at least `--min-group` items mix families (the minority holding at least a fifth of the group).

    python bench/bench_gap_grouping.py                       # the table in docs/learning.md
    python bench/bench_gap_grouping.py --solutions consistent --seed 2
    python bench/bench_gap_grouping.py --drafts --cuts 0.25     # drafted triggers, leave one out
    python bench/bench_gap_grouping.py --corpus ../shared/corpus --cuts 0.2 0.25 0.3
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.learning.gaps import draft_triggers
from bot.learning.grouping import ResourceProfile, group_by_meaning
from bot.learning.wording import informative_phrases, kinds_phrase

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
# Topic -> the chart keywords that name it. The keywords are the chart authors'; which topic
# each keyword belongs to is our one judgement here, and it is about words, not about results.
FAMILIES: dict[str, frozenset[str]] = {
    "monitoring": frozenset({"monitoring", "metrics", "metric", "prometheus", "exporter"}),
    "database": frozenset({"database", "sql", "nosql"}),
    "cache": frozenset({"cache", "memcached"}),
    "tracing": frozenset({"tracing"}),
    "logging": frozenset({"logging", "logs"}),
    "messaging": frozenset({"streaming", "message queue", "messaging", "amqp", "kafka"}),
    "ci-cd": frozenset({"ci", "cd", "continuous delivery", "devops", "gitops"}),
    "networking": frozenset({"cni", "networking"}),
    "machine-learning": frozenset({"machine-learning", "pytorch", "tensorflow"}),
    "proxy-ingress": frozenset({"reverse proxy", "ingress", "proxy"}),
    "cms-blog": frozenset({"blog", "cms"}),
    "storage": frozenset({"storage", "object-storage", "s3"}),
    "secrets-certificates": frozenset({"secrets", "certificate"}),
}
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)])\.\s")


@dataclass(frozen=True)
class Request:
    family: str
    chart: str
    text: str
    kinds: tuple[str, ...]


def load_requests(corpus: Path) -> list[Request]:
    """One request per chart that belongs to exactly one family and renders some kind."""
    requests = []
    with (corpus / "charts.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            chart = json.loads(line)
            keywords = {k.lower() for k in chart.get("keywords") or []}
            if {"machine", "learning"} <= keywords:
                keywords.add("machine-learning")
            families = [name for name, words in FAMILIES.items() if keywords & words]
            kinds = tuple(sorted(set(chart.get("kinds_default_on") or [])))
            if len(families) != 1 or not kinds or not chart.get("description"):
                continue
            text = _SENTENCE_END.split(" ".join(chart["description"].split()), maxsplit=1)[0]
            requests.append(Request(families[0], chart["chart"], text, kinds))
    return requests


def consistent_solutions(
    requests: list[Request], share: float, drop: float, seed: int
) -> list[tuple[str, ...]]:
    """Solutions as a gap family's would be: the family's core kinds, each left out at `drop`.

    The core is every kind rendered by at least `share` of the family's charts (the corpus's
    figures); leaving kinds out independently is the phenomenon of issue 8, and ours.
    """
    rng = random.Random(seed)
    by_family: dict[str, list[Request]] = {}
    for request in requests:
        by_family.setdefault(request.family, []).append(request)
    cores = {}
    for family, members in by_family.items():
        counts = Counter(kind for member in members for kind in member.kinds)
        cores[family] = sorted(k for k, n in counts.items() if n >= share * len(members))
    return [tuple(k for k in cores[r.family] if rng.random() >= drop) for r in requests]


def b_cubed(groups: list[list[int]], labels: list[str]) -> tuple[float, float]:
    """B-cubed precision and recall of a grouping against family labels."""
    group_of = {item: g for g, members in enumerate(groups) for item in members}
    family_size = Counter(labels)
    precision = recall = 0.0
    for item, label in enumerate(labels):
        members = groups[group_of[item]]
        same = sum(1 for other in members if labels[other] == label)
        precision += same / len(members)
        recall += same / family_size[label]
    return precision / len(labels), recall / len(labels)


def mixed_groups(groups: list[list[int]], labels: list[str], min_group: int) -> tuple[int, int]:
    """(groups of at least min_group items, those whose second family holds >= 20% of them)."""
    large = [g for g in groups if len(g) >= min_group]
    mixed = 0
    for members in large:
        counts = Counter(labels[i] for i in members).most_common()
        mixed += len(counts) > 1 and counts[1][1] >= 0.2 * len(members)
    return len(large), mixed


def _semantic_texts(triggers: list[str], kinds: list[str]) -> list[str]:
    """What retrieval embeds for a drafted pattern: its naming text, then each trigger."""
    topic = next((t for t in triggers if " " in t), triggers[0])
    description = (
        f"{topic.capitalize()} workloads: {kinds_phrase(kinds)}, "
        f"for requests about {kinds_phrase(triggers[:3], 'or')}"
    )
    return [f"{description}. {'; '.join(triggers)}", *triggers]


def drafting_accuracy(
    requests: list[Request], embedder: MiniLMOnnxEmbedder, min_family: int
) -> dict[str, tuple[int, int]]:
    """Leave one chart out: is its own family's drafted pattern the closest (dense score)?

    For each chart of a family with at least `min_family` charts, every family drafts a pattern
    from its other charts (today's rule, and the old one: frequent exact words in 30%, else kind
    names); the held-out chart is scored as retrieval scores a pattern (the cosine to the closest
    of its semantic texts). Returns rule -> (charts whose family came first, charts).
    """
    families = sorted({r.family for r in requests})
    rows = embedder.embed([r.text for r in requests])
    vectors = {r.chart: row for r, row in zip(requests, rows, strict=True)}
    hits = {"today": 0, "old": 0}
    total = 0
    embedded: dict[str, npt.NDArray[np.float32]] = {}

    def embed(texts: list[str]) -> npt.NDArray[np.float32]:
        missing = [t for t in dict.fromkeys(texts) if t not in embedded]
        if missing:
            embedded.update(zip(missing, embedder.embed(missing), strict=True))
        return np.stack([embedded[t] for t in texts])

    for held in requests:
        members = [r for r in requests if r.family == held.family]
        if len(members) < min_family:
            continue
        total += 1
        for rule in hits:
            best, best_family = -2.0, ""
            for family in families:
                own = [r for r in requests if r.family == family and r is not held]
                if len(own) < 2:
                    continue
                texts = [r.text for r in own]
                counts = Counter(k for r in own for k in r.kinds)
                kinds = sorted(k for k, n in counts.items() if n >= 0.6 * len(own))
                if rule == "today":
                    others = [r.text for r in requests if r.family != family and r is not held]
                    triggers = draft_triggers(texts, others, kinds)
                else:
                    triggers = informative_phrases(texts) or [" ".join(k.lower() for k in kinds)]
                drafted = embed(_semantic_texts(triggers, kinds))
                score = float((drafted @ vectors[held.chart]).max())
                if score > best:
                    best, best_family = score, family
            hits[rule] += best_family == held.family
    return {rule: (n, total) for rule, n in hits.items()}


def mutual_knn(vectors: npt.NDArray[np.float32], k: int, floor: float) -> list[list[int]]:
    """Connected components of the mutual k-nearest-neighbour graph (edges at >= floor)."""
    sim = vectors @ vectors.T
    np.fill_diagonal(sim, -np.inf)
    nearest = np.argsort(-sim, axis=1)[:, :k]
    neighbours = [set(row.tolist()) for row in nearest]
    parent = list(range(len(vectors)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, near in enumerate(neighbours):
        for j in near:
            if i in neighbours[j] and sim[i, j] >= floor:
                parent[root(i)] = root(j)
    components: dict[int, list[int]] = {}
    for i in range(len(vectors)):
        components.setdefault(root(i), []).append(i)
    return sorted(components.values(), key=lambda m: (-len(m), m[0]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--cuts", type=float, nargs="+", default=[0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5]
    )
    parser.add_argument("--min-group", type=int, default=5)
    parser.add_argument("--z", type=float, default=1.645)
    parser.add_argument(
        "--solutions",
        choices=["charts", "consistent"],
        default="charts",
        help="the charts' own default kinds, or each family's core with kinds left out at 10%%",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--drafts", action="store_true", help="also measure drafted triggers (leave one chart out)"
    )
    args = parser.parse_args()
    if not (args.corpus / "charts.jsonl").is_file():
        print(f"no charts.jsonl in {args.corpus}", file=sys.stderr)
        return 1
    requests = load_requests(args.corpus)
    labels = [r.family for r in requests]
    embedder = MiniLMOnnxEmbedder()
    vectors = embedder.embed([r.text for r in requests])
    sim = vectors @ vectors.T
    same = np.equal.outer(np.array(labels), np.array(labels))
    upper = np.triu_indices(len(requests), 1)
    within, across = sim[upper][same[upper]], sim[upper][~same[upper]]
    sizes = ", ".join(f"{name} {n}" for name, n in Counter(labels).most_common())
    print(f"{len(requests)} requests in {len(set(labels))} families ({sizes})")
    print(
        "pair cosine percentiles 5/25/50/75/95: "
        f"same family {np.percentile(within, [5, 25, 50, 75, 95]).round(2).tolist()}, "
        f"different families {np.percentile(across, [5, 25, 50, 75, 95]).round(2).tolist()}"
    )
    solutions = (
        [r.kinds for r in requests]
        if args.solutions == "charts"
        else consistent_solutions(requests, 0.6, 0.1, args.seed)
    )
    profiles = [ResourceProfile.of([kinds]) for kinds in solutions]
    print(
        f"\n| method | cut | B3 precision | B3 recall | F1 | groups >= {args.min_group} | mixed |"
    )
    print("|---|---|---|---|---|---|---|")
    rows: list[tuple[str, str, list[list[int]]]] = []
    for cut in args.cuts:
        rows.append(("average linkage, text only", f"{cut:g}", group_by_meaning(vectors, cut)))
        rows.append(
            (
                "average linkage, resource veto",
                f"{cut:g}",
                group_by_meaning(vectors, cut, profiles=profiles, z=args.z),
            )
        )
    for k in (3, 5):
        for floor in (0.2, 0.3):
            rows.append((f"mutual {k}-NN components", f"{floor:g}", mutual_knn(vectors, k, floor)))
    for method, cut, groups in rows:
        precision, recall = b_cubed(groups, labels)
        f1 = 2 * precision * recall / (precision + recall)
        large, mixed = mixed_groups(groups, labels, args.min_group)
        print(
            f"| {method} | {cut} | {precision:.3f} | {recall:.3f} | {f1:.3f} | {large} | {mixed} |"
        )
    if args.drafts:
        print("\ndrafted triggers, held-out chart's own family first (dense score):")
        for rule, (hits, total) in drafting_accuracy(requests, embedder, 5).items():
            print(f"  {rule}: {hits} of {total} ({hits / total:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
