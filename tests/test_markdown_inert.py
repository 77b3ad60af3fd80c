"""Untrusted text renders as exactly its characters: no link, image, emphasis, heading, HTML, ping.

Rendered with markdown-it-py (CommonMark with HTML on, plus tables and strikethrough, as GitHub
does), so the checks are about what a reader would see, not about our own escaping rules.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from bot.platform.base import ProposalStatus
from bot.platform.markdown import code, fenced, inert
from bot.platform.pr_body import ProposalMetadata, render_body
from bot.platform.results import ProposalResult
from bot.platform.yaml_edit import FileChange
from tests.support.platform import update_suggestion

RENDERER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
ZWJ = "\u200d"
HOSTILE_ID = "x` <img src=x> @acme/admins `y"

ATTACKS = [
    "[click](https://evil.example)",
    "![](https://evil.example/pixel.png)",
    "<img src=x onerror=alert(1)>",
    "# heading",
    "*emphasis* and __strong__ and ~~gone~~",
    "a | b | c",
    "1. ordered",
    "- item",
    "<https://evil.example>",
    "[ref]: https://evil.example",
    "`code` ``more``",
    "&lt;entity&gt; &amp;",
    "line one\nline two\n\n# new block",
    "$x^2$ :smile:",
    "\\[escaped\\](https://evil.example)",
]


def rendered(markdown: str) -> str:
    html: str = RENDERER.render(markdown)
    return html


def visible_text(html: str) -> str:
    """The characters a reader sees in the rendered paragraph."""
    text = re.sub(r"<[^>]+>", "", html).strip()
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


@pytest.mark.parametrize("attack", ATTACKS)
def test_inert_text_renders_as_its_own_characters(attack: str) -> None:
    html = rendered(f"- {inert(attack)}")
    assert html.startswith("<ul>\n<li>") and html.count("<li>") == 1
    for tag in ("<a ", "<img", "<em>", "<strong>", "<s>", "<h1", "<code>", "<ol", "<table"):
        assert tag not in html
    assert visible_text(html).replace(ZWJ, "") == attack.replace("\n", " ")


def test_the_issue_inputs_exactly() -> None:
    assert inert("[click](https://evil.example)") == "\\[click\\]\\(https\\://evil\\.example\\)"
    assert inert("![](https://evil.example/x.png)") == (
        "\\!\\[\\]\\(https\\://evil\\.example/x\\.png\\)"
    )
    assert code(HOSTILE_ID) == "``x` <img src=x> @acme/admins `y``"
    html = rendered(f"Patterns used: {code(HOSTILE_ID)}")
    assert html == ("<p>Patterns used: <code>x` &lt;img src=x&gt; @acme/admins `y</code></p>\n")


def test_mentions_and_references_do_not_ping() -> None:
    assert inert("ping @acme/admins and @alice about #42 and GH-7") == (
        f"ping @{ZWJ}acme/admins and @{ZWJ}alice about \\#{ZWJ}42 and GH\\-{ZWJ}7"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "`plain`"),
        ("a`b", "``a`b``"),
        ("``x``", "``` ``x`` ```"),
        ("a|b", "`a\u2758b`"),
        ("two\nlines", "`two lines`"),
    ],
)
def test_code_spans_have_a_longer_fence_than_any_run_inside(text: str, expected: str) -> None:
    assert code(text) == expected


def test_a_fenced_block_cannot_be_closed_by_its_content() -> None:
    block = fenced("before\n```\n<img src=x>\n", "diff")
    assert block == "````diff\nbefore\n```\n<img src=x>\n````\n"
    html = rendered(block + "after *x*")
    assert "<img" not in html
    assert html.endswith("<p>after <em>x</em></p>\n")


def test_a_pull_request_body_keeps_hostile_log_text_inert() -> None:
    suggestion = update_suggestion()
    suggestion.reason = "Added in 8 of 10 [click](https://evil.example) ![](https://evil.example/p)"
    suggestion.evidence.patterns_used = [HOSTILE_ID]
    suggestion.evidence.example_intents = ["deploy <img src=x> for @acme/admins # now"]
    suggestion.evidence.cluster = "eu` <b>x</b>"
    change = FileChange("patterns/stateless-web-app.yaml", "id: a\n", "id: a\nx: '```'\n")
    metadata = ProposalMetadata("fp", "update_pattern", "stateless-web-app", 8, 10, 0.82)
    body = render_body(suggestion, change, metadata, base_branch="main", branch="patternbot/x")
    html = rendered(body)
    assert "<a " not in html and "<img" not in html and "<b>" not in html
    assert f"- deploy &lt;img src=x&gt; for @{ZWJ}acme/admins \\# now\n" in body
    assert "<code>x` &lt;img src=x&gt; @acme/admins `y</code>" in html


def test_result_statuses_are_a_closed_set() -> None:
    result = ProposalResult(
        "b", "t", ProposalStatus.CLOSED_OBSOLETE, "update_pattern", "x", 0.8, "fp"
    )
    assert result.to_data()["status"] == "closed_obsolete"
    assert {status.value for status in ProposalStatus} >= {
        "created",
        "updated",
        "unchanged",
        "would_create",
        "would_update",
        "would_close",
        "closed_obsolete",
        "conflict",
        "blocked_human_edits",
        "rate_limited",
    }
