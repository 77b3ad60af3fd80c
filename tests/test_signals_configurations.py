"""Signal 4, common configurations: frequent settings no policy covers -> create_policy.

Coverage is judged by what a setting means (issue 8, failure 4): the tests marked "failure 4"
failed on the global-cosine coverage (0.62 against every policy text and trigger).
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Config
from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.knowledge.repository import KnowledgeBase
from bot.knowledge.schema import Policy
from bot.learning.engine import SuggestionRun, suggest
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.suggestion import SuggestionType, fingerprint_of
from bot.logs.analysis import analyse_logs
from bot.logs.usage import SettingUsage
from tests.support.learning import (
    knowledge_base,
    learning_config,
    pattern_data,
    policy_data,
    report,
    standard_kb,
)
from tests.support.logs import make_kb, outcome, solution, write_log

READ_ONLY = "spec.template.spec.containers[].securityContext.readOnlyRootFilesystem"
SECCOMP = "spec.template.spec.securityContext.seccompProfile.type"
NON_ROOT = "spec.template.spec.securityContext.runAsNonRoot"
DROP = "spec.template.spec.containers[].securityContext.capabilities.drop"
READY_PATH = "spec.template.spec.containers[].readinessProbe.httpGet.path"
MEMORY_LIMIT = "spec.template.spec.containers[0].resources.limits.memory"
CPU_LIMIT = "spec.template.spec.containers[0].resources.limits.cpu"


def _settings() -> list[SettingUsage]:
    return [
        SettingUsage(
            path=READ_ONLY,
            value=True,
            deployed_workflows=90,
            kinds={"Deployment": 70, "StatefulSet": 20, "Service": 90, "Job": 2},
        ),
        # Declared by require-run-as-non-root's settings map: covered exactly.
        SettingUsage(path=NON_ROOT, value=True, deployed_workflows=95),
        # A readiness probe: require-health-probes names it ("readiness probe").
        SettingUsage(path=READY_PATH, value="/ready", deployed_workflows=92),
        # Common enough to notice, too rare to propose.
        SettingUsage(
            path="spec.template.spec.priorityClassName", value="high", deployed_workflows=30
        ),
    ]


def _run(kb: KnowledgeBase, settings: list[SettingUsage], embedder: object = None) -> SuggestionRun:
    return suggest(
        learning_config(),
        kb,
        report(deployed_solutions=100, settings=settings),
        embedder=embedder,  # type: ignore[arg-type]
        index=None,
        history=InMemoryDecisionHistory(),
    )


def _kb_with(tmp_path: Path, *policies: dict[str, object]) -> KnowledgeBase:
    return knowledge_base(tmp_path, [pattern_data("web-app")], list(policies))


def test_a_common_uncovered_setting_becomes_a_policy(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    run = _run(standard_kb(tmp_path), _settings(), minilm)

    [suggestion] = run.suggestions
    assert suggestion.type is SuggestionType.CREATE_POLICY
    assert suggestion.confidence == 0.8396
    assert suggestion.reason == (
        "90% of deployed solutions (90 of 100) set securityContext.readOnlyRootFilesystem to true "
        "and no policy covers the read-only root filesystem"
    )
    assert suggestion.draft == {
        "id": "require-read-only-root-filesystem",
        "description": (
            "Workloads must use a read-only root filesystem "
            "(securityContext.readOnlyRootFilesystem: true)"
        ),
        "triggers": [
            "read-only root filesystem",
            "read-only root filesystem true",
            "read only root filesystem",
            "read only root file system",
        ],
        "rationale": (
            "90% of deployed solutions (90 of 100) already set "
            "securityContext.readOnlyRootFilesystem to true; a policy makes the convention "
            "explicit and checkable."
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
    assert suggestion.evidence.details == {
        "path": READ_ONLY,
        "convention": "value",
        "setting": "read-only-root-filesystem",
        "settingName": "read-only root filesystem",
        "value": True,
    }
    assert run.held_back == []


def test_coverage_by_meaning_needs_no_embedding_model(tmp_path: Path) -> None:
    # The readiness probe is named by require-health-probes' words, not found by a cosine, so
    # it stays covered without a model.
    run = _run(standard_kb(tmp_path), _settings(), None)
    assert [s.draft["id"] for s in run.suggestions] == ["require-read-only-root-filesystem"]


def test_failure_4_a_one_word_security_context_trigger_does_not_cover_seccomp(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    kb = _kb_with(
        tmp_path,
        policy_data(
            "non-root-containers",
            description="Containers must run as a non-root user",
            triggers=["run as non-root", "securityContext"],
        ),
    )
    settings = [
        SettingUsage(path=SECCOMP, value="RuntimeDefault", deployed_workflows=93),
        SettingUsage(path=NON_ROOT, value=True, deployed_workflows=95),
    ]
    run = _run(kb, settings, minilm)
    [seccomp] = run.suggestions
    assert seccomp.draft["id"] == "require-seccomp-profile-runtimedefault"
    assert seccomp.draft["description"] == (
        "Workloads must set the seccomp profile to RuntimeDefault (seccompProfile.type: "
        "RuntimeDefault)"
    )
    assert seccomp.draft["settings"] == {SECCOMP: "RuntimeDefault"}
    assert seccomp.reason == (
        "93% of deployed solutions (93 of 100) set seccompProfile.type to RuntimeDefault "
        "and no policy covers the seccomp profile"
    )


def test_failure_4_policies_that_name_a_setting_in_their_title_cover_it(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    # Kyverno's own titles, no `settings` maps: the old cosine missed all three (0.60 and below).
    kb = _kb_with(
        tmp_path,
        policy_data("p1", description="Require Run As Non-Root User", triggers=["p1"]),
        policy_data("p2", description="Drop All Capabilities", triggers=["p2"]),
        policy_data("p3", description="Require Pod Probes", triggers=["p3"]),
    )
    settings = [
        SettingUsage(path=NON_ROOT, value=True, deployed_workflows=95),
        SettingUsage(path=DROP, value="ALL", deployed_workflows=94),
        SettingUsage(path=READY_PATH, value="/healthz", deployed_workflows=92),
        SettingUsage(path=READ_ONLY, value=True, deployed_workflows=91),
    ]
    run = _run(kb, settings, minilm)
    assert [s.draft["id"] for s in run.suggestions] == ["require-read-only-root-filesystem"]


def test_a_presence_convention_is_proposed_when_the_values_vary(tmp_path: Path) -> None:
    kb = _kb_with(
        tmp_path,
        # Names CPU limits only: memory limits stay uncovered.
        policy_data("cpu-limits", description="Require CPU Limits", triggers=["cpu limits"]),
    )
    settings = [
        SettingUsage(path=MEMORY_LIMIT, value="512Mi", deployed_workflows=40,
                     kinds={"Deployment": 40, "Service": 40}),
        SettingUsage(path=MEMORY_LIMIT, value="1Gi", deployed_workflows=35,
                     kinds={"Deployment": 20, "StatefulSet": 15}),
        SettingUsage(path=MEMORY_LIMIT, value="256Mi", deployed_workflows=17,
                     kinds={"Deployment": 17}),
        SettingUsage(path=CPU_LIMIT, value="500m", deployed_workflows=90),
    ]  # fmt: skip
    run = _run(kb, settings)

    [suggestion] = run.suggestions
    assert suggestion.confidence == 0.8635  # Wilson lower bound of 92 of 100
    assert suggestion.reason == (
        "92% of deployed solutions (92 of 100) set limits.memory (3 different values) "
        "and no policy covers the memory limits"
    )
    assert suggestion.draft == {
        "id": "require-memory-limits",
        "description": "Workloads must set memory limits (limits.memory)",
        "triggers": ["memory limits", "memory limit", "mem limit"],
        "rationale": (
            "92% of deployed solutions (92 of 100) already set limits.memory (3 different values); "
            "a policy makes the convention explicit and checkable."
        ),
        "createdAt": "2026-01-31",
        "createdBy": "patternbot",
        "appliesTo": ["Deployment", "StatefulSet"],
    }
    assert suggestion.evidence.details == {
        "path": MEMORY_LIMIT,
        "convention": "presence",
        "setting": "memory-limits",
        "settingName": "memory limits",
        "distinctValues": 3,
    }
    assert suggestion.evidence.fingerprint == fingerprint_of(
        SuggestionType.CREATE_POLICY, {"setting": MEMORY_LIMIT, "present": True}
    )


def test_a_label_convention_names_its_key_and_needs_a_policy_naming_that_key(
    tmp_path: Path,
) -> None:
    kb = _kb_with(
        tmp_path,
        policy_data(
            "require-name-label",
            description="Workloads must carry the app.kubernetes.io/name label",
            triggers=["labels"],
        ),
    )
    team = "spec.template.metadata.labels.team"
    name = "spec.template.metadata.labels.app.kubernetes.io/name"
    settings = [
        SettingUsage(path=team, value="payments", deployed_workflows=50),
        SettingUsage(path=team, value="search", deployed_workflows=45),
        SettingUsage(path=name, value="shop", deployed_workflows=95),
    ]
    run = _run(kb, settings)
    [suggestion] = run.suggestions
    assert suggestion.draft["id"] == "require-team-label"
    assert suggestion.draft["description"] == "Workloads must set the team label (labels.team)"


def test_a_value_convention_with_a_boolean_reads_as_a_rule(tmp_path: Path) -> None:
    kb = _kb_with(tmp_path, policy_data("other", description="Images must be signed"))
    path = "spec.template.spec.automountServiceAccountToken"
    run = _run(kb, [SettingUsage(path=path, value=False, deployed_workflows=96,
                                 kinds={"Deployment": 90, "ServiceAccount": 80})])  # fmt: skip
    [suggestion] = run.suggestions
    assert suggestion.draft["id"] == "disallow-service-account-token-automount"
    assert suggestion.draft["description"] == (
        "Workloads must not automount the service account token "
        "(spec.automountServiceAccountToken: false)"
    )
    # The setting names the kinds it applies to: a ServiceAccount can carry it too.
    assert suggestion.draft["appliesTo"] == ["Deployment", "ServiceAccount"]


def test_replicas_apply_to_replicated_workloads_only(tmp_path: Path) -> None:
    kb = _kb_with(tmp_path, policy_data("other", description="Images must be signed"))
    kinds = {"Deployment": 60, "StatefulSet": 30, "DaemonSet": 20}
    run = _run(
        kb, [SettingUsage(path="spec.replicas", value=3, deployed_workflows=90, kinds=kinds)]
    )
    [suggestion] = run.suggestions
    assert suggestion.draft["id"] == "require-replica-count-3"
    assert suggestion.draft["appliesTo"] == ["Deployment", "StatefulSet"]


def test_a_setting_named_as_a_secret_is_never_proposed(tmp_path: Path) -> None:
    kb = _kb_with(tmp_path, policy_data("other", description="Images must be signed"))
    path = "spec.template.spec.containers[].env.API_TOKEN"
    run = _run(kb, [SettingUsage(path=path, value="<redacted>", deployed_workflows=99)])
    assert run.suggestions == []
    assert run.held_back == []


def test_log_text_names_a_draft_only_when_it_is_a_plain_word(tmp_path: Path) -> None:
    kb = _kb_with(tmp_path, policy_data("other", description="Images must be signed"))
    settings = [
        SettingUsage(path=SECCOMP, value="docs https://evil.example", deployed_workflows=95),
        # A path the vocabulary does not know, with a segment no manifest key looks like.
        SettingUsage(path="spec.template.spec.docs-https://evil", value="x", deployed_workflows=95),
        SettingUsage(path="spec.template.spec.shareProcessNamespace", value=True,
                     deployed_workflows=94),
    ]  # fmt: skip
    run = _run(kb, settings)
    assert [s.draft["id"] for s in run.suggestions] == [
        "require-seccomp-profile",
        "require-share-process-namespace",
    ]


def test_drafted_ids_fit_a_file_and_branch_name(tmp_path: Path) -> None:
    kb = _kb_with(tmp_path, policy_data("other", description="Images must be signed"))
    path = "spec.template.spec.aVeryLongSettingNameThatKeepsGoingAndGoingOnAndOnForever"
    run = _run(kb, [SettingUsage(path=path, value="AnEvenLongerValueOfFortyCharactersOrSo1",
                                 deployed_workflows=95)])  # fmt: skip
    [suggestion] = run.suggestions
    assert len(suggestion.draft["id"]) <= 63
    assert suggestion.draft["id"].startswith("require-a-very-long-setting-name")


def test_a_setting_adopted_in_the_recent_window_is_proposed_with_its_timeline(
    tmp_path: Path,
) -> None:
    kb = _kb_with(tmp_path, policy_data("other", description="Images must be signed"))
    path = "spec.template.spec.automountServiceAccountToken"
    recent = report(
        deployed_solutions=100,
        settings=[SettingUsage(path=path, value=False, deployed_workflows=90,
                               kinds={"Deployment": 90})],
    )  # fmt: skip
    earlier = report(deployed_solutions=300, settings=[])  # never set before: `unseen` says 0
    whole = report(
        deployed_solutions=400,
        settings=[SettingUsage(path=path, value=False, deployed_workflows=90,
                               kinds={"Deployment": 90})],
        periods={"recent": recent, "earlier": earlier},
    )  # fmt: skip
    run = suggest(
        learning_config(), kb, whole, embedder=None, index=None, history=InMemoryDecisionHistory()
    )
    [suggestion] = run.suggestions
    assert suggestion.draft["id"] == "disallow-service-account-token-automount"
    assert (suggestion.evidence.hits, suggestion.evidence.cases) == (90, 100)
    timeline = suggestion.evidence.details["timeline"]
    assert (timeline["recent"]["hits"], timeline["earlier"]["hits"]) == (90, 0)
    assert (timeline["earlier"]["cases"], timeline["whole"]["cases"]) == (300, 400)


def test_a_redacted_value_is_never_required_by_a_policy(tmp_path: Path) -> None:
    # The log reader replaces values it takes for secrets; a policy cannot require the mask.
    kb = _kb_with(tmp_path, policy_data("other", description="Images must be signed"))
    path = "spec.template.spec.containers[0].env.LOG_FORMAT"
    run = _run(kb, [SettingUsage(path=path, value="[REDACTED:secret]", deployed_workflows=96)])
    assert run.suggestions == []


def test_a_boolean_flag_named_like_a_secret_reaches_the_engine(
    tmp_path: Path, logs_config: Config
) -> None:
    # `automountServiceAccountToken` names a token, but `false` cannot be one: the log reader
    # keeps the flag (it masked it, and the kyverno world's planted policy had no candidate).
    lines = []
    for n in range(12):
        settings = {"spec.template.spec.automountServiceAccountToken": False, "db.password": "x1"}
        lines += [
            solution(f"w{n}", f"s{n}", "2026-03-01T10:01:00Z", ["web"], ["Deployment"],
                     settings=settings),
            outcome(f"w{n}", f"o{n}", "2026-03-01T10:02:00Z", "deployed"),
        ]  # fmt: skip
    path = write_log(tmp_path / "logs.jsonl", lines)
    usage = analyse_logs(logs_config, make_kb({"web": ["Deployment"]}), [str(path)])
    values = {s.path: s.value for s in usage.settings}
    assert values == {
        "spec.template.spec.automountServiceAccountToken": False,
        "db.password": "[REDACTED:secret]",
    }


def test_a_value_with_line_breaks_is_shown_on_one_bounded_line(tmp_path: Path) -> None:
    """A setting value from a log is data: it never starts a line in a draft or a reason."""
    channel = "spec.template.spec.deliveryChannel"
    value = "fast\n::add-mask::x\n::error title=pwned::x " + "y" * 200
    run = _run(
        _kb_with(tmp_path),
        [SettingUsage(path=channel, value=value, deployed_workflows=95)],
    )

    [suggestion] = run.suggestions
    texts = [suggestion.reason, suggestion.draft["description"], suggestion.draft["rationale"]]
    assert [text for text in texts if "\n" in text or len(text) > 400] == []
    assert "fast ::add-mask::x ::error title=pwned::x yyy" in suggestion.reason
    assert suggestion.draft["settings"] == {channel: value}
