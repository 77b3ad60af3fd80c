"""Weighted Reciprocal Rank Fusion of ranked lists, with a deterministic order for equal scores.

Qdrant fuses prefetches with the same formula, but breaks ties between equal scores by internal
order, which differs between engines and, in Qdrant Edge, between two runs of one query (a
lexical list often holds equal BM25 scores: two items sharing the query's only rare word). The
order of results must be a function of the data, so the index fuses here: within a list, equal
scores rank by item id; equal fused scores, by item id again.
"""

from __future__ import annotations

from collections.abc import Sequence

Ranked = Sequence[tuple[str, float]]  # (item id, score), any order


def ranked_ids(results: Ranked) -> list[str]:
    """Item ids best score first, equal scores by id."""
    return [item_id for item_id, _ in sorted(results, key=lambda r: (-r[1], r[0]))]


def rrf(lists: Sequence[Ranked], weights: Sequence[float], k: int) -> list[tuple[str, float]]:
    """Fused (item id, score), best first: Qdrant's weighted RRF, an item at 0-based rank `pos`
    of a list of weight `w` scoring 1 / ((pos + 1) / w + k - 1), summed over the lists."""
    if len(lists) != len(weights):
        raise ValueError(f"{len(lists)} ranked lists but {len(weights)} weights")
    fused: dict[str, float] = {}
    for results, weight in zip(lists, weights, strict=True):
        for pos, item_id in enumerate(ranked_ids(results)):
            fused[item_id] = fused.get(item_id, 0.0) + 1.0 / ((pos + 1) / weight + k - 1)
    return sorted(fused.items(), key=lambda r: (-r[1], r[0]))
