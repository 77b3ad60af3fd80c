"""The bulk (numpy) profile counts agree with a plain Python reference on any profiles."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.learning.profile_counts import ProfileCounts, count_profiles
from bot.logs.profiles import SolutionProfile, SolutionProfiles

PATTERNS = ("a", "b", "c", "d")
KINDS = ("Deployment", "Service", "Ingress", "not a kind")
SUGGESTS = {"a": ["Deployment"], "b": ["Deployment", "Service"], "c": [], "d": ["Ingress"]}


def is_kind(name: str) -> bool:
    return " " not in name


def candidate(hits: int, uses: int) -> bool:
    return 2 * hits >= uses


def reference(rows: list[SolutionProfile], suggests: dict[str, list[str]]) -> dict[str, Any]:
    """What count_profiles means, one profile at a time."""
    uses: dict[str, int] = defaultdict(int)
    added: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    signed = []
    for profile in rows:
        patterns = {p for p in profile.patterns if p in suggests}
        if not patterns:
            continue
        covered = {k for p in patterns for k in suggests[p]}
        adds = {k for k in set(profile.kinds) - covered if is_kind(k)}
        signed.append((patterns, adds, profile.workflows))
        for p in patterns:
            uses[p] += profile.workflows
            for k in adds:
                added[p][k] += profile.workflows
    joint: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    added_with: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in uses:
        wanted = {k for k, hits in added[p].items() if candidate(hits, uses[p])}
        if not wanted:
            continue
        for patterns, adds, workflows in signed:
            if p not in patterns or len(patterns) < 2:
                continue
            for q in patterns - {p}:
                joint[p][q] += workflows
                for k in wanted & adds:
                    added_with[(p, q)][k] += workflows
    return _plain(uses, added, joint, added_with)


def _plain(*parts: Any) -> dict[str, Any]:
    uses, added, joint, added_with = parts
    return {
        "uses": dict(uses),
        "added": {p: dict(kinds) for p, kinds in added.items() if kinds},
        "joint": {p: dict(q) for p, q in joint.items() if q},
        "addedWith": {pq: dict(kinds) for pq, kinds in added_with.items() if kinds},
    }


def _counts(counts: ProfileCounts) -> dict[str, Any]:
    return _plain(counts.uses, counts.added, counts.joint, counts.added_with)


profile_rows = st.lists(
    st.builds(
        SolutionProfile,
        patterns=st.lists(st.sampled_from((*PATTERNS, "unknown")), max_size=4),
        kinds=st.lists(st.sampled_from(KINDS), max_size=4),
        workflows=st.integers(1, 5),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(rows=profile_rows)
def test_bulk_counts_agree_with_the_reference(rows: list[SolutionProfile]) -> None:
    counts = count_profiles(SolutionProfiles.of(rows), SUGGESTS, is_kind, candidate)
    assert _counts(counts) == reference(rows, SUGGESTS)


def test_a_worked_example() -> None:
    rows = [
        SolutionProfile(["a", "c"], ["Deployment", "Ingress"], 3),
        SolutionProfile(["a"], ["Deployment", "Ingress", "Service"], 1),
        SolutionProfile(["b", "d"], ["Service", "Ingress", "Secret"], 2),
        SolutionProfile(["unknown"], ["Ingress"], 9),
    ]
    counts = count_profiles(SolutionProfiles.of(rows), SUGGESTS, is_kind, candidate)
    assert _counts(counts) == {
        "uses": {"a": 4, "b": 2, "c": 3, "d": 2},
        "added": {
            "a": {"Ingress": 4, "Service": 1},
            "b": {"Secret": 2},  # d suggests Ingress
            "c": {"Ingress": 3},
            "d": {"Secret": 2},
        },
        "joint": {"a": {"c": 3}, "b": {"d": 2}, "c": {"a": 3}, "d": {"b": 2}},
        "addedWith": {
            ("a", "c"): {"Ingress": 3},
            ("b", "d"): {"Secret": 2},
            ("c", "a"): {"Ingress": 3},
            ("d", "b"): {"Secret": 2},
        },
    }
