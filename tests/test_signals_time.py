"""Time: what was adopted in the recent window is proposed; what has stopped is not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.learning.confidence import excess_rate_confidence
from bot.learning.engine import suggest
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import SuggestionType
from bot.logs.usage import SettingUsage, UsageReport, Window
from tests.support.learning import learning_config, report, standard_kb, usage

RECENT = Window(
    start=dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC),
    end=dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC),
)
EARLIER = Window(
    start=dt.datetime(2025, 11, 1, tzinfo=dt.UTC), end=dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
)


def _over_time(
    whole: tuple[int, int], recent: tuple[int, int], earlier: tuple[int, int]
) -> UsageReport:
    def part(figures: tuple[int, int], window: Window) -> UsageReport:
        hits, uses = figures
        return report(
            window=window,
            patterns={
                "web-app": usage(times_used=uses, common_additions={"PodDisruptionBudget": hits})
            },
        )

    rep = part(whole, Window(start=EARLIER.start, end=RECENT.end))
    rep.periods = {"recent": part(recent, RECENT), "earlier": part(earlier, EARLIER)}
    return rep


def test_a_kind_adopted_in_the_recent_window_is_proposed_with_its_timeline(
    tmp_path: Path,
) -> None:
    kb = standard_kb(tmp_path)
    # 25% over the whole window, but 38 of the last 40 uses.
    rep = _over_time(whole=(50, 200), recent=(38, 40), earlier=(12, 160))
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.reason == (
        "Solutions using web-app added PodDisruptionBudget in 95% of cases (38 of 40); "
        "newly adopted: 95% (38 of 40) in the last 30 days against 8% (12 of 160) before"
    )
    # The share of the recent adoption the earlier rate cannot explain, at alpha/2 (the recent
    # window is a second look at the same logs): 1 - upper(12 of 160) / lower(38 of 40).
    assert (
        suggestion.confidence
        == round(excess_rate_confidence(38, 40, 12, 160, 1.959964), 4)
        == 0.8485
    )
    assert suggestion.evidence.window == RECENT
    assert suggestion.evidence.details["timeline"] == {
        "recentDays": 30,
        "recent": {
            "start": "2026-01-01T12:00:00+00:00",
            "end": "2026-01-31T12:00:00+00:00",
            "hits": 38,
            "cases": 40,
            "frequency": 0.95,
        },
        "earlier": {
            "start": "2025-11-01T00:00:00+00:00",
            "end": "2026-01-01T12:00:00+00:00",
            "hits": 12,
            "cases": 160,
            "frequency": 0.075,
        },
        "whole": {
            "start": "2025-11-01T00:00:00+00:00",
            "end": "2026-01-31T12:00:00+00:00",
            "hits": 50,
            "cases": 200,
            "frequency": 0.25,
        },
    }
    assert run.held_back == []


def test_an_adoption_younger_than_the_window_is_not_diluted_away(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    # Used in ~95% of uses since day 67 of 90: 72.5% of the last 30 days (Wilson lower bound at
    # alpha/2 0.68, below 0.70), none before.
    rep = _over_time(whole=(267, 1114), recent=(267, 368), earlier=(0, 746))
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.confidence == 0.9924
    assert suggestion.reason.endswith(
        "newly adopted: 73% (267 of 368) in the last 30 days against 0% (0 of 746) before"
    )


def test_a_minority_habit_that_grew_is_not_an_adoption(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    # 0% -> 30%: above the earlier rate beyond doubt, but not what most recent uses do.
    rep = _over_time(whole=(60, 600), recent=(60, 200), earlier=(0, 400))
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    assert run.suggestions == []


def test_a_regularity_that_has_stopped_is_not_proposed_on_old_data(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    # 81% over the whole window, but 2 of the last 40 uses.
    rep = _over_time(whole=(162, 200), recent=(2, 40), earlier=(160, 160))
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    assert run.suggestions == []
    assert [(h.item, h.hits, h.cases, h.reason) for h in run.held_back] == [
        (
            "web-app/PodDisruptionBudget",
            162,
            200,
            "stopped: 5% (2 of 40) in the last 30 days against 100% (160 of 160) before",
        )
    ]


def test_a_steady_regularity_is_proposed_on_the_whole_window(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = _over_time(whole=(170, 200), recent=(33, 40), earlier=(137, 160))
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert (suggestion.evidence.hits, suggestion.evidence.cases) == (170, 200)
    assert "timeline" not in suggestion.evidence.details


def test_a_setting_adopted_recently_gets_the_same_time_rule(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    path = "spec.template.spec.automountServiceAccountToken"

    def part(hits: int, deployed: int, window: Window) -> UsageReport:
        carried = SettingUsage(
            path=path, value=False, deployed_workflows=hits, kinds={"Deployment": hits}
        )
        return report(
            window=window,
            deployed_solutions=deployed,
            workflows_with_solution=deployed,
            settings=[carried],
        )

    # 22% over the whole window; 67% of the last 30 days; never before.
    rep = part(2763, 12383, Window(start=EARLIER.start, end=RECENT.end))
    rep.periods = {"recent": part(2763, 4149, RECENT), "earlier": part(0, 8234, EARLIER)}
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.type is SuggestionType.CREATE_POLICY
    assert (suggestion.evidence.hits, suggestion.evidence.cases) == (2763, 4149)
    assert suggestion.reason.endswith(
        "newly adopted: 67% (2763 of 4149) in the last 30 days against 0% (0 of 8234) before"
    )
