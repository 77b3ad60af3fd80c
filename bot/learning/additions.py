"""Signal 1, common additions: kinds that solutions add beyond a pattern in most of its uses."""

from __future__ import annotations

from collections import defaultdict

from bot.knowledge.kinds import is_kind_name
from bot.knowledge.schema import Pattern
from bot.learning.confidence import wilson_lower_bound
from bot.learning.drafts import checked_draft, item_data
from bot.learning.findings import (
    Finding,
    SignalContext,
    evidence_from,
    on_cluster,
    scoped_identity,
)
from bot.learning.suggestion import Suggestion, SuggestionType, fingerprint_of
from bot.learning.wording import kinds_phrase, percent
from bot.logs.usage import UsageReport

SIGNAL = "common_additions"


def measure(ctx: SignalContext, report: UsageReport) -> list[Finding]:
    """One finding per (pattern, added kind): workflows adding it out of the pattern's uses."""
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
            f"{f.key[1]} in {percent(f.frequency)} of cases ({f.hits} of {f.cases})" for f in group
        ]
        reason = f"Solutions using {pattern_id}{on_cluster(cluster)} added {kinds_phrase(parts)}"
        identity = scoped_identity({"target": pattern_id, "add": kinds}, cluster)
        fingerprint = fingerprint_of(SuggestionType.UPDATE_PATTERN, identity)
        additions = {
            f.key[1]: {
                "hits": f.hits,
                "frequency": round(f.frequency or 0.0, 4),
                "confidence": round(f.confidence, 4),
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
