"""Matching suggestions to ground truth by what they propose, never by wording.

A suggestion is reduced to its proposal: type, target, kinds added, cluster, the drafted
resources, the patterns it combines and the settings it requires. A ground-truth entry (planted or
a negative control's must-not) names the proposal it expects with `proposal`:

  add_kinds   update_pattern of `target` adding `add` (in `cluster`, or any with anyCluster)
  note        update_pattern of `target` that adds no kind (a failing pattern's known issue)
  deprecate   deprecate_pattern of `target`
  new_pattern create_pattern whose resources overlap `resources` (Jaccard >= 0.8)
  combine     create_pattern combining `patterns` (or drafting exactly their resources)
  policy      create_policy requiring `path` (= `value` unless value is null: presence)
  failing_any update_pattern adding no kind, of any of `targets`

Entries of the calibration simulator (no `proposal` key) are read through their `signal`.
"""

from __future__ import annotations

import json
from typing import Any

from bot.learning.suggestion import Suggestion
from testing.simulation.groundtruth import Regularity

_BY_SIGNAL = {
    "common_additions": "add_kinds",
    "failing": "note",
    "rarely_used": "deprecate",
    "gap": "new_pattern",
    "co_usage": "combine",
    "common_configuration": "policy",
}
GAP_OVERLAP = 0.8


def proposal_of(s: Suggestion) -> dict[str, Any]:
    """What a suggestion proposes, in the neutral shape the matcher reads."""
    changes = s.changes or {}
    add = list((changes.get("add") or {}).get("suggestedResources") or [])
    settings: dict[str, Any] = (
        dict(s.draft.get("settings") or {}) if s.type.value == "create_policy" else {}
    )
    details = s.evidence.details
    if "path" in details and details["path"] not in settings:
        settings[str(details["path"])] = details.get("value")
    return {
        "type": s.type.value,
        "signal": s.evidence.signal,
        "target": s.target,
        "id": s.item_id,
        "add": add,
        "cluster": s.evidence.cluster,
        "resources": list(s.draft.get("suggestedResources") or []),
        "patterns": sorted(s.evidence.patterns_used),
        "settings": settings,
        "confidence": s.confidence,
        "reason": s.reason,
        # What a reviewer reads besides the change: to check that the failing pattern's dominant
        # error is quoted, not to match.
        "said": s.reason + " " + json.dumps(details, default=str),
    }


def spec_of(reg: Regularity, *, control: bool) -> dict[str, Any]:
    """The proposal a regularity expects (planted) or forbids (control), with its scope."""
    if control:
        spec = {**reg.expected, **(reg.must_not_suggest or {})}
    else:
        spec = {"type": reg.type, **reg.expected}
    spec.setdefault("proposal", _BY_SIGNAL.get(reg.signal, reg.signal))
    spec.setdefault("target", reg.target)
    spec.setdefault("cluster", reg.cluster)
    return spec


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def matches(spec: dict[str, Any], p: dict[str, Any], kb_resources: dict[str, list[str]]) -> bool:
    """Does proposal `p` make the change `spec` describes?"""
    if p["type"] != spec.get("type"):
        return False
    kind = spec["proposal"]
    if kind == "add_kinds":
        return (
            p["target"] == spec["target"]
            and set(spec["add"]) <= set(p["add"])
            and (spec.get("anyCluster", False) or p["cluster"] == spec.get("cluster"))
        )
    if kind == "note":
        return p["target"] == spec["target"] and not p["add"]
    if kind == "failing_any":
        return p["target"] in spec["targets"] and not p["add"]
    if kind == "deprecate":
        return bool(p["target"] == spec["target"])
    if kind == "new_pattern":
        return _jaccard(set(spec["resources"]), set(p["resources"])) >= GAP_OVERLAP
    if kind == "combine":
        pair = sorted(spec["patterns"])
        union = {k for item in pair for k in kb_resources.get(item, [])}
        return p["patterns"] == pair or (bool(union) and set(p["resources"]) == union)
    if kind == "policy":
        if spec["path"] not in p["settings"]:
            return False
        return spec.get("value") is None or p["settings"][spec["path"]] == spec["value"]
    return False


def owner_of(spec: dict[str, Any]) -> str:
    """Which engine owner a ground-truth entry concerns (time phenomena: SIGNALS first)."""
    owner = {"new_pattern": "GAPS", "policy": "POLICIES"}.get(spec["proposal"], "SIGNALS")
    if "sinceDay" in spec or "untilDay" in spec:
        return "SIGNALS (time)" + (f" + {owner}" if owner != "SIGNALS" else "")
    return owner


def owner_of_proposal(p: dict[str, Any]) -> str:
    if p["type"] == "create_policy":
        return "POLICIES"
    if p["type"] == "create_pattern" and p.get("signal") == "gap":
        return "GAPS"
    return "SIGNALS"


def describe(p: dict[str, Any]) -> str:
    """A proposal in one line: what it changes (not its wording)."""
    t = p["type"]
    where = f" on {p['cluster']}" if p.get("cluster") else ""
    if t == "update_pattern":
        change = f"add {','.join(p['add'])}" if p["add"] else "note (no kinds)"
        return f"update_pattern {p['target']}: {change}{where}"
    if t == "deprecate_pattern":
        return f"deprecate_pattern {p['target']}"
    if t == "create_policy":
        shown = ", ".join(f"{k}={v}" for k, v in p["settings"].items())
        return f"create_policy {p['id']}: {shown}{where}"
    parts = f" combining {'+'.join(p['patterns'])}" if p.get("signal") == "co_usage" else ""
    return f"create_pattern {p['id']}{parts} [{','.join(sorted(p['resources']))}]{where}"


def score(
    planted: list[Regularity],
    controls: list[Regularity],
    proposals: list[dict[str, Any]],
    kb_resources: dict[str, list[str]],
) -> dict[str, Any]:
    """Each proposal judged: correct (first match of a planted entry), duplicate, control hit, or
    unplanned; each planted entry found or missed."""
    specs = [(reg, spec_of(reg, control=False)) for reg in planted]
    control_specs = [(reg, spec_of(reg, control=True)) for reg in controls]
    claimed: dict[str, int] = {}
    judged: list[dict[str, Any]] = []
    for index, p in enumerate(proposals):
        hit = next((reg for reg, spec in specs if matches(spec, p, kb_resources)), None)
        if hit is not None and hit.name not in claimed:
            claimed[hit.name] = index
            judged.append({"proposal": p, "verdict": "correct", "regularity": hit.name})
            continue
        control = next((reg for reg, spec in control_specs if matches(spec, p, kb_resources)), None)
        if hit is not None:
            verdict: dict[str, str | None] = {"verdict": "duplicate", "regularity": hit.name}
        elif control is not None:
            verdict = {"verdict": "control", "regularity": control.name}
        else:
            verdict = {"verdict": "unplanned", "regularity": None}
        judged.append({"proposal": p, **verdict})
    missed = [reg for reg in planted if reg.name not in claimed]
    return {"judged": judged, "found": sorted(claimed), "missed": missed}
