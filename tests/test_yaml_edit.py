"""The file a suggestion writes: minimal edits that keep comments, order and quoting."""

from __future__ import annotations

import pytest

from bot.errors import KnowledgeBaseError
from bot.platform.pr_body import unified_diff
from bot.platform.yaml_edit import render_change
from bot.yamlfile import round_trip_yaml
from tests.support.platform import (
    WEB_APP_YAML,
    create_pattern_suggestion,
    create_policy_suggestion,
    deprecate_suggestion,
    update_suggestion,
)


def test_update_adds_one_list_item_in_the_existing_style() -> None:
    change = render_change(update_suggestion(), WEB_APP_YAML)
    assert change.path == "patterns/stateless-web-app.yaml"
    assert unified_diff(change) == (
        "--- a/patterns/stateless-web-app.yaml\n"
        "+++ b/patterns/stateless-web-app.yaml\n"
        "@@ -8,6 +8,7 @@\n"
        "   - Deployment\n"
        "   - Service\n"
        "   - Ingress\n"
        "+  - PodDisruptionBudget\n"
        " rationale: >-\n"
        "   A Deployment runs interchangeable replicas, the Service gives them one stable address "
        "and the\n"
        "   Ingress routes external traffic.\n"
    )


def test_update_keeps_other_indentation_styles() -> None:
    text = "id: web\nsuggestedResources:\n- Deployment\n- Service\n"
    change = render_change(update_suggestion(), text)
    assert (
        change.new_text
        == "id: web\nsuggestedResources:\n- Deployment\n- Service\n- PodDisruptionBudget\n"
    )


def test_update_already_applied_changes_nothing() -> None:
    text = WEB_APP_YAML.replace("  - Ingress\n", "  - Ingress\n  - PodDisruptionBudget\n")
    change = render_change(update_suggestion(), text)
    assert change.new_text == text


def test_deprecation_adds_two_keys_at_the_end() -> None:
    text = "# keep me\nid: legacy-batch  # trailing\ndescription: 'quoted'\n"
    change = render_change(deprecate_suggestion(), text)
    assert change.new_text == (
        "# keep me\nid: legacy-batch  # trailing\ndescription: 'quoted'\n"
        "deprecated: true\ndeprecatedReason: Chosen in 1 of 20 strong matches.\n"
    )


def test_append_to_a_folded_rationale_adds_a_paragraph() -> None:
    suggestion = update_suggestion()
    suggestion.changes = {"append": {"rationale": "Failures run at 3x the rate of other patterns."}}
    change = render_change(suggestion, WEB_APP_YAML)
    assert "\n".join(unified_diff(change).splitlines()[2:]) == (
        "@@ -11,5 +11,7 @@\n"
        " rationale: >-\n"
        "   A Deployment runs interchangeable replicas, the Service gives them one stable address "
        "and the\n"
        "   Ingress routes external traffic.\n"
        "+\n"
        "+  Failures run at 3x the rate of other patterns.\n"
        " createdAt: 2025-01-15\n"
        " createdBy: platform-team"
    )


def test_created_pattern_has_a_header_naming_the_fingerprint() -> None:
    change = render_change(create_pattern_suggestion(), None)
    assert change.path == "patterns/grpc-backend.yaml"
    assert change.old_text is None
    assert change.new_text.splitlines()[:3] == [
        "# Proposed by patternbot (create_pattern); fingerprint fp-create-grpc-backend.",
        "# Edit freely before merging: the evidence is in the pull request.",
        "id: grpc-backend",
    ]


def test_created_policy_goes_to_the_policies_folder() -> None:
    assert (
        render_change(create_policy_suggestion(), None, "p", "rules").path
        == "rules/require-pod-priority.yaml"
    )


def test_create_refuses_to_overwrite_an_existing_file() -> None:
    with pytest.raises(KnowledgeBaseError) as caught:
        render_change(create_pattern_suggestion(), "id: grpc-backend\n")
    assert str(caught.value) == (
        "patterns/grpc-backend.yaml: already exists; "
        "a create_pattern suggestion cannot overwrite it"
    )


def test_update_needs_the_existing_file() -> None:
    with pytest.raises(KnowledgeBaseError) as caught:
        render_change(update_suggestion(), None)
    assert (
        str(caught.value)
        == "patterns/stateless-web-app.yaml: not found; update_pattern needs the existing file"
    )


def test_update_of_a_file_that_is_not_a_mapping_is_an_error() -> None:
    with pytest.raises(KnowledgeBaseError) as caught:
        render_change(update_suggestion(), "- just\n- a list\n")
    assert (
        str(caught.value)
        == "patterns/stateless-web-app.yaml:1: cannot edit: expected a mapping of keys"
    )


def test_a_long_appended_paragraph_is_folded_and_reads_back_the_same() -> None:
    note = " ".join(
        ["Deployments using this pattern failed in 37% of cases against 4% elsewhere."] * 3
    )
    suggestion = update_suggestion()
    suggestion.changes = {"append": {"rationale": note}}
    change = render_change(suggestion, WEB_APP_YAML)
    assert max(len(line) for line in change.new_text.splitlines()) <= 100
    rationale = round_trip_yaml().load(change.new_text)["rationale"]
    assert rationale == (
        "A Deployment runs interchangeable replicas, the Service gives them one stable address and "
        f"the Ingress routes external traffic.\n{note}"
    )
