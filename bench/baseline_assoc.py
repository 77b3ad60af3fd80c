"""A plain association-rule baseline for the learning benchmark (not part of patternbot).

Every workflow's latest solution is one transaction of items: `P:<pattern>` for the patterns it
used and `K:<kind>` for its resource kinds. Frequent pairs (support >= min_support) give rules
X -> Y with confidence and lift; rules are mapped to suggestions the way a reviewer would read them:

  P:p -> K:k (k not in p's suggestedResources)  => update_pattern p, add k
  P:a -> P:b                                    => create_pattern combining a and b

It knows nothing about retrieval scores, outcomes, settings, clusters or sample size, so it cannot
find gaps, failing or rarely chosen patterns, policies or cluster-specific behaviour.
"""

from __future__ import annotations

import gzip
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.repository import KnowledgeBase


@dataclass(frozen=True)
class Rule:
    """X -> Y with its support (share of transactions), confidence and lift."""

    lhs: str
    rhs: str
    support: float
    confidence: float
    lift: float


def _lines(folder: Path) -> Iterator[str]:
    for path in sorted(folder.iterdir()):
        if path.name.endswith(".jsonl"):
            with path.open(encoding="utf-8") as stream:
                yield from stream
        elif path.name.endswith(".jsonl.gz"):
            with gzip.open(path, "rt", encoding="utf-8") as stream:
                yield from stream


def transactions(folder: Path) -> list[frozenset[str]]:
    """The latest solution of each workflow as a set of P:/K: items."""
    latest: dict[str, tuple[str, frozenset[str]]] = {}
    for line in _lines(folder):
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(event, dict) or event.get("type") != "solution":
            continue
        items = {f"P:{p}" for p in event.get("patternsUsed") or [] if isinstance(p, str)}
        items |= {
            f"K:{r['kind']}"
            for r in event.get("resources") or []
            if isinstance(r, dict) and "kind" in r
        }
        workflow, ts = str(event.get("workflowId")), str(event.get("ts"))
        if workflow not in latest or ts >= latest[workflow][0]:
            latest[workflow] = (ts, frozenset(items))
    return [items for _ts, items in latest.values()]


def rules(
    baskets: list[frozenset[str]], min_support: float, min_confidence: float, min_lift: float
) -> list[Rule]:
    """Rules between frequent pairs of items, both directions, above the three thresholds."""
    total = len(baskets)
    if not total:
        return []
    singles: Counter[str] = Counter(item for basket in baskets for item in basket)
    frequent = {item for item, n in singles.items() if n / total >= min_support}
    pairs: Counter[tuple[str, str]] = Counter()
    for basket in baskets:
        kept = sorted(basket & frequent)
        pairs.update(itertools.combinations(kept, 2))
    found = []
    for (a, b), n in pairs.items():
        if n / total < min_support:
            continue
        for lhs, rhs in ((a, b), (b, a)):
            confidence = n / singles[lhs]
            lift = confidence / (singles[rhs] / total)
            if confidence >= min_confidence and lift >= min_lift:
                found.append(Rule(lhs, rhs, n / total, confidence, lift))
    return sorted(found, key=lambda r: (-r.confidence, r.lhs, r.rhs))


def baseline_suggestions(
    folder: Path,
    kb: KnowledgeBase,
    *,
    min_support: float = 0.01,
    min_confidence: float = 0.7,
    min_lift: float = 1.2,
) -> list[dict[str, object]]:
    """The baseline's suggestions as {type, target?, add?, patterns?, confidence} dicts."""
    out: list[dict[str, object]] = []
    seen: set[tuple[str, ...]] = set()
    for rule in rules(transactions(folder), min_support, min_confidence, min_lift):
        if rule.lhs.startswith("P:") and rule.rhs.startswith("K:"):
            pattern, kind = rule.lhs[2:], rule.rhs[2:]
            if pattern in kb.patterns and kind not in kb.patterns[pattern].suggested_resources:
                key = ("update_pattern", pattern, kind)
                if key not in seen:
                    seen.add(key)
                    out.append(
                        {
                            "type": "update_pattern",
                            "target": pattern,
                            "add": [kind],
                            "confidence": rule.confidence,
                        }
                    )
        elif rule.lhs.startswith("P:") and rule.rhs.startswith("P:"):
            first, second = sorted((rule.lhs[2:], rule.rhs[2:]))
            pair = (first, second)
            key = ("create_pattern", first, second)
            if key not in seen:
                seen.add(key)
                out.append(
                    {
                        "type": "create_pattern",
                        "patterns": list(pair),
                        "confidence": rule.confidence,
                    }
                )
    return out
