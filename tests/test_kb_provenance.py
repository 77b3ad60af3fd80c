"""`createdAt` and `createdBy` from git when a file leaves them out (issue 13 item 1)."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.index.sync import sync_index
from bot.knowledge.repository import load_knowledge_base
from bot.main import main
from bot.yamlfile import dump_text
from tests.support.index import HashingEmbedder
from tests.support.kb import git, make_kb_repo, pattern_data, policy_data

ALICE_DATE = "2025-03-01T10:00:00+01:00"
BOB_DATE = "2025-04-02T08:30:00+00:00"


def _bare(data: dict[str, Any]) -> dict[str, Any]:
    """The item without the two keys git can supply."""
    return {key: value for key, value in data.items() if key not in ("createdAt", "createdBy")}


def _commit_as(root: Path, name: str, date: str, message: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_DATE": date}
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True, env=env)


def _write(root: Path, relative: str, data: dict[str, Any]) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_text(data), encoding="utf-8")
    return path


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Alice adds `web` (no timestamps) and `db` (written ones); Bob renames web and edits it."""
    root = make_kb_repo(tmp_path / "kb", commit=False)
    _write(root, "patterns/web.yaml", _bare(pattern_data("web")))
    _write(root, "patterns/db.yaml", pattern_data("db"))
    _write(root, "policies/limits.yaml", _bare(policy_data("limits")))
    _commit_as(root, "Alice", ALICE_DATE, "first items")
    git(root, "mv", "patterns/web.yaml", "patterns/web-app.yaml")
    _write(root, "patterns/web-app.yaml", {**_bare(pattern_data("web")), "id": "web-app"})
    _write(root, "patterns/queue.yaml", _bare(pattern_data("queue")))
    _commit_as(root, "Bob", BOB_DATE, "rename web, add queue")
    return root


def test_absent_fields_come_from_the_commit_that_added_the_file(history: Path) -> None:
    kb = load_knowledge_base(history)

    assert kb.problems == []
    got = {
        item.id: (item.created_at, item.created_by)
        for item in [*kb.patterns.values(), *kb.policies.values()]
    }
    assert got == {
        "web-app": (ALICE_DATE, "Alice"),  # renamed by Bob: still Alice's file
        "db": ("2025-01-15", "platform-team"),  # written values win
        "queue": (BOB_DATE, "Bob"),
        "limits": (ALICE_DATE, "Alice"),
    }
    assert kb.notes == []


def test_loaded_items_carry_them_into_every_output(history: Path) -> None:
    kb = load_knowledge_base(history)

    data = kb.patterns["web-app"].to_data()
    assert (data["createdAt"], data["createdBy"]) == (ALICE_DATE, "Alice")


def test_index_payloads_hold_the_git_values(history: Path, index_factory: Any) -> None:
    index = index_factory(history)
    sync_index(index, HashingEmbedder(), load_knowledge_base(history))

    payload = index.payloads("pattern")["web-app"]
    assert (payload["createdAt"], payload["createdBy"]) == (ALICE_DATE, "Alice")


def test_written_values_are_still_validated(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("web", createdAt="last tuesday", createdBy=" ")])

    assert main(["validate", "--repo", str(root)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "patterns/web.yaml:9: createdAt: 'last tuesday' is not an ISO 8601 date or time",
        "patterns/web.yaml:10: createdBy: must not be empty",
        "2 problem(s) in 1 file(s)",
    ]


def test_uncommitted_file_gets_its_own_time_and_the_git_identity_with_a_verbose_note(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = _write(history, "patterns/cache.yaml", _bare(pattern_data("cache")))
    os.utime(new, (1767225600, 1767225600))  # 2026-01-01T00:00:00Z

    kb = load_knowledge_base(history)
    code = main(["validate", "--repo", str(history), "--verbose"])

    cache = kb.patterns["cache"]
    assert (cache.created_at, cache.created_by) == ("2026-01-01T00:00:00Z", "Test Author")
    out, err = capsys.readouterr()
    assert (code, out) == (0, "ok: 4 patterns, 1 policies\n")
    assert err == (
        "patternbot: note: patterns/cache.yaml: not committed yet: createdAt 2026-01-01T00:00:00Z"
        " (the file's time) and createdBy 'Test Author' (your git identity) until the commit that"
        " adds it\n"
    )


def test_outside_a_git_repository_every_file_is_uncommitted(tmp_path: Path) -> None:
    path = _write(tmp_path, "patterns/web.yaml", _bare(pattern_data("web")))
    os.utime(path, (1767225600, 1767225600))

    item = load_knowledge_base(tmp_path).patterns["web"]

    assert (item.created_at, item.created_by) == ("2026-01-01T00:00:00Z", "Test Author")


def test_a_shallow_clone_says_its_dates_are_a_guess(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{history}", str(clone))

    code = main(["validate", "--repo", str(clone), "-v"])

    err = capsys.readouterr().err
    assert code == 0
    assert (
        f"patternbot: note: patterns/web-app.yaml: shallow clone: createdAt {BOB_DATE} is the"
        " oldest fetched commit's; fetch the whole history (actions/checkout with fetch-depth: 0)"
    ) in err.splitlines()


def test_one_git_log_pass_for_the_whole_knowledge_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_kb_repo(
        tmp_path / "kb",
        patterns=[_bare(pattern_data(f"p{n}")) for n in range(40)],
        policies=[_bare(policy_data(f"r{n}")) for n in range(19)],
    )
    _write(root, "policies/r19.yaml", _bare(policy_data("r19")))
    # A real git behind a wrapper that records each invocation.
    calls = tmp_path / "calls.txt"
    wrapper_dir = tmp_path / "bin"
    wrapper_dir.mkdir()
    real_git = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    wrapper = wrapper_dir / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real_git} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{wrapper_dir}{os.pathsep}{os.environ['PATH']}")

    kb = load_knowledge_base(root)

    assert len(kb.patterns) + len(kb.policies) == 60
    assert {item.created_by for item in kb.patterns.values()} == {"Test Author"}
    invoked = calls.read_text().rstrip("\n").split("\n")
    commands = {"log", "rev-parse", "var"}
    assert [next(w for w in line.split(" ") if w in commands) for line in invoked] == [
        "log",  # every file's adding commit
        "rev-parse",  # is the clone shallow?
        "var",  # the identity, for the uncommitted 60th file
    ]
