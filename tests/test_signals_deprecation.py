"""Signal 5: rarely chosen patterns -> deprecate_pattern; failing patterns -> update_pattern."""

from __future__ import annotations

from pathlib import Path

from bot.learning.confidence import excess_rate_confidence, wilson_lower_bound
from bot.learning.engine import suggest
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import SuggestionType, fingerprint_of
from bot.logs.usage import DayOutcomes
from tests.support.learning import learning_config, report, standard_kb, usage


def test_a_pattern_retrieved_but_seldom_chosen_is_proposed_for_deprecation(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={
            "batch-job": usage(strong_recommendations=30, strong_recommendations_used=1),
            "cache": usage(strong_recommendations=30, strong_recommendations_used=20),
            "database": usage(strong_recommendations=3, strong_recommendations_used=0),
        }
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.type is SuggestionType.DEPRECATE_PATTERN
    assert suggestion.target == "batch-job"
    assert suggestion.confidence == round(wilson_lower_bound(29, 30), 4) == 0.8636
    why = "Retrieved as a strong match in 30 workflows but chosen in only 1 (3%)."
    assert (
        suggestion.reason
        == "batch-job: retrieved as a strong match in 30 workflows but chosen in only 1 (3%)"
    )
    assert suggestion.changes == {"set": {"deprecated": True, "deprecatedReason": why}}
    assert suggestion.draft["deprecated"] is True
    assert suggestion.draft["deprecatedReason"] == why
    assert suggestion.draft["suggestedResources"] == ["CronJob"]
    assert suggestion.evidence.details == {"strongRecommendations": 30, "chosen": 1}
    assert suggestion.evidence.fingerprint == fingerprint_of(
        SuggestionType.DEPRECATE_PATTERN, {"target": "batch-job"}
    )
    # cache was passed over in only 10 of 30: too weak to even list as held back.
    assert [(h.item, h.reason) for h in run.held_back] == [
        ("database", "support 3 is below learning.minSupport 5"),
    ]


def test_an_already_deprecated_pattern_is_left_alone(tmp_path: Path) -> None:
    from tests.support.kb import pattern_data
    from tests.support.learning import knowledge_base

    kb = knowledge_base(
        tmp_path, [pattern_data("old", deprecated=True, deprecatedReason="replaced")]
    )
    rep = report(patterns={"old": usage(strong_recommendations=50, strong_recommendations_used=0)})
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )
    assert run.suggestions == []


def test_a_pattern_failing_far_more_than_the_others_gets_a_rationale_note(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={
            "web-app": usage(times_used=30, deployed=18, failed=12),
            "database": usage(times_used=200, deployed=195, failed=5),
            "cache": usage(times_used=100, deployed=97, failed=3),
        }
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.type is SuggestionType.UPDATE_PATTERN
    assert suggestion.target == "web-app"
    assert suggestion.confidence == round(excess_rate_confidence(12, 30, 8, 300), 4) == 0.8251
    note = (
        "Known issue: deployments using this pattern failed in 40% of cases (12 of 30) against 3% "
        "for other patterns; review its resources and defaults before relying on it."
    )
    assert suggestion.changes == {"append": {"rationale": note}}
    assert suggestion.draft["rationale"] == f"How we deploy web app.\n\n{note}"
    assert (
        suggestion.reason == "Deployments using web-app failed in 40% of cases (12 of 30) "
        "against 3% for other patterns"
    )
    assert suggestion.evidence.details == {
        "failureRate": 0.4,
        "otherFailureRate": 0.0267,
        "otherFailed": 8,
        "otherCases": 300,
        "rateRatio": 15.0,
        "zStatistic": 8.1711,
    }
    assert suggestion.evidence.fingerprint == fingerprint_of(
        SuggestionType.UPDATE_PATTERN, {"target": "web-app", "signal": "failing"}
    )


def test_a_failure_rate_close_to_the_others_is_not_a_signal(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={
            # 8% against 5%: under learning.failureRateRatio (2x).
            "web-app": usage(deployed=92, failed=8),
            "database": usage(deployed=190, failed=10),
        }
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )
    assert run.suggestions == []
    assert run.held_back == []


def test_a_failing_pattern_says_why_it_fails(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    refused = "connection refused to <host>:<n>"
    rep = report(
        patterns={
            "database": usage(
                deployed=18,
                failed=12,
                errors={refused: 10, "timeout after <n>s": 2},
            ),
            "web-app": usage(deployed=292, failed=8, errors={"image pull backoff": 8}),
        }
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.target == "database"
    assert suggestion.reason == (
        "Deployments using database failed in 40% of cases (12 of 30) against 3% for other "
        f'patterns; 10 of 12 failures ended with "{refused}"'
    )
    assert suggestion.evidence.details["errors"] == [
        {"error": refused, "failed": 10, "share": 0.8333},
        {"error": "timeout after <n>s", "failed": 2, "share": 0.1667},
    ]


def _burst_report() -> object:
    """Every pattern failed on 2026-01-15; on the other days 4 of 368 workflows failed."""
    days = {f"2026-01-{d:02d}": DayOutcomes(deployed=13) for d in range(1, 30) if d != 15}
    for day in ("2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"):
        days[day] = DayOutcomes(deployed=12, failed=1)
    days["2026-01-15"] = DayOutcomes(deployed=30, failed=40)
    return report(
        outcomes_by_day=days,
        patterns={
            # cache was used mostly on the bad day: all its failures fell on it.
            "cache": usage(deployed=20, failed=20, failed_by_day={"2026-01-15": 20}),
            "web-app": usage(
                deployed=376,
                failed=24,
                failed_by_day={
                    "2026-01-02": 1,
                    "2026-01-03": 1,
                    "2026-01-04": 1,
                    "2026-01-05": 1,
                    "2026-01-15": 20,
                },
            ),
        },
    )


def test_a_failure_burst_that_hit_every_pattern_is_not_a_patterns_fault(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    run = suggest(
        learning_config(),
        kb,
        _burst_report(),  # type: ignore[arg-type]
        embedder=None,
        index=None,
        history=InMemoryDecisionHistory(),
    )

    # Without the burst, cache (20 of 40) against web-app (24 of 400) would score 0.78.
    assert excess_rate_confidence(20, 40, 24, 400) > 0.7
    assert run.suggestions == []
    assert [(h.item, h.hits, h.cases, h.reason) for h in run.held_back] == [
        (
            "cache",
            0,
            20,
            "support 0 is below learning.minSupport 5 after setting aside 20 failures on burst "
            "days when every pattern failed (2026-01-15)",
        )
    ]
