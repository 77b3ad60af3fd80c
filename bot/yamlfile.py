"""YAML files read with line numbers, so every problem can be reported as `file:line: message`."""

from __future__ import annotations

import difflib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.reader import ReaderError


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file, at a line (1-based; 0 when the whole file is meant)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


class YamlSyntaxError(Exception):
    """A file is not YAML; carries the position ruamel.yaml reported."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def round_trip_yaml() -> YAML:
    """A ruamel.yaml instance that keeps comments, key order and quoting when writing back."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


class _TextTimestampConstructor(RoundTripConstructor):
    """Round-trip loading that keeps unquoted dates as the text written.

    ruamel.yaml would build a `date` from `2025-02-30` and fail with a bare ValueError (no file,
    no line); as text, the schema's timestamp check reports it at its line like any other value.
    """

    def construct_text_timestamp(self, node: ScalarNode) -> str:
        return str(self.construct_scalar(node))


_TextTimestampConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", _TextTimestampConstructor.construct_text_timestamp
)


def load_text(text: str, display_path: str) -> Any:
    """Parse one YAML document, keeping positions; a syntax error becomes a YamlSyntaxError."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _TextTimestampConstructor
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        raise YamlSyntaxError(Problem(display_path, *_syntax_error(exc))) from exc
    except ReaderError as exc:
        # A control character such as NUL: ruamel.yaml gives a position, not a line.
        position = exc.position if isinstance(exc.position, int) else 0
        line = text.count("\n", 0, position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1])
        name = "a NUL byte" if code == 0 else f"the control character #x{code:04x}"
        message = f"YAML syntax error: {name} is not allowed in a YAML file"
        raise YamlSyntaxError(Problem(display_path, line, message)) from exc
    except YAMLError as exc:
        raise YamlSyntaxError(Problem(display_path, 0, f"YAML syntax error: {exc}")) from exc


def _syntax_error(exc: MarkedYAMLError) -> tuple[int, str]:
    """The line and message of a ruamel.yaml error, with where the broken construct began."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 0
    reason = exc.problem or exc.context or "invalid YAML"
    context_mark = exc.context_mark
    if (
        exc.problem
        and exc.context
        and context_mark is not None
        and context_mark.line + 1 != line
        and not isinstance(exc, DuplicateKeyError)
    ):
        # "found unexpected end of stream" alone hides the unterminated quote that caused it.
        reason = f"{exc.problem} ({exc.context} at line {context_mark.line + 1})"
    return line, f"YAML syntax error: {reason}"


def load_file(path: Path, display_path: str | None = None) -> Any:
    """Read and parse a YAML file; unreadable or undecodable files become a YamlSyntaxError."""
    shown = display_path or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlSyntaxError(Problem(shown, 0, f"cannot read: {exc.strerror}")) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8"
        raise YamlSyntaxError(Problem(shown, line, message)) from exc
    return load_text(text, shown)


def dump_text(data: Any) -> str:
    """Serialise data (plain or round-trip) the way patternbot writes YAML files."""
    stream = io.StringIO()
    round_trip_yaml().dump(data, stream)
    return stream.getvalue()


def line_of(data: Any, loc: Sequence[str | int]) -> int:
    """The 1-based line of the value at `loc` in a round-trip document, or of its nearest parent."""
    line = 1
    node = data
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            key_line, _ = node.lc.key(part)
            line = key_line + 1
            value = node[part]
            if isinstance(value, CommentedMap | CommentedSeq) and value.lc.line is not None:
                # A block value's own first line is where its items start.
                pass
            node = value
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            item_line, _ = node.lc.item(part)
            line = item_line + 1
            node = node[part]
        else:
            break
    return line


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """' (did you mean X?)' for a near miss among `choices`, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _field_names(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The nested model class that owns the last key of `loc`, for did-you-mean hints."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None or isinstance(part, int):
            continue
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        annotation = field.annotation if field else None
        candidates = getattr(annotation, "__args__", (annotation,))
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return current


def problems_from_validation(
    exc: ValidationError, data: Any, display_path: str, model: type[BaseModel]
) -> list[Problem]:
    """pydantic's errors as `file:line: message` problems, with did-you-mean for unknown keys."""
    problems = []
    suggested: set[tuple[str, ...]] = set()
    errors = exc.errors()
    for error in errors:
        loc = [part for part in error["loc"] if isinstance(part, str | int)]
        if error["type"] == "extra_forbidden":
            owner = _model_at(model, loc)
            names = _field_names(owner) if owner else []
            close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
            suggested.update(tuple(str(part) for part in [*loc[:-1], word]) for word in close)
    for error in errors:
        loc = [part for part in error["loc"] if isinstance(part, str | int)]
        where = ".".join(str(part) for part in loc) or "(top level)"
        line = line_of(data, loc)
        kind = error["type"]
        min_length = (error.get("ctx") or {}).get("min_length")
        if kind == "extra_forbidden":
            owner = _model_at(model, loc)
            hint = did_you_mean(str(loc[-1]), _field_names(owner)) if owner else ""
            message = f"unknown key {str(loc[-1])!r}{hint}"
        elif kind == "missing":
            if tuple(str(part) for part in loc) in suggested:
                # The misspelt key's did-you-mean already says what is missing.
                continue
            message = f"missing required key {where!r}"
        elif kind == "model_type" or kind == "dict_type":
            message = f"{where}: expected a mapping, found {describe_value(error['input'])}"
        elif kind == "list_type":
            message = f"{where}: expected a list, found {describe_value(error['input'])}"
        elif kind == "string_type":
            message = f"{where}: expected text, found {describe_value(error['input'])}"
        elif kind == "too_short" and min_length == 1:
            message = f"{where}: must not be empty"
        elif kind == "string_pattern_mismatch" and loc == ["id"]:
            message = (
                f"id: {error['input']!r} is not a valid id "
                "(letters, digits, '.', '_' and '-', starting with a letter or digit)"
            )
        else:
            text = str(error["msg"]).removeprefix("Value error, ")
            message = f"{where}: {text}"
        problems.append(Problem(display_path, line, message))
    return problems


def describe_value(value: Any) -> str:
    """How a YAML value reads to its author in a message: 'a list', 'the number 5', 'nothing'."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"
