"""Grouping weak intents: meaning first, refused where the solutions disagree beyond doubt."""

from __future__ import annotations

import pytest

from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.learning.grouping import ResourceProfile, disagreeing_kind, group_by_meaning


def profile(solved: int, **counts: int) -> ResourceProfile:
    return ResourceProfile.of(
        [[kind for kind, n in counts.items() if i < n] or ["Unused"] for i in range(solved)]
    )


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # One solution each never proves a difference; three against three can.
        (profile(1, StatefulSet=1), profile(1, Deployment=1), None),
        (profile(3, StatefulSet=3), profile(3, Deployment=3), "Deployment"),
        # 35 of 40 against 30 of 40: the intervals overlap, one family.
        (profile(40, Service=35), profile(40, Service=30), None),
        # 36 of 40 against 0 of 1: a single request lacking a near-universal kind is refused.
        (profile(40, PersistentVolumeClaim=36), profile(1, Service=1), "PersistentVolumeClaim"),
        # Requests without a solution say nothing about resources.
        (ResourceProfile.of([[], []]), profile(5, Job=5), None),
    ],
)
def test_disagreeing_kind(a: ResourceProfile, b: ResourceProfile, expected: str | None) -> None:
    assert disagreeing_kind(a, b, 1.645) == expected
    assert disagreeing_kind(b, a, 1.645) == expected


def test_close_words_with_disagreeing_solutions_stay_apart(minilm: MiniLMOnnxEmbedder) -> None:
    stateful = [f"a durable job queue for {s}" for s in ("billing", "search", "mail", "maps")]
    workers = [f"queue workers for {s} jobs" for s in ("billing", "search", "mail", "maps")]
    vectors = minilm.embed(stateful + workers)
    weights = [3] * 8
    profiles = [ResourceProfile.of([["PersistentVolumeClaim", "StatefulSet"]] * 3)] * 4
    profiles += [ResourceProfile.of([["Deployment", "ScaledObject"]] * 3)] * 4

    # On words alone the two are one topic at the default cut...
    assert group_by_meaning(vectors, 0.25, weights) == [list(range(8))]
    # ...but their solutions agree on nothing: two groups.
    assert group_by_meaning(vectors, 0.25, weights, profiles) == [[0, 1, 2, 3], [4, 5, 6, 7]]
