"""Gaps are judged against today's knowledge base: one filled since the logs is not proposed."""

from __future__ import annotations

from pathlib import Path

from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.learning.drafts import item_data
from bot.learning.engine import suggest
from bot.learning.history import InMemoryDecisionHistory
from tests.support.gaps import weak, weak_report
from tests.support.kb import pattern_data
from tests.support.learning import knowledge_base, learning_config, standard_kb
from tests.test_signals_gaps import GPU_INTENTS

SCALED = ["Deployment", "HorizontalPodAutoscaler", "Service"]
# Written after the logged requests found nothing: one of its triggers now matches them (0.64
# and up), while its long description keeps its naming text from looking like a duplicate of the
# gap's draft (0.47, under learning.duplicateSimilarity): deduplication would not catch it.
WORKBENCH = pattern_data(
    "analytics-workbench",
    description=(
        "Shared analytics workbench with Jupyter notebooks, a feature store, experiment "
        "tracking, batch scoring jobs and dashboards for every data team"
    ),
    triggers=[
        "gpu model inference",
        "workbench",
        "notebooks",
        "feature store",
        "experiment tracking",
    ],
    suggestedResources=[
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
    ],
    createdAt="2026-02-01",
)


def _run(tmp_path: Path, minilm: MiniLMOnnxEmbedder, *extra: dict[str, object]) -> list[str]:
    patterns = [item_data(p) for p in standard_kb(tmp_path / "today").patterns.values()]
    kb = knowledge_base(tmp_path, [*patterns, *extra])
    intents = [weak(i, text, SCALED) for i, text in enumerate(GPU_INTENTS)]
    run = suggest(
        learning_config(),
        kb,
        weak_report(intents),
        embedder=minilm,
        index=None,
        history=InMemoryDecisionHistory(),
    )
    return [
        f"{s.type.value} {'/'.join(s.draft['suggestedResources'])}" for s in run.suggestions
    ] + [f"held {h.item}: {h.reason}" for h in run.held_back]


def test_a_gap_a_pattern_has_filled_since_the_logs_is_not_proposed(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    assert _run(tmp_path / "before", minilm) == [
        "create_pattern Deployment/HorizontalPodAutoscaler/Service"
    ]

    # The logged scores (0.31) predate analytics-workbench; re-scored today, its trigger matches
    # every request, so the gap is neither proposed again nor listed.
    assert _run(tmp_path / "after", minilm, WORKBENCH) == []
