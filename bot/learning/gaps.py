"""Signal 2, gaps: recurring weak-match intents, grouped by topic, with agreeing solutions.

The group's resource set (its core) is every kind present in at least `learning.gapKindShare` of
its solutions. The confidence is the smallest of the core kinds' Wilson lower bounds: with 95%
assurance even the weakest core kind is in at least that share of such solutions. A bound on
"the whole set in one solution" would collapse when users add each kind independently (four
kinds at 90% each are all present in only 66% of solutions) although every kind is well
supported; the weakest kind's bound does not, and it is still a valid bound on every core kind:
the true weakest kind's share lies above its own bound, which is at least the smallest bound.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from bot.knowledge.schema import Pattern
from bot.knowledge.schema import slugify as id_slug
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
from bot.learning.grouping import ResourceProfile, group_by_meaning
from bot.learning.phrases import clean_words, is_generic, topic_phrases
from bot.learning.signal import ProportionSignal
from bot.learning.suggestion import SignalName, Suggestion, SuggestionType, fingerprint_of
from bot.learning.wording import kinds_phrase, percent, unique_id
from bot.logs.usage import UsageReport, WeakIntent

SIGNAL = SignalName.GAP.value
MAX_EXAMPLES = 5
MAX_EXAMPLE_LENGTH = 160
# Drafted ids: the topic's first words, short enough to read in a branch name.
MAX_ID_WORDS = 4
MAX_ID_LENGTH = 40


def _core(solved: list[WeakIntent], share: float) -> tuple[list[str], Counter[str]]:
    counts = Counter(kind for w in solved for kind in set(w.kinds))
    core = sorted(
        (k for k, n in counts.items() if n / len(solved) >= share), key=lambda k: (-counts[k], k)
    )
    return core, counts


def _serving_patterns(ctx: SignalContext, core: list[str]) -> list[Pattern]:
    """Live patterns whose resources overlap `core` as a duplicate's would: those that can fill it.

    The overlap is deduplication's (Jaccard at least `learning.duplicateResourceOverlap`). A
    pattern suggesting other resources does not serve these requests even when its words match,
    and bounding the comparison keeps large knowledge bases cheap to re-score.
    """
    wanted = set(core)
    needed = ctx.settings.duplicate_resource_overlap
    return [
        pattern
        for _id, pattern in sorted(ctx.kb.patterns.items())
        if not pattern.deprecated
        and len(wanted & set(pattern.suggested_resources))
        >= needed * len(wanted | set(pattern.suggested_resources))
    ]


def _nearest_patterns(
    ctx: SignalContext, texts: list[str], core: list[str]
) -> dict[str, tuple[str, float]]:
    """Each text's nearest pattern in today's knowledge base, with its score (text -> both).

    The logged scores were computed against the knowledge base of their day; a pattern added or
    reworded since may match these requests now. The score is retrieval's: the cosine of the
    intent to the closest of the pattern's semantic texts (its naming text and each trigger).
    """
    patterns = _serving_patterns(ctx, core)
    if not patterns or not texts:
        return {}
    owners = [p.id for p in patterns for _text in p.semantic_texts()]
    vectors = ctx.embed([t for p in patterns for t in p.semantic_texts()])
    scores = ctx.embed(texts) @ vectors.T
    best = np.argmax(scores, axis=1)
    return {
        text: (owners[int(j)], round(float(scores[i, j]), 4))
        for i, (text, j) in enumerate(zip(texts, best, strict=True))
    }


def _served_by(
    ctx: SignalContext,
    group: list[WeakIntent],
    core: list[str],
    nearest: dict[str, tuple[str, float]],
) -> str | None:
    """A pattern with exactly these resources that is nearest to most of the group, or None.

    Retrieval pointed these requests to the pattern, then or now (with a weak score: its words
    differ from theirs), and their solutions hold exactly its resources: the pattern serves them.
    A new pattern with the same resources would duplicate it; what is missing is words.
    """
    for leading in (
        Counter(w.best_pattern for w in group if w.best_pattern),
        Counter(nearest[w.intent][0] for w in group if w.intent in nearest),
    ):
        for pattern_id, count in leading.most_common(1):
            pattern = ctx.kb.patterns.get(pattern_id)
            if (
                pattern is not None
                and not pattern.deprecated
                and 2 * count >= len(group)
                and set(pattern.suggested_resources) == set(core)
            ):
                return pattern_id
    return None


def _finding(ctx: SignalContext, group: list[WeakIntent], others: list[str]) -> Finding | None:
    solved = [w for w in group if w.kinds]
    if not solved:
        return None
    core, counts = _core(solved, ctx.settings.gap_kind_share)
    if not core:
        return None
    nearest = _nearest_patterns(ctx, sorted({w.intent for w in group}), core)
    filled = {t: hit for t, hit in nearest.items() if hit[1] >= ctx.weak_match_threshold}
    now_matched = sum(1 for w in group if w.intent in filled)
    if filled:
        # Requests a pattern now serves are no longer evidence of a gap.
        group = [w for w in group if w.intent not in filled]
        solved = [w for w in group if w.kinds]
        if len(group) < ctx.settings.gap_min_group_size or not solved:
            return None
        core, counts = _core(solved, ctx.settings.gap_kind_share)
        if not core:
            return None
    if _served_by(ctx, group, core, nearest) is not None:
        return None
    weakest = min(core, key=lambda k: (counts[k], k))
    cases = len(solved)
    whole = sum(1 for w in solved if set(core) <= set(w.kinds))
    texts = [w.intent for w in group]
    examples = [
        t if len(t) <= MAX_EXAMPLE_LENGTH else t[: MAX_EXAMPLE_LENGTH - 1] + "…" for t in texts
    ]
    scores = [w.best_score for w in group if w.best_score is not None]
    details = {
        "groupSize": len(group),
        "kindShares": {k: round(counts[k] / cases, 4) for k in sorted(counts)},
        "weakestKind": weakest,
        "wholeSetShare": round(whole / cases, 4),
        "bestScoreMax": round(max(scores), 4) if scores else None,
    }
    if filled:
        details["nowMatched"] = {
            "requests": now_matched,
            "patterns": sorted({pattern for pattern, _score in filled.values()}),
        }
    return Finding(
        signal=SIGNAL,
        key=tuple(sorted(core)),
        hits=counts[weakest],
        cases=cases,
        confidence=wilson_lower_bound(counts[weakest], cases, ctx.settings.confidence_z),
        details=details,
        data={
            "supported": counts[weakest] >= ctx.settings.min_support,
            "resources": core,
            "shares": {k: counts[k] / cases for k in core},
            "texts": texts,
            "others": others,
        },
        example_intents=list(dict.fromkeys(examples))[:MAX_EXAMPLES],
        patterns_used=sorted({w.best_pattern for w in group if w.best_pattern}),
    )


def measure(ctx: SignalContext, report: UsageReport) -> list[Finding]:
    """One finding per large enough group: its weakest core kind's solutions, out of all."""
    intents = report.weak_intents
    settings = ctx.settings
    if ctx.embedder is None or len(intents) < settings.gap_min_group_size:
        return []
    by_text: dict[str, list[WeakIntent]] = {}
    for weak in intents:
        by_text.setdefault(weak.intent, []).append(weak)
    texts = list(by_text)
    groups = group_by_meaning(
        ctx.embed(texts),
        settings.gap_similarity,
        [len(by_text[t]) for t in texts],
        [ResourceProfile.of([w.kinds for w in by_text[t]]) for t in texts],
        settings.confidence_z,
    )
    findings: dict[tuple[str, ...], Finding] = {}
    for indexes in groups:
        group = [weak for i in indexes for weak in by_text[texts[i]]]
        if len(group) < settings.gap_min_group_size:
            continue
        inside = set(indexes)
        # Counted like the group's own requests: once per request, not per distinct text.
        others = [w.intent for i, t in enumerate(texts) if i not in inside for w in by_text[t]]
        finding = _finding(ctx, group, others)
        # Two groups with one resource set propose the same change: keep the better evidenced.
        if finding and (finding.key not in findings or finding.hits > findings[finding.key].hits):
            findings[finding.key] = finding
    return list(findings.values())


