"""Pull-request titles and bodies: evidence, chart, inert log text, metadata, and the size limit."""

from __future__ import annotations

import json
import re

from bot.platform.pr_body import (
    ProposalMetadata,
    neutralise,
    parse_metadata,
    render_body,
    title_of,
    with_metadata,
)
from bot.platform.yaml_edit import render_change
from tests.support.platform import (
    WEB_APP_YAML,
    create_pattern_suggestion,
    create_policy_suggestion,
    deprecate_suggestion,
    update_suggestion,
)

ZWJ = "\u200d"


def metadata(**overrides: object) -> ProposalMetadata:
    values: dict[str, object] = {
        "fingerprint": "fp-update-web",
        "type": "update_pattern",
        "target": "stateless-web-app",
        "hits": 8,
        "cases": 10,
        "confidence": 0.82,
        "head": "abc123",
    }
    values.update(overrides)
    return ProposalMetadata(**values)  # type: ignore[arg-type]


def body_of(limit: int = 65_536, **kwargs: object) -> str:
    suggestion = update_suggestion()
    change = render_change(suggestion, WEB_APP_YAML)
    return render_body(
        suggestion,
        change,
        metadata(**kwargs),
        base_branch="main",
        branch="patternbot/update-pattern/stateless-web-app-fp-update-web",
        limit=limit,
    )


def test_titles_say_what_changes() -> None:
    assert (
        title_of(update_suggestion()) == "patternbot: add PodDisruptionBudget to stateless-web-app"
    )
    assert title_of(create_pattern_suggestion()) == "patternbot: add pattern grpc-backend"
    assert title_of(create_policy_suggestion()) == "patternbot: add policy require-pod-priority"
    assert title_of(deprecate_suggestion()) == "patternbot: deprecate legacy-batch"


def test_neutralise_stops_mentions_references_and_html() -> None:
    assert neutralise("ping @alice about #42 <img src=x> `rm` a|b") == (
        f"ping @{ZWJ}alice about \\#{ZWJ}42 &lt;img src=x&gt; \\`rm\\` a\\|b"
    )
    assert neutralise("line one\nline two") == "line one line two"


def test_metadata_round_trips_through_the_body() -> None:
    body = body_of()
    assert parse_metadata(body) == metadata()
    comment = body.rstrip("\n").splitlines()[-1]
    assert comment == (
        '<!-- patternbot: {"fingerprint": "fp-update-web", "version": 1, "type": "update_pattern", '
        '"target": "stateless-web-app", "hits": 8, "cases": 10, "confidence": 0.82, '
        '"head": "abc123"} -->'
    )


def test_metadata_cannot_close_the_comment_early() -> None:
    comment = metadata(target="a-->b").to_comment()
    assert "-->" not in comment[: -len(" -->")]
    assert parse_metadata(comment) == metadata(target="a-->b")


def test_with_metadata_replaces_only_the_comment() -> None:
    body = body_of()
    updated = with_metadata(body, metadata(human_edits=True))
    assert parse_metadata(updated) == metadata(human_edits=True)
    assert updated.split("<!-- patternbot:")[0] == body.split("<!-- patternbot:")[0]


def test_damaged_metadata_is_ignored() -> None:
    assert parse_metadata('<!-- patternbot: {"fingerprint": 1} -->') is None
    assert parse_metadata(None) is None


def test_body_has_evidence_table_chart_intents_diff_and_instructions() -> None:
    body = body_of()
    assert "| Frequency | 80% (8 of 10 cases) |" in body
    assert (
        "Drafted by the deterministic engine; every number comes from the workflow logs.\n" in body
    )
    assert "| Window | 2026-03-01 to 2026-03-31 |" in body
    assert "| Patterns used | `stateless-web-app` |" in body
    assert (
        "```mermaid\npie title 8 of 10 cases support this change\n"
        '    "supporting" : 8\n    "other" : 2\n```' in body
    )
    assert "| `prod-eu` | 90% | 7 | 8 |" in body
    assert 'x-axis ["prod-eu", "staging"]' in body
    assert f"- web frontend for @{ZWJ}alice, see \\#{ZWJ}42" in body
    assert "```diff\n--- a/patterns/stateless-web-app.yaml\n" in body
    assert "+  - PodDisruptionBudget\n" in body
    assert "- **Reject**: close it." in body
    assert "@alice" not in body


def test_rejected_before_is_linked() -> None:
    body = body_of(previously_rejected="https://github.example/acme/kb/pull/3")
    assert "rejected before (https://github.example/acme/kb/pull/3)" in body


def test_long_bodies_lose_intents_first_and_keep_the_metadata() -> None:
    full = body_of()
    limit = len(full) - 10
    trimmed = body_of(limit=limit)
    assert len(trimmed) <= limit
    assert "Example intents" not in trimmed
    assert "### Per cluster" in trimmed
    assert parse_metadata(trimmed) == metadata()


def test_huge_bodies_keep_the_metadata_at_any_cost() -> None:
    trimmed = body_of(limit=1500)
    assert len(trimmed) <= 1500
    assert "### Per cluster" not in trimmed
    assert parse_metadata(trimmed) == metadata()
    found = re.findall(r"<!-- patternbot: (\{.*?\}) -->", trimmed)
    assert json.loads(found[-1])["fingerprint"] == "fp-update-web"


def test_the_body_starts_with_the_change_as_a_heading() -> None:
    assert body_of().splitlines()[0] == "## Add PodDisruptionBudget to stateless\\-web\\-app"
