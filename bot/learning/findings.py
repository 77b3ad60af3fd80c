"""What a signal measures before it becomes a suggestion: one proportion with its confidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.config import LearningConfig
from bot.knowledge.repository import KnowledgeBase
from bot.learning.suggestion import Evidence, SignalName
from bot.logs.usage import UsageReport


class TextEmbedder(Protocol):
    """What the engine needs from bot.index's embedder: L2-normalised float32 rows."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


@dataclass
class Finding:
    """One measured regularity: `hits` of `cases` with a confidence, keyed by what it proposes.

    `key` names the proposed change without the wording (for example ("pattern-id", "Kind")), so the
    overall and per-cluster runs of a signal can be matched; `data` holds what the draft needs.
    """

    signal: str  # a SignalName (a StrEnum, so its plain value is accepted too)
    key: tuple[str, ...]
    hits: int
    cases: int
    confidence: float
    details: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    example_intents: list[str] = field(default_factory=list)
    patterns_used: list[str] = field(default_factory=list)
    cluster: str | None = None  # set when this finding comes from one cluster's report
    # What the figures are conditioned on, appended to reasons (` in its uses without X ...`).
    condition: str = ""

    @property
    def frequency(self) -> float | None:
        return self.hits / self.cases if self.cases else None


@dataclass
class SignalContext:
    """Everything a signal reads besides the report it measures."""

    settings: LearningConfig
    kb: KnowledgeBase
    embedder: TextEmbedder | None = None
    # metrics.weakMatchThreshold: gaps re-score logged weak intents against today's patterns.
    weak_match_threshold: float = 0.4
    # The run's confidence threshold (learning.minConfidence or --min-confidence).
    threshold: float = 0.7
    warnings: list[str] = field(default_factory=list)
    _vectors: dict[str, npt.NDArray[np.float32]] = field(default_factory=dict)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embeddings of texts, each text embedded once per run (overall and cluster runs share)."""
        if self.embedder is None:
            raise RuntimeError("no embedder")
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            rows = self.embedder.embed(missing)
            for text, row in zip(missing, rows, strict=True):
                self._vectors[text] = np.asarray(row, dtype=np.float32)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])


def window_end_date(report: UsageReport) -> str:
    """The analysis window's end as a date: the createdAt of drafted items."""
    end = report.window.end or dt.datetime.now(dt.UTC)
    return end.date().isoformat()


def evidence_from(
    finding: Finding, report: UsageReport, fingerprint: str, **details: Any
) -> Evidence:
    """The suggestion's evidence block for a finding: its figures, scope and the cluster table."""
    return Evidence(
        signal=SignalName(finding.signal),
        frequency=None if finding.frequency is None else round(finding.frequency, 4),
        hits=finding.hits,
        cases=finding.cases,
        window=report.window,
        patterns_used=list(finding.patterns_used),
        clusters=dict(finding.data.get("clusters", {})),
        cluster=finding.cluster,
        example_intents=list(finding.example_intents),
        details={**finding.details, **details},
        fingerprint=fingerprint,
    )


def scoped_identity(identity: dict[str, Any], cluster: str | None) -> dict[str, Any]:
    """The fingerprint identity of a change, with the cluster when it holds in one cluster only."""
    return {**identity, "cluster": cluster} if cluster is not None else identity


def on_cluster(cluster: str | None) -> str:
    """` on cluster X` for a cluster-scoped reason, else nothing."""
    return f" on cluster {cluster}" if cluster is not None else ""
