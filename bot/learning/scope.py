"""Signal 6, cluster-specific behaviour: reported overall, or for the clusters it holds in.

Testing a finding in each of m clusters gives noise m chances to pass somewhere, so the clusters
of one finding are a family corrected with Holm-Bonferroni: the strongest cluster's confidence is
its Wilson bound at alpha/m, the next at alpha/(m-1), and so on, stopping at the first that fails.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable

from bot.learning.findings import Finding
from bot.learning.outcomes import bonferroni_z
from bot.learning.signal import Pooling, Signal
from bot.learning.suggestion import ClusterFigures

Verdict = Callable[[Finding], str | None]  # None when the finding passes, else why not

Key = tuple[str, ...]


@dataclasses.dataclass
class Scoped:
    """Findings to build, and findings held back with why (cluster near misses have `cluster`)."""

    selected: list[Finding]
    held: list[tuple[Finding, str]]


def _figures(per_cluster: dict[str, list[Finding]]) -> dict[Key, dict[str, ClusterFigures]]:
    figures: dict[Key, dict[str, ClusterFigures]] = defaultdict(dict)
    for cluster, findings in sorted(per_cluster.items()):
        for finding in findings:
            frequency = None if finding.frequency is None else round(finding.frequency, 4)
            figures[finding.key][cluster] = ClusterFigures(
                frequency=frequency, hits=finding.hits, cases=finding.cases
            )
    return figures


def _holm(
    signal: Signal, family: list[Finding], size: int, verdict: Verdict, z: float
) -> list[tuple[Finding, str | None]]:
    """Each cluster finding with its Holm-corrected confidence and verdict, strongest first.

    `size` is the number of clusters tested: all of the report's, also those where the finding
    has no instance (decided before looking at the data, as the correction requires).
    """
    ordered = sorted(family, key=lambda f: (-f.confidence, f.cluster or ""))
    judged: list[tuple[Finding, str | None]] = []
    stopped = False
    for rank, finding in enumerate(ordered):
        if size > 1:
            uncorrected = finding.confidence
            finding.confidence = signal.confidence(finding, bonferroni_z(z, size - rank))
            finding.details["clusterCorrection"] = {
                "method": "holm",
                "clusters": size,
                "rank": rank + 1,
                "uncorrectedConfidence": round(uncorrected, 4),
            }
        why = verdict(finding)
        if why is None and stopped:
            why = "a stronger cluster did not pass (Holm step-down stops there)"
        if size > 1 and why is not None and not stopped:
            why = f"{why} (Holm-corrected over {size} clusters)"
        stopped = stopped or why is not None
        judged.append((finding, why))
    return judged


def _pooled(signal: Signal, findings: list[Finding], z: float) -> Finding:
    # The best evidenced cluster lends its wording data; the figures are the clusters' sums.
    base = max(findings, key=lambda f: (f.hits, f.cases))
    pooled = dataclasses.replace(
        base,
        hits=sum(f.hits for f in findings),
        cases=sum(f.cases for f in findings),
        details={k: v for k, v in base.details.items() if k != "clusterCorrection"},
        data=dict(base.data),
        cluster=None,
    )
    pooled.confidence = signal.confidence(pooled, z)
    return pooled


def resolve_scope(
    signal: Signal,
    overall: list[Finding],
    per_cluster: dict[str, list[Finding]],
    verdict: Verdict,
    z: float,
) -> Scoped:
    """The findings to report and those held back, overall and per cluster.

    A finding that passes overall is reported once, with every cluster's figures in its table. One
    that fails overall is tested in each cluster (Holm-corrected). When it passes in several and
    the signal pools, the pooled figures are tested once and, passing, reported once overall (the
    overall report can hold less evidence than its clusters: weak intents are bounded per report);
    otherwise it is reported for each cluster it passes in. Cluster findings that fail are returned
    as held back with their cluster set.
    """
    figures = _figures(per_cluster)
    scoped = Scoped(selected=[], held=[])
    passed: set[Key] = set()
    for finding in overall:
        finding.data["clusters"] = figures.get(finding.key, {})
        why = verdict(finding)
        if why is None:
            scoped.selected.append(finding)
            passed.add(finding.key)
        else:
            scoped.held.append((finding, why))
    by_key: dict[Key, list[Finding]] = defaultdict(list)
    for cluster, findings in sorted(per_cluster.items()):
        for finding in findings:
            if finding.key not in passed:
                finding.cluster = cluster
                finding.data["clusters"] = figures.get(finding.key, {})
                by_key[finding.key].append(finding)
    for key, family in sorted(by_key.items()):
        judged = _holm(signal, family, len(per_cluster), verdict, z)
        passing = [f for f, why in judged if why is None]
        if len(passing) > 1 and signal.pooling is Pooling.SUM:
            pooled = _pooled(signal, family, z)
            if verdict(pooled) is None:
                pooled.data["clusters"] = figures.get(key, {})
                pooled.details["pooledFromClusters"] = True
                scoped.selected.append(pooled)
                scoped.held = [(f, why) for f, why in scoped.held if f.key != key]
                continue
        scoped.selected.extend(passing)
        scoped.held.extend((f, why) for f, why in judged if why is not None)
    return scoped
