"""A reviewer's modified merge is the new baseline: what they removed returns only on new evidence.

A suggestion pull request records the values it adds (`proposed` in its metadata). After a merge
with modifications, the values missing from the merged file were removed by the reviewer. A later
suggestion that adds one of them again is held back until the evidence gathered since the merge
supports it: logs accumulate, so its cases must reach `learning.resubmitGrowth` times the cases the
merged pull request recorded, the same bar a rejection has. The pull request then links the merge.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from bot.config import Config
from bot.learning.suggestion import Suggestion, SuggestionType
from bot.platform.feedback import Decision
from bot.platform.gitrepo import GitRepo
from bot.yamlfile import round_trip_yaml

_CREATES = (SuggestionType.CREATE_PATTERN, SuggestionType.CREATE_POLICY)


def proposed_values(suggestion: Suggestion) -> dict[str, list[str]]:
    """The list values a suggestion adds, per key: what a reviewer may remove before merging."""
    if suggestion.changes:
        adds = suggestion.changes.get("add") or {}
        return {str(key): sorted(str(v) for v in values) for key, values in adds.items()}
    if suggestion.type in _CREATES:
        resources = suggestion.draft.get("suggestedResources")
        if isinstance(resources, list):
            return {"suggestedResources": sorted(str(value) for value in resources)}
    return {}


def removed_by_reviewer(
    repo: GitRepo, base_sha: str, config: Config, decision: Decision
) -> dict[str, list[str]]:
    """The values the merged pull request proposed that the base branch's file does not hold."""
    policy = decision.type == SuggestionType.CREATE_POLICY.value
    folder = config.paths.policies if policy else config.paths.patterns
    text = repo.read_file(base_sha, f"{folder.rstrip('/')}/{decision.target}.yaml")
    if text is None:
        return {}
    try:
        data = round_trip_yaml().load(text)
    except Exception:  # a file the reviewer broke is validate's to report, not ours
        return {}
    removed: dict[str, list[str]] = {}
    for key, values in decision.proposed.items():
        present = data.get(key) if isinstance(data, dict) else None
        held = {str(value) for value in present} if isinstance(present, list) else set()
        missing = [value for value in values if value not in held]
        if missing:
            removed[key] = missing
    return removed


def readds_removed(
    suggestion: Suggestion,
    decisions: Sequence[Decision],
    removed_of: Callable[[Decision], dict[str, list[str]]],
    growth: float,
) -> tuple[str | None, str | None]:
    """(why it is held back, or None; the modified merge to link when it may go ahead)."""
    adds = proposed_values(suggestion) if suggestion.changes else {}
    if not adds:
        return None, None
    for decision in reversed(decisions):
        if decision.outcome != "modified" or decision.target != suggestion.item_id:
            continue
        removed = removed_of(decision)
        again = sorted(
            value
            for key, values in adds.items()
            for value in values
            if value in removed.get(key, [])
        )
        if not again:
            continue
        needed = math.ceil(decision.cases * growth)
        if suggestion.evidence.cases >= needed:
            return None, decision.url
        return (
            f"a reviewer removed {', '.join(again)} when merging {decision.url}; "
            f"{suggestion.evidence.cases} cases so far, {needed} needed "
            f"({decision.cases} at the merge times learning.resubmitGrowth)"
        ), None
    return None, None
