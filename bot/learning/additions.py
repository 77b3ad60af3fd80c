"""Signal 1, common additions: kinds that solutions add beyond a pattern in most of its uses.

Attribution rule: in a workflow that used several patterns, an added kind may belong to any of
them. For a pattern P, a kind K and each partner Q co-used with P, K's rate in P's uses *with* Q is
compared with its rate in P's uses *without* Q. Q explains K for P when the two Wilson intervals
do not overlap (upper bound without Q < lower bound with Q); P is then judged on its uses without
the best explaining partner only, and the conditional rates go into the evidence. Q is judged on
its own uses like any pattern, so the kind is proposed for the partner that explains it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bot.knowledge.kinds import is_kind_name
from bot.knowledge.schema import Pattern
from bot.learning.confidence import wilson_lower_bound, wilson_upper_bound
from bot.learning.drafts import checked_draft, item_data
from bot.learning.findings import (
    Finding,
    SignalContext,
    evidence_from,
    on_cluster,
    scoped_identity,
)
from bot.learning.profile_counts import ProfileCounts, count_profiles
from bot.learning.signal import ProportionSignal, could_be_a_regularity
from bot.learning.suggestion import SignalName, Suggestion, SuggestionType, fingerprint_of
from bot.learning.wording import kinds_phrase, percent
from bot.logs.usage import UsageReport

SIGNAL = SignalName.COMMON_ADDITIONS
_CONDITIONAL = ("withPartner", "withoutPartner")


def _count(ctx: SignalContext, report: UsageReport) -> ProfileCounts:
    suggests = {pid: p.suggested_resources for pid, p in ctx.kb.patterns.items()}
    # Partners are only compared for kinds that could pass in a pattern's uses: a kind that is a
    # clear minority in all its uses stays one in its uses without any partner.
    return count_profiles(
        report.solution_profiles,
        suggests,
        is_kind_name,
        lambda hits, uses: could_be_a_regularity(hits, uses, ctx.threshold),
    )


def _rate(hits: int, cases: int) -> dict[str, Any]:
    return {"hits": hits, "cases": cases, "frequency": round(hits / cases, 4) if cases else None}


def _explaining_partner(
    counts: ProfileCounts, pattern_id: str, kind: str, z: float
) -> dict[str, Any] | None:
    """The co-used partner whose presence best explains the kind in this pattern's uses, if any."""
    hits, uses = counts.added[pattern_id][kind], counts.uses[pattern_id]
    best: tuple[float, str] | None = None
    for partner, joint in sorted(counts.joint[pattern_id].items()):
        with_hits = counts.added_with[(pattern_id, partner)].get(kind, 0)
        if with_hits <= 0:
            continue
        gap = wilson_lower_bound(with_hits, joint, z) - wilson_upper_bound(
            hits - with_hits, uses - joint, z
        )
        if gap > 0 and (best is None or gap > best[0]):
            best = (gap, partner)
    if best is None:
        return None
    partner = best[1]
    joint = counts.joint[pattern_id][partner]
    with_hits = counts.added_with[(pattern_id, partner)][kind]
    return {
        "explainedBy": partner,
        "withPartner": _rate(with_hits, joint),
        "withoutPartner": _rate(hits - with_hits, uses - joint),
        "allUses": _rate(hits, uses),
    }


def _from_profiles(ctx: SignalContext, report: UsageReport) -> list[Finding]:
    z = ctx.settings.confidence_z
    counts = _count(ctx, report)
    attributions = {
        (pattern_id, kind): _explaining_partner(counts, pattern_id, kind, z)
        for pattern_id in sorted(counts.added)
        for kind in sorted(counts.added[pattern_id])
    }
    # The partner's evidence says which patterns' uses it explains the kind in.
    explains: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for (pattern_id, kind), attribution in attributions.items():
        if attribution is not None:
            explains[(attribution["explainedBy"], kind)].append(
                {"pattern": pattern_id, **{k: attribution[k] for k in _CONDITIONAL}}
            )
    findings = []
    for (pattern_id, kind), attribution in attributions.items():
        hits, cases = counts.added[pattern_id][kind], counts.uses[pattern_id]
        details: dict[str, Any] = {}
        if attribution is not None:
            # Judged on the uses the partner does not explain.
            details["attribution"] = attribution
            hits = attribution["withoutPartner"]["hits"]
            cases = attribution["withoutPartner"]["cases"]
        if (pattern_id, kind) in explains:
            details["explains"] = explains[(pattern_id, kind)]
        findings.append(
            Finding(
                signal=SIGNAL,
                key=(pattern_id, kind),
                hits=hits,
                cases=cases,
                confidence=wilson_lower_bound(hits, cases, z),
                details=details,
                patterns_used=[pattern_id],
                condition=_condition(attribution),
            )
        )
    return findings


