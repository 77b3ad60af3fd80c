"""Mirroring the knowledge base from git into the index: incremental, idempotent, keeping metrics.

Each point's payload is the item's YAML data (camelCase) plus `contentHash` and `embeddingModel`.
Keys that later stages store beside the content (`usageMetrics`, and any key that is not an item
field) are carried over when the content changes and when the collections are rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import KnowledgeBaseError
from bot.index.embeddings import Embedder
from bot.index.sparse import document_vector
from bot.index.store import KINDS, Index, IndexPoint, Kind
from bot.knowledge.repository import KnowledgeBase
from bot.knowledge.schema import Pattern, Policy

CONTENT_HASH = "contentHash"
EMBEDDING_MODEL = "embeddingModel"
USAGE_METRICS = "usageMetrics"
MAX_LISTED = 20  # removed ids named in the refusal


def _content_keys(model: type[Pattern] | type[Policy]) -> frozenset[str]:
    keys = {field.alias or name for name, field in model.model_fields.items() if name != "kind"}
    return frozenset(keys - {USAGE_METRICS} | {CONTENT_HASH, EMBEDDING_MODEL})


# Keys sync owns: rewritten from git on every change. Everything else in a payload is preserved.
CONTENT_KEYS: dict[Kind, frozenset[str]] = {
    "pattern": _content_keys(Pattern),
    "policy": _content_keys(Policy),
}


@dataclass
class SyncReport:
    """What a sync changed, in items; `rebuilt` says why the collections were rebuilt, if so."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    rebuilt: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "rebuilt": self.rebuilt,
        }


def content_hash(data: Mapping[str, Any]) -> str:
    """sha256 of an item's data as canonical JSON: equal content, equal hash, whatever the YAML."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _rebuild_reason(index: Index, kind: Kind, embedder: Embedder) -> str | None:
    if not index.exists(kind):
        return None
    size, idf = index.layout(kind)
    models_used = {str(p.get(EMBEDDING_MODEL)) for p in index.payloads(kind).values()}
    old_models = sorted(models_used - {embedder.model_id})
    if old_models:
        return (
            f"embedding model changed from {', '.join(old_models)} ({size} dimensions) "
            f"to {embedder.model_id} ({embedder.dimension} dimensions)"
        )
    if size != embedder.dimension:
        return f"vector size changed from {size} to {embedder.dimension} ({embedder.model_id})"
    if not idf:
        return f"collection {index.collection(kind)} has an older layout"
    return None


def _payload(
    kind: Kind,
    item: Pattern | Policy,
    digest: str,
    model_id: str,
    previous: Mapping[str, Any] | None,
) -> dict[str, Any]:
    data = item.to_data()
    legacy_metrics = data.pop(USAGE_METRICS, None)
    kept = {k: v for k, v in (previous or {}).items() if k not in CONTENT_KEYS[kind]}
    # A usageMetrics block in the YAML predates metrics in the index; the index's own numbers win.
    if USAGE_METRICS not in kept and legacy_metrics is not None:
        kept[USAGE_METRICS] = legacy_metrics
    return {**kept, **data, CONTENT_HASH: digest, EMBEDDING_MODEL: model_id}


def _sync_kind(
    index: Index,
    embedder: Embedder,
    kind: Kind,
    items: Mapping[str, Pattern | Policy],
    report: SyncReport,
    force: bool,
) -> None:
    carried: dict[str, dict[str, Any]] = {}
    legacy = index.retire_legacy(kind)
    if legacy is not None:
        # An older on-disk format: rebuilt from git, keeping its non-content payload keys.
        report.rebuilt = report.rebuilt or legacy[0]
        carried = legacy[1]
    reason = (
        "requested with --rebuild"
        if force and index.exists(kind)
        else _rebuild_reason(index, kind, embedder)
    )
    if reason:
        carried = {**carried, **index.payloads(kind)}
        index.drop(kind)
        report.rebuilt = report.rebuilt or reason
    if not index.exists(kind):
        index.create(kind, embedder.dimension)
    stored = index.payloads(kind)
    changed: list[tuple[Pattern | Policy, dict[str, Any]]] = []
    for item_id, item in items.items():
        digest = content_hash(item.to_data())
        previous = stored.get(item_id)
        if previous is not None and previous.get(CONTENT_HASH) == digest:
            report.unchanged += 1
            continue
        if previous is None:
            report.added += 1
        else:
            report.updated += 1
        changed.append(
            (
                item,
                _payload(kind, item, digest, embedder.model_id, previous or carried.get(item_id)),
            )
        )
    if changed:
        # One embedding call for every semantic text of every changed item, then split per item.
        texts = [item.semantic_texts() for item, _ in changed]
        vectors = embedder.embed([text for item_texts in texts for text in item_texts])
        points = []
        start = 0
        for (item, payload), item_texts in zip(changed, texts, strict=True):
            rows = vectors[start : start + len(item_texts)]
            start += len(item_texts)
            sparse = document_vector(item.retrieval_text())
            points.append(IndexPoint(item.id, rows.tolist(), sparse, payload))
        index.upsert(kind, points)
    removed = sorted(set(stored) - set(items))
    index.delete(kind, removed)
    report.removed += len(removed)


def _refuse_mass_removal(index: Index, kb: KnowledgeBase) -> None:
    """Raise when sync would remove all of the index, or more than half of it.

    A wrong `--repo` or patterns path looks like a knowledge base that lost its items; on a shared
    server that would empty the team's index. `--prune` says the shrinking is meant.
    """
    stored = 0
    removed: list[str] = []
    for kind in KINDS:
        if not index.exists(kind):
            continue
        ids = index.payloads(kind)
        items = kb.patterns if kind == "pattern" else kb.policies
        stored += len(ids)
        removed.extend(sorted(set(ids) - set(items)))
    if not removed or (len(removed) < stored and len(removed) * 2 <= stored):
        return
    share = "all of them" if len(removed) == stored else "more than half"
    shown = ", ".join(removed[:MAX_LISTED]) + (
        f", and {len(removed) - MAX_LISTED} more" if len(removed) > MAX_LISTED else ""
    )
    raise KnowledgeBaseError(
        f"sync would remove {len(removed)} of the {stored} items in the index ({share}): "
        f"{shown}; nothing was changed. If the knowledge base really shrank, run "
        "`patternbot sync --prune`; if not, check paths in patternbot.yaml and --repo"
    )


def sync_index(
    index: Index,
    embedder: Embedder,
    kb: KnowledgeBase,
    *,
    rebuild: bool = False,
    prune: bool = False,
) -> SyncReport:
    """Make the index mirror `kb`; refuses an invalid knowledge base, which would drop items,
    and (unless `prune`) removing all of the index or more than half of it."""
    if kb.problems:
        listed = "\n  ".join(str(problem) for problem in kb.problems)
        raise KnowledgeBaseError(
            f"cannot sync: the knowledge base has {len(kb.problems)} problem(s) "
            f"(syncing it would remove items from the index):\n  {listed}"
        )
    if not prune:
        _refuse_mass_removal(index, kb)
    report = SyncReport()
    _sync_kind(index, embedder, "pattern", kb.patterns, report, rebuild)
    _sync_kind(index, embedder, "policy", kb.policies, report, rebuild)
    return report
