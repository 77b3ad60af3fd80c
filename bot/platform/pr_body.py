"""A suggestion's pull-request title and body: evidence, chart, diff, and hidden metadata.

The hidden metadata comment is how later runs recognise the pull request, its evidence at the time,
and whether a human took it over; it is never trimmed.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.learning.suggestion import Suggestion, SuggestionType
from bot.platform.markdown import code, fenced, inert
from bot.platform.yaml_edit import FileChange

# GitHub rejects a pull-request body longer than this many characters.
BODY_LIMIT = 65_536
METADATA_VERSION = 1
_METADATA_RE = re.compile(r"<!-- patternbot: (\{.*?\}) -->")
_MAX_INTENTS = 10


@dataclass
class ProposalMetadata:
    """What the hidden comment of a suggestion pull request records."""

    fingerprint: str
    type: str
    target: str
    hits: int
    cases: int
    confidence: float
    head: str | None = None  # the last commit the bot pushed to the branch
    human_edits: bool = False  # set once the bot has said it stops updating the branch
    previously_rejected: str | None = None
    # The values the change adds, per list key: what a reviewer's modified merge may have removed.
    proposed: dict[str, list[str]] = field(default_factory=dict)
    # The one-time comments already posted (see Notice), so a later run never repeats one.
    notices: list[str] = field(default_factory=list)
    # Set when patternbot itself closed the pull request as obsolete: not a reviewer's decision.
    closed_reason: str | None = None
    previously_modified: str | None = None

    def to_comment(self) -> str:
        data: dict[str, Any] = {
            "fingerprint": self.fingerprint,
            "version": METADATA_VERSION,
            "type": self.type,
            "target": self.target,
            "hits": self.hits,
            "cases": self.cases,
            "confidence": self.confidence,
        }
        if self.head:
            data["head"] = self.head
        if self.human_edits:
            data["humanEdits"] = True
        if self.previously_rejected:
            data["previouslyRejected"] = self.previously_rejected
        if self.proposed:
            data["proposed"] = self.proposed
        if self.notices:
            data["notices"] = sorted(set(self.notices))
        if self.closed_reason:
            data["closedReason"] = self.closed_reason
        if self.previously_modified:
            data["previouslyModified"] = self.previously_modified
        # "--" cannot appear in an HTML comment; the JSON escape parses back to the same text.
        text = json.dumps(data, separators=(", ", ": ")).replace("--", "-\\u002d")
        return f"<!-- patternbot: {text} -->"


def parse_metadata(body: str | None) -> ProposalMetadata | None:
    """The metadata of a body written by patternbot, or None when missing or damaged."""
    match = _METADATA_RE.search(body or "")
    if not match:
        return None
    try:
        data = json.loads(match.group(1))
        return ProposalMetadata(
            fingerprint=str(data["fingerprint"]),
            type=str(data["type"]),
            target=str(data["target"]),
            hits=int(data["hits"]),
            cases=int(data["cases"]),
            confidence=float(data["confidence"]),
            head=data.get("head"),
            human_edits=bool(data.get("humanEdits", False)),
            previously_rejected=data.get("previouslyRejected"),
            proposed={
                str(key): [str(value) for value in values]
                for key, values in dict(data.get("proposed") or {}).items()
            },
            notices=[str(notice) for notice in data.get("notices") or []],
            closed_reason=data.get("closedReason"),
            previously_modified=data.get("previouslyModified"),
        )
    except (ValueError, KeyError, TypeError):
        return None


def with_metadata(body: str, metadata: ProposalMetadata) -> str:
    """`body` with its hidden metadata comment replaced by `metadata`."""
    return _METADATA_RE.sub(lambda _: metadata.to_comment(), body, count=1)


def neutralise(text: str) -> str:
    """Untrusted text made inert in Markdown (see bot.platform.markdown, the one place for it)."""
    return inert(text)


def unified_diff(change: FileChange) -> str:
    """The change as a unified diff, the way `git diff` would show it."""
    old = (change.old_text or "").splitlines(keepends=True)
    new = change.new_text.splitlines(keepends=True)
    before = f"a/{change.path}" if change.old_text is not None else "/dev/null"
    lines = difflib.unified_diff(old, new, fromfile=before, tofile=f"b/{change.path}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def title_of(suggestion: Suggestion) -> str:
    """A short commit and pull-request title that says what changes."""
    item = suggestion.item_id
    changes = suggestion.changes or {}
    if suggestion.type is SuggestionType.CREATE_PATTERN:
        return f"patternbot: add pattern {item}"
    if suggestion.type is SuggestionType.CREATE_POLICY:
        return f"patternbot: add policy {item}"
    if suggestion.type is SuggestionType.DEPRECATE_PATTERN:
        return f"patternbot: deprecate {item}"
    added = [str(value) for values in (changes.get("add") or {}).values() for value in values]
    if added:
        return f"patternbot: add {', '.join(added)} to {item}"
    changed = sorted({*(changes.get("set") or {}), *(changes.get("append") or {})})
    if changed:
        return f"patternbot: update {', '.join(changed)} of {item}"
    return f"patternbot: update {item}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _window(suggestion: Suggestion) -> str:
    window = suggestion.evidence.window
    if window.start is None or window.end is None:
        return "n/a"
    return f"{window.start.date().isoformat()} to {window.end.date().isoformat()}"


def evidence_summary(suggestion: Suggestion) -> str:
    """One line of the numbers, for commit bodies and lists."""
    evidence = suggestion.evidence
    return (
        f"{evidence.signal}: {evidence.hits} of {evidence.cases} cases "
        f"({_percent(evidence.frequency)}), "
        f"confidence {suggestion.confidence:.2f}, window {_window(suggestion)}"
    )


def _evidence_table(suggestion: Suggestion) -> str:
    evidence = suggestion.evidence
    used = ", ".join(code(name) for name in evidence.patterns_used) or "none"
    rows = [
        "| Evidence | Value |",
        "| --- | --- |",
        f"| Signal | {code(evidence.signal)} |",
        f"| Frequency | {_percent(evidence.frequency)} "
        f"({evidence.hits} of {evidence.cases} cases) |",
        f"| Cases | {evidence.cases} |",
        f"| Window | {_window(suggestion)} |",
        f"| Patterns used | {used} |",
        f"| Clusters | {len(evidence.clusters) or 'none recorded'} |",
    ]
    if evidence.cluster:
        rows.append(f"| Holds in cluster | {code(evidence.cluster)} only |")
    return "\n".join(rows)


def _clusters_section(suggestion: Suggestion) -> str:
    clusters = suggestion.evidence.clusters
    if not clusters:
        return ""
    rows = ["| Cluster | Frequency | Hits | Cases |", "| --- | --- | --- | --- |"]
    for name, figures in sorted(clusters.items()):
        rows.append(
            f"| {code(name)} | {_percent(figures.frequency)} | {figures.hits} | {figures.cases} |"
        )
    chart = _cluster_chart(suggestion)
    return "### Per cluster\n\n" + "\n".join(rows) + "\n" + (f"\n{chart}\n" if chart else "")


def _chart(suggestion: Suggestion) -> str:
    """A pie of hits against the other cases, which GitHub renders from the mermaid block."""
    evidence = suggestion.evidence
    if evidence.cases <= 0:
        return ""
    return (
        "```mermaid\n"
        f"pie title {evidence.hits} of {evidence.cases} cases support this change\n"
        f'    "supporting" : {evidence.hits}\n'
        f'    "other" : {max(evidence.cases - evidence.hits, 0)}\n'
        "```"
    )


def _cluster_chart(suggestion: Suggestion) -> str:
    clusters = sorted(suggestion.evidence.clusters.items())
    if len(clusters) < 2:
        return ""
    names = ", ".join(json.dumps(re.sub(r"[^A-Za-z0-9._-]", "_", name)) for name, _ in clusters)
    values = ", ".join(f"{(figures.frequency or 0.0) * 100:.0f}" for _, figures in clusters)
    return (
        "```mermaid\nxychart-beta\n"
        '    title "Frequency per cluster (%)"\n'
        f"    x-axis [{names}]\n"
        '    y-axis "percent" 0 --> 100\n'
        f"    bar [{values}]\n```"
    )


def _intents_section(suggestion: Suggestion, limit: int) -> str:
    intents = suggestion.evidence.example_intents[:limit]
    if not intents:
        return ""
    lines = [f"- {neutralise(intent)}" for intent in intents]
    more = len(suggestion.evidence.example_intents) - len(intents)
    if more > 0:
        lines.append(f"- … and {more} more")
    return "### Example intents (redacted)\n\n" + "\n".join(lines) + "\n"


def _diff_section(change: FileChange, diff_limit: int | None) -> str:
    diff = unified_diff(change)
    if diff_limit is not None and len(diff) > diff_limit:
        cut = diff[:diff_limit]
        diff = cut[: cut.rfind("\n") + 1] + "… (diff trimmed; see the Files changed tab)\n"
    return f"### Proposed change to {code(change.path)}\n\n{fenced(diff, 'diff')}"


def _drafter(drafted_by: str) -> str:
    """Who worded the draft: the deterministic engine, or the named model."""
    return "the deterministic engine" if drafted_by == "deterministic" else drafted_by


def render_body(
    suggestion: Suggestion,
    change: FileChange,
    metadata: ProposalMetadata,
    *,
    base_branch: str,
    branch: str,
    limit: int = BODY_LIMIT,
) -> str:
    """The pull-request body within `limit` characters: trims intents, then clusters, then diff."""
    previously = metadata.previously_rejected
    notice = (
        f"\n> A similar suggestion was rejected before ({previously}); "
        "the evidence has grown since.\n"
        if previously
        else ""
    )
    if metadata.previously_modified:
        notice += (
            f"\n> A reviewer removed part of this when merging {metadata.previously_modified}; "
            "evidence gathered since that merge supports it.\n"
        )

    def build(intents: int, clusters: bool, diff_limit: int | None) -> str:
        parts = [
            f"## {inert(_sentence(title_of(suggestion).removeprefix('patternbot: ')))}\n",
            f"{neutralise(suggestion.reason)}\n{notice}",
            f"**Confidence {suggestion.confidence:.2f}** — {evidence_summary(suggestion)}. "
            f"Drafted by {_drafter(suggestion.drafted_by)}; every number comes from the workflow "
            "logs.\n",
            "### Evidence\n\n" + _evidence_table(suggestion) + "\n",
        ]
        chart = _chart(suggestion)
        if chart:
            parts.append(chart + "\n")
        if clusters:
            section = _clusters_section(suggestion)
            if section:
                parts.append(section)
        section = _intents_section(suggestion, intents)
        if section:
            parts.append(section)
        parts.append(_diff_section(change, diff_limit))
        parts.append(
            "### What to do\n\n"
            f"- **Accept**: merge this pull request into {code(base_branch)}.\n"
            f"- **Modify**: push commits to {code(branch)}; patternbot then leaves the branch "
            "alone.\n"
            "- **Reject**: close it. patternbot remembers and proposes it again only if the "
            "evidence grows materially.\n"
        )
        parts.append(metadata.to_comment() + "\n")
        return "\n".join(parts)

    body = build(_MAX_INTENTS, True, None)
    for intents, clusters, diff_limit in (
        (0, True, None),
        (0, False, None),
        (0, False, 20_000),
        (0, False, 2_000),
    ):
        if len(body) <= limit:
            return body
        body = build(intents, clusters, diff_limit)
    if len(body) > limit:
        # Only the reason can still be huge; the metadata stays whatever happens.
        comment = metadata.to_comment() + "\n"
        body = body[: limit - len(comment) - 2] + "\n\n" + comment
    return body
