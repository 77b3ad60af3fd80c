"""Signal 4, common configurations: frequent settings no policy covers -> create_policy."""

from __future__ import annotations

from pathlib import Path

from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.knowledge.schema import Policy
from bot.learning.configurations import setting_sentence
from bot.learning.engine import suggest
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import SuggestionType, fingerprint_of
from bot.logs.usage import SettingUsage
from tests.support.learning import learning_config, report, standard_kb

READ_ONLY = "spec.template.spec.containers[].securityContext.readOnlyRootFilesystem"


def _settings() -> list[SettingUsage]:
    return [
        SettingUsage(
            path=READ_ONLY,
            value=True,
            deployed_workflows=90,
            kinds={"Deployment": 70, "StatefulSet": 20, "Service": 90, "Job": 2},
        ),
        # Declared by require-run-as-non-root's settings map: covered exactly.
        SettingUsage(
            path="spec.template.spec.securityContext.runAsNonRoot",
            value=True,
            deployed_workflows=95,
        ),
        # Named by require-health-probes' trigger "readiness probe": covered semantically.
        SettingUsage(
            path="spec.template.spec.containers[].readinessProbe.httpGet.path",
            value="/ready",
            deployed_workflows=92,
        ),
        # Common enough to notice, too rare to propose.
        SettingUsage(
            path="spec.template.spec.priorityClassName", value="high", deployed_workflows=30
        ),
    ]


def test_a_common_uncovered_setting_becomes_a_policy(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    kb = standard_kb(tmp_path)
    rep = report(deployed_solutions=100, settings=_settings())
    run = suggest(
        learning_config(), kb, rep, embedder=minilm, index=None, history=InMemoryDecisionHistory()
    )

    [suggestion] = run.suggestions
    assert suggestion.type is SuggestionType.CREATE_POLICY
    assert suggestion.confidence == 0.8396
    assert suggestion.reason == (
        f"90% of deployed solutions set {READ_ONLY} to true (90 of 100) and no policy covers it"
    )
    assert suggestion.draft == {
        "id": "require-read-only-root-filesystem",
        "description": f"Workloads set {READ_ONLY} to true",
        "triggers": [
            "read only root filesystem",
            "security context read only root filesystem",
            "read only root filesystem true",
        ],
        "rationale": (
            f"90% of deployed solutions (90 of 100) already set {READ_ONLY} to true; "
            "a policy makes "
            "the convention explicit and checkable."
        ),
        "createdAt": "2026-01-31",
        "createdBy": "patternbot",
        # Workload kinds in at least 10% of those solutions; Service is not a workload.
        "appliesTo": ["Deployment", "StatefulSet"],
        "settings": {READ_ONLY: True},
    }
    Policy.model_validate(suggestion.draft)
    assert suggestion.evidence.fingerprint == fingerprint_of(
        SuggestionType.CREATE_POLICY, {"setting": READ_ONLY, "value": True}
    )
    assert run.held_back == []


def test_without_an_embedder_only_exact_coverage_is_checked(tmp_path: Path) -> None:
    kb = standard_kb(tmp_path)
    rep = report(deployed_solutions=100, settings=_settings())
    run = suggest(
        learning_config(), kb, rep, embedder=None, index=None, history=InMemoryDecisionHistory()
    )
    assert sorted(s.draft["id"] for s in run.suggestions) == [
        "require-path-ready",
        "require-read-only-root-filesystem",
    ]
    assert run.warnings == [
        "no embedding model: gap detection and semantic policy coverage were skipped"
    ]


def test_the_setting_sentence_drops_structural_path_parts() -> None:
    assert setting_sentence(READ_ONLY, True) == "security context read only root filesystem: true"
    assert setting_sentence("spec.replicas", 3) == "replicas: 3"
