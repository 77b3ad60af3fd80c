"""The file a suggestion changes: a new YAML file, or a minimal round-trip edit of an existing one.

Edits keep the author's comments, key order, quoting and indentation, so the pull request's diff
shows only the proposed change.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from bot.errors import KnowledgeBaseError
from bot.learning.suggestion import Suggestion, SuggestionType
from bot.yamlfile import dump_text, round_trip_yaml

# Wide enough that ruamel.yaml never re-wraps a line the author wrote.
_NO_WRAP_WIDTH = 4096
# Width of an appended folded paragraph: the example files fold at about 100 columns.
_FOLD_WIDTH = 98
# Keys the learning run recomputes from logs; a proposal never writes them into git.
_DERIVED_KEYS = frozenset({"usageMetrics"})


@dataclass(frozen=True)
class FileChange:
    """The new content of one file; `old_text` is None when the suggestion creates the file."""

    path: str  # relative to the repository root, with forward slashes
    old_text: str | None
    new_text: str


def item_path(suggestion: Suggestion, patterns_dir: str, policies_dir: str) -> str:
    """Where the suggested item lives: `<patterns>/<id>.yaml` or `<policies>/<id>.yaml`."""
    folder = policies_dir if suggestion.item_kind == "policy" else patterns_dir
    return f"{folder.rstrip('/')}/{suggestion.item_id}.yaml"


def new_file_text(suggestion: Suggestion) -> str:
    """A created item's file: a header naming patternbot and the fingerprint, then the draft."""
    draft = {key: value for key, value in suggestion.draft.items() if key not in _DERIVED_KEYS}
    header = (
        f"# Proposed by patternbot ({suggestion.type.value}); "
        f"fingerprint {suggestion.evidence.fingerprint}.\n"
        "# Edit freely before merging: the evidence is in the pull request.\n"
    )
    return header + dump_text(draft)


def _append_text(old: Any, addition: str) -> Any:
    """`old` followed by `addition` as a new paragraph, in the scalar style `old` was written in."""
    text = str(old)
    if isinstance(old, FoldedScalarString):
        addition = " ".join(addition.split())
        new = FoldedScalarString(f"{text}\n{addition}")
        # Keep the author's line breaks, and fold the new paragraph at the same width.
        folds = list(getattr(old, "fold_pos", []))
        position = len(text) + 1
        lines = textwrap.wrap(addition, _FOLD_WIDTH, break_long_words=False, break_on_hyphens=False)
        for line in lines[:-1]:
            position += len(line)
            folds.append(position)
            position += 1
        new.fold_pos = folds
        return new
    if isinstance(old, LiteralScalarString):
        return LiteralScalarString(f"{text.rstrip()}\n\n{addition}")
    return f"{text.rstrip()} {addition}"


def _apply_changes(data: CommentedMap, changes: dict[str, Any]) -> None:
    for key, values in (changes.get("add") or {}).items():
        current = data.get(key)
        if current is None:
            data[key] = CommentedSeq(list(values))
            continue
        for value in values:
            if value not in current:
                current.append(value)
    for key, value in (changes.get("set") or {}).items():
        if data.get(key) != value:
            data[key] = value
    for key, value in (changes.get("append") or {}).items():
        data[key] = _append_text(data[key], str(value)) if key in data else value
    for key, values in (changes.get("remove") or {}).items():
        current = data.get(key)
        for value in values if current is not None else ():
            if value in current:
                current.remove(value)


def _apply_draft(data: CommentedMap, draft: dict[str, Any]) -> None:
    """Without an explicit delta: add what the draft has and the file lacks, change what differs."""
    for key, value in draft.items():
        if key in _DERIVED_KEYS or data.get(key) == value:
            continue
        current = data.get(key)
        if isinstance(current, CommentedSeq) and isinstance(value, list):
            for item in value:
                if item not in current:
                    current.append(item)
            for item in [item for item in current if item not in value]:
                current.remove(item)
        else:
            data[key] = value


def edited_file_text(suggestion: Suggestion, old_text: str, display_path: str) -> str:
    """`old_text` with the suggestion's change applied and nothing else touched."""
    yaml = round_trip_yaml()
    yaml.width = _NO_WRAP_WIDTH
    try:
        # The guess only reads the indentation; the round-trip loader keeps the quoting.
        _, indent, block_seq_indent = load_yaml_guess_indent(old_text)
        data = yaml.load(old_text)
    except YAMLError as exc:
        raise KnowledgeBaseError(f"{display_path}: cannot edit: not valid YAML ({exc})") from exc
    if not isinstance(data, CommentedMap):
        raise KnowledgeBaseError(f"{display_path}:1: cannot edit: expected a mapping of keys")
    if suggestion.changes:
        _apply_changes(data, suggestion.changes)
    elif suggestion.type is SuggestionType.DEPRECATE_PATTERN:
        _apply_changes(
            data,
            {
                "set": {
                    "deprecated": True,
                    "deprecatedReason": suggestion.draft.get("deprecatedReason", suggestion.reason),
                }
            },
        )
    else:
        _apply_draft(data, suggestion.draft)
    offset = block_seq_indent if block_seq_indent is not None else 2
    yaml.indent(mapping=2, sequence=indent or 4, offset=offset)
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def render_change(
    suggestion: Suggestion,
    old_text: str | None,
    patterns_dir: str = "patterns",
    policies_dir: str = "policies",
    path: str | None = None,
) -> FileChange:
    """The file the suggestion writes: created for create_*, minimally edited for updates.

    `path` is the file an existing item was loaded from (a `.yml` or a subfolder file is edited
    where it is); without it, `<folder>/<id>.yaml`.
    """
    path = path or item_path(suggestion, patterns_dir, policies_dir)
    creates = suggestion.type in (SuggestionType.CREATE_PATTERN, SuggestionType.CREATE_POLICY)
    if creates:
        if old_text is not None:
            raise KnowledgeBaseError(
                f"{path}: already exists; a {suggestion.type.value} suggestion cannot overwrite it"
            )
        return FileChange(path, None, new_file_text(suggestion))
    if old_text is None:
        raise KnowledgeBaseError(
            f"{path}: not found; {suggestion.type.value} needs the existing file"
        )
    return FileChange(path, old_text, edited_file_text(suggestion, old_text, path))
