"""Weighted Reciprocal Rank Fusion of ranked lists, with a deterministic order for equal scores.

Qdrant fuses prefetches with the same formula, but breaks ties between equal scores by internal
order, which differs between engines and, in Qdrant Edge, between two runs of one query (a
lexical list often holds equal BM25 scores: two items sharing the query's only rare word). The
order of results must be a function of the data, so the index fuses here: within a list, scores
equal to SIGNIFICANT digits rank by item id (two engines compute the same score to about 1e-7,
not to the last bit); equal fused scores, by item id again.
"""

from __future__ import annotations

from collections.abc import Sequence

Ranked = Sequence[tuple[str, float]]  # (item id, score), any order
SIGNIFICANT = 5


def _level(score: float) -> float:
    """The score to SIGNIFICANT digits: what two engines agree on."""
    return float(f"{score:.{SIGNIFICANT}g}")


def ranked_ids(results: Ranked, limit: int | None = None) -> list[str]:
    """Item ids best score first, equal scores (to SIGNIFICANT digits) by id; the first `limit`."""
    ordered = sorted(results, key=lambda r: (-_level(r[1]), r[0]))
    return [item_id for item_id, _ in ordered[:limit]]


def rrf(
    lists: Sequence[Ranked], weights: Sequence[float], k: int, depth: int | None = None
) -> list[tuple[str, float]]:
    """Fused (item id, score), best first: Qdrant's weighted RRF, an item at 0-based rank `pos`
    among the first `depth` of a list of weight `w` scoring 1 / ((pos + 1) / w + k - 1), summed
    over the lists.

    An engine asked for more than `depth` candidates returns every item tied at the cut-off
    that fits; cutting here, in the deterministic order, keeps the same ones in every engine."""
    if len(lists) != len(weights):
        raise ValueError(f"{len(lists)} ranked lists but {len(weights)} weights")
    fused: dict[str, float] = {}
    for results, weight in zip(lists, weights, strict=True):
        for pos, item_id in enumerate(ranked_ids(results, depth)):
            fused[item_id] = fused.get(item_id, 0.0) + 1.0 / ((pos + 1) / weight + k - 1)
    return sorted(fused.items(), key=lambda r: (-r[1], r[0]))
