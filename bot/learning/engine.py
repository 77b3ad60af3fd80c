"""The learning engine: usage report in, ranked and deduplicated suggestions with evidence out."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import Field

from bot.config import Config
from bot.console import warn
from bot.errors import DraftingError
from bot.knowledge.repository import KnowledgeBase
from bot.knowledge.schema import CamelModel
from bot.learning import additions, co_usage, configurations, deprecation, gaps
from bot.learning.confidence import wilson_lower_bound
from bot.learning.dedupe import NearestIndex, against_history, against_knowledge_base
from bot.learning.findings import Finding, SignalContext, TextEmbedder
from bot.learning.history import DecisionHistory
from bot.learning.scope import resolve_scope
from bot.learning.suggestion import Suggestion
from bot.logs.usage import UsageReport

DETERMINISTIC = "deterministic"


class HeldBack(CamelModel):
    """A candidate that was not emitted, and why (below threshold, over the cap, rejected...)."""

    signal: str
    type: str | None = None
    item: str  # the id or target, or the finding's key for candidates never drafted
    confidence: float
    hits: int
    cases: int
    cluster: str | None = None
    reason: str
    fingerprint: str | None = None

    @classmethod
    def of_suggestion(cls, suggestion: Suggestion, reason: str) -> HeldBack:
        return cls(
            signal=suggestion.evidence.signal,
            type=suggestion.type.value,
            item=suggestion.item_id,
            confidence=suggestion.confidence,
            hits=suggestion.evidence.hits,
            cases=suggestion.evidence.cases,
            cluster=suggestion.evidence.cluster,
            reason=reason,
            fingerprint=suggestion.evidence.fingerprint,
        )


class Refinement(CamelModel):
    """What a drafter returns: the suggestions reworded, plus warnings about what it dropped."""

    suggestions: list[Suggestion]
    warnings: list[str] = Field(default_factory=list)


class Drafter(Protocol):
    """Improves the wording of deterministic drafts (bot.learning.claude); raises DraftingError."""

    @property
    def name(self) -> str: ...

    def refine(
        self, suggestions: list[Suggestion], report: UsageReport, kb: KnowledgeBase
    ) -> Refinement: ...


@dataclass
class SuggestionRun:
    """The engine's result: suggestions ranked and capped, the held back ones, and warnings."""

    suggestions: list[Suggestion]
    held_back: list[HeldBack] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    drafted_by: str = DETERMINISTIC
    model_seconds: float | None = None


Measure = Callable[[SignalContext, UsageReport], list[Finding]]
Build = Callable[[SignalContext, list[Finding], UsageReport, set[str]], list[Suggestion]]


def _ignore_ids(
    build: Callable[[SignalContext, list[Finding], UsageReport], list[Suggestion]],
) -> Build:
    return lambda ctx, findings, report, _taken: build(ctx, findings, report)


SIGNALS: tuple[tuple[str, Measure, Build], ...] = (
    (additions.SIGNAL, additions.measure, _ignore_ids(additions.build)),
    (gaps.SIGNAL, gaps.measure, gaps.build),
    (co_usage.SIGNAL, co_usage.measure, co_usage.build),
    (configurations.SIGNAL, configurations.measure, configurations.build),
    (
        deprecation.RARELY_USED,
        deprecation.measure_rarely_used,
        _ignore_ids(deprecation.build_rarely_used),
    ),
    (deprecation.FAILING, deprecation.measure_failing, _ignore_ids(deprecation.build_failing)),
)


def _verdict(min_support: int, threshold: float) -> Callable[[Finding], str | None]:
    def verdict(finding: Finding) -> str | None:
        if finding.hits < min_support:
            return f"support {finding.hits} is below learning.minSupport {min_support}"
        if finding.confidence < threshold:
            return (
                f"confidence {finding.confidence:.2f} ({finding.hits} of {finding.cases}) is below "
                f"the threshold {threshold:.2f}"
            )
        return None

    return verdict


def _pooler(z: float) -> Callable[[list[Finding]], Finding | None]:
    def pool(findings: list[Finding]) -> Finding | None:
        # The best evidenced cluster lends its wording data; the figures are the clusters' sums.
        base = max(findings, key=lambda f: (f.hits, f.cases))
        hits, cases = sum(f.hits for f in findings), sum(f.cases for f in findings)
        return dataclasses.replace(
            base,
            hits=hits,
            cases=cases,
            confidence=wilson_lower_bound(hits, cases, z),
            details=dict(base.details),
            data=dict(base.data),
            cluster=None,
        )

    return pool


