"""Counting kinds over solution profiles in bulk (numpy): uses, added kinds, and partners.

A million events can make hundreds of thousands of distinct profiles, each measured on the whole
report, every cluster and both periods; a Python loop per profile and kind is too slow for that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import numpy.typing as npt

from bot.logs.profiles import SolutionProfiles, sorted_distinct

Ints = npt.NDArray[np.int64]


@dataclass
class ProfileCounts:
    """Workflows per pattern, per added kind, and per co-used partner (for candidate kinds only).

    A kind is *added* to a solution when none of the solution's patterns suggests it. Patterns
    and kinds are sets per solution: a profile listing one twice counts it once.
    """

    uses: dict[str, int] = field(default_factory=dict)
    added: dict[str, dict[str, int]] = field(default_factory=dict)
    joint: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    added_with: dict[tuple[str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(dict)
    )


def _recoded(
    rows: Ints, codes: Ints, names: Sequence[str], index: Mapping[str, int], width: int
) -> Ints:
    """Pairs (row, code into `names`) as row * width + code into `index`, sorted and distinct;
    names missing from `index` are left out."""
    lookup = np.asarray([index.get(name, -1) for name in names], dtype=np.int64)
    recoded = lookup[codes] if codes.size else codes
    known = recoded >= 0
    values = rows[known] * width + recoded[known]
    kept = lookup[lookup >= 0]
    if np.all(kept[1:] > kept[:-1]):
        return values  # the order of names is kept: still sorted and distinct
    return sorted_distinct(values)


def count_profiles(
    profiles: SolutionProfiles,
    suggests: Mapping[str, Sequence[str]],
    is_kind: Callable[[str], bool],
    candidate: Callable[[int, int], bool],
) -> ProfileCounts:
    """Counts over `profiles` for the patterns in `suggests` (pattern id -> suggested kinds).

    `candidate(hits, uses)` says which (pattern, kind) pairs are worth comparing across partners.
    """
    counts = ProfileCounts()
    if not profiles or not suggests:
        return counts
    pattern_ids = sorted(suggests)
    pattern_index = {pid: i for i, pid in enumerate(pattern_ids)}
    kind_names = sorted(set(profiles.kind_names) | set(chain(*suggests.values())))
    kind_index = {k: i for i, k in enumerate(kind_names)}
    n_patterns, n_kinds = len(pattern_ids), len(kind_names)
    weights = profiles.workflows

    pattern_pairs = _recoded(
        profiles.pattern_rows,
        profiles.pattern_codes,
        profiles.pattern_names,
        pattern_index,
        n_patterns,
    )
    if pattern_pairs.size == 0:
        return counts
    rows, codes = pattern_pairs // n_patterns, pattern_pairs % n_patterns
    kind_pairs = _recoded(
        profiles.kind_rows, profiles.kind_codes, profiles.kind_names, kind_index, n_kinds
    )
    present = np.zeros((len(profiles), n_kinds), dtype=bool)
    present[kind_pairs // n_kinds, kind_pairs % n_kinds] = True

    suggested = np.zeros((n_patterns, n_kinds), dtype=bool)
    for pid, kinds in suggests.items():
        suggested[pattern_index[pid], [kind_index[k] for k in kinds]] = True
    # `rows` is sorted: one reduceat per profile ORs its patterns' suggested kinds.
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    with_pattern = rows[starts]
    covered = np.logical_or.reduceat(suggested[codes], starts, axis=0)
    valid_kind = np.fromiter((is_kind(k) for k in kind_names), dtype=bool, count=n_kinds)
    added = np.zeros_like(present)
    added[with_pattern] = present[with_pattern] & ~covered & valid_kind

    entry_weights = weights[rows]
    uses = np.bincount(codes, weights=entry_weights, minlength=n_patterns).astype(np.int64)
    order = np.argsort(codes, kind="stable")
    by_code = codes[order]
    code_starts = np.flatnonzero(np.r_[True, by_code[1:] != by_code[:-1]])
    weighted = added[rows[order]] * entry_weights[order][:, None]
    sums = np.add.reduceat(weighted, code_starts, axis=0)
    added_counts = np.zeros((n_patterns, n_kinds), dtype=np.int64)
    added_counts[by_code[code_starts]] = sums

    for used in np.flatnonzero(uses):
        counts.uses[pattern_ids[used]] = int(uses[used])
        nonzero = np.flatnonzero(added_counts[used])
        if nonzero.size:
            counts.added[pattern_ids[used]] = {
                kind_names[k]: int(added_counts[used, k]) for k in nonzero
            }

    # Partners, for candidate (pattern, kind) pairs only: rows holding the pattern, their other
    # patterns, and how often the kind was added there.
    row_len = np.diff(np.r_[starts, rows.size])
    row_of = np.full(len(profiles), -1, dtype=np.int64)
    row_of[with_pattern] = np.arange(with_pattern.size)
    for p, pattern_id in enumerate(pattern_ids):
        wanted = [
            int(k)
            for k in np.flatnonzero(added_counts[p])
            if candidate(int(added_counts[p, k]), int(uses[p]))
        ]
        if not wanted:
            continue
        mine = rows[codes == p]
        slots = row_of[mine]
        multi = row_len[slots] > 1
        mine, slots = mine[multi], slots[multi]
        if mine.size == 0:
            continue
        lengths = row_len[slots]
        offsets = np.repeat(starts[slots] - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
        entries = np.arange(lengths.sum()) + offsets
        partner_rows, partners = rows[entries], codes[entries]
        other = partners != p
        partner_rows, partners = partner_rows[other], partners[other]
        partner_weights = weights[partner_rows]
        joint = np.bincount(partners, weights=partner_weights, minlength=n_patterns)
        for q in np.flatnonzero(joint):
            counts.joint[pattern_id][pattern_ids[q]] = int(joint[q])
        for k in wanted:
            with_kind = np.bincount(
                partners,
                weights=partner_weights * added[partner_rows, k],
                minlength=n_patterns,
            )
            for q in np.flatnonzero(with_kind):
                counts.added_with[(pattern_id, pattern_ids[q])][kind_names[k]] = int(with_kind[q])
    return counts
