"""Bad input to the knowledge base gives `file:line` and exit 1, never a crash or a silent "ok".

Each test holds the exact input of issue 10 items 11-16.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.knowledge.repository import load_knowledge_base
from bot.knowledge.schema import id_problem, is_valid_id, slugify
from bot.main import main
from bot.yamlfile import dump_text
from tests.support.kb import git, pattern_data, policy_data


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _validate(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["validate", "--repo", str(root), *extra])
    out, err = capsys.readouterr()
    return code, out, err


WEB_WITH_DATE = """\
id: web
description: Web apps
triggers: [web]
suggestedResources: [Deployment]
rationale: Because.
createdAt: {date}
createdBy: platform-team
"""


@pytest.mark.parametrize(
    "date", ["2025-02-30", "2025-13-45", "2025-01-01T25:00:00Z"], ids=["feb30", "month13", "hour25"]
)
def test_impossible_unquoted_date_is_a_problem_at_its_line(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str], date: str
) -> None:
    root = kb_repo_factory(commit=False)
    _write(root / "patterns/web.yaml", WEB_WITH_DATE.format(date=date))

    code, out, _ = _validate(root, capsys)

    assert code == 1
    assert out.splitlines() == [
        f"patterns/web.yaml:6: createdAt: '{date}' is not an ISO 8601 date or time",
        "1 problem(s) in 1 file(s)",
    ]


def test_nul_byte_is_reported_at_its_line(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(commit=False)
    _write(root / "patterns/web.yaml", b"id: web\ndescription: Web\x00apps\n")

    code, out, _ = _validate(root, capsys)

    assert code == 1
    assert out.splitlines()[0] == (
        "patterns/web.yaml:2: YAML syntax error: a NUL byte is not allowed in a YAML file"
    )


def test_missing_repository_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _validate(tmp_path / "nonexistent", capsys)

    assert (code, out) == (1, "")
    assert err == f"patternbot: {tmp_path / 'nonexistent'}: no such directory\n"


def test_missing_file_argument_is_an_error(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("web")])

    code, out, err = _validate(root, capsys, str(root / "patterns/nope.yaml"))

    assert (code, out) == (1, "")
    assert err == f"patternbot: {root / 'patterns/nope.yaml'}: no such file\n"


def test_misconfigured_patterns_folder_is_an_error(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("web")])
    (root / "patternbot.yaml").write_text("paths:\n  patterns: pattern\n", encoding="utf-8")

    code, out, _ = _validate(root, capsys)

    assert code == 1
    assert out.splitlines() == [
        "pattern: no such folder (see paths in patternbot.yaml)",
        "1 problem(s) in 1 file(s)",
    ]


def test_items_in_subfolders_and_any_yaml_suffix_are_loaded_and_remember_their_file(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("web")])
    nested = _write(root / "patterns/team-a/db.yml", dump_text(pattern_data("db")))
    upper = _write(root / "patterns/cache.YAML", dump_text(pattern_data("cache")))
    policy = _write(root / "policies/security/limits.yaml", dump_text(policy_data("limits")))

    kb = load_knowledge_base(root)

    assert kb.problems == []
    assert sorted(kb.patterns) == ["cache", "db", "web"]
    assert kb.patterns["db"].source == nested
    assert kb.patterns["cache"].source == upper
    assert kb.path_of("policy", "limits") == policy
    assert kb.patterns["web"].source == root / "patterns/web.yaml"
    assert _validate(root, capsys)[:2] == (0, "ok: 3 patterns, 1 policies\n")


def test_symlink_outside_the_repository_is_refused_without_reading_it(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = kb_repo_factory(commit=False)
    secret = _write(tmp_path / "outside" / "secret.yaml", "root:x:0:0:SECRET-CONTENT\n")
    (root / "patterns").mkdir()
    os.symlink(secret, root / "patterns" / "passwd.yaml")
    os.symlink("/etc/passwd", root / "patterns" / "etc.yaml")

    code, out, err = _validate(root, capsys)

    assert code == 1
    assert out.splitlines() == [
        "patterns/etc.yaml: resolves outside the repository (a symbolic link?); refused, not read",
        "patterns/passwd.yaml: resolves outside the repository (a symbolic link?); refused,"
        " not read",
        "2 problem(s) in 2 file(s)",
    ]
    assert "SECRET" not in out + err and "root:" not in out + err


def test_symlink_inside_the_repository_is_loaded(kb_repo_factory: Callable[..., Path]) -> None:
    root = kb_repo_factory(commit=False)
    _write(root / "shared/web.yaml", dump_text(pattern_data("web")))
    (root / "patterns").mkdir()
    os.symlink(root / "shared/web.yaml", root / "patterns/web.yaml")

    assert sorted(load_knowledge_base(root).patterns) == ["web"]


@pytest.mark.parametrize(
    ("item_id", "problem"),
    [
        ("web..app", "must not contain '..' (git refuses it in branch names)"),
        ("node.lock", "must not end in '.lock' (git refuses it in branch names)"),
        (
            "batch.",
            "must hold only lower-case letters, digits, '.', '_' and '-', starting and ending"
            " with a letter or digit, at most 63 characters",
        ),
        ("a" * 230, "is 230 characters long; an id has at most 63"),
        ("Web-App", "must be lower case: 'web-app'"),
    ],
    ids=["dotdot", "lock", "trailing-dot", "230-chars", "upper"],
)
def test_ids_git_and_file_systems_refuse_are_invalid_with_file_and_line(
    kb_repo_factory: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    item_id: str,
    problem: str,
) -> None:
    root = kb_repo_factory(commit=False)
    # The file name is kept short and valid so only the id is wrong; line 2 holds the id.
    _write(root / "patterns/x.yaml", "# an item\n" + dump_text(pattern_data(item_id)))

    code, out, _ = _validate(root, capsys)

    assert code == 1
    assert f"patterns/x.yaml:2: id: {item_id!r} is not a valid id: {problem}" in out.splitlines()
    assert id_problem(item_id) == problem


def test_valid_ids_and_slugs() -> None:
    assert all(is_valid_id(i) for i in ["web", "stateless-web-app", "a", "pol_2025.v2", "9"])
    assert slugify("Stateless Applications!") == "stateless-applications"
    assert slugify("...") == "item"
    assert len(slugify("x " * 100)) <= 63 and is_valid_id(slugify("x " * 100))


def test_validate_json_names_every_problem_of_a_missing_folder(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("web")])
    (root / "patternbot.yaml").write_text("paths:\n  policies: rules\n", encoding="utf-8")

    code, out, _ = _validate(root, capsys, "--json")

    assert code == 1
    assert json.loads(out)["problems"] == [
        {"path": "rules", "line": 0, "message": "no such folder (see paths in patternbot.yaml)"}
    ]


def test_sync_refuses_a_misconfigured_folder_instead_of_emptying_the_index(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("web")])
    git(root, "status")  # a real repository
    (root / "patternbot.yaml").write_text("paths:\n  patterns: pattern\n", encoding="utf-8")

    code = main(["sync", "--repo", str(root)])

    assert code == 1
    assert "pattern: no such folder" in capsys.readouterr().err
