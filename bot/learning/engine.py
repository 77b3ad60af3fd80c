"""The learning engine: usage report in, ranked and deduplicated suggestions with evidence out."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import Field

from bot.config import Config
from bot.errors import DraftingError
from bot.index.vectors import reuse_index_vectors
from bot.knowledge.repository import KnowledgeBase
from bot.knowledge.schema import CamelModel
from bot.learning.confidence import floor_to, shown_below
from bot.learning.dedupe import NearestIndex, against_history, against_knowledge_base
from bot.learning.findings import Finding, SignalContext, TextEmbedder
from bot.learning.history import DecisionHistory
from bot.learning.scope import Verdict, resolve_scope
from bot.learning.signal import Signal, registered
from bot.learning.suggestion import SignalName, Suggestion, SuggestionType
from bot.learning.timeline import RECENT, look_at_time, timeline_phrase
from bot.logs.usage import UsageReport

DETERMINISTIC = "deterministic"


class HeldBack(CamelModel):
    """A candidate that was not emitted, and why (below threshold, over the cap, rejected...)."""

    signal: SignalName
    type: SuggestionType | None = None
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
            type=suggestion.type,
            item=suggestion.item_id,
            confidence=floor_to(suggestion.confidence, 4),
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


def _verdict(min_support: int, threshold: float) -> Verdict:
    def verdict(finding: Finding) -> str | None:
        if finding.hits < min_support:
            return (
                f"support {finding.hits} is below learning.minSupport {min_support}"
                f"{finding.condition}"
            )
        if finding.confidence < threshold:
            shown, limit = shown_below(finding.confidence, threshold)
            return (
                f"confidence {shown} ({finding.hits} of {finding.cases}{finding.condition}) "
                f"is below the threshold {limit}"
            )
        return None

    return verdict


def _held(signal: Signal, finding: Finding, reason: str) -> HeldBack:
    return HeldBack(
        signal=signal.name,
        item="/".join(finding.key),
        # Rounded down: a held-back confidence never prints as the threshold it missed.
        confidence=floor_to(finding.confidence, 4),
        hits=finding.hits,
        cases=finding.cases,
        cluster=finding.cluster,
        reason=reason,
    )


def _with_timeline(suggestion: Suggestion) -> Suggestion:
    suggestion.reason = f"{suggestion.reason}; {timeline_phrase(suggestion.evidence.details)}"
    return suggestion


def _candidates(
    signal: Signal,
    ctx: SignalContext,
    report: UsageReport,
    verdict: Verdict,
    threshold: float,
    taken_ids: set[str],
) -> tuple[list[Suggestion], list[HeldBack]]:
    """One signal through scope (overall, clusters) and time (recent window), then built."""
    z = ctx.settings.confidence_z
    overall = signal.measure(ctx, report)
    per_cluster = {name: signal.measure(ctx, part) for name, part in report.clusters.items()}
    scoped = resolve_scope(signal, overall, per_cluster, verdict, z)
    look = look_at_time(signal, ctx, report, scoped.selected, overall, verdict, z)
    stopped = {id(f) for f, _why in look.stopped}
    adopted = {f.key for f in look.adopted}
    selected = [
        f
        for f in scoped.selected
        if id(f) not in stopped and not (f.cluster is not None and f.key in adopted)
    ]
    held = [(f, why) for f, why in scoped.held if f.key not in adopted]
    listed = [_held(signal, f, why) for f, why in held if signal.listed_when_held(f, threshold)]
    listed.extend(_held(signal, f, why) for f, why in look.stopped)
    built = signal.build(ctx, selected, report, taken_ids)
    if look.adopted:
        recent = report.periods[RECENT]
        built.extend(_with_timeline(s) for s in signal.build(ctx, look.adopted, recent, taken_ids))
    return built, listed


def rank_key(suggestion: Suggestion) -> tuple[float, int, str, str]:
    """Confidence first, then impact (cases), then a stable order."""
    return (
        -suggestion.confidence,
        -suggestion.evidence.cases,
        suggestion.type.value,
        suggestion.item_id,
    )


@contextlib.contextmanager
def _without_collection_pauses() -> Iterator[None]:
    # A large report is millions of live objects; every full garbage collection triggered by the
    # findings the engine allocates walks all of them (most of suggest()'s time on 1M events).
    # The engine creates no reference cycles worth collecting mid-run.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
    with _without_collection_pauses():
        return _suggest(
            config, kb, report, embedder, index, history, min_confidence, limit, drafter
        )


def _suggest(
    config: Config,
    kb: KnowledgeBase,
    report: UsageReport,
    embedder: TextEmbedder | None,
    index: NearestIndex | None,
    history: DecisionHistory,
    min_confidence: float | None,
    limit: int | None,
    drafter: Drafter | None,
) -> SuggestionRun:
    settings = config.learning
    threshold = settings.min_confidence if min_confidence is None else min_confidence
    cap = settings.max_suggestions if limit is None else limit
    ctx = SignalContext(
        settings=settings,
        kb=kb,
        # The knowledge base's own texts come from the index's stored vectors when up to date.
        embedder=reuse_index_vectors(embedder, index, kb),
        weak_match_threshold=config.metrics.weak_match_threshold,
        threshold=threshold,
    )
    run = SuggestionRun(suggestions=[])
    if embedder is None:
        run.warnings.append(
            "no embedding model: gap detection and semantic policy coverage were skipped"
        )
    verdict = _verdict(settings.min_support, threshold)
    taken_ids = set(kb.patterns) | set(kb.policies)
    candidates: list[Suggestion] = []
    signals = {signal.name: signal for signal in registered()}
    for signal in signals.values():
        built, held = _candidates(signal, ctx, report, verdict, threshold, taken_ids)
        candidates.extend(built)
        run.held_back.extend(held)

    seen: dict[str, Suggestion] = {}
    rejected = history.rejected()
    for candidate in candidates:
        parts = (
            set(candidate.evidence.patterns_used)
            if signals[candidate.evidence.signal].drafts_from_used_patterns
            else set()
        )
        suggestion, dropped = against_knowledge_base(ctx, index, candidate, parts)
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
        run.warnings.append(f"{exc}; using the deterministic drafts")
        return
    finally:
        run.model_seconds = round(time.perf_counter() - started, 3)
    run.warnings.extend(refinement.warnings)
    run.suggestions = refinement.suggestions
    run.drafted_by = drafter.name
