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


def _expand(starts: Ints, lengths: Ints) -> Ints:
    """The indices start, start + 1, ..., start + length - 1 of every (start, length), in order."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets: Ints = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(total, dtype=np.int64) + offsets


def _group_sums(keys: Ints, weights: Ints) -> tuple[Ints, Ints]:
    """Distinct keys, sorted, and the sum of the weights of each."""
    if keys.size == 0:
        return keys, weights
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return ordered[starts], np.add.reduceat(weights[order], starts).astype(np.int64)


def count_profiles(
    profiles: SolutionProfiles,
    suggests: Mapping[str, Sequence[str]],
    is_kind: Callable[[str], bool],
    candidate: Callable[[int, int], bool],
) -> ProfileCounts:
    """Counts over `profiles` for the patterns in `suggests` (pattern id -> suggested kinds).

    `candidate(hits, uses)` says which (pattern, kind) pairs are worth comparing across partners.
    Everything is computed on pairs and triples of codes (sparse): memory grows with what the
    profiles hold, never with profiles x kinds.
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

    # Pattern entries (row, pattern), sorted by row then pattern; rows without a known pattern
    # take no part.
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
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    row_len = np.diff(np.r_[starts, rows.size])
    slot_of = np.full(len(profiles), -1, dtype=np.int64)
    slot_of[rows[starts]] = np.arange(starts.size)

    # Added kinds (row, kind): present, a valid kind name, in a row with a known pattern, and
    # suggested by none of the row's patterns.
    kind_pairs = _recoded(
        profiles.kind_rows, profiles.kind_codes, profiles.kind_names, kind_index, n_kinds
    )
    valid_kind = np.fromiter((is_kind(k) for k in kind_names), dtype=bool, count=n_kinds)
    kind_rows, kind_codes = kind_pairs // n_kinds, kind_pairs % n_kinds
    keep = (slot_of[kind_rows] >= 0) & valid_kind[kind_codes]
    kind_rows, kind_codes = kind_rows[keep], kind_codes[keep]
    suggested = [sorted({kind_index[k] for k in suggests[pid]}) for pid in pattern_ids]
    suggested_len = np.asarray([len(k) for k in suggested], dtype=np.int64)
    suggested_start = np.r_[0, np.cumsum(suggested_len)[:-1]].astype(np.int64)
    suggested_flat = np.asarray(list(chain.from_iterable(suggested)), dtype=np.int64)
    covering = _expand(suggested_start[codes], suggested_len[codes])
    covered = np.repeat(rows, suggested_len[codes]) * n_kinds + suggested_flat[covering]
    is_added = ~np.isin(kind_rows * n_kinds + kind_codes, covered)
    added_rows, added_kinds = kind_rows[is_added], kind_codes[is_added]

    uses = np.bincount(codes, weights=weights[rows], minlength=n_patterns).astype(np.int64)
    # (pattern, added kind) for every pattern entry of a row and every kind added there.
    entry_slots = slot_of[added_rows]
    entries = _expand(starts[entry_slots], row_len[entry_slots])
    triple_kinds = np.repeat(added_kinds, row_len[entry_slots])
    added_keys, added_sums = _group_sums(
        codes[entries] * n_kinds + triple_kinds, weights[rows[entries]]
    )
    added_counts: dict[int, dict[int, int]] = defaultdict(dict)
    for key, total in zip(added_keys.tolist(), added_sums.tolist(), strict=True):
        added_counts[key // n_kinds][key % n_kinds] = total

    for used in np.flatnonzero(uses).tolist():
        counts.uses[pattern_ids[used]] = int(uses[used])
        if added_counts.get(used):
            counts.added[pattern_ids[used]] = {
                kind_names[k]: total for k, total in sorted(added_counts[used].items())
            }

    # Partners, for candidate (pattern, kind) pairs only.
    wanted = {
        (p, k)
        for p, kinds in added_counts.items()
        for k, total in kinds.items()
        if candidate(total, int(uses[p]))
    }
    if not wanted:
        return counts
    with_wanted = np.zeros(n_patterns, dtype=bool)
    with_wanted[[p for p, _ in wanted]] = True
    # Ordered pairs (p, q) of patterns in one row, p having candidates: each pattern entry with
    # every other entry of its row.
    firsts = np.flatnonzero(with_wanted[codes] & (row_len[slot_of[rows]] > 1))
    first_slots = slot_of[rows[firsts]]
    seconds = _expand(starts[first_slots], row_len[first_slots])
    firsts = np.repeat(firsts, row_len[first_slots])
    other = codes[firsts] != codes[seconds]
    firsts, seconds = firsts[other], seconds[other]
    pair_rows = rows[firsts]
    joint_keys, joint_sums = _group_sums(
        codes[firsts] * n_patterns + codes[seconds], weights[pair_rows]
    )
    for key, total in zip(joint_keys.tolist(), joint_sums.tolist(), strict=True):
        counts.joint[pattern_ids[key // n_patterns]][pattern_ids[key % n_patterns]] = total

    # ...and the kinds added in those rows: (p, q, kind) where (p, kind) is a candidate.
    added_start = np.searchsorted(added_rows, pair_rows, side="left")
    added_len = np.searchsorted(added_rows, pair_rows, side="right") - added_start
    with_kinds = _expand(added_start, added_len)
    p_codes = np.repeat(codes[firsts], added_len)
    q_codes = np.repeat(codes[seconds], added_len)
    k_codes = added_kinds[with_kinds]
    wanted_keys = np.asarray(sorted(p * n_kinds + k for p, k in wanted), dtype=np.int64)
    is_wanted = np.isin(p_codes * n_kinds + k_codes, wanted_keys)
    triple_keys, triple_sums = _group_sums(
        (p_codes[is_wanted] * n_patterns + q_codes[is_wanted]) * n_kinds + k_codes[is_wanted],
        np.repeat(weights[pair_rows], added_len)[is_wanted],
    )
    for key, total in zip(triple_keys.tolist(), triple_sums.tolist(), strict=True):
        pair, kind = divmod(key, n_kinds)
        p, q = divmod(pair, n_patterns)
        counts.added_with[(pattern_ids[p], pattern_ids[q])][kind_names[kind]] = total
    return counts
