"""A suggestion: one proposed change to the knowledge base, with everything a pull request needs."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any

from pydantic import Field

from bot.knowledge.schema import CamelModel
from bot.logs.usage import Window


class SignalName(StrEnum):
    """The learning signals (bot/learning/signal.py holds their interface and registry)."""

    COMMON_ADDITIONS = "common_additions"
    GAP = "gap"
    CO_USAGE = "co_usage"
    COMMON_CONFIGURATION = "common_configuration"
    RARELY_USED = "rarely_used"
    FAILING = "failing"


class ItemType(StrEnum):
    """What a suggestion creates or changes."""

    PATTERN = "pattern"
    POLICY = "policy"


class SuggestionType(StrEnum):
    CREATE_PATTERN = "create_pattern"
    UPDATE_PATTERN = "update_pattern"
    CREATE_POLICY = "create_policy"
    DEPRECATE_PATTERN = "deprecate_pattern"


class ClusterFigures(CamelModel):
    """The signal's proportion within one cluster."""

    frequency: float | None
    hits: int
    cases: int


class Evidence(CamelModel):
    """The numbers behind a suggestion. Every figure comes from the logs, never from a model."""

    signal: SignalName
    frequency: float | None  # hits / cases
    hits: int
    cases: int
    window: Window = Field(default_factory=Window)
    patterns_used: list[str] = Field(default_factory=list)
    clusters: dict[str, ClusterFigures] = Field(default_factory=dict)
    cluster: str | None = None  # set when the signal holds in this cluster only
    example_intents: list[str] = Field(default_factory=list)  # redacted
    details: dict[str, Any] = Field(
        default_factory=dict
    )  # signal-specific figures (lift, support...)
    fingerprint: str = ""


class Suggestion(CamelModel):
    """The PRD's suggestion format plus `target` and `changes`."""

    type: SuggestionType
    target: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str
    draft: dict[str, Any]  # the complete proposed pattern or policy, camelCase keys
    changes: dict[str, Any] | None = (
        None  # e.g. {"add": {"suggestedResources": ["PodDisruptionBudget"]}}
    )
    evidence: Evidence
    drafted_by: str = "deterministic"  # or the model name when Claude refined the wording

    @property
    def item_kind(self) -> ItemType:
        """ItemType.POLICY for create_policy, ItemType.PATTERN otherwise."""
        return ItemType.POLICY if self.type is SuggestionType.CREATE_POLICY else ItemType.PATTERN

    @property
    def item_id(self) -> str:
        """The id of the pattern or policy the suggestion creates or changes."""
        return self.target or str(self.draft["id"])


def fingerprint_of(kind: SuggestionType, identity: dict[str, Any]) -> str:
    """A stable fingerprint of a proposed change: same change, same fingerprint, any wording."""
    canonical = json.dumps({"type": kind.value, **identity}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
