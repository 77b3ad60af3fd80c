"""Signal 4, common configurations: settings most deployed solutions carry that no policy covers.

Two kinds of convention (docs/learning.md):
- a value convention: one value of a setting in most solutions (`runAsNonRoot: true`);
- a presence convention: a setting most solutions set, each to its own value (memory limits,
  readiness probes, a `team` label). Only settings the vocabulary marks as such are judged by
  presence; sizes and probe paths vary per application, so a single value of them is no rule.
Coverage is judged by what the setting means (bot.learning.policy_coverage).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

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
from bot.learning.policy_coverage import CoverageIndex, path_segments_raw
from bot.learning.settings_vocabulary import SettingMeaning
from bot.learning.signal import ProportionSignal
from bot.learning.suggestion import SignalName, Suggestion, SuggestionType, fingerprint_of
from bot.learning.wording import (
    GENERIC_SETTING_PARTS,
    percent,
    readable_setting,
    slugify,
    unique_id,
)
from bot.logs.usage import SettingUsage, UsageReport

SIGNAL = SignalName.COMMON_CONFIGURATION
WORKLOAD_KINDS = (
    "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod",
)  # fmt: skip
Convention = Literal["value", "presence"]  # one value in most solutions, or set in most
PRESENT = "*"  # the value part of a presence finding's key
# A setting whose own name says it holds a secret: its values are never shown or proposed.
_SECRET_NAME = re.compile(r"password|passwd|token|secret|credential|api[_-]?key|private[_-]?key")
# Log text becomes part of a drafted id (and so a file and branch name) only when it is a plain
# word: `RuntimeDefault`, `Always`, `3`; never `https://...` or `a b c`.
_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_PLAIN_SEGMENT = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}(\[[0-9*]*\])?$")
# What the log reader puts where a secret was (bot/logs/redact.py): never a value to require.
_REDACTED = re.compile(r"\[REDACTED(?::[\w-]+)?\]|<redacted>", re.IGNORECASE)


@dataclass
class _PathUsage:
    """Every value of one setting path in the deployed solutions."""

    path: str
    values: list[SettingUsage] = field(default_factory=list)

    @property
    def deployed(self) -> int:
        return sum(s.deployed_workflows for s in self.values)

    def kinds(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for setting in self.values:
            total.update(setting.kinds)
        return dict(total)


def _by_path(settings: list[SettingUsage]) -> list[_PathUsage]:
    # A solution holds one value per path, so the values' counts add up to the solutions that
    # set the path at all.
    paths: dict[str, _PathUsage] = {}
    for setting in settings:
        if setting.value is None or setting.deployed_workflows <= 0:
            continue
        paths.setdefault(setting.path, _PathUsage(setting.path)).values.append(setting)
    return list(paths.values())


def _plain_unknown_path(path: str) -> bool:
    """True when a setting the vocabulary does not know may be drafted: every segment a plain
    manifest key (its words name the draft), and the last one not naming a secret."""
    segments = path.split(".")
    if not all(_PLAIN_SEGMENT.match(segment) for segment in segments):
        return False
    return not _SECRET_NAME.search(segments[-1].lower())


def coverage_index(ctx: SignalContext) -> CoverageIndex:
    """The knowledge base's policies read for coverage (built once per knowledge base)."""
    key = id(ctx.kb.policies), tuple((pid, id(p)) for pid, p in ctx.kb.policies.items())
    cached = _INDEX_CACHE.get("last")
    if cached is not None and cached[0] == key and cached[1] is ctx.kb.policies:
        return cached[2]
    index = CoverageIndex(ctx.kb.policies)
    _INDEX_CACHE["last"] = (key, ctx.kb.policies, index)
    return index


_INDEX_CACHE: dict[str, tuple[Any, dict[str, Policy], CoverageIndex]] = {}


