"""Signal 6: what holds overall is reported once; what holds in one cluster, for that cluster."""

from __future__ import annotations

from pathlib import Path

from bot.learning.engine import suggest
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import ClusterFigures, SuggestionType, fingerprint_of
from tests.support.learning import learning_config, report, standard_kb, usage


def test_a_signal_that_holds_overall_is_reported_once_with_the_cluster_table(
    tmp_path: Path,
) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={"web-app": usage(times_used=60, common_additions={"PodDisruptionBudget": 51})},
        clusters={
            "prod": report(
                patterns={
                    "web-app": usage(times_used=30, common_additions={"PodDisruptionBudget": 26})
                }
            ),
            "staging": report(
                patterns={
                    "web-app": usage(times_used=30, common_additions={"PodDisruptionBudget": 25})
                }
            ),
        },
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.evidence.cluster is None
    assert (suggestion.evidence.hits, suggestion.evidence.cases) == (51, 60)
    assert suggestion.evidence.clusters == {
        "prod": ClusterFigures(frequency=0.8667, hits=26, cases=30),
        "staging": ClusterFigures(frequency=0.8333, hits=25, cases=30),
    }
    assert (
        suggestion.reason
        == "Solutions using web-app added PodDisruptionBudget in 85% of cases (51 of 60)"
    )


def test_a_signal_that_holds_in_one_cluster_only_is_reported_for_that_cluster(
    tmp_path: Path,
) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={"web-app": usage(times_used=100, common_additions={"NetworkPolicy": 45})},
        clusters={
            "prod": report(
                patterns={"web-app": usage(times_used=40, common_additions={"NetworkPolicy": 38})}
            ),
            "staging": report(
                patterns={"web-app": usage(times_used=60, common_additions={"NetworkPolicy": 7})}
            ),
        },
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.type is SuggestionType.UPDATE_PATTERN
    assert suggestion.evidence.cluster == "prod"
    assert (suggestion.evidence.hits, suggestion.evidence.cases) == (38, 40)
    assert (
        suggestion.reason
        == "Solutions using web-app on cluster prod added NetworkPolicy in 95% of cases (38 of 40)"
    )
    assert suggestion.evidence.clusters == {
        "prod": ClusterFigures(frequency=0.95, hits=38, cases=40),
        "staging": ClusterFigures(frequency=0.1167, hits=7, cases=60),
    }
    assert suggestion.evidence.fingerprint == fingerprint_of(
        SuggestionType.UPDATE_PATTERN,
        {"target": "web-app", "add": ["NetworkPolicy"], "cluster": "prod"},
    )
    # The overall 45% is not reported; it is listed, since 45 of 100 cannot rule out a majority
    # (Wilson upper bound 0.53). Staging's 7 of 60 can, and is not listed.
    assert [(h.item, h.cluster, h.reason) for h in run.held_back] == [
        ("web-app/NetworkPolicy", None, "confidence 0.37 (45 of 100) is below the threshold 0.70")
    ]


def test_two_clusters_holding_separately_give_two_scoped_suggestions(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={"batch-job": usage(strong_recommendations=100, strong_recommendations_used=40)},
        clusters={
            "eu": report(
                patterns={
                    "batch-job": usage(strong_recommendations=30, strong_recommendations_used=0)
                }
            ),
            "us": report(
                patterns={
                    "batch-job": usage(strong_recommendations=30, strong_recommendations_used=1)
                }
            ),
            "asia": report(
                patterns={
                    "batch-job": usage(strong_recommendations=40, strong_recommendations_used=39)
                }
            ),
        },
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    assert [
        (s.type.value, s.target, s.evidence.cluster, s.evidence.hits) for s in run.suggestions
    ] == [
        ("deprecate_pattern", "batch-job", "eu", 30),
        ("deprecate_pattern", "batch-job", "us", 29),
    ]
    assert len({s.evidence.fingerprint for s in run.suggestions}) == 2
    assert [(h.item, h.reason) for h in run.held_back] == [
        ("batch-job", "confidence 0.52 (60 of 100) is below the threshold 0.70")
    ]


def test_clusters_that_all_hold_are_pooled_into_one_overall_suggestion(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    # The overall report can hold less evidence than its clusters (weak intents are bounded per
    # report); two clusters that hold, and hold pooled, are one overall finding.
    rep = report(
        patterns={"batch-job": usage(strong_recommendations=10, strong_recommendations_used=3)},
        clusters={
            "eu": report(
                patterns={
                    "batch-job": usage(strong_recommendations=30, strong_recommendations_used=0)
                }
            ),
            "us": report(
                patterns={
                    "batch-job": usage(strong_recommendations=30, strong_recommendations_used=1)
                }
            ),
        },
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.evidence.cluster is None
    assert (suggestion.evidence.hits, suggestion.evidence.cases) == (59, 60)
    assert suggestion.evidence.details["pooledFromClusters"] is True
    assert suggestion.evidence.clusters == {
        "eu": ClusterFigures(frequency=1.0, hits=30, cases=30),
        "us": ClusterFigures(frequency=0.9667, hits=29, cases=30),
    }
    assert run.held_back == []


def _four_clusters(staging: tuple[int, int]) -> dict[str, object]:
    hits, cases = staging
    parts = {"prod": (2, 30), "staging": (hits, cases), "dev": (3, 30), "qa": (1, 30)}
    return {
        name: report(patterns={"web-app": usage(times_used=n, common_additions={"Secret": h})})
        for name, (h, n) in parts.items()
    }


def test_noise_passing_in_one_of_four_clusters_is_held_back_after_correction(
    tmp_path: Path,
) -> None:
    kb = standard_kb(tmp_path)
    clusters = _four_clusters((12, 13))
    rep = report(
        patterns={"web-app": usage(times_used=103, common_additions={"Secret": 18})},
        clusters=clusters,
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    # 12 of 13 scores 0.7177 alone, above 0.70, but it is one of four clusters: Holm tests the
    # strongest at alpha/4, where it scores 0.6216 (0.6215 rounded down). It is listed as a near
    # miss for its cluster.
    assert run.suggestions == []
    assert [(h.item, h.cluster, h.confidence, h.reason) for h in run.held_back] == [
        (
            "web-app/Secret",
            "staging",
            0.6215,
            "confidence 0.62 (12 of 13) is below the threshold 0.70 "
            "(Holm-corrected over 4 clusters)",
        )
    ]


def test_a_strong_cluster_effect_survives_the_correction(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(
        patterns={"web-app": usage(times_used=130, common_additions={"Secret": 44})},
        clusters=_four_clusters((38, 40)),
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert (suggestion.evidence.cluster, suggestion.confidence) == ("staging", 0.8113)
    assert suggestion.evidence.details["clusterCorrection"] == {
        "method": "holm",
        "clusters": 4,
        "rank": 1,
        "uncorrectedConfidence": 0.8597,
    }