def draft_triggers(texts: list[str], others: list[str], resources: list[str]) -> list[str]:
    """The group's topic phrases; else words of its most frequent request; else kind names.

    Requests grouped by meaning alone may share no word (a few requests of a family seen on one
    cluster): the most frequent request still names the topic better than its kinds do. Its
    first two topic words are taken, never the whole request.
    """
    shared = topic_phrases(texts, others) or topic_phrases(texts, others, min_share=0.0)
    if shared:
        return shared
    frequent = Counter(texts).most_common(1)[0][0] if texts else ""
    words = [w for w in clean_words(frequent) if not is_generic(w)]
    if len(words) > 2:
        return [" ".join(words[:2])]
    if len(words) == 2:
        return [words[0]]
    return [" ".join(k.lower() for k in resources)]


def draft_id(triggers: list[str], taken: set[str]) -> str:
    """A free, valid id from the topic's words: `message-broker`, `backup-snapshot`."""
    words = clean_words(_topic(triggers))[:MAX_ID_WORDS]
    slug = id_slug(" ".join(words), fallback="gap-pattern")
    while len(slug) > MAX_ID_LENGTH and "-" in slug:
        slug = slug.rsplit("-", 1)[0]
    return unique_id(slug[:MAX_ID_LENGTH].strip("-") or "gap-pattern", taken)


