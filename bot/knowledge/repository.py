"""Loading the knowledge base from a repository: one YAML file per pattern or policy."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap

from bot.errors import KnowledgeBaseError
from bot.knowledge.parse_cache import ParseCache, content_key
from bot.knowledge.provenance import Origin, Provenance, read_provenance
from bot.knowledge.schema import Pattern, Policy
from bot.yamlfile import (
    Problem,
    YamlSyntaxError,
    describe_value,
    line_of,
    load_text,
    problems_from_validation,
)

# Compared case-insensitively: `web.YAML` and `web.yml` are item files too.
YAML_SUFFIXES = (".yaml", ".yml")
# The keys a file may leave out because git knows them (see provenance.py).
DERIVED_KEYS = ("createdAt", "createdBy")
DEFAULT_FOLDERS = {"patterns", "policies"}


@dataclass
class KnowledgeBase:
    """Every pattern and policy of a repository, keyed by id, with the files they came from."""

    patterns: dict[str, Pattern] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)  # "pattern:<id>" -> file
    problems: list[Problem] = field(default_factory=list)
    # Informational: where createdAt/createdBy came from when git could not say (validate -v).
    notes: list[Problem] = field(default_factory=list)
    # Files parsed as YAML in this load; the others came from the parse cache (parse_cache.py).
    parsed_files: int = 0

    def path_of(self, kind: str, item_id: str) -> Path:
        """The file a pattern ('pattern') or policy ('policy') was loaded from."""
        return self.files[f"{kind}:{item_id}"]

    def require_valid(self) -> None:
        """Raise KnowledgeBaseError naming the first problem when any file does not validate."""
        if self.problems:
            first = self.problems[0]
            more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            raise KnowledgeBaseError(f"{first}{more}; run `patternbot validate` for the full list")


def is_item_file_name(name: str) -> bool:
    """True for a file name the loader reads as an item: `<id>.yaml` or `.yml`, any case."""
    return not name.startswith(".") and name.lower().endswith(YAML_SUFFIXES)


def item_files(folder: Path) -> Iterator[Path]:
    """Every item file under `folder` and its subfolders, sorted; symlinked folders not entered."""
    if not folder.is_dir():
        return
    found: list[Path] = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(current) / name for name in files if is_item_file_name(name))
    yield from sorted(found)


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _strip_extensions(data: Mapping[Any, Any]) -> dict[str, Any]:
    # Keys starting with "x-" are the author's own annotations: kept in the file, not validated.
    return {str(key): value for key, value in data.items() if not str(key).startswith("x-")}


def _plain(value: Any) -> Any:
    """Round-trip YAML values as plain JSON-compatible data (for the parse cache)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def outside_problem(path: Path, root: Path, shown: str) -> Problem | None:
    """A problem when `path` (a symbolic link, say) resolves outside `root`; never reads it."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        message = "resolves outside the repository (a symbolic link?); refused, not read"
        return Problem(shown, 0, message)
    except OSError as exc:
        return Problem(shown, 0, f"cannot read: {exc.strerror}")
    return None


@dataclass
class LoadedItem:
    """One file's result: the item when it parsed, the problems found, and the line of its id."""

    item: Pattern | Policy | None
    problems: list[Problem]
    id_line: int = 1
    parsed: bool = True
    # The commit (or uncommitted file) createdAt/createdBy were taken from, when the file omits one.
    derived_from: Origin | None = None


def _read_bytes(path: Path, shown: str) -> bytes | Problem:
    try:
        return path.read_bytes()
    except OSError as exc:
        return Problem(shown, 0, f"cannot read: {exc.strerror}")


def _decode(raw: bytes, shown: str) -> str | Problem:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8"
        return Problem(shown, line, message)


def _parse(raw: bytes, shown: str, what: str) -> tuple[CommentedMap | None, list[Problem]]:
    text = _decode(raw, shown)
    if isinstance(text, Problem):
        return None, [text]
    try:
        data = load_text(text, shown)
    except YamlSyntaxError as exc:
        return None, [exc.problem]
    if not isinstance(data, CommentedMap):
        found = "an empty file" if data is None else describe_value(data)
        return None, [Problem(shown, 1, f"expected a mapping of {what} keys, found {found}")]
    return data, []


