"""The engine as a whole: ranking, the cap, held-back reasons, deduplication and logs end to end."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import Config
from bot.errors import DraftingError
from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.index.store import Index
from bot.index.sync import sync_index
from bot.knowledge.repository import load_knowledge_base
from bot.knowledge.schema import Pattern
from bot.learning.dedupe import against_knowledge_base
from bot.learning.engine import suggest
from bot.learning.findings import SignalContext
from bot.learning.history import InMemoryDecisionHistory, RejectedSuggestion
from bot.learning.suggestion import (
    Evidence,
    SignalName,
    Suggestion,
    SuggestionType,
    fingerprint_of,
)
from bot.logs.analysis import analyse_logs
from bot.logs.emitter import WorkflowLog
from tests.support.kb import make_kb_repo, pattern_data, policy_data
from tests.support.learning import learning_config, report, standard_kb, usage

NO_HISTORY = InMemoryDecisionHistory()


def _three_signals() -> object:
    return report(
        patterns={
            "web-app": usage(times_used=100, common_additions={"PodDisruptionBudget": 95}),
            "database": usage(times_used=40, common_additions={"Secret": 34}),
            "batch-job": usage(strong_recommendations=30, strong_recommendations_used=1),
        }
    )


def test_suggestions_are_ranked_by_confidence_then_cases_and_capped(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    run = suggest(
        learning_config(),
        kb,
        _three_signals(),
        embedder=None,
        index=None,
        history=NO_HISTORY,
        limit=2,
    )

    assert [(s.type.value, s.item_id, s.confidence) for s in run.suggestions] == [
        ("update_pattern", "web-app", 0.9008),
        ("deprecate_pattern", "batch-job", 0.8636),
    ]
    assert [(h.type, h.item, h.reason) for h in run.held_back] == [
        ("update_pattern", "database", "over the cap of 2 suggestions per run")
    ]
    assert run.drafted_by == "deterministic"
    assert run.model_seconds is None


def test_the_cap_defaults_to_max_suggestions(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    run = suggest(
        learning_config(max_suggestions=1),
        kb,
        _three_signals(),
        embedder=None,
        index=None,
        history=NO_HISTORY,
    )
    assert [s.item_id for s in run.suggestions] == ["web-app"]
    assert len(run.held_back) == 2


def test_the_fingerprint_ignores_counts_and_wording(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    small = report(
        patterns={"web-app": usage(times_used=40, common_additions={"PodDisruptionBudget": 38})}
    )
    large = report(
        patterns={"web-app": usage(times_used=400, common_additions={"PodDisruptionBudget": 350})}
    )
    first = suggest(
        learning_config(), kb, small, embedder=None, index=None, history=NO_HISTORY
    ).suggestions[0]
    second = suggest(
        learning_config(), kb, large, embedder=None, index=None, history=NO_HISTORY
    ).suggestions[0]
    assert first.reason != second.reason
    assert first.evidence.fingerprint == second.evidence.fingerprint


def _rejected(hits: int, cases: int, confidence: float) -> InMemoryDecisionHistory:
    fingerprint = fingerprint_of(
        SuggestionType.UPDATE_PATTERN, {"target": "web-app", "add": ["PodDisruptionBudget"]}
    )
    return InMemoryDecisionHistory(
        {
            fingerprint: RejectedSuggestion(
                fingerprint=fingerprint,
                hits=hits,
                cases=cases,
                confidence=confidence,
                url="https://github.com/acme/kb/pull/7",
            )
        }
    )


def test_a_rejected_suggestion_stays_away_until_its_evidence_grows(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={"web-app": usage(times_used=50, common_additions={"PodDisruptionBudget": 45})}
    )

    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=_rejected(36, 40, 0.75)
    )

    assert run.suggestions == []
    [held] = run.held_back
    assert held.reason == (
        "rejected before (https://github.com/acme/kb/pull/7); evidence has not grown enough: "
        "50 cases (needs 60) at confidence 0.81 (was 0.75)"
    )


def test_a_rejected_suggestion_returns_with_grown_evidence_and_a_link(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={"web-app": usage(times_used=60, common_additions={"PodDisruptionBudget": 55})}
    )

    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=_rejected(36, 40, 0.75)
    )

    [suggestion] = run.suggestions
    assert suggestion.evidence.details["previouslyRejected"] == "https://github.com/acme/kb/pull/7"


def test_more_cases_at_a_lower_confidence_do_not_bring_it_back(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={"web-app": usage(times_used=60, common_additions={"PodDisruptionBudget": 55})}
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=_rejected(38, 40, 0.9)
    )
    assert run.suggestions == []
    assert run.held_back[0].reason.endswith("60 cases (needs 60) at confidence 0.84 (was 0.90)")


def _nightly_draft(kinds: list[str]) -> Suggestion:
    """A drafted new pattern for nightly batch jobs, as the gap signal would draft it."""
    draft = {
        "id": "nightly-batch-job",
        "description": f"Nightly batch job workloads: {' and '.join(kinds)}",
        "triggers": ["nightly batch job", "nightly batch"],
        "suggestedResources": kinds,
        "rationale": "Requests about nightly batch jobs matched no existing pattern well.",
        "createdAt": "2026-01-31",
        "createdBy": "patternbot",
    }
    identity = {"resources": sorted(kinds)}
    return Suggestion(
        type=SuggestionType.CREATE_PATTERN,
        confidence=0.8,
        reason="10 requests about nightly batch job matched no pattern well",
        draft=Pattern.model_validate(draft).to_data(),
        evidence=Evidence(
            signal=SignalName.GAP,
            frequency=0.9,
            hits=9,
            cases=10,
            fingerprint=fingerprint_of(SuggestionType.CREATE_PATTERN, identity),
        ),
    )


def test_a_new_pattern_close_to_an_existing_one_becomes_an_update_of_it(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder, index_factory: Callable[[Path], Index]
) -> None:
    kb = standard_kb(tmp_path)
    root = tmp_path / "kb"
    index = index_factory(root)
    sync_index(index, minilm, kb)
    ctx = SignalContext(settings=learning_config().learning, kb=kb, embedder=minilm)

    suggestion, dropped = against_knowledge_base(
        ctx, index, _nightly_draft(["ConfigMap", "CronJob"])
    )

    assert suggestion is not None and dropped is None
    assert suggestion.type is SuggestionType.UPDATE_PATTERN
    assert suggestion.target == "batch-job"
    assert suggestion.changes == {"add": {"suggestedResources": ["ConfigMap"]}}
    assert suggestion.draft["suggestedResources"] == ["CronJob", "ConfigMap"]
    assert suggestion.draft["id"] == "batch-job"
    details = suggestion.evidence.details
    assert (details["duplicateOf"], details["draftedAs"]) == ("batch-job", "nightly-batch-job")
    assert details["similarity"] >= learning_config().learning.duplicate_similarity
    assert suggestion.reason.endswith(
        f"that is close to batch-job (similarity {details['similarity']:.2f}), "
        "so ConfigMap is added to it instead of a new pattern"
    )
    assert suggestion.evidence.fingerprint == fingerprint_of(
        SuggestionType.UPDATE_PATTERN, {"target": "batch-job", "add": ["ConfigMap"]}
    )


def test_a_new_pattern_that_adds_nothing_to_its_near_duplicate_is_dropped(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    kb = standard_kb(tmp_path)
    ctx = SignalContext(settings=learning_config().learning, kb=kb, embedder=minilm)

    # No index: the knowledge base is embedded directly.
    suggestion, dropped = against_knowledge_base(ctx, None, _nightly_draft(["CronJob"]))

    assert suggestion is None
    assert dropped is not None
    assert dropped.startswith("close to existing pattern batch-job (similarity ")
    assert dropped.endswith("), which already suggests all its resources")


def _write_logs(path: Path) -> None:
    log = WorkflowLog(path)
    rng = random.Random(7)
    start = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    for n in range(60):
        wf = f"wf-{n:03d}"
        ts = start + dt.timedelta(minutes=n)
        log.retrieved(wf, "a public website", [("web-app", 0.82), ("cache", 0.3)], ts=ts)
        kinds = ["Deployment", "Service", "Ingress"]
        if n % 10 != 0:  # PodDisruptionBudget in 54 of 60 uses
            kinds.append("PodDisruptionBudget")
        if rng.random() < 0.2:  # noise
            kinds.append("HorizontalPodAutoscaler")
        log.solution(
            wf, patterns_used=["web-app"], resources=kinds, ts=ts + dt.timedelta(seconds=5)
        )
        log.outcome(wf, "deployed", ts=ts + dt.timedelta(seconds=9))


def test_end_to_end_from_workflow_logs(tmp_path: Path, minilm: MiniLMOnnxEmbedder) -> None:
    root = make_kb_repo(
        tmp_path / "kb",
        [
            pattern_data("web-app", suggestedResources=["Deployment", "Service", "Ingress"]),
            pattern_data("cache"),
        ],
        [policy_data("require-limits")],
    )
    _write_logs(tmp_path / "logs" / "wf.jsonl")
    config = Config()
    config.root = root
    kb = load_knowledge_base(root)
    rep = analyse_logs(config, kb, [str(tmp_path / "logs")])

    run = suggest(config, kb, rep, embedder=minilm, index=None, history=NO_HISTORY)

    [suggestion] = run.suggestions
    assert (
        suggestion.reason
        == "Solutions using web-app added PodDisruptionBudget in 90% of cases (54 of 60)"
    )
    Pattern.model_validate(suggestion.draft)
    assert suggestion.evidence.window.end == dt.datetime(2026, 2, 1, 0, 59, 9, tzinfo=dt.UTC)


def test_a_combination_near_a_third_pattern_stays_a_combination(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    from bot.logs.usage import PairUsage
    from tests.support.learning import knowledge_base

    web = pattern_data(
        "web-app",
        description="Stateless web application behind an ingress",
        triggers=["web application", "website"],
        suggestedResources=["Deployment", "Service", "Ingress"],
    )
    cache = pattern_data(
        "cache",
        description="In-memory cache such as Redis",
        triggers=["cache", "redis"],
        suggestedResources=["Deployment", "Service"],
    )
    near = pattern_data(
        "cached-website",
        description="Web application with an in-memory Redis cache",
        triggers=["cached website", "web application with redis"],
        suggestedResources=["Deployment", "Service"],
    )
    rep = report(
        workflows_with_solution=200,
        patterns={
            "web-app": usage(times_used=40),
            "cache": usage(times_used=20),
            "cached-website": usage(),
        },
        co_usage=[PairUsage(a="cache", b="web-app", workflows=19)],
    )
    kb = knowledge_base(tmp_path / "a", [web, cache, near])
    run = suggest(learning_config(), kb, rep, embedder=minilm, index=None, history=NO_HISTORY)
    [suggestion] = run.suggestions
    assert (suggestion.type, suggestion.draft["id"]) == (
        SuggestionType.CREATE_PATTERN,
        "web-app-with-cache",
    )
    assert suggestion.evidence.details["nearestPattern"]["id"] == "cached-website"

    # Once the near pattern already holds every resource, the combination is a duplicate.
    near["suggestedResources"] = ["Deployment", "Service", "Ingress"]
    kb = knowledge_base(tmp_path / "b", [web, cache, near])
    run = suggest(learning_config(), kb, rep, embedder=minilm, index=None, history=NO_HISTORY)
    assert run.suggestions == []
    assert run.held_back[0].reason.startswith(
        "close to existing pattern cached-website (similarity "
    )


def test_a_held_back_confidence_never_reads_as_the_threshold_it_missed(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    # 75 of 82 scores 0.84972: at two decimals that is the threshold 0.85 itself.
    rep = report(patterns={"web-app": usage(times_used=82, common_additions={"Secret": 75})})
    run = suggest(
        learning_config(min_confidence=0.85),
        kb,
        rep,
        embedder=None,
        index=None,
        history=NO_HISTORY,
    )

    assert run.suggestions == []
    [held] = run.held_back
    assert (held.confidence, held.reason) == (
        0.8497,
        "confidence 0.8497 (75 of 82) is below the threshold 0.85",
    )


def test_a_near_miss_below_half_is_listed_and_noise_is_not(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    # 5 of 11 cannot rule out a majority (upper bound 0.68); 20 of 100 can (0.27).
    rep = report(
        patterns={
            "web-app": usage(times_used=11, common_additions={"Secret": 5}),
            "cache": usage(times_used=100, common_additions={"ConfigMap": 20}),
        }
    )
    run = suggest(learning_config(), kb, rep, embedder=None, index=None, history=NO_HISTORY)

    assert [(h.item, h.reason) for h in run.held_back] == [
        ("web-app/Secret", "confidence 0.24 (5 of 11) is below the threshold 0.70"),
    ]


class _FailingDrafter:
    """A drafter whose model is unreachable (what bot.learning.claude raises then)."""

    name = "claude-test"

    def refine(self, suggestions: object, report: object, kb: object) -> object:
        raise DraftingError("Claude drafting could not reach http://127.0.0.1:9")


def test_the_engine_returns_warnings_and_prints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = standard_kb(tmp_path)
    run = suggest(
        learning_config(),
        kb,
        _three_signals(),  # type: ignore[arg-type]
        embedder=None,
        index=None,
        history=NO_HISTORY,
        drafter=_FailingDrafter(),  # type: ignore[arg-type]
    )

    assert capsys.readouterr() == ("", "")
    assert run.warnings == [
        "no embedding model: gap detection and semantic policy coverage were skipped",
        "Claude drafting could not reach http://127.0.0.1:9; using the deterministic drafts",
    ]
    assert run.drafted_by == "deterministic"
