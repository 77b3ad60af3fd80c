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
from bot.learning.outcomes import burst_exclusion, dominant_errors, failed_by_day_over_patterns
from bot.learning.signal import Pooling, ProportionSignal
from bot.learning.suggestion import SignalName, Suggestion, SuggestionType, fingerprint_of
from bot.learning.wording import percent
from bot.logs.usage import UsageReport


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
                signal=SignalName.RARELY_USED,
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
    """Per pattern whose failure rate is >= failureRateRatio x the other patterns' rate.

    Failures on burst days (an outage that hit every pattern at once, bot/learning/outcomes.py)
    are set aside from the pattern's and the other patterns' figures alike.
    """
    z = ctx.settings.confidence_z
    outcomes = {pid: (u.failed, u.failed + u.deployed) for pid, u in report.patterns.items()}
    all_failed = sum(f for f, _ in outcomes.values())
    all_cases = sum(n for _, n in outcomes.values())
    totals_by_day = failed_by_day_over_patterns(report)
    findings = []
    for pattern_id, (failed, cases) in sorted(outcomes.items()):
        pattern = ctx.kb.patterns.get(pattern_id)
        if pattern is None or pattern.deprecated or failed <= 0:
            continue
        usage = report.patterns[pattern_id]
        burst = burst_exclusion(report, usage, totals_by_day, z)
        own_burst = min(burst.own_failed, failed)
        failed, cases = failed - own_burst, cases - own_burst
        base_failed = max(0, all_failed - outcomes[pattern_id][0] - burst.others_failed)
        base_cases = max(0, all_cases - outcomes[pattern_id][1] - burst.others_failed)
        rate = failed / cases if cases else 0.0
        base_rate = base_failed / base_cases if base_cases else 0.0
        below_ratio = base_cases > 0 and rate < ctx.settings.failure_rate_ratio * base_rate
        # A pattern whose failures fell on burst days stays a finding, to say why it is not one.
        if (failed <= 0 or below_ratio) and not own_burst:
            continue
        statistic = _two_proportion_z(failed, cases, base_failed, base_cases)
        details: dict[str, object] = {
            "failureRate": round(rate, 4),
            "otherFailureRate": round(base_rate, 4),
            "otherFailed": base_failed,
            "otherCases": base_cases,
            "rateRatio": None if base_rate == 0 else round(rate / base_rate, 4),
            "zStatistic": None if statistic is None else round(statistic, 4),
        }
        errors = dominant_errors(usage)
        if errors:
            details["errors"] = errors
        condition = ""
        if own_burst:
            details["burstDays"] = burst.days
            details["failuresOnBurstDays"] = own_burst
            details["confidenceWithBurstDays"] = round(
                excess_rate_confidence(
                    *outcomes[pattern_id],
                    all_failed - outcomes[pattern_id][0],
                    all_cases - outcomes[pattern_id][1],
                    z,
                ),
                4,
            )
            days = ", ".join(burst.days)
            condition = (
                f" after setting aside {own_burst} failures on burst days when every pattern "
                f"failed ({days})"
            )
        findings.append(
            Finding(
                signal=SignalName.FAILING,
                key=(pattern_id,),
                hits=failed,
                cases=cases,
                confidence=excess_rate_confidence(failed, cases, base_failed, base_cases, z),
                details=details,
                patterns_used=[pattern_id],
                condition=condition,
            )
        )
    return findings


def _errors_phrase(errors: list[dict[str, object]], failed: int) -> str:
    """`; 31 of 40 failures ended with "..."` for the dominant error, else nothing."""
    if not errors:
        return ""
    top = errors[0]
    return f'; {top["failed"]} of {failed} failures ended with "{top["error"]}"'


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
        identity = scoped_identity(
            {"target": pattern_id, "signal": SignalName.FAILING.value}, finding.cluster
        )
        suggestions.append(
            Suggestion(
                type=SuggestionType.UPDATE_PATTERN,
                target=pattern_id,
                confidence=round(finding.confidence, 4),
                reason=(
                    f"Deployments using {pattern_id}{where} failed in {percent(rate)} of cases "
                    f"({finding.hits} of {finding.cases}){finding.condition} against "
                    f"{percent(other)} "
                    "for other patterns"
                    + _errors_phrase(
                        finding.details.get("errors", []), _failed_workflows(report, pattern_id)
                    )
                ),
                draft=checked_draft(Pattern, draft),
                changes={"append": {"rationale": note}},
                evidence=evidence_from(
                    finding, report, fingerprint_of(SuggestionType.UPDATE_PATTERN, identity)
                ),
            )
        )
    return suggestions


def _failed_workflows(report: UsageReport, pattern_id: str) -> int:
    """All failed workflows that used the pattern (the denominator of its error counts)."""
    usage = report.patterns.get(pattern_id)
    return usage.failed if usage is not None else 0


class RarelyUsed(ProportionSignal):
    """Signal 5a: patterns retrieved as relevant but seldom chosen are proposed for deprecation."""

    name = SignalName.RARELY_USED

    def measure(self, ctx: SignalContext, report: UsageReport) -> list[Finding]:
        return measure_rarely_used(ctx, report)

    def build(
        self, ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
    ) -> list[Suggestion]:
        return build_rarely_used(ctx, findings, report)

    def unseen(
        self, ctx: SignalContext, report: UsageReport, key: tuple[str, ...]
    ) -> Finding | None:
        usage = report.patterns.get(key[0])
        if usage is None or usage.strong_recommendations <= 0:
            return None
        return Finding(
            signal=self.name,
            key=key,
            hits=0,
            cases=usage.strong_recommendations,
            confidence=0.0,
            details={"strongRecommendations": usage.strong_recommendations, "chosen": 0},
        )


class Failing(ProportionSignal):
    """Signal 5b: patterns failing well above the others get a reviewable known-issue note."""

    name = SignalName.FAILING
    # The confidence compares with the other patterns of the same report: sums are meaningless.
    pooling = Pooling.NEVER

    def measure(self, ctx: SignalContext, report: UsageReport) -> list[Finding]:
        return measure_failing(ctx, report)

    def build(
        self, ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
    ) -> list[Suggestion]:
        return build_failing(ctx, findings, report)

    def confidence(self, finding: Finding, z: float) -> float:
        details = finding.details
        return excess_rate_confidence(
            finding.hits, finding.cases, details["otherFailed"], details["otherCases"], z
        )

    def listed_when_held(self, finding: Finding, threshold: float) -> bool:
        # Listed when it fails more than the others beyond doubt, or did until the burst days
        # were set aside (the reviewer's "why not?").
        before_setting_aside = float(finding.details.get("confidenceWithBurstDays", 0.0))
        return max(finding.confidence, before_setting_aside) > 0.0

    def unseen(
        self, ctx: SignalContext, report: UsageReport, key: tuple[str, ...]
    ) -> Finding | None:
        usage = report.patterns.get(key[0])
        if usage is None or usage.failed + usage.deployed <= 0:
            return None
        return Finding(
            signal=self.name,
            key=key,
            hits=0,
            cases=usage.failed + usage.deployed,
            confidence=0.0,
            details={"otherFailed": 0, "otherCases": 0},
        )


RARELY_USED = RarelyUsed()
FAILING = Failing()
