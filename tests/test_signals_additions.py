"""Signal 1, common additions: kinds added beyond a pattern in most uses -> update_pattern."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.config import Config
from bot.knowledge.repository import load_knowledge_base
from bot.knowledge.schema import Pattern
from bot.learning.engine import suggest
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import SuggestionType, fingerprint_of
from bot.logs.analysis import analyse_logs
from bot.logs.emitter import WorkflowLog
from bot.logs.profiles import SolutionProfile, SolutionProfiles
from bot.logs.usage import UsageReport
from tests.support.kb import make_kb_repo, pattern_data
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


def _profile(patterns: list[str], kinds: list[str], workflows: int) -> SolutionProfile:
    return SolutionProfile(patterns=patterns, kinds=kinds, workflows=workflows, deployed=workflows)


def _partner_explained_report() -> UsageReport:
    """HPA in 95% of web-app's uses with cache (76 of 80) and 0 of 10 without; cache alone 19/20."""
    web, cache, hpa = (
        ["Deployment", "Service", "Ingress"],
        ["Deployment", "Service"],
        "HorizontalPodAutoscaler",
    )
    return report(
        workflows_with_solution=110,
        patterns={
            # What commonAdditions says: credited to every pattern of the workflow.
            "web-app": usage(times_used=90, common_additions={hpa: 76}),
            "cache": usage(times_used=100, common_additions={hpa: 95}),
        },
        solution_profiles=[
            _profile(["cache", "web-app"], sorted([*web, hpa]), 76),
            _profile(["cache", "web-app"], sorted(web), 4),
            _profile(["web-app"], sorted(web), 10),
            _profile(["cache"], sorted([*cache, hpa]), 19),
            _profile(["cache"], sorted(cache), 1),
        ],
    )


def test_a_kind_a_co_used_partner_explains_is_proposed_for_the_partner_only(
    tmp_path: Path,
) -> None:
    kb = standard_kb(tmp_path)
    run = suggest(
        learning_config(),
        kb,
        _partner_explained_report(),
        embedder=None,
        index=None,
        history=InMemoryDecisionHistory(),
    )

    [suggestion] = run.suggestions
    assert (suggestion.target, suggestion.changes) == (
        "cache",
        {"add": {"suggestedResources": ["HorizontalPodAutoscaler"]}},
    )
    assert suggestion.reason == (
        "Solutions using cache added HorizontalPodAutoscaler in 95% of cases (95 of 100)"
    )
    # web-app is judged on its uses without cache, which explains the kind; the conditional
    # rates are in the held-back reason.
    assert [(h.signal, h.item, h.hits, h.cases, h.reason) for h in run.held_back] == [
        (
            "common_additions",
            "web-app/HorizontalPodAutoscaler",
            0,
            10,
            "support 0 is below learning.minSupport 5 in its uses without cache (which explains "
            "it: 95% with it, 76 of 80)",
        )
    ]


def test_the_conditional_rates_are_in_the_evidence(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = _partner_explained_report()
    # web-app also adds PodDisruptionBudget on its own, with or without cache.
    pdb = "PodDisruptionBudget"
    rep.solution_profiles = SolutionProfiles.of(
        _profile(
            p.patterns, sorted({*p.kinds, pdb}) if "web-app" in p.patterns else p.kinds, p.workflows
        )
        for p in rep.solution_profiles
    )
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    web = next(s for s in run.suggestions if s.target == "web-app")
    assert web.changes == {"add": {"suggestedResources": [pdb]}}
    # ...and explains it in cache's uses: cache is not proposed PodDisruptionBudget.
    assert web.evidence.details["additions"] == {
        pdb: {
            "hits": 90,
            "frequency": 1.0,
            "confidence": 0.9708,
            "explains": [
                {
                    "pattern": "cache",
                    "withPartner": {"hits": 80, "cases": 80, "frequency": 1.0},
                    "withoutPartner": {"hits": 0, "cases": 20, "frequency": 0.0},
                }
            ],
        }
    }
    held = next(h for h in run.held_back if h.item == "web-app/HorizontalPodAutoscaler")
    assert held.reason.endswith("(which explains it: 95% with it, 76 of 80)")
    # The partner's evidence shows the conditional rates it is credited with.
    cache = next(s for s in run.suggestions if s.target == "cache")
    assert cache.evidence.details["additions"]["HorizontalPodAutoscaler"] == {
        "hits": 95,
        "frequency": 0.95,
        "confidence": 0.9008,
        "explains": [
            {
                "pattern": "web-app",
                "withPartner": {"hits": 76, "cases": 80, "frequency": 0.95},
                "withoutPartner": {"hits": 0, "cases": 10, "frequency": 0.0},
            }
        ],
    }
    # With every threshold at its floor, web-app's kind is judged on the 10 uses without cache.
    loose = suggest(
        learning_config(min_support=1, min_confidence=0.0),
        kb,
        rep,
        embedder=None,
        index=None,
        history=InMemoryDecisionHistory(),
    )
    web = next(s for s in loose.suggestions if s.target == "web-app")
    assert "HorizontalPodAutoscaler" not in web.changes["add"]["suggestedResources"]


def test_a_kind_listed_twice_in_one_solution_counts_once(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    pdb = "PodDisruptionBudget"
    rep = report(
        patterns={"web-app": usage(times_used=10)},
        solution_profiles=[
            _profile(["web-app", "web-app"], ["Deployment", pdb, pdb], 6),
            _profile(["web-app"], ["Deployment"], 4),
        ],
    )
    run = suggest(
        learning_config(min_confidence=0.0),
        kb,
        rep,
        embedder=None,
        index=None,
        history=InMemoryDecisionHistory(),
    )

    [suggestion] = run.suggestions
    assert (suggestion.evidence.hits, suggestion.evidence.cases) == (6, 10)


def test_a_kind_listed_twice_in_a_logged_solution_counts_once(tmp_path: Path) -> None:
    root = make_kb_repo(
        tmp_path / "kb",
        [pattern_data("web-app", suggestedResources=["Deployment", "Service"])],
        [],
    )
    log = WorkflowLog(tmp_path / "logs" / "wf.jsonl")
    start = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    for n in range(10):
        ts = start + dt.timedelta(minutes=n)
        log.retrieved(f"wf-{n}", "a website", [("web-app", 0.8)], ts=ts)
        kinds = ["Deployment", "Service", *(["Ingress", "Ingress"] if n < 6 else [])]
        log.solution(f"wf-{n}", patterns_used=["web-app"], resources=kinds, ts=ts)
        log.outcome(f"wf-{n}", "deployed", ts=ts + dt.timedelta(seconds=5))
    config = Config()
    config.root = root
    config.learning = config.learning.model_copy(update={"min_confidence": 0.0})
    kb = load_knowledge_base(root)
    rep = analyse_logs(config, kb, [str(tmp_path / "logs")])

    run = suggest(config, kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory())

    [suggestion] = run.suggestions
    assert (suggestion.evidence.hits, suggestion.evidence.cases) == (6, 10)
