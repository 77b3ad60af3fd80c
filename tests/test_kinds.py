"""Kubernetes kind names: what is accepted, and the hint given for a near miss."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.knowledge.jsonschema import KIND_NAME_PATTERN
from bot.knowledge.kinds import KNOWN_KINDS, SHORT_NAMES, is_kind_name, kind_problem


@pytest.mark.parametrize(
    "name",
    [
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ServiceMonitor",
        "HTTPRoute",
        # An UpperCamelCase name we do not know is a custom resource's kind.
        "PostgresCluster",
        "KafkaTopic",
    ],
)
def test_kind_names_are_accepted(name: str) -> None:
    assert kind_problem(name) is None
    assert is_kind_name(name)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("deployment", "'deployment' is not a kind name; did you mean 'Deployment'?"),
        ("configmap", "'configmap' is not a kind name; did you mean 'ConfigMap'?"),
        (
            "Persistent Volume Claim",
            "'Persistent Volume Claim' is not a kind name; did you mean 'PersistentVolumeClaim'?",
        ),
        ("PVC", "'PVC' is a short name; write the kind 'PersistentVolumeClaim'"),
        ("hpa", "'hpa' is a short name; write the kind 'HorizontalPodAutoscaler'"),
        ("Services", "'Services' is a plural; the kind is 'Service'"),
        ("NetworkPolicies", "'NetworkPolicies' is a plural; the kind is 'NetworkPolicy'"),
        ("Ingresses", "'Ingresses' is a plural; the kind is 'Ingress'"),
        ("Servce", "unknown kind 'Servce'; did you mean 'Service'?"),
        ("StatefullSet", "unknown kind 'StatefullSet'; did you mean 'StatefulSet'?"),
        ("my-thing", "'my-thing' is not a Kubernetes kind name (kinds are UpperCamelCase)"),
        ("", "'' is not a Kubernetes kind name (kinds are UpperCamelCase)"),
        (
            "apps/v1 Deployment",
            "'apps/v1 Deployment' is not a Kubernetes kind name (kinds are UpperCamelCase);"
            " did you mean 'Deployment'?",
        ),
    ],
)
def test_near_misses_name_the_kind(name: str, problem: str) -> None:
    assert kind_problem(name) == problem
    assert not is_kind_name(name)


def test_every_short_name_points_at_a_known_kind() -> None:
    assert set(SHORT_NAMES.values()) <= KNOWN_KINDS


def test_known_kinds_match_the_published_pattern() -> None:
    assert [kind for kind in sorted(KNOWN_KINDS) if not re.match(KIND_NAME_PATTERN, kind)] == []


@given(st.text(max_size=30))
def test_accepted_names_always_match_the_published_pattern(name: str) -> None:
    # The JSON Schema may be looser than the validator, never stricter.
    if is_kind_name(name):
        assert re.match(KIND_NAME_PATTERN, name)
