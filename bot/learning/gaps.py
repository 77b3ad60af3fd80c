"""Signal 2, gaps: recurring weak-match intents, grouped by meaning, with agreeing solutions."""

from __future__ import annotations

from collections import Counter

import numpy as np
import numpy.typing as npt

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
from bot.learning.suggestion import Suggestion, SuggestionType, fingerprint_of
from bot.learning.wording import (
    informative_phrases,
    kinds_phrase,
    percent,
    slugify,
    unique_id,
    words_of,
)
from bot.logs.usage import UsageReport, WeakIntent

SIGNAL = "gap"
MAX_EXAMPLES = 5
MAX_EXAMPLE_LENGTH = 160


def group_by_meaning(
    vectors: npt.NDArray[np.float32], threshold: float, weights: list[int] | None = None
) -> list[list[int]]:
    """Average-linkage agglomerative clustering on cosine similarity, stopping below `threshold`.

    `weights` counts how many texts each row stands for (identical intents are embedded once).
    """
    n = len(vectors)
    if n == 0:
        return []
    sim = (vectors @ vectors.T).astype(np.float64)
    np.fill_diagonal(sim, -np.inf)
    sizes = np.asarray(weights if weights is not None else [1] * n, dtype=np.float64)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    while len(members) > 1:
        flat = int(np.argmax(sim))
        i, j = divmod(flat, n)
        if sim[i, j] < threshold:
            break
        merged = (sizes[i] * sim[i] + sizes[j] * sim[j]) / (sizes[i] + sizes[j])
        sim[i, :], sim[:, i] = merged, merged
        sim[i, i] = -np.inf
        sim[j, :], sim[:, j] = -np.inf, -np.inf
        sizes[i] += sizes[j]
        members[i].extend(members.pop(j))
    return sorted((sorted(m) for m in members.values()), key=lambda m: (-len(m), m[0]))


def _finding(ctx: SignalContext, group: list[WeakIntent]) -> Finding | None:
    solved = [w for w in group if w.kinds]
    if not solved:
        return None
    counts = Counter(kind for w in solved for kind in set(w.kinds))
    shares = {k: n / len(solved) for k, n in counts.items()}
    core = sorted(
        (k for k, s in shares.items() if s >= ctx.settings.gap_kind_share),
        key=lambda k: (-counts[k], k),
    )
    if not core:
        return None
    hits = sum(1 for w in solved if set(core) <= set(w.kinds))
    texts = [w.intent for w in group]
    examples = [
        t if len(t) <= MAX_EXAMPLE_LENGTH else t[: MAX_EXAMPLE_LENGTH - 1] + "…" for t in texts
    ]
    scores = [w.best_score for w in group if w.best_score is not None]
    return Finding(
        signal=SIGNAL,
        key=tuple(sorted(core)),
        hits=hits,
        cases=len(solved),
        confidence=wilson_lower_bound(hits, len(solved), ctx.settings.confidence_z),
        details={
            "groupSize": len(group),
            "kindShares": {k: round(shares[k], 4) for k in sorted(shares)},
            "bestScoreMax": round(max(scores), 4) if scores else None,
        },
        data={"resources": core, "texts": texts},
        example_intents=list(dict.fromkeys(examples))[:MAX_EXAMPLES],
        patterns_used=sorted({w.best_pattern for w in group if w.best_pattern}),
    )


def measure(ctx: SignalContext, report: UsageReport) -> list[Finding]:
    """One finding per large enough group: solutions holding its resource set, out of all."""
    intents = report.weak_intents
    if ctx.embedder is None or len(intents) < ctx.settings.gap_min_group_size:
        return []
    by_text: dict[str, list[WeakIntent]] = {}
    for weak in intents:
        by_text.setdefault(weak.intent, []).append(weak)
    texts = list(by_text)
    groups = group_by_meaning(
        ctx.embed(texts), ctx.settings.gap_similarity, [len(by_text[t]) for t in texts]
    )
    findings: dict[tuple[str, ...], Finding] = {}
    for indexes in groups:
        group = [weak for i in indexes for weak in by_text[texts[i]]]
        if len(group) < ctx.settings.gap_min_group_size:
            continue
        finding = _finding(ctx, group)
        # Two groups with one resource set propose the same change: keep the better evidenced.
        if finding and (finding.key not in findings or finding.hits > findings[finding.key].hits):
            findings[finding.key] = finding
    return list(findings.values())


def _triggers(texts: list[str]) -> list[str]:
    whole = {" ".join(words_of(t)) for t in texts}
    return [p for p in informative_phrases(texts, limit=6) if p not in whole]


def _topic(triggers: list[str]) -> str:
    """The leading trigger words, once each: `model inference` from `model`, `inference`."""
    return " ".join(dict.fromkeys(" ".join(triggers[:2]).split()))


def _description(triggers: list[str], resources: list[str]) -> str:
    return (
        f"{_topic(triggers).capitalize()} workloads: {kinds_phrase(resources)}, for requests "
        f"about {kinds_phrase(triggers[:3], 'or')}"
    )


def build(
    ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
) -> list[Suggestion]:
    """One create_pattern per gap, its triggers and description taken from the group's words."""
    suggestions = []
    for finding in findings:
        resources: list[str] = finding.data["resources"]
        triggers = _triggers(finding.data["texts"]) or [" ".join(k.lower() for k in resources)]
        where = on_cluster(finding.cluster)
        size = finding.details["groupSize"]
        share = percent(finding.frequency)
        draft = {
            "id": unique_id(slugify(_topic(triggers), 4), taken_ids),
            "description": _description(triggers, resources),
            "triggers": triggers,
            "suggestedResources": resources,
            "rationale": (
                f"{size} requests{where} matched no existing pattern well; "
                f"{share} of their solutions "
                f"({finding.hits} of {finding.cases}) used {kinds_phrase(resources)}."
            ),
            "createdAt": window_end_date(report),
            "createdBy": BOT_AUTHOR,
        }
        identity = scoped_identity({"resources": list(finding.key)}, finding.cluster)
        suggestions.append(
            Suggestion(
                type=SuggestionType.CREATE_PATTERN,
                confidence=round(finding.confidence, 4),
                reason=(
                    f"{size} requests{where} about {kinds_phrase(triggers[:3], 'or')} matched "
                    f"no pattern well and "
                    f"{share} of their solutions ({finding.hits} of {finding.cases}) "
                    f"used {kinds_phrase(resources)}"
                ),
                draft=checked_draft(Pattern, draft),
                evidence=evidence_from(
                    finding, report, fingerprint_of(SuggestionType.CREATE_PATTERN, identity)
                ),
            )
        )
    return suggestions