def _topic(triggers: list[str]) -> str:
    """What the pattern is about: its leading phrase of several words, else its leading word."""
    return next((t for t in triggers if " " in t), triggers[0])


def _shares_phrase(resources: list[str], shares: dict[str, float]) -> str:
    """`StatefulSet (100%), Service (97%) and PersistentVolumeClaim (88%)`."""
    return kinds_phrase(f"{k} ({percent(shares[k])})" for k in resources)


def build(
    ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
) -> list[Suggestion]:
    """One create_pattern per gap, named in the words its requests share."""
    suggestions = []
    for finding in findings:
        resources: list[str] = finding.data["resources"]
        shares: dict[str, float] = finding.data["shares"]
        triggers = draft_triggers(finding.data["texts"], finding.data.get("others", []), resources)
        where = on_cluster(finding.cluster)
        size = finding.details["groupSize"]
        used = _shares_phrase(resources, shares)
        draft = {
            "id": draft_id(triggers, taken_ids),
            "description": (
                f"{_topic(triggers).capitalize()} workloads: {kinds_phrase(resources)}, "
                f"for requests about {kinds_phrase(triggers[:3], 'or')}"
            ),
            "triggers": triggers,
            "suggestedResources": resources,
            "rationale": (
                f"{size} requests{where} matched no existing pattern well; their solutions used "
                f"{used}."
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
                    f"no pattern well, and their solutions used {used}: each kind in at least "
                    f"{finding.hits} of {finding.cases}"
                ),
                draft=checked_draft(Pattern, draft),
                evidence=evidence_from(
                    finding, report, fingerprint_of(SuggestionType.CREATE_PATTERN, identity)
                ),
            )
        )
    return suggestions


class GapSignal(ProportionSignal):
    """Gaps as one registered signal: Wilson on the weakest core kind, pooled by summing.

    Summing each cluster's weakest-kind hits never exceeds the pooled weakest kind's hits, so the
    pooled confidence stays a valid (conservative) lower bound.
    """

    name = SignalName.GAP

    def measure(self, ctx: SignalContext, report: UsageReport) -> list[Finding]:
        return measure(ctx, report)

    def build(
        self, ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
    ) -> list[Suggestion]:
        return build(ctx, findings, report, taken_ids)

    def listed_when_held(self, finding: Finding, threshold: float) -> bool:
        # A recurring unmet need whose solutions agree is worth a reviewer's look whatever its
        # share; a handful of repeated one-off requests whose few solutions agree by chance is not.
        return bool(finding.data.get("supported", True))


GAP = GapSignal()
