"""Reviewers' decisions: accepted, modified, rejected; acceptance rates; adapted thresholds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.config import load_config
from bot.platform.base import Proposal, ProposalState
from bot.platform.feedback import (
    PlatformHistory,
    TypeAcceptance,
    acceptance_by_type,
    adapted_thresholds,
    decision_of,
    decisions_of,
)
from bot.platform.pr_body import ProposalMetadata, with_metadata


def proposal(
    number: int,
    state: ProposalState,
    kind: str = "update_pattern",
    fingerprint: str = "fp1",
    head: str = "aaa",
    bot_head: str = "aaa",
    human_edits: bool = False,
) -> Proposal:
    metadata = ProposalMetadata(
        fingerprint=fingerprint,
        type=kind,
        target="web",
        hits=8,
        cases=10,
        confidence=0.8,
        head=bot_head,
        human_edits=human_edits,
    )
    return Proposal(
        branch=f"patternbot/x/{number}",
        number=number,
        url=f"https://example/pull/{number}",
        state=state,
        title="t",
        body=f"text\n{metadata.to_comment()}\n",
        head=head,
        closed_at="2026-04-01T00:00:00Z" if state != "open" else None,
    )


def test_outcomes() -> None:
    assert decision_of(proposal(1, "open")) is None
    assert decision_of(proposal(1, "merged")).outcome == "accepted"  # type: ignore[union-attr]
    assert decision_of(proposal(1, "merged", head="bbb")).outcome == "modified"  # type: ignore[union-attr]
    assert decision_of(proposal(1, "merged", human_edits=True)).outcome == "modified"  # type: ignore[union-attr]
    assert decision_of(proposal(1, "closed")).outcome == "rejected"  # type: ignore[union-attr]
    foreign = Proposal("patternbot/x", 9, "u", "closed", "t", "no metadata", None)
    assert decision_of(foreign) is None


def test_the_latest_decision_per_fingerprint_counts() -> None:
    decisions = decisions_of(
        [
            proposal(1, "closed", fingerprint="a"),
            proposal(2, "merged", fingerprint="a"),
            proposal(3, "merged", fingerprint="b"),
            proposal(4, "closed", fingerprint="b"),
        ]
    )
    rejected = PlatformHistory(decisions).rejected()
    assert list(rejected) == ["b"]
    assert (rejected["b"].url, rejected["b"].hits, rejected["b"].rejected_at) == (
        "https://example/pull/4",
        8,
        "2026-04-01T00:00:00Z",
    )


def test_acceptance_by_type() -> None:
    decisions = decisions_of(
        [
            proposal(1, "merged"),
            proposal(2, "merged", head="zzz"),
            proposal(3, "closed"),
            proposal(4, "closed", kind="create_pattern"),
            proposal(5, "open"),
        ]
    )
    acceptance = acceptance_by_type(decisions)
    assert acceptance["update_pattern"].to_data() == {
        "accepted": 1,
        "modified": 1,
        "rejected": 1,
        "rate": 0.6667,
    }
    assert acceptance["create_pattern"].to_data() == {
        "accepted": 0,
        "modified": 0,
        "rejected": 1,
        "rate": 0.0,
    }
    assert acceptance["create_policy"].to_data() == {
        "accepted": 0,
        "modified": 0,
        "rejected": 0,
        "rate": None,
    }


def test_thresholds_move_one_step_per_net_decision_within_bounds(tmp_path: Path) -> None:
    config = load_config(
        tmp_path
    )  # minConfidence 0.7, step 0.05, bounds [0.6, 0.9], minDecisions 3
    acceptance = {
        "update_pattern": TypeAcceptance(accepted=1, modified=0, rejected=3),  # 0.7 + 0.05 * 2
        "create_pattern": TypeAcceptance(
            accepted=4, modified=1, rejected=0
        ),  # 0.7 - 0.05 * 5, floor 0.6
        "create_policy": TypeAcceptance(accepted=0, modified=0, rejected=2),  # too few decisions
        "deprecate_pattern": TypeAcceptance(accepted=0, modified=0, rejected=9),  # ceiling 0.9
    }
    assert adapted_thresholds(config, acceptance) == {
        "create_pattern": 0.6,
        "update_pattern": 0.8,
        "create_policy": 0.7,
        "deprecate_pattern": 0.9,
    }
    config.proposals.adaptive_thresholds = False
    assert set(adapted_thresholds(config, acceptance).values()) == {0.7}


def test_thresholds_follow_configured_bounds_and_step(tmp_path: Path) -> None:
    (tmp_path / "patternbot.yaml").write_text(
        "learning:\n  minConfidence: 0.75\nproposals:\n  thresholdBounds: [0.7, 0.8]\n"
        "  thresholdStep: 0.02\n  minDecisions: 1\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path)
    thresholds = adapted_thresholds(config, {"update_pattern": TypeAcceptance(0, 0, 1)})
    assert thresholds["update_pattern"] == 0.77
    assert thresholds["create_pattern"] == 0.75


def test_an_open_pull_request_newer_than_a_rejection_overrides_it() -> None:
    decisions = decisions_of([proposal(1, "closed")])
    assert list(PlatformHistory(decisions).rejected()) == ["fp1"]
    assert list(PlatformHistory(decisions, open_after={"fp1": 2}).rejected()) == []
    # An older open pull request (a duplicate) does not undo a newer rejection.
    assert list(PlatformHistory(decisions, open_after={"fp1": 0}).rejected()) == ["fp1"]
    # A ticked "propose it again" box exempts the fingerprint for the run.
    assert list(PlatformHistory(decisions, exempt=["fp1"]).rejected()) == []


def test_closed_by_patternbot_as_obsolete_is_no_decision() -> None:
    closed = proposal(1, "closed")
    metadata = closed.metadata
    assert metadata is not None
    closed.body = with_metadata(closed.body, replace(metadata, closed_reason="target removed"))
    assert decision_of(closed) is None
