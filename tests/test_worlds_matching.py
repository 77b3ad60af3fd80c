"""The benchmark's matcher judges suggestions by what they propose, never by their wording."""

from __future__ import annotations

from typing import Any

from bench.matching import describe, owner_of, proposal_of, score, spec_of
from bot.learning.suggestion import Evidence, Suggestion, SuggestionType
from testing.simulation.groundtruth import Regularity

KB = {"web": ["Deployment", "Service"], "proxy": ["Deployment", "ConfigMap"]}


def _suggestion(kind: SuggestionType, **fields: Any) -> Suggestion:
    evidence = Evidence(
        signal=fields.pop("signal", "common_additions"),
        frequency=0.9,
        hits=9,
        cases=10,
        cluster=fields.pop("cluster", None),
        patterns_used=fields.pop("patterns", []),
        details=fields.pop("details", {}),
    )
    return Suggestion(
        type=kind,
        confidence=fields.pop("confidence", 0.8),
        reason=fields.pop("reason", "any words at all"),
        draft=fields.pop("draft", {"id": "drafted"}),
        evidence=evidence,
        **fields,
    )


def _planted(name: str, kind: str, **expected: Any) -> Regularity:
    target = expected.pop("target", None)
    cluster = expected.pop("cluster", None)
    return Regularity(
        name=name,
        type=kind,  # type: ignore[arg-type]
        signal="s",
        target=target,
        cluster=cluster,
        expected=expected,
        description="test",
    )


PLANTED = [
    _planted("add", "update_pattern", proposal="add_kinds", target="web", add=["Ingress"]),
    _planted(
        "eu",
        "update_pattern",
        proposal="add_kinds",
        target="proxy",
        add=["NetworkPolicy"],
        cluster="prod-eu",
    ),
    _planted("fail", "update_pattern", proposal="note", target="proxy"),
    _planted(
        "gap",
        "create_pattern",
        proposal="new_pattern",
        resources=["StatefulSet", "Service", "Secret", "ConfigMap", "PodDisruptionBudget"],
    ),
    _planted("pair", "create_pattern", proposal="combine", patterns=["web", "proxy"]),
    _planted("grace", "create_policy", proposal="policy", path="spec.grace", value=None),
    _planted(
        "seccomp", "create_policy", proposal="policy", path="spec.seccomp", value="RuntimeDefault"
    ),
]
CONTROLS = [
    Regularity(
        name="partner",
        type="none",
        signal="s",
        target="proxy",
        description="test",
        expected={"proposal": "add_kinds", "add": ["Ingress"]},
        must_not_suggest={
            "proposal": "add_kinds",
            "type": "update_pattern",
            "target": "proxy",
            "add": ["Ingress"],
            "anyCluster": True,
        },
    ),
    Regularity(
        name="burst",
        type="none",
        signal="failing",
        description="test",
        expected={},
        must_not_suggest={"proposal": "failing_any", "type": "update_pattern", "targets": ["web"]},
    ),
]


def _verdicts(suggestions: list[Suggestion]) -> list[tuple[str, str | None]]:
    result = score(PLANTED, CONTROLS, [proposal_of(s) for s in suggestions], KB)
    return [(j["verdict"], j["regularity"]) for j in result["judged"]]


def test_each_suggestion_is_judged_by_its_proposal() -> None:
    add = {"add": {"suggestedResources": ["Ingress"]}}
    suggestions = [
        _suggestion(SuggestionType.UPDATE_PATTERN, target="web", changes=add),
        _suggestion(SuggestionType.UPDATE_PATTERN, target="web", changes=add, reason="other"),
        _suggestion(SuggestionType.UPDATE_PATTERN, target="proxy", changes=add, cluster="staging"),
        _suggestion(
            SuggestionType.UPDATE_PATTERN,
            target="proxy",
            changes={"add": {"suggestedResources": ["NetworkPolicy"]}},
        ),
        _suggestion(
            SuggestionType.UPDATE_PATTERN,
            target="proxy",
            changes={"add": {"suggestedResources": ["NetworkPolicy"]}},
            cluster="prod-eu",
        ),
        _suggestion(
            SuggestionType.UPDATE_PATTERN,
            target="proxy",
            changes={"append": {"rationale": "Known issue"}},
        ),
        _suggestion(SuggestionType.UPDATE_PATTERN, target="web", changes={"append": {}}),
        _suggestion(
            SuggestionType.CREATE_PATTERN,
            signal="gap",
            draft={
                "id": "queues",
                "suggestedResources": ["StatefulSet", "Service", "Secret", "ConfigMap"],
            },
        ),
        _suggestion(
            SuggestionType.CREATE_PATTERN,
            signal="co_usage",
            patterns=["proxy", "web"],
            draft={"id": "web-with-proxy", "suggestedResources": ["Deployment"]},
        ),
        _suggestion(
            SuggestionType.CREATE_POLICY, draft={"id": "p", "settings": {"spec.grace": 30}}
        ),
        _suggestion(
            SuggestionType.CREATE_POLICY,
            draft={"id": "q", "settings": {"spec.seccomp": "Unconfined"}},
        ),
    ]
    assert _verdicts(suggestions) == [
        ("correct", "add"),
        ("duplicate", "add"),
        ("control", "partner"),
        ("unplanned", None),  # the cluster-only addition proposed for every cluster
        ("correct", "eu"),
        ("correct", "fail"),
        ("control", "burst"),
        ("correct", "gap"),  # 4 of the 5 kinds: Jaccard 0.8
        ("correct", "pair"),
        ("correct", "grace"),  # a presence convention: any value
        ("unplanned", None),  # another value than the planted one
    ]
    missed = score(PLANTED, CONTROLS, [proposal_of(suggestions[0])], KB)["missed"]
    assert [reg.name for reg in missed] == ["eu", "fail", "gap", "pair", "grace", "seccomp"]


def test_a_gap_with_too_few_of_its_kinds_or_a_wrong_type_does_not_match() -> None:
    three = _suggestion(
        SuggestionType.CREATE_PATTERN,
        signal="gap",
        draft={"id": "g", "suggestedResources": ["StatefulSet", "Service", "Secret"]},
    )
    policy_for_update = _suggestion(
        SuggestionType.UPDATE_PATTERN, target="db", details={"path": "spec.grace"}
    )
    assert _verdicts([three, policy_for_update]) == [("unplanned", None), ("unplanned", None)]


def test_owner_and_description() -> None:
    recent = _planted("r", "create_policy", proposal="policy", path="a", value=None, sinceDay=60.0)
    assert owner_of(spec_of(recent, control=False)) == "SIGNALS (time) + POLICIES"
    assert owner_of(spec_of(PLANTED[3], control=False)) == "GAPS"
    assert owner_of(spec_of(PLANTED[0], control=False)) == "SIGNALS"
    s = _suggestion(
        SuggestionType.UPDATE_PATTERN,
        target="proxy",
        cluster="prod-eu",
        changes={"add": {"suggestedResources": ["NetworkPolicy"]}},
    )
    assert describe(proposal_of(s)) == "update_pattern proxy: add NetworkPolicy on prod-eu"