def load_item(
    path: Path,
    model: type[Pattern] | type[Policy],
    root: Path,
    *,
    provenance: Provenance | None = None,
    cache: ParseCache | None = None,
) -> LoadedItem:
    """Load and check one item file, collecting every problem in it.

    `createdAt` and `createdBy`, when the file leaves them out, come from `provenance` (the commit
    that added the file; read from git for this one file when not given).
    """
    shown = _display(path, root)
    outside = outside_problem(path, root, shown)
    if outside is not None:
        return LoadedItem(None, [outside])
    raw = _read_bytes(path, shown)
    if isinstance(raw, Problem):
        return LoadedItem(None, [raw])
    key = content_key(raw, model.__name__.lower())
    cached = cache.get(key) if cache is not None else None
    data: Mapping[Any, Any]
    if cached is not None:
        data, written, id_line = cached.data, cached.data, cached.id_line
    else:
        parsed, problems = _parse(raw, shown, model.__name__.lower())
        if parsed is None:
            return LoadedItem(None, problems)
        data, id_line = parsed, line_of(parsed, ["id"])
        written = _strip_extensions(parsed)
    # Checked even when other fields fail, so one run reports every problem of the file.
    name_problems = []
    item_id = data.get("id")
    if isinstance(item_id, str) and item_id != path.stem:
        message = (
            f"id {item_id!r} differs from the file name; "
            f"rename the file to {item_id}{path.suffix} or change the id"
        )
        name_problems.append(Problem(shown, id_line, message))
    values = dict(written)
    origin = None
    if any(key_name not in values for key_name in DERIVED_KEYS):
        origin = (provenance or read_provenance(root, [path.parent])).origin_of(path)
        values.setdefault("createdAt", origin.created_at)
        values.setdefault("createdBy", origin.created_by)
    try:
        item = model.model_validate(values)
    except ValidationError as exc:
        problems = problems_from_validation(exc, data, shown, model)
        problems = sorted([*problems, *name_problems])
        return LoadedItem(None, problems, id_line, cached is None, origin)
    item.mark_source(path)
    if cache is not None and cached is None and not name_problems:
        cache.put(key, _plain(written), id_line)
    return LoadedItem(item, name_problems, id_line, cached is None, origin)


def _folder_problems(root: Path, folders: list[str]) -> list[Problem]:
    problems = []
    for folder in folders:
        path = root / folder
        if path.is_dir():
            continue
        if path.exists():
            problems.append(Problem(folder, 0, "is not a folder (see paths in patternbot.yaml)"))
        elif folder not in DEFAULT_FOLDERS:
            # A configured folder that is missing is a typo, not an empty knowledge base: syncing
            # it would empty the index.
            problems.append(Problem(folder, 0, "no such folder (see paths in patternbot.yaml)"))
    return problems


def _provenance_note(shown: str, origin: Origin, provenance: Provenance) -> Problem | None:
    if origin.commit is None:
        return Problem(
            shown,
            0,
            f"not committed yet: createdAt {origin.created_at} (the file's time) and createdBy "
            f"{origin.created_by!r} (your git identity) until the commit that adds it",
        )
    if provenance.is_shallow_guess(origin):
        return Problem(
            shown,
            0,
            f"shallow clone: createdAt {origin.created_at} is the oldest fetched commit's; "
            "fetch the whole history (actions/checkout with fetch-depth: 0)",
        )
    return None


def load_knowledge_base(
    root: Path,
    patterns_dir: str = "patterns",
    policies_dir: str = "policies",
    *,
    state_dir: Path | None = None,
) -> KnowledgeBase:
    """Load every pattern and policy under `root`; problems are collected, never raised.

    Raises KnowledgeBaseError only when `root` is not a directory. Parsed files are cached under
    `state_dir` (default `<root>/.patternbot`) by content hash.
    """
    if not root.is_dir():
        raise KnowledgeBaseError(f"{root}: no such directory")
    kb = KnowledgeBase()
    kb.problems.extend(_folder_problems(root, [patterns_dir, policies_dir]))
    folders = [root / patterns_dir, root / policies_dir]
    provenance = read_provenance(root, [folder for folder in folders if folder.is_dir()])
    cache = ParseCache.open(state_dir if state_dir is not None else root / ".patternbot")
    seen: dict[str, tuple[str, int]] = {}
    for folder, model in ((folders[0], Pattern), (folders[1], Policy)):
        for path in item_files(folder):
            loaded = load_item(path, model, root, provenance=provenance, cache=cache)
            kb.parsed_files += loaded.parsed
            kb.problems.extend(loaded.problems)
            item = loaded.item
            if item is None:
                continue
            shown = _display(path, root)
            if item.id in seen:
                first, first_line = seen[item.id]
                # Both files are named so that validating either one alone (pre-commit) still fails.
                duplicate = f"duplicate id {item.id!r}"
                kb.problems.append(
                    Problem(shown, loaded.id_line, f"{duplicate}: also used by {first}")
                )
                kb.problems.append(Problem(first, first_line, f"{duplicate}: also used by {shown}"))
                continue
            seen[item.id] = (shown, loaded.id_line)
            if loaded.problems:
                continue
            if loaded.derived_from is not None:
                note = _provenance_note(shown, loaded.derived_from, provenance)
                if note is not None:
                    kb.notes.append(note)
            kb.files[f"{item.kind}:{item.id}"] = path
            if isinstance(item, Pattern):
                kb.patterns[item.id] = item
            else:
                kb.policies[item.id] = item
    cache.save()
    kb.problems.sort()
    return kb
