"""The published pre-commit hook, run by the real `pre-commit` in a temporary git repository.

`pre-commit try-repo` would build the hook's `language: python` environment by installing
patternbot and its dependencies from the package index, which needs the network and minutes. So the
test runs the same hook definition (entry, files, pass_filenames, require_serial, read from
.pre-commit-hooks.yaml) as a `repo: local` hook with `language: system`, against a `patternbot`
on PATH that runs this tree's code. What pre-commit decides (which files match, how they are
passed, serial execution, the exit code) is pre-commit's own.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bot.yamlfile import dump_text
from tests.support.kb import git, pattern_data, policy_data

REPO_ROOT = Path(__file__).resolve().parent.parent


def _published_hook() -> dict[str, Any]:
    hooks = YAML(typ="safe").load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    hook: dict[str, Any] = hooks[0]
    return hook


@pytest.fixture
def hooked_repo(
    kb_repo_factory: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    root = kb_repo_factory(patterns=[pattern_data("web")], policies=[policy_data("limits")])
    local = {**_published_hook(), "language": "system"}
    config = {"repos": [{"repo": "local", "hooks": [local]}]}
    (root / ".pre-commit-config.yaml").write_text(dump_text(config), encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "patternbot"
    script.write_text(
        f'#!/bin/sh\nPYTHONPATH="{REPO_ROOT}" exec "{sys.executable}" -m bot "$@"\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "hook")
    return root


def _pre_commit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_valid_change_passes(hooked_repo: Path) -> None:
    new = hooked_repo / "patterns" / "team-a" / "db.YAML"
    new.parent.mkdir()
    new.write_text(dump_text(pattern_data("db")), encoding="utf-8")
    git(hooked_repo, "add", "-A")

    done = _pre_commit(hooked_repo)

    assert done.returncode == 0, done.stdout
    assert "patternbot validate" in done.stdout and "Passed" in done.stdout


def test_a_broken_file_fails_the_commit_with_file_and_line(hooked_repo: Path) -> None:
    broken = hooked_repo / "patterns" / "cache.yaml"
    broken.write_text(
        "id: cache\ndescription: Caches\ntrigers: [cache]\nsuggestedResources: [Deployment]\n"
        "rationale: Fast reads.\n",
        encoding="utf-8",
    )
    git(hooked_repo, "add", "-A")

    done = _pre_commit(hooked_repo)

    assert done.returncode == 1
    assert "patterns/cache.yaml:3: unknown key 'trigers' (did you mean 'triggers'?)" in done.stdout


def test_a_duplicate_id_in_another_changed_file_is_caught(hooked_repo: Path) -> None:
    # require_serial: both files reach one `patternbot validate`, which names both of them.
    (hooked_repo / "patterns" / "queue.yaml").write_text(
        dump_text(pattern_data("queue")), encoding="utf-8"
    )
    (hooked_repo / "policies" / "queue.yml").write_text(
        dump_text(policy_data("queue")), encoding="utf-8"
    )
    git(hooked_repo, "add", "-A")

    done = _pre_commit(hooked_repo)

    assert done.returncode == 1
    assert "patterns/queue.yaml:1: duplicate id 'queue': also used by policies/queue.yml" in (
        done.stdout
    )
    assert "policies/queue.yml:1: duplicate id 'queue': also used by patterns/queue.yaml" in (
        done.stdout
    )


def test_files_outside_the_knowledge_base_do_not_run_the_hook(hooked_repo: Path) -> None:
    (hooked_repo / "notes.yaml").write_text("not: an item\n", encoding="utf-8")
    git(hooked_repo, "add", "-A")

    done = _pre_commit(hooked_repo)

    assert done.returncode == 0
    assert "(no files to check)Skipped" in done.stdout
