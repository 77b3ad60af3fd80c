"""Pattern and policy shapes, compatible with the DevOps AI Toolkit's organizational data."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from bot.knowledge.kinds import kind_problem

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_ID_RE = re.compile(ID_PATTERN)


class CamelModel(BaseModel):
    """A model whose YAML and JSON keys are camelCase and whose unknown keys are errors."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=False
    )

    def to_data(self) -> dict[str, Any]:
        """The model as plain YAML/JSON data with camelCase keys, unset optional fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


def _check_kind(name: str) -> str:
    problem = kind_problem(name)
    if problem:
        raise ValueError(problem)
    return name


def _check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _check_timestamp(value: object) -> object:
    """Keep the author's own spelling of a date or time, but only if it is ISO 8601."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        try:
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date or time") from None
        return text
    return value


KindName = Annotated[str, AfterValidator(_check_kind)]
Text = Annotated[str, AfterValidator(_check_text)]
Timestamp = Annotated[str, BeforeValidator(_check_timestamp)]


class UsageMetrics(CamelModel):
    """Counters computed from workflow logs (accepted in YAML for backwards compatibility)."""

    times_recommended: int = Field(
        default=0, ge=0, description="Workflows that retrieved this item for their intent."
    )
    times_used: int = Field(
        default=0, ge=0, description="Workflows whose generated solution used this item."
    )
    success_rate: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Share of finished workflows using this item that deployed successfully.",
    )
    common_additions: dict[str, int] = Field(
        default_factory=dict,
        description="Resource kinds users added next to this item's resources, with counts.",
    )
    last_used: dt.datetime | None = Field(
        default=None, description="When a workflow last used this item (ISO 8601 date and time)."
    )


class DeployedPolicy(CamelModel):
    """A policy-engine object (say a Kyverno ClusterPolicy) generated from a policy intent."""

    name: Text = Field(description="Name of the deployed policy-engine object.")
    applied_at: Timestamp | None = Field(
        default=None, description="When it was applied (ISO 8601 date or date and time)."
    )


class KnowledgeItem(CamelModel):
    """What patterns and policies share: identity, retrieval text and provenance."""

    id: Annotated[str, Field(pattern=ID_PATTERN)] = Field(
        description="Unique id across patterns and policies; also the file name without .yaml."
    )
    description: Text = Field(description="One line saying what this is, as a reader would search.")
    triggers: Annotated[list[Text], Field(min_length=1)] = Field(
        description="Words and short phrases of a user's intent that should retrieve this item."
    )
    rationale: Text = Field(description="Why the organization does it this way.")
    created_at: Timestamp = Field(
        description="When it was written (ISO 8601 date or date and time)."
    )
    created_by: Text = Field(description="Who wrote it: a team or a person.")
    usage_metrics: UsageMetrics | None = Field(
        default=None,
        description="Usage counters: accepted for compatibility; recomputed from the logs.",
    )

    def retrieval_text(self) -> str:
        """The whole text of the item, for lexical (BM25) search."""
        return f"{self.description}. {'; '.join(self.triggers)}. {self.rationale}"

    def naming_text(self) -> str:
        """What the item is called: its description and triggers, without rationale or resources."""
        return f"{self.description}. {'; '.join(self.triggers)}"

    def semantic_texts(self) -> list[str]:
        """The texts embedded for semantic search: the naming text, then each trigger on its own.

        An intent is scored against the closest of them. Short intents match a single trigger far
        better than a paragraph that also holds the rationale (measured in docs/index.md).
        """
        return [self.naming_text(), *self.triggers]


class Pattern(KnowledgeItem):
    """An organizational deployment pattern: which resources go together for a kind of workload."""

    kind: Literal["pattern"] = Field(default="pattern", exclude=True)
    suggested_resources: Annotated[list[KindName], Field(min_length=1)] = Field(
        description="Kubernetes kinds (UpperCamelCase, like Deployment) this pattern deploys."
    )
    deprecated: bool = Field(
        default=False, description="True when retrieval should no longer offer this pattern."
    )
    deprecated_reason: str | None = Field(
        default=None, description="Why it was deprecated and what to use instead."
    )

    def retrieval_text(self) -> str:
        return f"{super().retrieval_text()} Resources: {', '.join(self.suggested_resources)}."


class Policy(KnowledgeItem):
    """An organizational policy intent: a rule that resources of some kinds must follow."""

    kind: Literal["policy"] = Field(default="policy", exclude=True)
    applies_to: list[KindName] = Field(
        default_factory=list,
        description="Kubernetes kinds (UpperCamelCase, like Deployment) the rule applies to.",
    )
    settings: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Setting paths and the values the rule requires (for example replicas: 2).",
    )
    deployed_policies: list[DeployedPolicy] = Field(
        default_factory=list,
        description="Policy-engine objects (for example Kyverno ClusterPolicies) enforcing it.",
    )

    def retrieval_text(self) -> str:
        text = super().retrieval_text()
        if self.applies_to:
            text += f" Applies to: {', '.join(self.applies_to)}."
        return text


Item = Pattern | Policy


def is_valid_id(value: str) -> bool:
    """True when `value` can be an item id (and so a file name)."""
    return bool(_ID_RE.match(value))
