"""Signal 3, co-usage: two patterns used together in most of one's uses -> create_pattern."""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.schema import Pattern
from bot.learning.confidence import wilson_lower_bound
from bot.learning.engine import suggest
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import SuggestionType, fingerprint_of
from bot.logs.usage import PairUsage
from tests.support.learning import learning_config, report, standard_kb, usage


def test_patterns_used_together_become_a_combined_pattern(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        workflows_with_solution=200,
        patterns={
            "web-app": usage(times_used=40),
            "cache": usage(times_used=20),
            "database": usage(times_used=150),
        },
        co_usage=[
            PairUsage(a="cache", b="web-app", workflows=18),
            # 30 of web-app's 40 uses, but database is in 75% of all solutions: lift 1.0, no signal.
            PairUsage(a="database", b="web-app", workflows=30),
        ],
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.type is SuggestionType.CREATE_PATTERN
    assert suggestion.target is None
    assert suggestion.confidence == round(wilson_lower_bound(18, 20), 4) == 0.7383
    assert suggestion.reason == (
        "Solutions used web-app and cache together in 90% of cache's uses (18 of 20, lift 4.5)"
    )
    assert suggestion.draft == {
        "id": "web-app-with-cache",
        "description": (
            "Stateless web application behind an ingress, "
            "together with in-memory cache such as Redis"
        ),
        "triggers": ["web application", "website", "frontend", "cache", "redis"],
        "rationale": (
            "web-app and cache are used together in 90% of cache's uses; one pattern that holds "
            "both saves assembling them by hand."
        ),
        "createdAt": "2026-01-31",
        "createdBy": "patternbot",
        "suggestedResources": ["Deployment", "Service", "Ingress"],
    }
    Pattern.model_validate(suggestion.draft)
    evidence = suggestion.evidence
    assert (evidence.signal, evidence.hits, evidence.cases, evidence.frequency) == (
        "co_usage",
        18,
        20,
        0.9,
    )
    assert evidence.patterns_used == ["cache", "web-app"]
    assert evidence.details == {
        "support": 0.09,
        "confidenceAB": 0.9,
        "confidenceBA": 0.45,
        "lift": 4.5,
        "uses": {"cache": 20, "web-app": 40},
    }
    assert evidence.fingerprint == fingerprint_of(
        SuggestionType.CREATE_PATTERN, {"patterns": ["cache", "web-app"]}
    )


def test_a_drafted_id_never_collides_with_an_existing_one(tmp_path: Path) -> None:
    from tests.support.kb import pattern_data
    from tests.support.learning import knowledge_base

    kb = knowledge_base(
        tmp_path,
        [
            pattern_data("a", suggestedResources=["Deployment"]),
            pattern_data("b", suggestedResources=["Service"]),
            pattern_data("a-with-b", suggestedResources=["ConfigMap"]),
        ],
    )
    rep = report(
        workflows_with_solution=100,
        patterns={"a": usage(times_used=30), "b": usage(times_used=25), "a-with-b": usage()},
        co_usage=[PairUsage(a="a", b="b", workflows=25)],
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )
    assert [s.draft["id"] for s in run.suggestions] == ["a-with-b-2"]
    assert run.suggestions[0].draft["suggestedResources"] == ["Deployment", "Service"]
