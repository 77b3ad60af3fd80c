"""Grouping weak intents into topics: average linkage on meaning, vetoed by disagreeing resources.

MiniLM puts paraphrases of one topic at cosines from about 0.1 to 0.7 and unrelated requests of the
same domain at up to about 0.4, so no single cut on text keeps every family together and every
topic apart (docs/learning.md, measured with bench/bench_gap_grouping.py). The intents carry a
second, independent witness: the resource kinds of the solutions users ended with. Groups merge
by average text similarity, best first, down to a floor; a merge is refused while the two groups'
solutions demonstrably disagree on some kind (their Wilson intervals for that kind's share do not
overlap). Tight phrasings merge first on text alone; by the time looser merges are considered the
groups are large enough for their resources to speak.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot.learning.confidence import wilson_lower_bound, wilson_upper_bound


@dataclass
class ResourceProfile:
    """How many of a group's solutions hold each kind, out of its solved intents."""

    solved: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, solutions: Sequence[Sequence[str]]) -> ResourceProfile:
        """The profile of some intents' solutions (an empty solution is an unsolved intent)."""
        profile = cls()
        for kinds in solutions:
            if kinds:
                profile.solved += 1
                profile.counts.update(set(kinds))
        return profile

    def merged(self, other: ResourceProfile) -> ResourceProfile:
        return ResourceProfile(self.solved + other.solved, self.counts + other.counts)


def disagreeing_kind(a: ResourceProfile, b: ResourceProfile, z: float) -> str | None:
    """A kind whose share differs beyond doubt between two groups' solutions, or None.

    Beyond doubt: one group's Wilson lower bound is above the other's upper bound. One or two
    solutions never prove a difference (1 of 1 against 0 of 1 overlaps), three against three can.
    """
    if not a.solved or not b.solved:
        return None
    for kind in sorted(set(a.counts) | set(b.counts)):
        share_a, share_b = (a.counts[kind], a.solved), (b.counts[kind], b.solved)
        for high, low in ((share_a, share_b), (share_b, share_a)):
            if wilson_lower_bound(*high, z) > wilson_upper_bound(*low, z):
                return kind
    return None


def group_by_meaning(
    vectors: npt.NDArray[np.float32],
    threshold: float,
    weights: Sequence[int] | None = None,
    profiles: Sequence[ResourceProfile] | None = None,
    z: float = 1.645,
) -> list[list[int]]:
    """Average-linkage clustering on cosine similarity, stopping below `threshold`.

    `weights` counts how many texts each row stands for (identical intents are embedded once);
    `profiles`, when given, are each row's solutions: two groups whose solutions disagree on a
    kind (`disagreeing_kind` at `z`) are not merged, however close their words. Groups come out
    largest first, each as sorted row numbers.
    """
    n = len(vectors)
    if n == 0:
        return []
    sim = (vectors @ vectors.T).astype(np.float64)
    np.fill_diagonal(sim, -np.inf)
    # `live` is `sim` with refused pairs masked; a refusal lasts until either group changes.
    live = sim.copy()
    sizes = np.asarray(weights if weights is not None else [1] * n, dtype=np.float64)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    groups = list(profiles) if profiles is not None else None
    while len(members) > 1:
        flat = int(np.argmax(live))
        i, j = divmod(flat, n)
        if live[i, j] < threshold:
            break
        if groups is not None and disagreeing_kind(groups[i], groups[j], z) is not None:
            live[i, j] = live[j, i] = -np.inf
            continue
        merged = (sizes[i] * sim[i] + sizes[j] * sim[j]) / (sizes[i] + sizes[j])
        sim[i, :], sim[:, i] = merged, merged
        sim[i, i] = -np.inf
        sim[j, :], sim[:, j] = -np.inf, -np.inf
        live[i, :], live[:, i] = sim[i, :], sim[:, i]
        live[j, :], live[:, j] = -np.inf, -np.inf
        sizes[i] += sizes[j]
        if groups is not None:
            groups[i] = groups[i].merged(groups[j])
        members[i].extend(members.pop(j))
    return sorted((sorted(m) for m in members.values()), key=lambda m: (-len(m), m[0]))
