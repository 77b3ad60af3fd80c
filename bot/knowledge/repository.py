"""Loading the knowledge base from a repository: one YAML file per pattern or policy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap

from bot.errors import KnowledgeBaseError
from bot.knowledge.schema import Pattern, Policy
from bot.yamlfile import (
    Problem,
    YamlSyntaxError,
    describe_value,
    line_of,
    load_file,
    problems_from_validation,
)

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class KnowledgeBase:
    """Every pattern and policy of a repository, keyed by id, with the files they came from."""

    patterns: dict[str, Pattern] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)  # "pattern:<id>" -> file
    problems: list[Problem] = field(default_factory=list)

    def path_of(self, kind: str, item_id: str) -> Path:
        """The file a pattern ('pattern') or policy ('policy') was loaded from."""
        return self.files[f"{kind}:{item_id}"]

    def require_valid(self) -> None:
        """Raise KnowledgeBaseError naming the first problem when any file does not validate."""
        if self.problems:
            first = self.problems[0]
            more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            raise KnowledgeBaseError(f"{first}{more}; run `patternbot validate` for the full list")


def _item_files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if path.suffix in YAML_SUFFIXES and path.is_file() and not path.name.startswith("."):
            yield path


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _strip_extensions(data: CommentedMap) -> dict[str, object]:
    # Keys starting with "x-" are the author's own annotations: kept in the file, not validated.
    return {key: value for key, value in data.items() if not str(key).startswith("x-")}


@dataclass
class LoadedItem:
    """One file's result: the item when it parsed, the problems found, and the line of its id."""

    item: Pattern | Policy | None
    problems: list[Problem]
    id_line: int = 1


def load_item(path: Path, model: type[Pattern] | type[Policy], root: Path) -> LoadedItem:
    """Load and check one item file, collecting every problem in it."""
    shown = _display(path, root)
    try:
        data = load_file(path, shown)
    except YamlSyntaxError as exc:
        return LoadedItem(None, [exc.problem])
    if not isinstance(data, CommentedMap):
        found = "an empty file" if data is None else describe_value(data)
        what = model.__name__.lower()
        return LoadedItem(
            None, [Problem(shown, 1, f"expected a mapping of {what} keys, found {found}")]
        )
    id_line = line_of(data, ["id"])
    # Checked even when other fields fail, so one run reports every problem of the file.
    name_problems = []
    item_id = data.get("id")
    if isinstance(item_id, str) and item_id != path.stem:
        message = (
            f"id {item_id!r} differs from the file name; "
            f"rename the file to {item_id}{path.suffix} or change the id"
        )
        name_problems.append(Problem(shown, id_line, message))
    try:
        item = model.model_validate(_strip_extensions(data))
    except ValidationError as exc:
        problems = problems_from_validation(exc, data, shown, model)
        return LoadedItem(None, sorted([*problems, *name_problems]), id_line)
    return LoadedItem(item, name_problems, id_line)


def load_knowledge_base(
    root: Path, patterns_dir: str = "patterns", policies_dir: str = "policies"
) -> KnowledgeBase:
    """Load every pattern and policy under `root`; problems are collected, never raised."""
    kb = KnowledgeBase()
    seen: dict[str, tuple[str, int]] = {}
    for folder, model in ((patterns_dir, Pattern), (policies_dir, Policy)):
        for path in _item_files(root / folder):
            loaded = load_item(path, model, root)
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
            kb.files[f"{item.kind}:{item.id}"] = path
            if isinstance(item, Pattern):
                kb.patterns[item.id] = item
            else:
                kb.policies[item.id] = item
    kb.problems.sort()
    return kb
