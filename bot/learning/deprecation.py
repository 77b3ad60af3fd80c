"""Signal 5, patterns that do not work out: rarely chosen (deprecate) or failing (annotate)."""

from __future__ import annotations

import math

from bot.knowledge.schema import Pattern
from bot.learning.confidence import excess_rate_confidence, wilson_lower_bound
from bot.learning.drafts import checked_draft, item_data
from bot.learning.findings import (
    Finding,
    SignalContext,
    evidence_from,
    on_cluster,
    scoped_identity,
)
from bot.learning.suggestion import Suggestion, SuggestionType, fingerprint_of
from bot.learning.wording import percent
from bot.logs.usage import UsageReport

RARELY_USED = "rarely_used"
FAILING = "failing"


def measure_rarely_used(ctx: SignalContext, report: UsageReport) -> list[Finding]:
    """Per live pattern: strong retrievals that did not use it, out of its strong retrievals."""
    findings = []
    for pattern_id, usage in sorted(report.patterns.items()):
        pattern = ctx.kb.patterns.get(pattern_id)
        strong = usage.strong_recommendations
        passed_over = strong - min(usage.strong_recommendations_used, strong)
        if pattern is None or pattern.deprecated or strong <= 0 or passed_over <= 0:
            continue
        findings.append(
            Finding(
                signal=RARELY_USED,
                key=(pattern_id,),
                hits=passed_over,
                cases=strong,
                confidence=wilson_lower_bound(passed_over, strong, ctx.settings.confidence_z),
                details={"strongRecommendations": strong, "chosen": strong - passed_over},
                patterns_used=[pattern_id],
            )
        )
    return findings


def _two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> float | None:
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return None if spread == 0 else (x1 / n1 - x2 / n2) / spread


def measure_failing(ctx: SignalContext, report: UsageReport) -> list[Finding]:
    """Per pattern whose failure rate is >= failureRateRatio x the other patterns' rate."""
    outcomes = {pid: (u.failed, u.failed + u.deployed) for pid, u in report.patterns.items()}
    all_failed = sum(f for f, _ in outcomes.values())
    all_cases = sum(n for _, n in outcomes.values())
    findings = []
    for pattern_id, (failed, cases) in sorted(outcomes.items()):
        pattern = ctx.kb.patterns.get(pattern_id)
        if pattern is None or pattern.deprecated or failed <= 0:
            continue
        base_failed, base_cases = all_failed - failed, all_cases - cases
        rate = failed / cases
        base_rate = base_failed / base_cases if base_cases else 0.0
        if base_cases and rate < ctx.settings.failure_rate_ratio * base_rate:
            continue
        z = _two_proportion_z(failed, cases, base_failed, base_cases)
        findings.append(
            Finding(
                signal=FAILING,
                key=(pattern_id,),
                hits=failed,
                cases=cases,
                confidence=excess_rate_confidence(
                    failed, cases, base_failed, base_cases, ctx.settings.confidence_z
                ),
                details={
                    "failureRate": round(rate, 4),
                    "otherFailureRate": round(base_rate, 4),
                    "otherFailed": base_failed,
                    "otherCases": base_cases,
                    "rateRatio": None if base_rate == 0 else round(rate / base_rate, 4),
                    "zStatistic": None if z is None else round(z, 4),
                },
                patterns_used=[pattern_id],
            )
        )
    return findings


def build_rarely_used(
    ctx: SignalContext, findings: list[Finding], report: UsageReport
) -> list[Suggestion]:
    """One deprecate_pattern per pattern that is retrieved as relevant but seldom chosen."""
    suggestions = []
    for finding in findings:
        pattern_id = finding.key[0]
        chosen = finding.details["chosen"]
        where = on_cluster(finding.cluster)
        why = (
            f"Retrieved as a strong match in {finding.cases} workflows{where} but chosen in only "
            f"{chosen} ({percent(chosen / finding.cases)})"
        )
        draft = item_data(ctx.kb.patterns[pattern_id])
        draft.update({"deprecated": True, "deprecatedReason": why + "."})
        identity = scoped_identity({"target": pattern_id}, finding.cluster)
        suggestions.append(
            Suggestion(
                type=SuggestionType.DEPRECATE_PATTERN,
                target=pattern_id,
                confidence=round(finding.confidence, 4),
                reason=f"{pattern_id}: {why[0].lower()}{why[1:]}",
                draft=checked_draft(Pattern, draft),
                changes={"set": {"deprecated": True, "deprecatedReason": why + "."}},
                evidence=evidence_from(
                    finding, report, fingerprint_of(SuggestionType.DEPRECATE_PATTERN, identity)
                ),
            )
        )
    return suggestions


def build_failing(
    ctx: SignalContext, findings: list[Finding], report: UsageReport
) -> list[Suggestion]:
    """One update_pattern per failing pattern, appending a reviewable note to its rationale."""
    suggestions = []
    for finding in findings:
        pattern_id = finding.key[0]
        pattern = ctx.kb.patterns[pattern_id]
        rate, other = finding.details["failureRate"], finding.details["otherFailureRate"]
        where = on_cluster(finding.cluster)
        note = (
            f"Known issue: deployments using this pattern{where} failed in {percent(rate)} "
            "of cases "
            f"({finding.hits} of {finding.cases}) against {percent(other)} for other patterns; "
            "review its resources and defaults before relying on it."
        )
        draft = item_data(pattern)
        draft["rationale"] = f"{pattern.rationale.rstrip()}\n\n{note}"
        identity = scoped_identity({"target": pattern_id, "signal": FAILING}, finding.cluster)
        suggestions.append(
            Suggestion(
                type=SuggestionType.UPDATE_PATTERN,
                target=pattern_id,
                confidence=round(finding.confidence, 4),
                reason=(
                    f"Deployments using {pattern_id}{where} failed in {percent(rate)} of cases "
                    f"({finding.hits} of {finding.cases}) against {percent(other)} "
                    "for other patterns"
                ),
                draft=checked_draft(Pattern, draft),
                changes={"append": {"rationale": note}},
                evidence=evidence_from(
                    finding, report, fingerprint_of(SuggestionType.UPDATE_PATTERN, identity)
                ),
            )
        )
    return suggestions
