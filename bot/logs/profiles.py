"""Solution profiles by column: the latest solutions grouped by signature (the knowledge-base
patterns used, the resource kinds), as numpy arrays.

A million events can make hundreds of thousands of distinct signatures, about one per workflow.
As Python objects they cost seconds to build and more to count; as arrays they come out of DuckDB
in one columnar fetch and the learning engine counts them with numpy (bot/learning/
profile_counts.py). `SolutionProfile` is the row view, for tests, JSON and small reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SolutionProfile:
    """Latest solutions that share one signature, with their outcomes (one row)."""

    patterns: list[str]  # sorted ids
    kinds: list[str]  # sorted resource kinds, each once
    workflows: int
    deployed: int = 0
    failed: int = 0


def _ints(values: Iterable[int] | Ints | None = None) -> Ints:
    return np.asarray(list(values) if values is not None else [], dtype=np.int64)


def sorted_distinct(values: Ints) -> Ints:
    """`values` sorted, each once (np.unique without its hashing, which is slower here)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if ordered.size else ordered


def distinct_pairs(rows: Ints, codes: Ints, width: int) -> tuple[Ints, Ints]:
    """(rows, codes) sorted by row then code, each pair once; `codes` must be in [0, width)."""
    values = sorted_distinct(rows * max(width, 1) + codes)
    return values // max(width, 1), values % max(width, 1)


class SolutionProfiles:
    """Profiles by column. Profile r holds `workflows[r]` latest solutions, `deployed[r]` and
    `failed[r]` of them with that outcome; its patterns are `pattern_names[c]` for each pair
    (r, c) of (pattern_rows, pattern_codes), its kinds likewise. Names are sorted and distinct;
    pairs are sorted by row then code and distinct; every profile has at least one workflow.
    Profiles are stored in no particular order (no count depends on it) and listed sorted.
    """

    __slots__ = (
        "_uses",
        "deployed",
        "failed",
        "kind_codes",
        "kind_names",
        "kind_rows",
        "pattern_codes",
        "pattern_names",
        "pattern_rows",
        "workflows",
    )  # fmt: skip

    def __init__(
        self,
        pattern_names: Sequence[str] = (),
        kind_names: Sequence[str] = (),
        workflows: Ints | None = None,
        deployed: Ints | None = None,
        failed: Ints | None = None,
        pattern_pairs: tuple[Ints, Ints] | None = None,
        kind_pairs: tuple[Ints, Ints] | None = None,
    ) -> None:
        self.pattern_names = list(pattern_names)
        self.kind_names = list(kind_names)
        self.workflows = _ints(workflows)
        self.deployed = _ints(deployed) if deployed is not None else np.zeros_like(self.workflows)
        self.failed = _ints(failed) if failed is not None else np.zeros_like(self.workflows)
        self.pattern_rows, self.pattern_codes = pattern_pairs or (_ints(), _ints())
        self.kind_rows, self.kind_codes = kind_pairs or (_ints(), _ints())
        self._uses: dict[str, int] | None = None

    @classmethod
    def of(cls, profiles: Iterable[SolutionProfile | Mapping[str, Any]]) -> SolutionProfiles:
        """Profiles from rows (SolutionProfile or their JSON data); rows without workflows are
        left out."""
        rows = [p if isinstance(p, SolutionProfile) else SolutionProfile(**p) for p in profiles]
        rows = [p for p in rows if p.workflows > 0]
        pattern_names = sorted({name for p in rows for name in p.patterns})
        kind_names = sorted({name for p in rows for name in p.kinds})
        return cls(
            pattern_names,
            kind_names,
            _ints(p.workflows for p in rows),
            _ints(p.deployed for p in rows),
            _ints(p.failed for p in rows),
            _pairs_of([p.patterns for p in rows], pattern_names),
            _pairs_of([p.kinds for p in rows], kind_names),
        )

    @classmethod
    def validate(cls, value: Any) -> SolutionProfiles:
        """For pydantic: an instance as it is, or a list of rows."""
        return value if isinstance(value, SolutionProfiles) else cls.of(value)

    def __len__(self) -> int:
        return int(self.workflows.size)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self) -> Iterator[SolutionProfile]:
        """The profiles as rows: most workflows first, then by patterns and kinds."""
        patterns = _split(self.pattern_rows, self.pattern_codes, self.pattern_names, len(self))
        kinds = _split(self.kind_rows, self.kind_codes, self.kind_names, len(self))
        rows = [
            SolutionProfile(patterns[r], kinds[r], workflows, deployed, failed)
            for r, (workflows, deployed, failed) in enumerate(
                zip(
                    self.workflows.tolist(),
                    self.deployed.tolist(),
                    self.failed.tolist(),
                    strict=True,
                )
            )
        ]
        rows.sort(key=lambda p: (-p.workflows, p.patterns, p.kinds))
        return iter(rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SolutionProfiles):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SolutionProfiles({len(self)} profiles)"

    def dump(self) -> list[dict[str, Any]]:
        """JSON data: one object per profile, in order."""
        return [asdict(p) for p in self]

    def uses(self, pattern_id: str) -> int:
        """Latest solutions that used `pattern_id` (the sum of its profiles' workflows)."""
        if self._uses is None:
            totals = np.bincount(
                self.pattern_codes,
                weights=self.workflows[self.pattern_rows],
                minlength=len(self.pattern_names),
            )
            self._uses = {name: int(totals[c]) for c, name in enumerate(self.pattern_names)}
        return self._uses.get(pattern_id, 0)


def co_used(profiles: SolutionProfiles) -> list[tuple[str, str, int]]:
    """Patterns used together: (a, b, solutions using both) with a < b, most solutions first,
    then by a and b."""
    rows, codes, width = profiles.pattern_rows, profiles.pattern_codes, len(profiles.pattern_names)
    keys, weights = [], []
    # Pairs are sorted by row then code: each entry pairs with the later entries of its row, `gap`
    # places on. A row with more than `gap` entries has a pair at every smaller gap.
    for gap in range(1, rows.size):
        same = rows[gap:] == rows[:-gap]
        if not same.any():
            break
        keys.append(codes[:-gap][same] * width + codes[gap:][same])
        weights.append(profiles.workflows[rows[gap:][same]])
    if not keys:
        return []
    flat = np.concatenate(keys)
    order = np.argsort(flat, kind="stable")
    flat = flat[order]
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    pairs = flat[starts]
    totals = np.add.reduceat(np.concatenate(weights)[order], starts).astype(np.int64)
    firsts, seconds = pairs // width, pairs % width
    order = np.lexsort((seconds, firsts, -totals))
    names = profiles.pattern_names
    return [
        (names[a], names[b], n)
        for a, b, n in zip(
            firsts[order].tolist(), seconds[order].tolist(), totals[order].tolist(), strict=True
        )
    ]


def _pairs_of(lists: Sequence[Sequence[str]], names: Sequence[str]) -> tuple[Ints, Ints]:
    index = {name: code for code, name in enumerate(names)}
    rows = _ints(r for r, items in enumerate(lists) for _ in items)
    codes = _ints(index[name] for items in lists for name in items)
    return distinct_pairs(rows, codes, len(names))


def _split(rows: Ints, codes: Ints, names: Sequence[str], count: int) -> list[list[str]]:
    found: list[list[str]] = [[] for _ in range(count)]
    for r, c in zip(rows.tolist(), codes.tolist(), strict=True):
        found[r].append(names[c])
    return found
