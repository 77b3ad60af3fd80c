"""dot-ai `Solution` records as a log source: `kubectl get solutions -o json` in, v1 events out.

The DevOps AI Toolkit's controller (vfarcic/dot-ai-controller, `api/v1alpha1/solution_types.go`)
keeps one `Solution` custom resource per deployed recommendation: the user's intent, the
resources, the *descriptions* of the patterns and policies that shaped it, and a state
(pending, deployed, degraded, failed). Each record becomes the events a workflow tool would have
written: `retrieved` (patternbot's own retrieval on the intent, marked `retrievedBy`),
`solution` (descriptions mapped to knowledge-base ids) and `outcome` (none while pending).

Event ids derive from the record (uid, state), so importing the same records again yields the
same events, and patternbot's deduplication counts them once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from bot.knowledge.repository import KnowledgeBase
from bot.logs.events import (
    LOG_VERSION,
    ItemScore,
    OutcomeEvent,
    Resource,
    RetrievedEvent,
    SolutionEvent,
)
from bot.yamlfile import Problem, YamlSyntaxError, load_file, problems_from_validation

RETRIEVED_BY = "patternbot"
SolutionState = Literal["pending", "deployed", "degraded", "failed"]
ItemType = Literal["pattern", "policy"]
MatchHow = Literal["exact", "semantic", "unmapped"]
# Two candidates whose cosines are this close are a tie: the description is ambiguous.
_TIE_MARGIN = 0.02


class _K8sModel(BaseModel):
    # Kubernetes objects carry many keys this reader does not need (managedFields, labels...).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class SolutionResource(_K8sModel):
    api_version: str = Field(alias="apiVersion")
    kind: str = Field(min_length=1)
    name: str = Field(min_length=1)
    namespace: str | None = None


class SolutionContext(_K8sModel):
    created_by: str | None = None
    rationale: str | None = None
    patterns: list[str] = Field(default_factory=list)
    policies: list[str] = Field(default_factory=list)


class SolutionSpec(_K8sModel):
    intent: str = Field(min_length=1)
    context: SolutionContext = Field(default_factory=SolutionContext)
    resources: list[SolutionResource] = Field(min_length=1)


class Condition(_K8sModel):
    type: str
    status: str
    reason: str | None = None
    message: str | None = None
    last_transition_time: dt.datetime | None = None


class SolutionStatus(_K8sModel):
    state: SolutionState | None = None
    conditions: list[Condition] = Field(default_factory=list)


class ObjectMeta(_K8sModel):
    name: str = Field(min_length=1)
    namespace: str = "default"
    uid: str | None = None
    creation_timestamp: dt.datetime


class Solution(_K8sModel):
    """One `solutions.dot-ai.devopstoolkit.live` object (the fields patternbot reads)."""

    kind: Literal["Solution"] = "Solution"
    metadata: ObjectMeta
    spec: SolutionSpec
    status: SolutionStatus = Field(default_factory=SolutionStatus)

    @property
    def key(self) -> str:
        """What identifies the record across imports: its uid, else namespace/name."""
        return self.metadata.uid or f"{self.metadata.namespace}/{self.metadata.name}"


@dataclass(frozen=True)
class Mapping:
    """How one description from `spec.context` was mapped to a knowledge-base id."""

    item_type: ItemType
    description: str
    id: str | None
    how: MatchHow
    score: float | None = None


class TextEmbedder(Protocol):
    """L2-normalised embeddings (bot.index.embeddings)."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class IntentRetriever(Protocol):
    """patternbot's retrieval: (id, score) pairs, best first, for patterns and policies."""

    def __call__(
        self, intent: str
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]: ...


def event_line(event: RetrievedEvent | SolutionEvent | OutcomeEvent) -> str:
    """One JSON Lines record; imported `retrieved` events say that patternbot produced them."""
    data = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(event, RetrievedEvent):
        data["retrievedBy"] = RETRIEVED_BY
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


@dataclass
class ImportResult:
    """The events of every readable record, what was mapped how, and what could not be read."""

    events: list[RetrievedEvent | SolutionEvent | OutcomeEvent] = field(default_factory=list)
    mappings: list[Mapping] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    records: int = 0
    pending: int = 0

    @property
    def unmapped(self) -> list[Mapping]:
        return [m for m in self.mappings if m.how == "unmapped"]


def read_solutions(path: Path) -> tuple[list[Solution], list[Problem]]:
    """The Solution objects of a `kubectl get -o json` file (a List, a SolutionList or one object).

    Records that do not match the CRD are reported as `file:line` problems and left out.
    """
    shown = str(path)
    try:
        data = load_file(path, shown)
    except YamlSyntaxError as exc:
        return [], [exc.problem]
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        records: list[tuple[Any, list[str | int]]] = [
            (item, ["items", n]) for n, item in enumerate(data["items"])
        ]
    elif isinstance(data, dict) and data.get("kind") == "Solution":
        records = [(data, [])]
    else:
        message = "not a Solution list: expected the output of `kubectl get solutions -A -o json`"
        return [], [Problem(shown, 1, message)]
    solutions: list[Solution] = []
    problems: list[Problem] = []
    for item, loc in records:
        try:
            solutions.append(Solution.model_validate(item))
        except ValidationError as exc:
            # Positions in the parsed document are absolute, so the record's own node locates.
            start = item.lc.line + 1 if hasattr(item, "lc") and item.lc.line is not None else 1
            where = f"items[{loc[1]}]: " if loc else ""
            problems.extend(
                Problem(shown, max(problem.line, start), where + problem.message)
                for problem in problems_from_validation(exc, item, shown, Solution)
            )
    return solutions, problems


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip(".").casefold()