def _finding(
    ctx: SignalContext,
    usage: _PathUsage,
    meaning: SettingMeaning | None,
    cases: int,
    setting: SettingUsage | None = None,
) -> Finding:
    """A value finding for `setting`, or without it a presence finding for the whole path."""
    hits = min(usage.deployed if setting is None else setting.deployed_workflows, cases)
    convention: Convention = "presence" if setting is None else "value"
    details: dict[str, Any] = {
        "path": usage.path,
        "convention": convention,
        "setting": meaning.id if meaning else None,
        "settingName": meaning.name if meaning else _name_of_unknown(usage.path),
    }
    if setting is None:
        details["distinctValues"] = len(usage.values)
    else:
        details["value"] = setting.value
    return Finding(
        signal=SIGNAL,
        key=(usage.path, PRESENT if setting is None else json.dumps(setting.value)),
        hits=hits,
        cases=cases,
        confidence=wilson_lower_bound(hits, cases, ctx.settings.confidence_z),
        details=details,
        data={
            "kinds": usage.kinds() if setting is None else dict(setting.kinds),
            "meaning": meaning,
        },
    )


def measure(ctx: SignalContext, report: UsageReport) -> list[Finding]:
    """Findings for uncovered settings: deployed solutions carrying the value (or, for presence
    settings, any value), out of all deployed solutions."""
    cases = report.deployed_solutions
    if cases <= 0:
        return []
    index = coverage_index(ctx)
    embed = ctx.embed if ctx.embedder is not None else None
    findings = []
    for usage in _by_path(report.settings):
        meaning = index.meaning_of(usage.path)
        if meaning is None and not _plain_unknown_path(usage.path):
            continue
        if index.covering(usage.path, embed, ctx.settings.policy_coverage_similarity):
            continue
        if meaning is not None and meaning.entry.presence:
            findings.append(_finding(ctx, usage, meaning, cases))
        else:
            findings.extend(
                _finding(ctx, usage, meaning, cases, s)
                for s in usage.values
                if not (isinstance(s.value, str) and _REDACTED.search(s.value))
            )
    return findings


def applies_to(kinds: dict[str, int], workflows: int, allowed: list[str] | None) -> list[str]:
    """Workload kinds present in at least 10% of the solutions (only `allowed` ones when the
    setting names its kinds); else the kinds in half of them."""
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    eligible = allowed if allowed is not None else WORKLOAD_KINDS
    workloads = [k for k, n in ranked if k in eligible and n >= max(1, 0.1 * workflows)]
    return workloads or [k for k, n in ranked if n >= 0.5 * workflows][:3]


# A value quoted in prose (reason, description, rationale) stays on one line of bounded length; the
# draft's `settings` map keeps it whole.
_MAX_SHOWN = 60
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _shown(value: object) -> str:
    text = json.dumps(value) if isinstance(value, bool) else str(value)
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 1]}…"


def _path_tail(path: str) -> str:
    """`securityContext.runAsNonRoot`: the last two segments, as a reader finds them in YAML."""
    return ".".join(path_segments_raw(path)[-2:])


def _wording(finding: Finding) -> tuple[str, str, str, list[str]]:
    """Base id, the rule in words, what the solutions did, and triggers."""
    details = finding.details
    path, name = details["path"], str(details["settingName"])
    meaning: SettingMeaning | None = finding.data.get("meaning")
    entry = meaning.entry if meaning else None
    terms = [t for t in (entry.terms if entry else []) if " " in t and not t.startswith("=")]
    tail = _path_tail(path)
    if details["convention"] == "presence":
        keyed = meaning is not None and meaning.key is not None
        phrase = entry.require_present if entry and not keyed else None
        rule = f"{phrase or f'set the {name}'} ({tail})"
        did = f"set {tail} ({details['distinctValues']} different values)"
        return f"require-{slugify(name)}", rule, did, [name, *terms[:2]]
    value = details["value"]
    shown = _shown(value)
    phrase = None
    if entry is not None and isinstance(value, bool):
        phrase = entry.require_true if value else entry.require_false
    if value is True:
        base = f"require-{slugify(name)}"
    elif value is False:
        base = f"disallow-{slugify(name)}"
    elif _PLAIN_VALUE.match(shown):
        base = f"require-{slugify(name)}-{slugify(shown, 3)}"
    else:
        base = f"require-{slugify(name)}"  # a value that is not a plain word never names an item
    rule = f"{phrase or f'set the {name} to {shown}'} ({tail}: {shown})"
    valued = [f"{name} {shown}"] if _PLAIN_VALUE.match(shown) else []
    return base, rule, f"set {tail} to {shown}", [name, *valued, *terms[:2]]


