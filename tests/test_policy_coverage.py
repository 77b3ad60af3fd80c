"""Policy coverage by what a setting means: the vocabulary, the matcher, and real Kyverno texts.

The Kyverno tests build a knowledge base from ../shared/corpus/kyverno_policies.jsonl at run time
(never copied into the repository) the way the evaluation worlds do: title as description and
trigger, the Kyverno description as rationale.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.knowledge.schema import Policy
from bot.learning.policy_coverage import Coverage, CoverageIndex, names_of, path_words
from bot.learning.settings_vocabulary import load_vocabulary, path_segments
from bot.learning.terms import Phrase, contains_phrase, stem, stems
from testing.worlds.corpus import DEFAULT_CORPUS

CORPUS = Path(os.environ.get("PATTERNBOT_CORPUS") or DEFAULT_CORPUS)
KYVERNO = CORPUS / "kyverno_policies.jsonl"

POD = "spec.template.spec."
CONTAINER = "spec.template.spec.containers[0]."
PATHS = {
    "seccomp-profile": POD + "securityContext.seccompProfile.type",
    "run-as-non-root": POD + "securityContext.runAsNonRoot",
    "run-as-user": CONTAINER + "securityContext.runAsUser",
    "allow-privilege-escalation": CONTAINER + "securityContext.allowPrivilegeEscalation",
    "privileged": CONTAINER + "securityContext.privileged",
    "capabilities-drop": CONTAINER + "securityContext.capabilities.drop",
    "capabilities-add": CONTAINER + "securityContext.capabilities.add",
    "read-only-root-filesystem": CONTAINER + "securityContext.readOnlyRootFilesystem",
    "cpu-limits": CONTAINER + "resources.limits.cpu",
    "memory-limits": CONTAINER + "resources.limits.memory",
    "cpu-requests": CONTAINER + "resources.requests.cpu",
    "memory-requests": CONTAINER + "resources.requests.memory",
    "liveness-probe": CONTAINER + "livenessProbe.httpGet.path",
    "readiness-probe": CONTAINER + "readinessProbe.httpGet.path",
    "startup-probe": CONTAINER + "startupProbe.periodSeconds",
    "image": CONTAINER + "image",
    "image-pull-policy": CONTAINER + "imagePullPolicy",
    "host-network": POD + "hostNetwork",
    "host-pid": POD + "hostPID",
    "host-ipc": POD + "hostIPC",
    "host-path": POD + "volumes[0].hostPath.path",
    "automount-service-account-token": POD + "automountServiceAccountToken",
    "replicas": "spec.replicas",
}


def _policy(policy_id: str, description: str, *, rationale: str = "", **extra: Any) -> Policy:
    data: dict[str, Any] = {
        "id": policy_id,
        "description": description,
        "triggers": extra.pop("triggers", [description.lower()]),
        "rationale": rationale or "Because.",
        "createdAt": "2026-01-01",
        "createdBy": "test",
        **extra,
    }
    return Policy.model_validate(data)


def _covered(policy: Policy) -> set[str]:
    index = CoverageIndex({policy.id: policy})
    return {name for name, path in PATHS.items() if index.covering(path) is not None}


def test_stemming_brings_word_forms_together() -> None:
    assert stems("Privileged privilege escalation escalate capabilities dropped probes") == [
        "privileg", "privileg", "escal", "escal", "capability", "drop", "prob",
    ]  # fmt: skip
    assert stems("readOnlyRootFilesystem hostPID CAP_NET_RAW") == [
        "read", "only", "root", "filesystem", "host", "pid", "cap", "net", "raw",
    ]  # fmt: skip
    assert stem("process") == "process"
    assert stem("running") == "run"


def test_phrases_allow_two_words_between_but_not_after_non() -> None:
    words = stems("Every container must declare CPU and memory requests and a memory limit")
    assert contains_phrase(words, Phrase.of("cpu request"))
    assert contains_phrase(words, Phrase.of("memory limit"))
    assert not contains_phrase(words, Phrase.of("cpu limit"))  # seven words apart
    assert not contains_phrase(stems("Set non-CPU limits"), Phrase.of("cpu limit"))
    assert contains_phrase(stems("host and path"), Phrase.of("host path"))
    assert not contains_phrase(stems("host and path"), Phrase.of("=host path"))


def test_setting_paths_mean_vocabulary_settings() -> None:
    vocabulary = load_vocabulary()
    assert path_segments("spec.template.spec.containers[*].image") == [
        "spec", "template", "spec", "containers", "image",
    ]  # fmt: skip
    found = {name: vocabulary.meaning_of(path) for name, path in PATHS.items()}
    assert {name: m.entry.id if m else None for name, m in found.items()} == {
        name: name for name in PATHS
    }
    assert vocabulary.meaning_of("spec.template.spec.shareProcessNamespace") is None
    label = vocabulary.meaning_of("metadata.labels.app.kubernetes.io/name")
    assert label is not None and (label.id, label.name) == (
        "labels:app.kubernetes.io/name",
        "app.kubernetes.io/name label",
    )


@pytest.mark.parametrize(
    ("description", "triggers", "rationale", "expected"),
    [
        # Failure 4: a generic "securityContext" trigger names no setting of its own.
        (
            "Containers must run as a non-root user",
            ["run as non-root", "securityContext", "security"],
            "",
            {"run-as-non-root"},
        ),
        ("Drop All Capabilities", None, "", {"capabilities-drop"}),
        ("Require Pod Probes", None, "", {"liveness-probe", "readiness-probe", "startup-probe"}),
        # A family word ("probes") is narrowed when the policy names members precisely.
        ("Containers must define readiness probes", None, "", {"readiness-probe"}),
        (
            "Every container must declare CPU and memory requests and a memory limit",
            ["resource limits"],
            "",
            {"cpu-requests", "memory-requests", "memory-limits"},
        ),
        ("Require Limits and Requests", None, "", {
            "cpu-limits", "memory-limits", "cpu-requests", "memory-requests"}),
        # dot-ai's policy intent: a coordinated phrase names both limits.
        (
            "All containers must have CPU and memory resource limits defined",
            ["containers"],
            "",
            {"cpu-limits", "memory-limits"},
        ),
        # ...but a gap never skips the word that closes another setting's phrase.
        ("Pods must set CPU requests and memory limits", None, "", {
            "cpu-requests", "memory-limits"}),
        ("Set non-CPU limits for pods", None, "", set()),
        ("Unique Ingress Host and Path", None, "", set()),
        ("Disallow Host Namespaces", None, "", {"host-network", "host-pid", "host-ipc"}),
        ("Restricted Pod Security Standards", None, "", {
            "privileged", "capabilities-add", "capabilities-drop", "host-network", "host-pid",
            "host-ipc", "host-path", "seccomp-profile", "run-as-non-root", "run-as-user",
            "allow-privilege-escalation"}),
        # Only sentences that state the rule count in a longer text: the first one is context.
        (
            "Disallow CRI socket mounts",
            None,
            "Socket mounts can be used for privilege escalation and should not be allowed. "
            "This policy validates that the sockets of CRI engines are not mounted.",
            set(),
        ),
        (
            "Pod hardening",
            ["hardening"],
            "Running as root is risky. This policy ensures `readOnlyRootFilesystem: true`.",
            {"read-only-root-filesystem"},
        ),
        ("Pod security and compliance", ["security", "security context", "pod"], "", set()),
    ],
)  # fmt: skip
def test_which_settings_a_hand_written_policy_covers(
    description: str, triggers: list[str] | None, rationale: str, expected: set[str]
) -> None:
    extra: dict[str, Any] = {"triggers": triggers} if triggers else {}
    policy = _policy("p", description, rationale=rationale, **extra)
    assert _covered(policy) == expected


def test_a_declared_path_covers_whatever_the_list_index() -> None:
    policy = _policy(
        "p",
        "Images must be signed",
        settings={"spec.template.spec.containers[*].securityContext.privileged": False},
    )
    index = CoverageIndex({"p": policy})
    assert index.covering(CONTAINER + "securityContext.privileged") == Coverage("p", "declared")
    # ...and a declared path lends its meaning: the pod-level field is the same setting.
    assert index.covering(POD + "securityContext.privileged") == Coverage("p", "named")


def test_an_unknown_setting_is_matched_by_its_own_words() -> None:
    assert path_words("spec.template.spec.shareProcessNamespace") == ["shar", "process", "namespac"]
    policy = _policy("p", "Pods must not share the process namespace")
    index = CoverageIndex({"p": policy})
    assert index.covering("spec.template.spec.shareProcessNamespace") == Coverage("p", "named")
    assert index.covering("spec.template.spec.enableServiceLinks") is None


def test_embeddings_only_break_ties_among_policies_sharing_a_word(
    minilm: MiniLMOnnxEmbedder,
) -> None:
    path = "spec.template.spec.enableServiceLinks"  # unknown to the vocabulary: `service link`

    def covering(description: str, threshold: float) -> Coverage | None:
        index = CoverageIndex({"p": _policy("p", description)})
        return index.covering(path, minilm.embed, threshold)

    # The phrase itself (words in order, small gaps): named, no cosine needed.
    assert covering("Pods must not see other services as links", 1.0) == Coverage("p", "named")
    # Both words, not as the phrase: the cosine decides, at the threshold given.
    assert covering("Links of services must be disabled in pods", 0.55) == Coverage(
        "p", "similar", 0.5699
    )
    assert covering("Links of services must be disabled in pods", 0.62) is None
    # One shared word and a distant meaning: below any sensible threshold.
    assert covering("Service accounts need an owner", 0.55) is None
    # No shared word: never covered by a cosine, whatever the threshold.
    assert covering("Images must be signed", -1.0) is None


# ---- real policy texts --------------------------------------------------------------------------

KYVERNO_EXPECTED = {
    "require-run-as-non-root-user": {"run-as-non-root", "run-as-user"},
    "require-run-as-nonroot": {"run-as-non-root"},
    "drop-all-capabilities": {"capabilities-drop"},
    "disallow-capabilities": {"capabilities-add"},
    "disallow-capabilities-strict": {"capabilities-add", "capabilities-drop"},
    "require-pod-probes": {"liveness-probe", "readiness-probe", "startup-probe"},
    "require-requests-limits": {"cpu-requests", "memory-requests", "memory-limits"},
    "require-ro-rootfs": {"read-only-root-filesystem"},
    "restrict-seccomp": {"seccomp-profile"},
    "disallow-host-namespaces": {"host-network", "host-pid", "host-ipc"},
    "disallow-host-path": {"host-path"},
    "disallow-privilege-escalation": {"allow-privilege-escalation"},
    "disallow-privileged-containers": {"privileged"},
    "disallow-latest-tag": {"image"},
    "restrict-image-registries": {"image"},
    "restrict-automount-sa-token": {"automount-service-account-token"},
    "imagepullpolicy-always": {"image", "image-pull-policy"},
    # Named in passing ("can be used for privilege escalation ... should not be allowed"): no.
    "disallow-container-sock-mounts": set(),
    "disallow-selinux": set(),
    "unique-ingress-host-and-path": set(),
    "disallow-default-namespace": set(),
}


def _kyverno_policies() -> dict[str, Policy]:
    if not KYVERNO.is_file():
        pytest.skip(f"the evaluation corpus is not here ({KYVERNO}); set PATTERNBOT_CORPUS")
    policies: dict[str, Policy] = {}
    for line in KYVERNO.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        name, title = record.get("name"), (record.get("title") or "").strip()
        if not name or not title or name in policies:
            continue
        policies[name] = _policy(
            name, title, rationale=record.get("description") or title, triggers=[title.lower()]
        )
    return policies


def test_real_kyverno_policies_cover_exactly_the_settings_they_name() -> None:
    policies = _kyverno_policies()
    covered = {name: _covered(policies[name]) for name in KYVERNO_EXPECTED}
    assert covered == KYVERNO_EXPECTED


def test_a_run_as_non_root_policy_does_not_cover_seccomp_in_a_whole_kyverno_library() -> None:
    policies = _kyverno_policies()
    vocabulary = load_vocabulary()
    # The whole library (331 policies): who names seccomp, and who names running as non-root.
    seccomp = {
        n for n, p in policies.items() if "seccomp-profile" in names_of(p, vocabulary).settings
    }
    non_root = {
        n for n, p in policies.items() if "run-as-non-root" in names_of(p, vocabulary).settings
    }
    assert "require-run-as-nonroot" in non_root
    assert "require-run-as-nonroot" not in seccomp
    assert "require-run-as-non-root-user" not in seccomp
    assert {"restrict-seccomp", "restrict-seccomp-strict"} <= seccomp
