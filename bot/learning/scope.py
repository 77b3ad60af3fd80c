"""Signal 6, cluster-specific behaviour: reported overall, or for the cluster it holds in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from bot.learning.findings import Finding
from bot.learning.suggestion import ClusterFigures

Verdict = Callable[[Finding], str | None]  # None when the finding passes, else why not
Pool = Callable[[list[Finding]], Finding | None]  # one finding from several clusters' findings


def resolve_scope(
    overall: list[Finding],
    per_cluster: dict[str, list[Finding]],
    verdict: Verdict,
    pool: Pool | None = None,
) -> tuple[list[Finding], list[tuple[Finding, str]]]:
    """The findings to report and the overall ones held back with their reason.

    A finding that passes overall is reported once, with every cluster's figures in its table; one
    that passes in a cluster but not overall is reported for that cluster only. When it passes in
    several clusters and their pooled figures pass too, it is reported once overall, pooled: the
    overall report can hold less evidence than its clusters (weak intents are bounded per report).
    """
    figures: dict[tuple[str, ...], dict[str, ClusterFigures]] = defaultdict(dict)
    for cluster, findings in sorted(per_cluster.items()):
        for finding in findings:
            frequency = None if finding.frequency is None else round(finding.frequency, 4)
            figures[finding.key][cluster] = ClusterFigures(
                frequency=frequency, hits=finding.hits, cases=finding.cases
            )
    selected: list[Finding] = []
    held: list[tuple[Finding, str]] = []
    passed: set[tuple[str, ...]] = set()
    for finding in overall:
        finding.data["clusters"] = figures.get(finding.key, {})
        why = verdict(finding)
        if why is None:
            selected.append(finding)
            passed.add(finding.key)
        else:
            held.append((finding, why))
    by_key: dict[tuple[str, ...], list[Finding]] = defaultdict(list)
    for findings in per_cluster.values():
        for finding in findings:
            by_key[finding.key].append(finding)
    for key, findings in sorted(by_key.items()):
        passing = [f for f in findings if verdict(f) is None]
        pooled = (
            pool(findings) if pool is not None and key not in passed and len(passing) > 1 else None
        )
        if pooled is not None and verdict(pooled) is None:
            pooled.data["clusters"] = figures.get(key, {})
            pooled.details["pooledFromClusters"] = True
            selected.append(pooled)
            passed.add(key)
            held = [(f, why) for f, why in held if f.key != key]
    for cluster, findings in sorted(per_cluster.items()):
        for finding in findings:
            if finding.key in passed or verdict(finding) is not None:
                continue
            finding.cluster = cluster
            finding.data["clusters"] = figures.get(finding.key, {})
            selected.append(finding)
    return selected, held