def _from_common_additions(ctx: SignalContext, report: UsageReport) -> list[Finding]:
    # Reports without solution profiles: rates from commonAdditions, no attribution possible.
    findings = []
    for pattern_id, usage in sorted(report.patterns.items()):
        pattern = ctx.kb.patterns.get(pattern_id)
        if pattern is None or usage.times_used == 0:
            continue
        for kind, hits in sorted(usage.common_additions.items()):
            if kind in pattern.suggested_resources or not is_kind_name(kind) or hits <= 0:
                continue
            hits = min(hits, usage.times_used)
            findings.append(
                Finding(
                    signal=SIGNAL,
                    key=(pattern_id, kind),
                    hits=hits,
                    cases=usage.times_used,
                    confidence=wilson_lower_bound(
                        hits, usage.times_used, ctx.settings.confidence_z
                    ),
                    patterns_used=[pattern_id],
                )
            )
    return findings


def measure(ctx: SignalContext, report: UsageReport) -> list[Finding]:
    """One finding per (pattern, added kind): workflows adding it out of the pattern's uses."""
    if report.solution_profiles:
        return _from_profiles(ctx, report)
    return _from_common_additions(ctx, report)


def _uses(report: UsageReport, pattern_id: str) -> int:
    if report.solution_profiles:
        return report.solution_profiles.uses(pattern_id)
    usage = report.patterns.get(pattern_id)
    return usage.times_used if usage is not None else 0


def _condition(attribution: dict[str, Any] | None) -> str:
    """` in its uses without web-frontend (which explains it: 95% with it, 38 of 40)` or ``."""
    if attribution is None:
        return ""
    with_partner = attribution["withPartner"]
    return (
        f" in its uses without {attribution['explainedBy']} (which explains it: "
        f"{percent(with_partner['frequency'])} with it, {with_partner['hits']} of "
        f"{with_partner['cases']})"
    )


def build(ctx: SignalContext, findings: list[Finding], report: UsageReport) -> list[Suggestion]:
    """One update_pattern per pattern (and scope), adding every kind that passed."""
    groups: dict[tuple[str | None, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        groups[(finding.cluster, finding.key[0])].append(finding)
    suggestions = []
    for (cluster, pattern_id), group in sorted(
        groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
    ):
        pattern = ctx.kb.patterns[pattern_id]
        group.sort(key=lambda f: (-f.confidence, f.key[1]))
        kinds = sorted(f.key[1] for f in group)
        weakest = min(group, key=lambda f: (f.confidence, f.key[1]))
        draft = item_data(pattern)
        draft["suggestedResources"] = [*pattern.suggested_resources, *kinds]
        parts = [
            f"{f.key[1]} in {percent(f.frequency)} of cases ({f.hits} of {f.cases}){f.condition}"
            for f in group
        ]
        reason = f"Solutions using {pattern_id}{on_cluster(cluster)} added {kinds_phrase(parts)}"
        identity = scoped_identity({"target": pattern_id, "add": kinds}, cluster)
        fingerprint = fingerprint_of(SuggestionType.UPDATE_PATTERN, identity)
        additions = {
            f.key[1]: {
                "hits": f.hits,
                "frequency": round(f.frequency or 0.0, 4),
                "confidence": round(f.confidence, 4),
                **{k: f.details[k] for k in ("attribution", "explains") if k in f.details},
            }
            for f in group
        }
        suggestions.append(
            Suggestion(
                type=SuggestionType.UPDATE_PATTERN,
                target=pattern_id,
                confidence=round(weakest.confidence, 4),
                reason=reason,
                draft=checked_draft(Pattern, draft),
                changes={"add": {"suggestedResources": kinds}},
                evidence=evidence_from(weakest, report, fingerprint, additions=additions),
            )
        )
    return suggestions


class CommonAdditions(ProportionSignal):
    """Signal 1: kinds added beyond a pattern in most of its uses -> update_pattern."""

    name = SIGNAL

    def measure(self, ctx: SignalContext, report: UsageReport) -> list[Finding]:
        return measure(ctx, report)

    def build(
        self, ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
    ) -> list[Suggestion]:
        return build(ctx, findings, report)

    def listed_when_held(self, finding: Finding, threshold: float) -> bool:
        # A kind a partner explains is listed when, credited naively, it would have looked
        # like this pattern's regularity: that is the reviewer's "why not proposed here?".
        attribution = finding.details.get("attribution")
        if attribution is not None:
            everywhere = attribution["allUses"]
            return could_be_a_regularity(everywhere["hits"], everywhere["cases"], threshold)
        return could_be_a_regularity(finding.hits, finding.cases, threshold)

    def unseen(
        self, ctx: SignalContext, report: UsageReport, key: tuple[str, ...]
    ) -> Finding | None:
        uses = _uses(report, key[0])
        if uses <= 0:
            return None
        return Finding(signal=SIGNAL, key=key, hits=0, cases=uses, confidence=0.0)


COMMON_ADDITIONS = CommonAdditions()
