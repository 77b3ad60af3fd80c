"""The YAML parse cache (issue 11 item 2): only changed files are parsed; git stays the truth."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bot.knowledge.parse_cache import CACHE_FILE
from bot.knowledge.repository import load_knowledge_base
from bot.yamlfile import dump_text
from tests.support.kb import pattern_data, policy_data

CACHE = Path(".patternbot") / "cache" / CACHE_FILE


def _repo(factory: Callable[..., Path]) -> Path:
    return factory(
        patterns=[pattern_data("web"), pattern_data("db")], policies=[policy_data("limits")]
    )


def test_second_load_parses_only_the_changed_file(kb_repo_factory: Callable[..., Path]) -> None:
    root = _repo(kb_repo_factory)
    first = load_knowledge_base(root)

    edited = pattern_data("db", description="Databases with backups")
    (root / "patterns/db.yaml").write_text(dump_text(edited), encoding="utf-8")
    second = load_knowledge_base(root)
    third = load_knowledge_base(root)

    assert (first.parsed_files, second.parsed_files, third.parsed_files) == (3, 1, 0)
    assert second.patterns["db"].description == "Databases with backups"
    assert third.patterns == second.patterns and third.policies == second.policies
    assert third.patterns["web"].source == root / "patterns/web.yaml"


def test_git_derived_fields_are_never_cached(kb_repo_factory: Callable[..., Path]) -> None:
    bare = {k: v for k, v in pattern_data("web").items() if k not in ("createdAt", "createdBy")}
    root = kb_repo_factory(patterns=[bare])

    load_knowledge_base(root)

    stored = json.loads((root / CACHE).read_text(encoding="utf-8"))
    assert [entry["data"].get("createdAt") for entry in stored["files"].values()] == [None]
    assert load_knowledge_base(root).patterns["web"].created_by == "Test Author"


def test_files_with_problems_are_parsed_every_time_for_their_lines(
    kb_repo_factory: Callable[..., Path],
) -> None:
    root = _repo(kb_repo_factory)
    (root / "patterns/bad.yaml").write_text("id: bad\ntrigers: [x]\n", encoding="utf-8")

    load_knowledge_base(root)
    again = load_knowledge_base(root)

    assert again.parsed_files == 1
    assert "patterns/bad.yaml:2: unknown key 'trigers' (did you mean 'triggers'?)" in [
        str(p) for p in again.problems
    ]


def test_a_corrupt_cache_is_ignored_and_rewritten(kb_repo_factory: Callable[..., Path]) -> None:
    root = _repo(kb_repo_factory)
    load_knowledge_base(root)
    (root / CACHE).write_text('{"code": "x", "files": {"not json', encoding="utf-8")

    kb = load_knowledge_base(root)

    assert (kb.parsed_files, sorted(kb.patterns), kb.problems) == (3, ["db", "web"], [])
    assert load_knowledge_base(root).parsed_files == 0


def test_the_cache_follows_the_configured_state_folder(
    kb_repo_factory: Callable[..., Path],
) -> None:
    root = _repo(kb_repo_factory)

    load_knowledge_base(root, state_dir=root / "state")

    assert (root / "state" / "cache" / CACHE_FILE).is_file()
    assert not (root / CACHE).exists()
