"""Signal 3, co-usage: patterns used together in most of one's uses become a combined pattern."""

from __future__ import annotations

from bot.knowledge.schema import Pattern
from bot.learning.confidence import wilson_lower_bound
from bot.learning.drafts import BOT_AUTHOR, checked_draft
from bot.learning.findings import (
    Finding,
    SignalContext,
    evidence_from,
    on_cluster,
    scoped_identity,
    window_end_date,
)
from bot.learning.signal import ProportionSignal
from bot.learning.suggestion import SignalName, Suggestion, SuggestionType, fingerprint_of
from bot.learning.wording import percent, unique_id
from bot.logs.usage import UsageReport

SIGNAL = SignalName.CO_USAGE


def _uses(report: UsageReport, pattern_id: str) -> int:
    usage = report.patterns.get(pattern_id)
    return usage.times_used if usage is not None else 0


def measure(ctx: SignalContext, report: UsageReport) -> list[Finding]:
    """One finding per pair with lift >= coUsageMinLift: joint uses out of the rarer one's uses."""
    findings: list[Finding] = []
    total = report.workflows_with_solution
    if total <= 0:
        return findings
    # Live patterns with uses, looked up once: a large report holds a pair for most patterns.
    uses = {
        pid: usage.times_used
        for pid, usage in report.patterns.items()
        if usage.times_used > 0 and pid in ctx.kb.patterns and not ctx.kb.patterns[pid].deprecated
    }
    for pair in report.co_usage:
        a, b = (pair.a, pair.b) if pair.a < pair.b else (pair.b, pair.a)
        uses_a, uses_b = uses.get(a, 0), uses.get(b, 0)
        if uses_a <= 0 or uses_b <= 0 or pair.workflows <= 0:
            continue
        joint = min(pair.workflows, uses_a, uses_b)
        lift = joint * total / (uses_a * uses_b)
        if lift < ctx.settings.co_usage_min_lift:
            continue
        rarer = min(uses_a, uses_b)
        findings.append(
            Finding(
                signal=SIGNAL,
                key=(a, b),
                hits=joint,
                cases=rarer,
                confidence=wilson_lower_bound(joint, rarer, ctx.settings.confidence_z),
                details={
                    "support": round(joint / total, 4),
                    "confidenceAB": round(joint / uses_a, 4),
                    "confidenceBA": round(joint / uses_b, 4),
                    "lift": round(lift, 4),
                    "uses": {a: uses_a, b: uses_b},
                },
                patterns_used=[a, b],
            )
        )
    return findings


def _lower_first(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def build(
    ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
) -> list[Suggestion]:
    """One create_pattern per pair, combining both patterns' resources and triggers."""
    suggestions = []
    for finding in findings:
        a, b = finding.key
        uses = finding.details["uses"]
        first, second = sorted((a, b), key=lambda item: (-uses[item], item))
        pa, pb = ctx.kb.patterns[first], ctx.kb.patterns[second]
        resources = list(dict.fromkeys([*pa.suggested_resources, *pb.suggested_resources]))
        triggers = list(dict.fromkeys([*pa.triggers[:3], *pb.triggers[:3]]))
        share = percent(finding.frequency)
        rarer = second if uses[second] <= uses[first] else first
        where = on_cluster(finding.cluster)
        reason = (
            f"Solutions{where} used {first} and {second} together in {share} of {rarer}'s uses "
            f"({finding.hits} of {finding.cases}, lift {finding.details['lift']:.1f})"
        )
        draft = {
            "id": unique_id(f"{first}-with-{second}", taken_ids),
            "description": (
                f"{pa.description.strip().rstrip('.')}, "
                f"together with {_lower_first(pb.description)}"
            ),
            "triggers": triggers,
            "suggestedResources": resources,
            "rationale": (
                f"{first} and {second} are used together in {share} of {rarer}'s uses"
                f"{where}; one pattern that holds both saves assembling them by hand."
            ),
            "createdAt": window_end_date(report),
            "createdBy": BOT_AUTHOR,
        }
        identity = scoped_identity({"patterns": [a, b]}, finding.cluster)
        fingerprint = fingerprint_of(SuggestionType.CREATE_PATTERN, identity)
        suggestions.append(
            Suggestion(
                type=SuggestionType.CREATE_PATTERN,
                confidence=round(finding.confidence, 4),
                reason=reason,
                draft=checked_draft(Pattern, draft),
                evidence=evidence_from(finding, report, fingerprint),
            )
        )
    return suggestions


def unseen(ctx: SignalContext, report: UsageReport, key: tuple[str, ...]) -> Finding | None:
    """The pair never used together: 0 joint uses out of the rarer one's uses in this report."""
    rarer = min(_uses(report, key[0]), _uses(report, key[1]))
    if rarer <= 0:
        return None
    return Finding(signal=SIGNAL, key=key, hits=0, cases=rarer, confidence=0.0)


class CoUsage(ProportionSignal):
    """Signal 3: patterns used together in most of one's uses become a combined pattern."""

    name = SIGNAL
    drafts_from_used_patterns = True  # a combination is near its own parts by construction

    def measure(self, ctx: SignalContext, report: UsageReport) -> list[Finding]:
        return measure(ctx, report)

    def build(
        self, ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
    ) -> list[Suggestion]:
        return build(ctx, findings, report, taken_ids)

    def unseen(
        self, ctx: SignalContext, report: UsageReport, key: tuple[str, ...]
    ) -> Finding | None:
        return unseen(ctx, report, key)


CO_USAGE = CoUsage()
