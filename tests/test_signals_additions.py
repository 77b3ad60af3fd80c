"""Signal 1, common additions: kinds added beyond a pattern in most uses -> update_pattern."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.schema import Pattern
from bot.learning.engine import suggest
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import SuggestionType, fingerprint_of
from tests.support.learning import learning_config, report, standard_kb, usage


def test_a_kind_added_in_most_uses_becomes_an_update(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={
            "web-app": usage(
                times_used=40,
                # PDB planted at 85%, HPA is 20% noise, Ingress is already in the pattern.
                common_additions={
                    "PodDisruptionBudget": 34,
                    "HorizontalPodAutoscaler": 8,
                    "Ingress": 30,
                },
            ),
            "database": usage(times_used=3, common_additions={"Secret": 3}),
        }
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.type is SuggestionType.UPDATE_PATTERN
    assert suggestion.target == "web-app"
    assert suggestion.confidence == 0.7352
    assert suggestion.reason == (
        "Solutions using web-app added PodDisruptionBudget in 85% of cases (34 of 40)"
    )
    assert suggestion.changes == {"add": {"suggestedResources": ["PodDisruptionBudget"]}}
    assert suggestion.draft["suggestedResources"] == [
        "Deployment",
        "Service",
        "Ingress",
        "PodDisruptionBudget",
    ]
    assert suggestion.draft["id"] == "web-app"
    assert (
        Pattern.model_validate(suggestion.draft).description
        == "Stateless web application behind an ingress"
    )
    evidence = suggestion.evidence
    assert (evidence.signal, evidence.frequency, evidence.hits, evidence.cases) == (
        "common_additions",
        0.85,
        34,
        40,
    )
    assert evidence.patterns_used == ["web-app"]
    assert evidence.details == {
        "additions": {"PodDisruptionBudget": {"hits": 34, "frequency": 0.85, "confidence": 0.7352}}
    }
    assert evidence.fingerprint == fingerprint_of(
        SuggestionType.UPDATE_PATTERN, {"target": "web-app", "add": ["PodDisruptionBudget"]}
    )
    assert (
        evidence.window.end is not None
        and evidence.window.end.isoformat() == "2026-01-31T12:00:00+00:00"
    )
    # The 3-of-3 Secret is listed as held back for support, the 20% noise is not listed at all.
    assert [(h.signal, h.item, h.reason) for h in run.held_back] == [
        ("common_additions", "database/Secret", "support 3 is below learning.minSupport 5")
    ]


def test_several_kinds_of_one_pattern_make_one_suggestion(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={
            "web-app": usage(
                times_used=50, common_additions={"PodDisruptionBudget": 45, "NetworkPolicy": 42}
            )
        }
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.changes == {
        "add": {"suggestedResources": ["NetworkPolicy", "PodDisruptionBudget"]}
    }
    assert suggestion.reason == (
        "Solutions using web-app added PodDisruptionBudget in 90% of cases (45 of 50) "
        "and NetworkPolicy in 84% of cases (42 of 50)"
    )
    # The weakest kind sets the confidence and the headline figures.
    assert (suggestion.evidence.hits, suggestion.evidence.cases) == (42, 50)
    assert suggestion.confidence == 0.7377


@pytest.mark.parametrize(("hits", "cases"), [(8, 10), (3, 3), (10, 50)])
def test_small_or_weak_evidence_is_not_suggested(tmp_path: Path, hits: int, cases: int) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={
            "web-app": usage(times_used=cases, common_additions={"PodDisruptionBudget": hits})
        }
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )
    assert run.suggestions == []


def test_a_lower_threshold_lets_eight_of_ten_through(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={"web-app": usage(times_used=10, common_additions={"PodDisruptionBudget": 8})}
    )
    run = suggest(
        learning_config(),
        kb,
        rep,
        embedder=None,
        index=None,
        history=InMemoryDecisionHistory(),
        min_confidence=0.5,
    )
    assert [s.confidence for s in run.suggestions] == [0.5408]


def test_a_name_that_is_not_a_kind_is_never_drafted(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(patterns={"web-app": usage(times_used=40, common_additions={"pdb": 40})})
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )
    assert run.suggestions == []
