"""The one place untrusted text (from logs or a model) is rendered into GitHub Markdown.

Everything a pull request body, a comment, the dashboard or the step summary shows that did not
come from patternbot's own wording goes through `inert` (running text) or `code` (an identifier in
a code span). Both make the text data: no link, image, emphasis, heading, HTML, table cell break,
@mention or #reference can come out of it, and it stays on one line.
"""

from __future__ import annotations

import re

_ZWJ = "\u200d"
# Every character that can start Markdown syntax on GitHub: links and images, emphasis and
# strikethrough, headings and list markers, table pipes, code, math ($), emoji shortcodes and
# autolinks (the colon of https:, the dot of www.). A backslash before ASCII punctuation always
# renders the character itself; < and > become entities first.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]()#+\-.!|~:$])")
_BACKTICKS = re.compile(r"`+")


def one_line(text: str) -> str:
    """Line breaks and other control characters as spaces: a value cannot start a new block."""
    return "".join(" " if ord(ch) < 32 or ch in "\u2028\u2029\x7f" else ch for ch in text)


def _break_pings(text: str) -> str:
    # A joiner after @ or before a number stops mentions, team pings and autolinked references
    # (#1, GH-1, org/repo#1) without changing what a reader sees.
    text = re.sub(r"@(?=[\w-])", f"@{_ZWJ}", text)
    text = re.sub(r"#(?=\d)", f"#{_ZWJ}", text)
    return re.sub(r"\b(GH\\?-)(?=\d)", rf"\1{_ZWJ}", text, flags=re.IGNORECASE)


def inert(text: str) -> str:
    """Untrusted running text that renders as exactly its characters, on one line.

    HTML is escaped as entities; every Markdown punctuation character is backslash-escaped, so
    `[click](https://evil.example)` is not a link, `![](...)` is not an image, and `*x*`, `# x`
    and `a|b` are neither emphasis nor a heading nor a table cell; URLs lose their autolink.
    """
    text = one_line(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    # Bare URLs (https://...) autolink on GitHub; the escaped colon above already stops them,
    # and "www." needs its dot broken the same way (done by the punctuation escape).
    return _break_pings(text)


def code(text: str) -> str:
    """Untrusted text as one inline code span whose fence is longer than any backtick run inside.

    Inside a code span nothing is interpreted (no HTML, link or mention), so only the fence and
    table pipes need care: a pipe still splits a table cell on GitHub, so it becomes a look-alike.
    """
    text = one_line(text).replace("|", "\u2758")
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    # A span starting or ending with a backtick needs a space to be parsed; one space each side
    # is stripped by the renderer.
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def table_cell(text: str) -> str:
    """Untrusted text for a table cell: inert, and a pipe cannot end the cell."""
    return inert(text)


def fenced(text: str, info: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in `text` (at least 3)."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}{info}\n{body}{fence}\n"