def _name_of_unknown(path: str) -> str:
    parts = [p for p in path_segments_raw(path) if p.lower() not in GENERIC_SETTING_PARTS]
    return readable_setting(path, parts=1) or (parts[-1] if parts else path)


def build(
    ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
) -> list[Suggestion]:
    """One create_policy per convention, naming the setting in words."""
    suggestions = []
    for finding in findings:
        details = finding.details
        path = details["path"]
        meaning: SettingMeaning | None = finding.data.get("meaning")
        base, rule, did, triggers = _wording(finding)
        where = on_cluster(finding.cluster)
        share = percent(finding.frequency)
        figures = f"{share} of deployed solutions{where} ({finding.hits} of {finding.cases})"
        draft: dict[str, Any] = {
            "id": unique_id(base, taken_ids),
            "description": f"Workloads{where} must {rule}",
            "triggers": list(dict.fromkeys(t for t in triggers if t)),
            "rationale": (
                f"{figures} already {did}; a policy makes the convention explicit and checkable."
            ),
            "createdAt": window_end_date(report),
            "createdBy": BOT_AUTHOR,
            "appliesTo": applies_to(
                finding.data["kinds"], finding.hits, meaning.entry.kinds if meaning else None
            ),
        }
        identity: dict[str, Any] = {"setting": path, "present": True}
        if details["convention"] == "value":
            draft["settings"] = {path: details["value"]}
            identity = {"setting": path, "value": details["value"]}
        suggestions.append(
            Suggestion(
                type=SuggestionType.CREATE_POLICY,
                confidence=round(finding.confidence, 4),
                reason=f"{figures} {did} and no policy covers the {details['settingName']}",
                draft=checked_draft(Policy, draft),
                evidence=evidence_from(
                    finding,
                    report,
                    fingerprint_of(
                        SuggestionType.CREATE_POLICY, scoped_identity(identity, finding.cluster)
                    ),
                ),
            )
        )
    return suggestions


class CommonConfigurations(ProportionSignal):
    """Signal 4: settings most deployed solutions carry that no policy covers -> create_policy."""

    name = SIGNAL

    def measure(self, ctx: SignalContext, report: UsageReport) -> list[Finding]:
        return measure(ctx, report)

    def build(
        self, ctx: SignalContext, findings: list[Finding], report: UsageReport, taken_ids: set[str]
    ) -> list[Suggestion]:
        return build(ctx, findings, report, taken_ids)

    def unseen(
        self, ctx: SignalContext, report: UsageReport, key: tuple[str, ...]
    ) -> Finding | None:
        """The convention at 0 hits on a report whose deployed solutions never carry it."""
        if report.deployed_solutions <= 0 or len(key) != 2:
            return None
        path, value = key
        usage = _PathUsage(path)
        meaning = coverage_index(ctx).meaning_of(path)
        if value == PRESENT:
            return _finding(ctx, usage, meaning, report.deployed_solutions)
        absent = SettingUsage(path=path, value=json.loads(value), deployed_workflows=0)
        return _finding(ctx, usage, meaning, report.deployed_solutions, absent)


COMMON_CONFIGURATION = CommonConfigurations()
