"""Deduplication: against the knowledge base (nearest existing pattern) and past rejections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

import numpy as np

from bot.errors import IndexUnavailableError
from bot.knowledge.schema import Pattern
from bot.learning.confidence import shown_below
from bot.learning.drafts import checked_draft, item_data
from bot.learning.findings import SignalContext, scoped_identity
from bot.learning.history import RejectedSuggestion
from bot.learning.suggestion import Suggestion, SuggestionType, fingerprint_of
from bot.learning.wording import kinds_phrase

SHORTLIST = 5


class NearestIndex(Protocol):
    """The part of bot.index.store.Index the engine uses."""

    def nearest(
        self, kind: Literal["pattern", "policy"], vector: Sequence[float], limit: int
    ) -> list[tuple[str, float]]: ...


def naming_text(pattern: Pattern) -> str:
    """What a pattern is called: description and triggers, without resources and rationale.

    Drafts share boilerplate with every pattern in their rationale and resource list; comparing
    only the naming text separates duplicates from neighbours far better (docs/learning.md).
    """
    return f"{pattern.description}. {'; '.join(pattern.triggers)}"


def nearest_patterns(
    ctx: SignalContext, index: NearestIndex | None, draft: Pattern, exclude: set[str]
) -> list[tuple[str, float]]:
    """Existing patterns sharing enough resources with a draft, closest by naming text first.

    The index narrows the field to the nearest few by full retrieval text; without an index (or
    with an empty one) every such pattern is compared directly.
    """
    # Only patterns sharing enough resources can be duplicates: a cheap filter before embedding.
    live = {
        pid
        for pid, pattern in ctx.kb.patterns.items()
        if pid not in exclude
        and _resource_overlap(draft, pattern) >= ctx.settings.duplicate_resource_overlap
    }
    shortlist: set[str] = set()
    if index is not None:
        vector = ctx.embed([draft.retrieval_text()])[0]
        try:
            nearest = index.nearest("pattern", vector.tolist(), len(exclude) + SHORTLIST)
        except IndexUnavailableError as exc:
            ctx.warnings.append(f"{exc}; compared drafts with the knowledge base directly")
            nearest = []
        shortlist = {pid for pid, _score in nearest if pid in live}
    ids = sorted(shortlist or live)
    if not ids:
        return []
    vector = ctx.embed([naming_text(draft)])[0]
    scores = ctx.embed([naming_text(ctx.kb.patterns[i]) for i in ids]) @ vector
    order = np.argsort(-scores, kind="stable")
    return [(ids[i], round(float(scores[i]), 4)) for i in order[:SHORTLIST]]


def _resource_overlap(draft: Pattern, existing: Pattern) -> float:
    mine, theirs = set(draft.suggested_resources), set(existing.suggested_resources)
    return len(mine & theirs) / len(mine | theirs)


def against_knowledge_base(
    ctx: SignalContext,
    index: NearestIndex | None,
    suggestion: Suggestion,
    sources: set[str] | None = None,
) -> tuple[Suggestion | None, str | None]:
    """A new pattern close to an existing one becomes an update of it, or is dropped (with why).

    `sources` are the patterns a combination is drafted from: near them by construction, they are
    never its duplicates, and a combination is only ever dropped, never turned into an update.
    """
    if suggestion.type is not SuggestionType.CREATE_PATTERN or ctx.embedder is None:
        return suggestion, None
    draft = Pattern.model_validate(suggestion.draft)
    sources = sources or set()
    found = nearest_patterns(ctx, index, draft, sources)
    overlap = _resource_overlap(draft, ctx.kb.patterns[found[0][0]]) if found else 0.0
    settings = ctx.settings
    if (
        not found
        or found[0][1] < settings.duplicate_similarity
        or overlap < settings.duplicate_resource_overlap
    ):
        if found:
            suggestion.evidence.details["nearestPattern"] = {
                "id": found[0][0],
                "similarity": round(found[0][1], 4),
                "resourceOverlap": round(overlap, 4),
            }
        return suggestion, None
    pattern_id, similarity = found[0][0], round(found[0][1], 4)
    existing = ctx.kb.patterns[pattern_id]
    missing = [k for k in draft.suggested_resources if k not in existing.suggested_resources]
    if missing and sources:
        # A combination near a third pattern is still a combination: only a full duplicate drops it.
        suggestion.evidence.details["nearestPattern"] = {
            "id": pattern_id,
            "similarity": similarity,
            "resourceOverlap": round(overlap, 4),
        }
        return suggestion, None
    if not missing:
        return None, (
            f"close to existing pattern {pattern_id} (similarity {similarity:.2f}), "
            "which already suggests all its resources"
        )
    data = item_data(existing)
    data["suggestedResources"] = [*existing.suggested_resources, *missing]
    evidence = suggestion.evidence.model_copy(deep=True)
    evidence.details.update(
        {"duplicateOf": pattern_id, "similarity": similarity, "draftedAs": draft.id}
    )
    identity = scoped_identity({"target": pattern_id, "add": sorted(missing)}, evidence.cluster)
    evidence.fingerprint = fingerprint_of(SuggestionType.UPDATE_PATTERN, identity)
    return (
        Suggestion(
            type=SuggestionType.UPDATE_PATTERN,
            target=pattern_id,
            confidence=suggestion.confidence,
            reason=(
                f"{suggestion.reason}; that is close to {pattern_id} "
                f"(similarity {similarity:.2f}), "
                f"so {kinds_phrase(missing)} is added to it instead of a new pattern"
            ),
            draft=checked_draft(Pattern, data),
            changes={"add": {"suggestedResources": missing}},
            evidence=evidence,
        ),
        None,
    )


def against_history(
    suggestion: Suggestion, rejected: Mapping[str, RejectedSuggestion], growth: float
) -> str | None:
    """None when the suggestion may be proposed; else why it stays held back.

    A rejected change returns only when its cases grew by `growth` (learning.resubmitGrowth) and its
    confidence is not lower; it then links the earlier rejection in details.previouslyRejected.
    """
    before = rejected.get(suggestion.evidence.fingerprint)
    if before is None:
        return None
    where = before.url or f"fingerprint {before.fingerprint}"
    needed = before.cases * growth
    if suggestion.evidence.cases >= needed and suggestion.confidence >= before.confidence:
        suggestion.evidence.details["previouslyRejected"] = where
        return None
    if suggestion.confidence < before.confidence:
        now, then = shown_below(suggestion.confidence, before.confidence)
    else:
        now, then = f"{suggestion.confidence:.2f}", f"{before.confidence:.2f}"
    return (
        f"rejected before ({where}); evidence has not grown enough: "
        f"{suggestion.evidence.cases} cases (needs {needed:g}) "
        f"at confidence {now} (was {then})"
    )
