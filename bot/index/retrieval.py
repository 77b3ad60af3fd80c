"""Retrieval: the patterns and policies that match a user's intent, best first.

The ORDER comes from Qdrant's hybrid query: dense (semantic) and lexical (BM25) candidates fused
by Reciprocal Rank Fusion, so an exact term such as "postgres" or "cron" lifts an item the
embedding ranks a little lower. Each item has several dense vectors (its naming text and each
trigger) and is scored by the closest one. The reported SCORE is that dense cosine similarity of
intent and item, not the fusion score: fusion scores only rank one result list, while the cosine
is an
absolute number comparable across queries (the metrics stage counts retrievals whose best score
is below a threshold).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.errors import IndexUnavailableError
from bot.index.embeddings import Embedder
from bot.index.sparse import query_vector
from bot.index.store import KINDS, Index, Kind

EMPTY_INDEX_MESSAGE = "index is empty: run `patternbot sync`"
_RESOURCES_KEY: dict[Kind, str] = {"pattern": "suggestedResources", "policy": "appliesTo"}


@dataclass(frozen=True)
class Match:
    """One retrieved item: its id, the cosine similarity to the intent, and what a reader needs."""

    kind: Kind
    id: str
    score: float
    description: str
    resources: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        """JSON form: id, score, description, and suggestedResources or appliesTo."""
        return {
            "id": self.id,
            "score": self.score,
            "description": self.description,
            _RESOURCES_KEY[self.kind]: self.resources,
        }


@dataclass(frozen=True)
class Retrieval:
    """The result of one retrieval: patterns and policies, each best first."""

    intent: str
    patterns: list[Match]
    policies: list[Match]

    def to_data(self) -> dict[str, Any]:
        return {
            "patterns": [m.to_data() for m in self.patterns],
            "policies": [m.to_data() for m in self.policies],
        }


def require_index(index: Index) -> None:
    """Raise IndexUnavailableError telling the user to sync when a collection is missing."""
    if not all(index.exists(kind) for kind in KINDS):
        note = index.legacy_note()
        raise IndexUnavailableError(
            EMPTY_INDEX_MESSAGE + (f" ({note}; sync rebuilds it from git)" if note else "")
        )


def _matches(
    index: Index,
    kind: Kind,
    vector: np.ndarray[Any, Any],
    intent: str,
    limit: int,
    *,
    include_deprecated: bool,
) -> list[Match]:
    hits = index.hybrid_query(
        kind,
        vector.tolist(),
        query_vector(intent),
        limit,
        exclude_deprecated=not include_deprecated and kind == "pattern",
    )
    found = []
    for hit in hits:
        payload = hit.payload
        # Qdrant stores cosine vectors normalised, so a dot product is a cosine; the item's score
        # is the cosine of its closest semantic text (what MAX_SIM ranked it by).
        rows = hit.dense
        cosine = float((rows.reshape(-1, vector.size) @ vector).max()) if rows.size else 0.0
        # Six decimals: the same number in JSON output and in workflow logs, float noise removed.
        score = round(cosine, 6)
        found.append(
            Match(
                kind=kind,
                id=hit.item_id,
                score=score,
                description=str(payload.get("description", "")),
                resources=[str(r) for r in payload.get(_RESOURCES_KEY[kind], [])],
            )
        )
    return found


def retrieve(
    index: Index, embedder: Embedder, intent: str, limit: int, include_deprecated: bool = False
) -> Retrieval:
    """The `limit` best patterns and policies for `intent`; deprecated patterns only if asked."""
    require_index(index)
    vector = embedder.embed([intent])[0]
    return Retrieval(
        intent=intent,
        patterns=_matches(
            index, "pattern", vector, intent, limit, include_deprecated=include_deprecated
        ),
        policies=_matches(
            index, "policy", vector, intent, limit, include_deprecated=include_deprecated
        ),
    )
