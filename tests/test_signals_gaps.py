"""Signal 2, gaps: recurring weak-match intents grouped by meaning -> create_pattern."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.knowledge.schema import Pattern
from bot.learning.engine import suggest
from bot.learning.gaps import group_by_meaning
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import SuggestionType, fingerprint_of
from bot.logs.usage import WeakIntent
from tests.support.learning import learning_config, report, standard_kb

GPU_INTENTS = [
    "serve our gpu model inference api",
    "gpu model inference endpoint for the recommender",
    "deploy model inference on gpu nodes",
    "ml model inference service with gpu",
    "need gpu inference for the fraud model",
    "model inference api backed by gpu",
    "host a gpu model inference server",
    "gpu powered model inference for search ranking",
    "real time model inference on gpu",
    "scale gpu model inference with traffic",
    "gpu model inference for image classification",
    "low latency gpu model inference",
    "gpu model inference for speech to text",
    "run the churn model inference on a gpu",
    "gpu based model inference for translations",
    "model inference on gpu for the chatbot",
]
FLAG_INTENTS = [
    "feature flag toggles for the checkout team",
    "feature flags to switch features on and off",
    "a feature flag store for experiments",
    "feature flag evaluation for mobile clients",
    "roll out features with feature flags",
    "central feature flag configuration",
]
SCALED = ["Deployment", "HorizontalPodAutoscaler", "Service"]


def weak(index: int, intent: str, kinds: list[str], cluster: str | None = None) -> WeakIntent:
    return WeakIntent(
        workflow_id=f"wf-{index}",
        intent=intent,
        best_pattern="web-app",
        best_score=0.31,
        kinds=sorted(kinds),
        status="deployed",
        cluster=cluster,
        ts=dt.datetime(2026, 1, 10, tzinfo=dt.UTC),
    )


def gap_report() -> object:
    intents = [
        weak(i, text, SCALED if i else ["Deployment", "Service"])
        for i, text in enumerate(GPU_INTENTS)
    ]
    # Feature-flag requests recur too, but their solutions agree on nothing: no pattern to draft.
    scattered = [["ConfigMap"], ["Secret"], ["Job"], ["CronJob"], ["DaemonSet"], ["StatefulSet"]]
    intents += [
        weak(100 + i, text, kinds)
        for i, (text, kinds) in enumerate(zip(FLAG_INTENTS, scattered, strict=True))
    ]
    intents.append(weak(200, "backup my laptop photos", ["CronJob"]))
    return report(weak_intents=intents, weak_intents_total=len(intents))


def test_recurring_weak_intents_with_consistent_resources_become_a_new_pattern(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    kb = standard_kb(tmp_path)
    run = suggest(
        learning_config(),
        kb,
        gap_report(),
        embedder=minilm,
        index=None,
        history=InMemoryDecisionHistory(),
    )

    [suggestion] = run.suggestions
    assert suggestion.type is SuggestionType.CREATE_PATTERN
    draft = Pattern.model_validate(suggestion.draft)
    assert draft.suggested_resources == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    assert suggestion.draft == {
        "id": "model-inference",
        "description": (
            "Model inference workloads: Deployment, Service and HorizontalPodAutoscaler, "
            "for requests about model inference, gpu or gpu model inference"
        ),
        "triggers": ["model inference", "gpu", "gpu model inference"],
        "rationale": (
            "16 requests matched no existing pattern well; their solutions used Deployment (100%), "
            "Service (100%) and HorizontalPodAutoscaler (94%)."
        ),
        "createdAt": "2026-01-31",
        "createdBy": "patternbot",
        "suggestedResources": ["Deployment", "Service", "HorizontalPodAutoscaler"],
    }
    assert suggestion.reason == (
        "16 requests about model inference, gpu or gpu model inference matched no pattern well, "
        "and their solutions "
        "used Deployment (100%), Service (100%) and HorizontalPodAutoscaler (94%): each kind in "
        "at least 15 of 16"
    )
    assert suggestion.confidence == 0.7625
    assert suggestion.evidence.example_intents == GPU_INTENTS[:5]
    assert suggestion.evidence.details["groupSize"] == 16
    assert suggestion.evidence.details["kindShares"] == {
        "Deployment": 1.0,
        "HorizontalPodAutoscaler": 0.9375,
        "Service": 1.0,
    }
    # The feature-flag group agreed on no resource set, so it is neither suggested nor listed.
    assert run.held_back == []
    assert (suggestion.evidence.hits, suggestion.evidence.cases) == (15, 16)
    assert suggestion.evidence.fingerprint == fingerprint_of(
        SuggestionType.CREATE_PATTERN,
        {"resources": ["Deployment", "HorizontalPodAutoscaler", "Service"]},
    )
    # Triggers are phrases shared by several intents, never a whole intent.
    assert not set(draft.triggers) & set(GPU_INTENTS)


def test_grouping_by_meaning_separates_subjects(minilm: MiniLMOnnxEmbedder) -> None:
    texts = GPU_INTENTS[:4] + FLAG_INTENTS[:4]
    groups = group_by_meaning(minilm.embed(texts), 0.5)
    assert groups == [[0, 1, 2, 3], [4, 5, 6, 7]]