class DescriptionMapper:
    """Maps the pattern and policy descriptions of a Solution to knowledge-base ids.

    Exact first (the id itself, or the description, ignoring case, spacing and a final period);
    then semantic: the closest item by embedding when its cosine is at least `min_similarity` and
    no other item is within 0.02 of it.
    """

    def __init__(
        self, kb: KnowledgeBase, embedder: TextEmbedder | None, min_similarity: float
    ) -> None:
        self._embedder = embedder
        self._min_similarity = min_similarity
        self._items: dict[ItemType, list[tuple[str, str]]] = {
            "pattern": [(i, p.description) for i, p in sorted(kb.patterns.items())],
            "policy": [(i, p.description) for i, p in sorted(kb.policies.items())],
        }
        self._vectors: dict[ItemType, npt.NDArray[np.float32]] = {}
        self._cache: dict[tuple[ItemType, str], Mapping] = {}

    def map(self, item_type: ItemType, description: str) -> Mapping:
        key = (item_type, description)
        if key not in self._cache:
            self._cache[key] = self._map(item_type, description)
        return self._cache[key]

    def _map(self, item_type: ItemType, description: str) -> Mapping:
        wanted = _normalise(description)
        for item_id, text in self._items[item_type]:
            if wanted in (_normalise(item_id), _normalise(text)):
                return Mapping(item_type, description, item_id, "exact")
        items = self._items[item_type]
        if self._embedder is None or not items or not wanted:
            return Mapping(item_type, description, None, "unmapped")
        if item_type not in self._vectors:
            self._vectors[item_type] = self._embedder.embed([text for _, text in items])
        query = self._embedder.embed([description])[0]
        scores = self._vectors[item_type] @ query
        order = np.argsort(-scores, kind="stable")
        best = float(scores[order[0]])
        runner_up = float(scores[order[1]]) if len(order) > 1 else -1.0
        if best >= self._min_similarity and best - runner_up > _TIE_MARGIN:
            return Mapping(item_type, description, items[order[0]][0], "semantic", round(best, 6))
        return Mapping(item_type, description, None, "unmapped", round(best, 6))


def _outcome_time(solution: Solution) -> dt.datetime:
    times = [c.last_transition_time for c in solution.status.conditions if c.last_transition_time]
    return max(times) if times else solution.metadata.creation_timestamp


def _error(solution: Solution, state: SolutionState) -> str | None:
    if state == "deployed":
        return None
    messages = [
        c.message
        for c in sorted(solution.status.conditions, key=lambda c: c.type)
        if c.message and c.status != "True"
    ]
    detail = "; ".join(messages) if messages else "no condition message"
    return f"dot-ai Solution {state}: {detail}"


def solution_events(
    solution: Solution,
    mapper: DescriptionMapper,
    retriever: IntentRetriever,
    cluster: str | None,
) -> tuple[list[RetrievedEvent | SolutionEvent | OutcomeEvent], list[Mapping]]:
    """The events of one Solution record and how its descriptions were mapped."""
    workflow_id = f"dot-ai:{solution.key}"
    common: dict[str, Any] = {
        "v": LOG_VERSION,
        "workflow_id": workflow_id,
        "workflow": "recommend",
        "cluster": cluster,
    }
    created = solution.metadata.creation_timestamp
    patterns, policies = retriever(solution.spec.intent)
    retrieved = RetrievedEvent(
        **common,
        event_id=f"{workflow_id}:retrieved",
        ts=created,
        intent=solution.spec.intent,
        patterns=[ItemScore(id=i, score=s) for i, s in patterns],
        policies=[ItemScore(id=i, score=s) for i, s in policies],
    )
    mappings = [mapper.map("pattern", d) for d in solution.spec.context.patterns]
    mappings += [mapper.map("policy", d) for d in solution.spec.context.policies]
    used = [m.id for m in mappings if m.item_type == "pattern" and m.id]
    applied = [m.id for m in mappings if m.item_type == "policy" and m.id]
    solved = SolutionEvent(
        **common,
        event_id=f"{workflow_id}:solution",
        ts=created,
        patterns_used=list(dict.fromkeys(used)),
        policies_applied=list(dict.fromkeys(applied)),
        resources=[
            Resource(kind=r.kind, api_version=r.api_version or None, name=r.name)
            for r in solution.spec.resources
        ],
    )
    events: list[RetrievedEvent | SolutionEvent | OutcomeEvent] = [retrieved, solved]
    state = solution.status.state
    if state is not None and state != "pending":
        events.append(
            OutcomeEvent(
                **common,
                event_id=f"{workflow_id}:outcome:{state}",
                ts=_outcome_time(solution),
                status="deployed" if state == "deployed" else "failed",
                error=_error(solution, state),
            )
        )
    return events, mappings


def import_solutions(
    paths: Sequence[Path],
    mapper: DescriptionMapper,
    retriever: IntentRetriever,
    cluster: str | None = None,
) -> ImportResult:
    """Every record of every file as v1 events, in a stable order (by record, then stage)."""
    result = ImportResult()
    solutions: list[Solution] = []
    for path in paths:
        found, problems = read_solutions(path)
        solutions.extend(found)
        result.problems.extend(problems)
    seen: set[str] = set()
    for solution in sorted(solutions, key=lambda s: (s.metadata.creation_timestamp, s.key)):
        if solution.key in seen:
            continue  # the same record listed twice (two files of one cluster) counts once
        seen.add(solution.key)
        result.records += 1
        if solution.status.state in (None, "pending"):
            result.pending += 1
        events, mappings = solution_events(solution, mapper, retriever, cluster)
        result.events.extend(events)
        result.mappings.extend(mappings)
    return result