def _worth_listing(finding: Finding) -> bool:
    # Noise (a kind added in 20% of uses) would bury the near misses a reviewer wants to see.
    return finding.signal == deprecation.FAILING or (finding.frequency or 0.0) >= 0.5


def rank_key(suggestion: Suggestion) -> tuple[float, int, str, str]:
    """Confidence first, then impact (cases), then a stable order."""
    return (
        -suggestion.confidence,
        -suggestion.evidence.cases,
        suggestion.type.value,
        suggestion.item_id,
    )


def suggest(
    config: Config,
    kb: KnowledgeBase,
    report: UsageReport,
    *,
    embedder: TextEmbedder | None,
    index: NearestIndex | None,
    history: DecisionHistory,
    min_confidence: float | None = None,
    limit: int | None = None,
    drafter: Drafter | None = None,
) -> SuggestionRun:
    """Every suggestion the report supports: deduplicated, ranked by confidence and impact."""
    settings = config.learning
    threshold = settings.min_confidence if min_confidence is None else min_confidence
    cap = settings.max_suggestions if limit is None else limit
    ctx = SignalContext(settings=settings, kb=kb, embedder=embedder)
    run = SuggestionRun(suggestions=[])
    if embedder is None:
        run.warnings.append(
            "no embedding model: gap detection and semantic policy coverage were skipped"
        )
    verdict = _verdict(settings.min_support, threshold)
    taken_ids = set(kb.patterns) | set(kb.policies)
    candidates: list[Suggestion] = []
    for _name, measure, build in SIGNALS:
        overall = measure(ctx, report)
        per_cluster = {
            name: measure(ctx, cluster_report) for name, cluster_report in report.clusters.items()
        }
        pool = None if measure is deprecation.measure_failing else _pooler(settings.confidence_z)
        selected, held = resolve_scope(overall, per_cluster, verdict, pool)
        run.held_back.extend(
            HeldBack(
                signal=f.signal,
                item="/".join(f.key),
                confidence=round(f.confidence, 4),
                hits=f.hits,
                cases=f.cases,
                reason=why,
            )
            for f, why in held
            if _worth_listing(f)
        )
        candidates.extend(build(ctx, selected, report, taken_ids))

    seen: dict[str, Suggestion] = {}
    rejected = history.rejected()
    for candidate in candidates:
        suggestion, dropped = against_knowledge_base(ctx, index, candidate)
        if suggestion is None:
            run.held_back.append(HeldBack.of_suggestion(candidate, dropped or "duplicate"))
            continue
        fingerprint = suggestion.evidence.fingerprint
        if fingerprint in seen:
            kept, other = sorted((seen[fingerprint], suggestion), key=rank_key)
            seen[fingerprint] = kept
            run.held_back.append(
                HeldBack.of_suggestion(
                    other, f"same change as {kept.item_id} ({kept.evidence.signal})"
                )
            )
            continue
        why = against_history(suggestion, rejected, settings.resubmit_growth)
        if why is not None:
            run.held_back.append(HeldBack.of_suggestion(suggestion, why))
            continue
        seen[fingerprint] = suggestion

    ranked = sorted(seen.values(), key=rank_key)
    run.suggestions = ranked[:cap]
    run.held_back.extend(
        HeldBack.of_suggestion(s, f"over the cap of {cap} suggestions per run")
        for s in ranked[cap:]
    )
    ctx.warnings.extend(run.warnings)
    run.warnings = ctx.warnings
    if drafter is not None and run.suggestions:
        _refine(run, drafter, report, kb)
    return run


def _refine(run: SuggestionRun, drafter: Drafter, report: UsageReport, kb: KnowledgeBase) -> None:
    started = time.perf_counter()
    try:
        refinement = drafter.refine(run.suggestions, report, kb)
    except DraftingError as exc:
        message = f"{exc}; using the deterministic drafts"
        warn(message)
        run.warnings.append(message)
        return
    finally:
        run.model_seconds = round(time.perf_counter() - started, 3)
    for message in refinement.warnings:
        warn(message)
    run.warnings.extend(refinement.warnings)
    run.suggestions = refinement.suggestions
    run.drafted_by = drafter.name
