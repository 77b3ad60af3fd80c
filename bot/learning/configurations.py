"""Signal 4, common configurations: settings most deployed solutions carry that no policy covers."""

from __future__ import annotations

import json
import re

import numpy as np

from bot.knowledge.schema import Policy
from bot.learning.confidence import wilson_lower_bound
from bot.learning.drafts import BOT_AUTHOR, checked_draft
from bot.learning.findings import (
    Finding,
    SignalContext,
    evidence_from,
    on_cluster,
    scoped_identity,
    window_end_date,
)
from bot.learning.suggestion import Suggestion, SuggestionType, fingerprint_of
from bot.learning.wording import percent, readable_setting, slugify, unique_id
from bot.logs.usage import SettingUsage, UsageReport

SIGNAL = "common_configuration"
WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod"}
)


_PATH_NOISE = frozenset({"spec", "template", "containers", "initcontainers", "metadata"})


def setting_sentence(path: str, value: object) -> str:
    """A setting as text to embed: `security context run as non root: true`."""
    parts = [p for p in re.split(r"[.\[\]/]+", path) if p and not p.isdigit()]
    words = [
        re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", p) for p in parts if p.lower() not in _PATH_NOISE
    ]
    shown = json.dumps(value) if isinstance(value, bool) else str(value)
    return f"{' '.join(words).lower()}: {shown.lower()}"


def _policy_texts(ctx: SignalContext) -> tuple[list[str], list[str]]:
    # Each trigger on its own: a policy's whole text dilutes the one phrase that names the setting.
    owners, texts = [], []
    for policy_id, policy in sorted(ctx.kb.policies.items()):
        for text in (policy.retrieval_text(), policy.description, *policy.triggers):
            owners.append(policy_id)
            texts.append(text)
    return owners, texts


def _exact_cover(ctx: SignalContext, path: str) -> str | None:
    for policy_id, policy in sorted(ctx.kb.policies.items()):
        if path in policy.settings:
            return policy_id
    return None


def _semantic_cover(ctx: SignalContext, setting: SettingUsage) -> tuple[str | None, float | None]:
    if ctx.embedder is None or not ctx.kb.policies:
        return None, None
    owners, texts = _policy_texts(ctx)
    scores = ctx.embed(texts) @ ctx.embed([setting_sentence(setting.path, setting.value)])[0]
    best = int(np.argmax(scores))
    score = float(scores[best])
    covered = owners[best] if score >= ctx.settings.policy_coverage_similarity else None
    return covered, round(score, 4)


def measure(ctx: SignalContext, report: UsageReport) -> list[Finding]:
    """One finding per uncovered setting: deployed solutions carrying it, out of all deployed."""
    findings = []
    cases = report.deployed_solutions
    for setting in report.settings:
        value = setting.value
        if value is None or cases <= 0 or setting.deployed_workflows <= 0:
            continue
        if _exact_cover(ctx, setting.path) is not None:
            continue
        covered_by, nearest = _semantic_cover(ctx, setting)
        if covered_by is not None:
            continue
        hits = min(setting.deployed_workflows, cases)
        findings.append(
            Finding(
                signal=SIGNAL,
                key=(setting.path, json.dumps(value)),
                hits=hits,
                cases=cases,
                confidence=wilson_lower_bound(hits, cases, ctx.settings.confidence_z),
                details={"path": setting.path, "value": value, "nearestPolicySimilarity": nearest},
                data={"kinds": dict(setting.kinds)},
            )
        )
    return findings


def _applies_to(kinds: dict[str, int], workflows: int) -> list[str]:
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    workloads = [k for k, n in ranked if k in WORKLOAD_KINDS and n >= max(1, 0.1 * workflows)]
    return workloads or [k for k, n in ranked if n >= 0.5 * workflows][:3]


def build(
    ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
) -> list[Suggestion]:
    """One create_policy per setting, applying to the workload kinds that carried it."""
    suggestions = []
    for finding in findings:
        path, value = finding.details["path"], finding.details["value"]
        readable = readable_setting(path) or path
        name = readable_setting(path, parts=1) or readable
        if value is True:
            base, shown = f"require-{slugify(name)}", "true"
        elif value is False:
            base, shown = f"disallow-{slugify(name)}", "false"
        else:
            base, shown = f"require-{slugify(name)}-{slugify(str(value), 3)}", str(value)
        where = on_cluster(finding.cluster)
        share = percent(finding.frequency)
        draft = {
            "id": unique_id(base, taken_ids),
            "description": f"Workloads{where} set {path} to {shown}",
            "triggers": list(dict.fromkeys([name, readable, f"{name} {shown}"])),
            "rationale": (
                f"{share} of deployed solutions{where} ({finding.hits} of {finding.cases}) "
                f"already set "
                f"{path} to {shown}; a policy makes the convention explicit and checkable."
            ),
            "createdAt": window_end_date(report),
            "createdBy": BOT_AUTHOR,
            "appliesTo": _applies_to(finding.data["kinds"], finding.hits),
            "settings": {path: value},
        }
        identity = scoped_identity({"setting": path, "value": value}, finding.cluster)
        suggestions.append(
            Suggestion(
                type=SuggestionType.CREATE_POLICY,
                confidence=round(finding.confidence, 4),
                reason=(
                    f"{share} of deployed solutions{where} set {path} to {shown} "
                    f"({finding.hits} of {finding.cases}) and no policy covers it"
                ),
                draft=checked_draft(Policy, draft),
                evidence=evidence_from(
                    finding, report, fingerprint_of(SuggestionType.CREATE_POLICY, identity)
                ),
            )
        )
    return suggestions
