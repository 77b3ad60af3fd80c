"""Importing a DevOps AI Toolkit (dot-ai) pattern and policy store into YAML files.

dot-ai keeps organizational patterns and policy intents as points of two Qdrant collections
(`patterns`, `policies`) whose payload is `description, triggers, suggestedResources, rationale,
createdAt, createdBy, deployedPolicies, searchText` (plus `hasEmbedding`). Each point becomes one
file with a readable id; its UUID is kept as `x-dotai-id` so a later import updates the same file,
and `x-dotai-payload-sha256` records what was imported, so a file is only touched again when the
point changed in Qdrant (a reviewer's later edit in git is never undone by a re-import of the same
point). Nothing is written unless every resulting file validates.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from bot.errors import KnowledgeBaseError
from bot.knowledge.kinds import canonical_kind
from bot.knowledge.repository import item_files, load_item
from bot.knowledge.schema import ID_MAX_LENGTH, Pattern, Policy, is_valid_id, slugify
from bot.yamlfile import YamlSyntaxError, dump_text, load_text, round_trip_yaml

ItemType = Literal["pattern", "policy"]
Status = Literal["added", "updated", "unchanged"]

DOTAI_ID_KEY = "x-dotai-id"
DOTAI_HASH_KEY = "x-dotai-payload-sha256"
# Derived by dot-ai for its own search; patternbot computes its own index from the text.
DROPPED_KEYS = frozenset({"searchText", "hasEmbedding", "id"})
# The payload keys that map onto patternbot's keys, in the order files list them.
_ITEM_KEYS: dict[ItemType, tuple[str, ...]] = {
    "pattern": (
        "description",
        "triggers",
        "suggestedResources",
        "rationale",
        "createdAt",
        "createdBy",
        "deprecated",
        "deprecatedReason",
        "usageMetrics",
    ),
    "policy": (
        "description",
        "triggers",
        "appliesTo",
        "rationale",
        "createdAt",
        "createdBy",
        "settings",
        "deployedPolicies",
        "usageMetrics",
    ),
}
_KIND_KEYS = ("suggestedResources", "appliesTo")
# Readable ids stay well under the id limit so a numeric suffix always fits.
_SLUG_LENGTH = 48
_SLUG_WORDS = 6
# Words that make a description read well but an id long: "All containers must have limits".
_STOP_WORDS = frozenset(
    {"a", "an", "the", "and", "or", "of", "for", "to", "in", "on", "with", "by", "be", "is"}
    | {"are", "must", "should", "have", "has", "all", "every"}
)
# Longer text values are written folded (`>-`), as the shipped examples are.
_FOLD_AT = 90
_FOLD_WIDTH = 96
_SCROLL_PAGE = 256


@dataclass(frozen=True)
class DotAiPoint:
    """One point of a dot-ai collection: a pattern or a policy intent."""

    item_type: ItemType
    point_id: str
    payload: Mapping[str, Any]
    collection: str


class ScrollingClient(Protocol):
    """What the import needs of a Qdrant client (qdrant-client's QdrantClient has it)."""

    def scroll(self, collection_name: str, **kwargs: Any) -> tuple[list[Any], Any]: ...

    def collection_exists(self, collection_name: str) -> bool: ...


def points_from_client(
    client: ScrollingClient, collections: Mapping[ItemType, str]
) -> list[DotAiPoint]:
    """Every point of the pattern and policy collections, read page by page (payloads only)."""
    points = []
    for item_type, name in collections.items():
        if not client.collection_exists(name):
            raise KnowledgeBaseError(
                f"Qdrant has no collection {name!r} (the dot-ai {item_type}s)"
            )
        offset: Any = None
        while True:
            page, offset = client.scroll(
                collection_name=name,
                limit=_SCROLL_PAGE,
                offset=offset,
                with_payload=True,
                with_vectors=False,
            )
            for record in page:
                points.append(DotAiPoint(item_type, str(record.id), record.payload or {}, name))
            if offset is None:
                break
    return points


def _points_of(value: Any) -> list[Any]:
    """The points of a scroll response (`{"result": {"points": [...]}}`) or a list of points."""
    if isinstance(value, Mapping) and isinstance(value.get("result"), Mapping):
        value = value["result"].get("points")
    elif isinstance(value, Mapping) and "points" in value:
        value = value["points"]
    if not isinstance(value, list):
        raise KnowledgeBaseError("expected a scroll response or a list of points")
    return value


def points_from_export(
    data: Any, collections: Mapping[ItemType, str], source: str
) -> list[DotAiPoint]:
    """Points from an export: `{"<patterns>": <scroll>, "<policies>": <scroll>}` or one scroll.

    A single scroll response (or list of points) is split by payload: dot-ai patterns always
    carry `suggestedResources`, policy intents never do.
    """
    by_name = {name: item_type for item_type, name in collections.items()}
    groups: list[tuple[ItemType | None, str, Any]]
    if isinstance(data, Mapping) and data and set(data) <= set(by_name):
        groups = [(by_name[name], name, value) for name, value in data.items()]
    else:
        groups = [(None, source, data)]
    points = []
    for item_type, name, value in groups:
        try:
            raw_points = _points_of(value)
        except KnowledgeBaseError as exc:
            raise KnowledgeBaseError(f"{source}: {name}: {exc}") from None
        for number, raw in enumerate(raw_points):
            if not isinstance(raw, Mapping) or "id" not in raw:
                raise KnowledgeBaseError(f"{source}: {name}: point {number} has no id")
            payload = raw.get("payload") or {}
            if not isinstance(payload, Mapping):
                raise KnowledgeBaseError(f"{source}: {name}: point {raw['id']}: bad payload")
            kind = item_type or ("pattern" if "suggestedResources" in payload else "policy")
            points.append(DotAiPoint(kind, str(raw["id"]), payload, name))
    return points


def payload_digest(payload: Mapping[str, Any]) -> str:
    """A short hash of what an import takes from a payload (dot-ai's own search keys left out)."""
    kept = {key: value for key, value in payload.items() if key not in DROPPED_KEYS - {"id"}}
    canonical = json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def item_data(point: DotAiPoint, item_id: str) -> tuple[dict[str, Any], list[str]]:
    """The YAML data of one point, and notes on what was changed on the way (kind names)."""
    notes = []
    data: dict[str, Any] = {"id": item_id}
    for key in _ITEM_KEYS[point.item_type]:
        if key not in point.payload:
            continue
        value = point.payload[key]
        if key in _KIND_KEYS and isinstance(value, list):
            mapped = []
            for name in value:
                kind = canonical_kind(name) if isinstance(name, str) else None
                if kind is not None and kind != name:
                    notes.append(f"{key}: {name!r} written as the kind {kind!r}")
                mapped.append(kind or name)
            value = mapped
        data[key] = _folded(value) if isinstance(value, str) and len(value) > _FOLD_AT else value
    for key, value in point.payload.items():
        if key in DROPPED_KEYS or key in data:
            continue
        # Anything else is kept, as the author's annotation, so nothing is lost.
        data[f"x-dotai-{key}"] = value
        notes.append(f"{key}: not a patternbot key; kept as 'x-dotai-{key}'")
    data[DOTAI_ID_KEY] = point.point_id
    data[DOTAI_HASH_KEY] = payload_digest(point.payload)
    return data, notes


def _folded(text: str) -> str:
    """`text` as a folded block scalar broken at about the width the example files use."""
    if "\n" in text or text != text.strip() or "  " in text:
        return text  # folding would change it; written as a quoted scalar instead
    folded = FoldedScalarString(text)
    positions, position = [], 0
    for line in textwrap.wrap(text, _FOLD_WIDTH, break_long_words=False, break_on_hyphens=False)[
        :-1
    ]:
        position += len(line)
        positions.append(position)
        position += 1
    folded.fold_pos = positions
    written: str = folded
    return written


def _readable_id(point: DotAiPoint) -> str:
    """The point's own id when it is a readable one, else a slug of the description's words."""
    own = point.payload.get("id")
    if isinstance(own, str) and is_valid_id(own) and own != point.point_id:
        return own
    description = point.payload.get("description")
    words = slugify(description, "").split("-") if isinstance(description, str) else []
    meaningful = [word for word in words if word and word not in _STOP_WORDS] or words
    slug = "-".join(meaningful[:_SLUG_WORDS]).strip("-")
    if slug:
        return slug[:_SLUG_LENGTH].rsplit("-", 1)[0] if len(slug) > _SLUG_LENGTH else slug
    return f"dotai-{slugify(point.point_id)[:8]}"


def _unique(wanted: str, taken: set[str]) -> str:
    candidate, number = wanted, 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate = wanted[: ID_MAX_LENGTH - len(suffix)].rstrip("-._") + suffix
        number += 1
    return candidate


@dataclass
class PlannedFile:
    """One file an import adds, updates or leaves as it is."""

    relative: str
    old_text: str | None
    new_text: str
    status: Status
    point: DotAiPoint
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    """Every file of an import, and the problems that stop it (then nothing is written)."""

    files: list[PlannedFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for planned in self.files if planned.status == status)


@dataclass(frozen=True)
class _Existing:
    relative: str
    text: str


def _existing_files(root: Path, folders: Sequence[str]) -> tuple[dict[str, _Existing], set[str]]:
    """Files already imported (by dot-ai point id) and every id (file name) in use."""
    imported: dict[str, _Existing] = {}
    taken: set[str] = set()
    for folder in folders:
        for path in item_files(root / folder):
            taken.add(path.stem)
            relative = path.relative_to(root).as_posix()
            try:
                text = path.read_text(encoding="utf-8")
                data = load_text(text, relative)
            except (OSError, UnicodeDecodeError, YamlSyntaxError):
                continue  # `patternbot validate` reports it; the import only looks for its ids
            if isinstance(data, CommentedMap) and isinstance(data.get(DOTAI_ID_KEY), str):
                imported[data[DOTAI_ID_KEY]] = _Existing(relative, text)
    return imported, taken


def _header(point: DotAiPoint) -> str:
    return (
        f"# Imported from dot-ai (collection {point.collection!r}, point {point.point_id}).\n"
        "# Git is the source of truth now: edit freely; a later import changes this file only if\n"
        "# the point changes in Qdrant.\n"
    )


def _replace_list(current: CommentedSeq, wanted: list[Any]) -> None:
    # Element by element, so the comments and layout of unchanged entries stay.
    for item in [item for item in current if item not in wanted]:
        current.remove(item)
    for position, item in enumerate(wanted):
        if position < len(current) and current[position] == item:
            continue
        if item in current:
            current.remove(item)
        current.insert(position, item)


def updated_text(old_text: str, data: Mapping[str, Any], relative: str) -> str:
    """`old_text` with the imported values set, everything else (comments, order, id) kept."""
    yaml = round_trip_yaml()
    yaml.width = 4096  # never re-wrap a line the author wrote
    try:
        _, indent, block_seq_indent = load_yaml_guess_indent(old_text)
        document = yaml.load(old_text)
    except YAMLError as exc:
        raise KnowledgeBaseError(f"{relative}: cannot update: not valid YAML ({exc})") from exc
    if not isinstance(document, CommentedMap):
        raise KnowledgeBaseError(f"{relative}:1: cannot update: expected a mapping of keys")
    for key, value in data.items():
        if key == "id" or document.get(key) == value:
            continue
        current = document.get(key)
        if isinstance(current, CommentedSeq) and isinstance(value, list):
            _replace_list(current, value)
        else:
            document[key] = value
    # load_yaml_guess_indent reports the sequence indent and the dash offset as ruamel writes them.
    offset = block_seq_indent if block_seq_indent is not None else 2
    yaml.indent(mapping=2, sequence=indent or 4, offset=offset)
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


def plan_import(
    root: Path, patterns_dir: str, policies_dir: str, points: Iterable[DotAiPoint]
) -> ImportPlan:
    """What importing `points` into the repository at `root` would write, validated."""
    folders = {"pattern": patterns_dir, "policy": policies_dir}
    imported, taken = _existing_files(root, [patterns_dir, policies_dir])
    plan = ImportPlan()
    seen: set[str] = set()
    for point in sorted(points, key=lambda p: (p.item_type, p.point_id)):
        if point.point_id in seen:
            plan.problems.append(f"dot-ai {point.collection} point {point.point_id}: listed twice")
            continue
        seen.add(point.point_id)
        existing = imported.get(point.point_id)
        if existing is not None:
            item_id = Path(existing.relative).stem
            data, notes = item_data(point, item_id)
            old = load_text(existing.text, existing.relative)
            if old.get(DOTAI_HASH_KEY) == data[DOTAI_HASH_KEY]:
                plan.files.append(
                    PlannedFile(existing.relative, existing.text, existing.text, "unchanged", point)
                )
                continue
            text = updated_text(existing.text, data, existing.relative)
            status: Status = "unchanged" if text == existing.text else "updated"
            plan.files.append(
                PlannedFile(existing.relative, existing.text, text, status, point, notes)
            )
            continue
        item_id = _unique(_readable_id(point), taken)
        taken.add(item_id)
        data, notes = item_data(point, item_id)
        relative = f"{folders[point.item_type].rstrip('/')}/{item_id}.yaml"
        text = _header(point) + dump_text(data)
        plan.files.append(PlannedFile(relative, None, text, "added", point, notes))
    plan.problems.extend(_validate(plan.files))
    return plan


def _validate(files: Sequence[PlannedFile]) -> list[str]:
    """The `validate` problems of every planned file, checked in a scratch folder."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="patternbot-import-") as scratch:
        root = Path(scratch)
        for planned in files:
            if planned.status == "unchanged":
                continue
            path = root / planned.relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(planned.new_text, encoding="utf-8")
            model: type[Pattern] | type[Policy] = (
                Pattern if planned.point.item_type == "pattern" else Policy
            )
            where = f"(dot-ai {planned.point.collection} point {planned.point.point_id})"
            problems.extend(f"{p} {where}" for p in load_item(path, model, root).problems)
    return problems


def write_plan(root: Path, plan: ImportPlan) -> list[str]:
    """Write the added and updated files (each atomically); returns their relative paths."""
    if plan.problems:
        raise KnowledgeBaseError("the import has problems; nothing was written")
    written = []
    for planned in plan.files:
        if planned.status == "unchanged":
            continue
        path = root / planned.relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(planned.new_text)
            os.replace(temporary, path)
        except OSError as exc:
            raise KnowledgeBaseError(f"{planned.relative}: cannot write: {exc.strerror}") from exc
        written.append(planned.relative)
    return written
