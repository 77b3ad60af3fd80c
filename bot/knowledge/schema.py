"""Pattern and policy shapes, compatible with the DevOps AI Toolkit's organizational data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, PrivateAttr

from bot.camel import CamelModel as CamelModel  # re-exported: its home moved (bot/camel.py)
from bot.knowledge.kinds import kind_problem

# An id is a file name and part of a git branch name (`patternbot/<type>/<id>`), so it keeps to
# what both accept everywhere: a lower-case slug, short enough for any file system.
ID_MAX_LENGTH = 63
ID_PATTERN = r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$"
_ID_RE = re.compile(ID_PATTERN)
# The same rule in JSON Schema, which can say "no '..'" and "no '.lock' suffix" with lookaheads.
ID_JSON_PATTERN = r"^(?!.*\.\.)(?!.*\.lock$)[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$"
ID_RULE = (
    "lower-case letters, digits, '.', '_' and '-', starting and ending with a letter or digit, "
    f"at most {ID_MAX_LENGTH} characters"
)


def _check_kind(name: str) -> str:
    problem = kind_problem(name)
    if problem:
        raise ValueError(problem)
    return name


def id_problem(value: str) -> str | None:
    """Why `value` cannot be an item id (a file name and a git branch name), or None."""
    if len(value) > ID_MAX_LENGTH:
        return f"is {len(value)} characters long; an id has at most {ID_MAX_LENGTH}"
    if not _ID_RE.match(value):
        lower = value.lower()
        if lower != value and _ID_RE.match(lower) and id_problem(lower) is None:
            return f"must be lower case: {lower!r}"
        return f"must hold only {ID_RULE}"
    if ".." in value:
        return "must not contain '..' (git refuses it in branch names)"
    if value.endswith(".lock"):
        return "must not end in '.lock' (git refuses it in branch names)"
    return None


def _check_id(value: str) -> str:
    problem = id_problem(value)
    if problem:
        raise ValueError(f"{value!r} is not a valid id: {problem}")
    return value


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
            if not _DATE_START.match(text):
                raise ValueError(text)
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            # An impossible date (2025-02-30) is caught here too: YAML dates are loaded as text.
            raise ValueError(f"{value!r} is not an ISO 8601 date or time") from None
        return text
    return value


_DATE_START = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")

KindName = Annotated[str, AfterValidator(_check_kind)]
Text = Annotated[str, AfterValidator(_check_text)]
Timestamp = Annotated[str, BeforeValidator(_check_timestamp)]
ItemId = Annotated[str, AfterValidator(_check_id)]


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

    id: ItemId = Field(
        description=(
            "Unique id across patterns and policies; also the file name without .yaml "
            f"({ID_RULE}, no '..', not ending in '.lock')."
        )
    )
    description: Text = Field(description="One line saying what this is, as a reader would search.")
    triggers: Annotated[list[Text], Field(min_length=1)] = Field(
        description="Words and short phrases of a user's intent that should retrieve this item."
    )
    rationale: Text = Field(description="Why the organization does it this way.")
    # Optional in a file: the loader fills both from the commit that added the file (provenance.py),
    # so a loaded item always has them.
    created_at: Timestamp = Field(
        description=(
            "When it was written (ISO 8601 date or date and time); "
            "when absent, the date of the commit that added the file."
        )
    )
    created_by: Text = Field(
        description=(
            "Who wrote it: a team or a person; when absent, the author of the commit that added "
            "the file."
        )
    )
    usage_metrics: UsageMetrics | None = Field(
        default=None,
        description="Usage counters: accepted for compatibility; recomputed from the logs.",
    )
    # The file the item was loaded from (set by the loader; never read from or written to YAML).
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The file this item was loaded from, or None for an item built in memory."""
        return self._source

    def mark_source(self, path: Path) -> None:
        """Record the file this item was loaded from (updates are written back there)."""
        self._source = path

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
    """True when `value` can be an item id (and so a file name and a branch name)."""
    return id_problem(value) is None


def slugify(text: str, fallback: str = "item") -> str:
    """A valid id made from free text: 'Stateless Web App!' -> 'stateless-web-app'."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    slug = slug[:ID_MAX_LENGTH].rstrip("-") or fallback
    return slug if is_valid_id(slug) else fallback
