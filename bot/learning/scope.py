"""Signal 6, cluster-specific behaviour: reported overall, or for the cluster it holds in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from bot.learning.findings import Finding
from bot.learning.suggestion import ClusterFigures

Verdict = Callable[[Finding], str | None]  # None when the finding passes, else why not


def resolve_scope(
    overall: list[Finding], per_cluster: dict[str, list[Finding]], verdict: Verdict
) -> tuple[list[Finding], list[tuple[Finding, str]]]:
    """The findings to report and the overall ones held back with their reason.

    A finding that passes overall is reported once, with every cluster's figures in its table; one
    that passes in a cluster but not overall is reported for that cluster only.
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
    for cluster, findings in sorted(per_cluster.items()):
        for finding in findings:
            if finding.key in passed or verdict(finding) is not None:
                continue
            finding.cluster = cluster
            finding.data["clusters"] = figures.get(finding.key, {})
            selected.append(finding)
    return selected, held
