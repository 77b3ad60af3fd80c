"""Test fixtures for the knowledge base: temporary git repositories holding real YAML files."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from bot.yamlfile import dump_text


def pattern_data(item_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid pattern's YAML data; `overrides` replace fields (camelCase keys)."""
    data: dict[str, Any] = {
        "id": item_id,
        "description": f"{item_id.replace('-', ' ')} deployments",
        "triggers": [item_id.replace("-", " ")],
        "suggestedResources": ["Deployment", "Service"],
        "rationale": f"How we deploy {item_id.replace('-', ' ')}.",
        "createdAt": "2025-01-15",
        "createdBy": "platform-team",
    }
    data.update(overrides)
    return data


def policy_data(item_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid policy's YAML data; `overrides` replace fields (camelCase keys)."""
    data: dict[str, Any] = {
        "id": item_id,
        "description": f"{item_id.replace('-', ' ')} is required",
        "triggers": [item_id.replace("-", " ")],
        "rationale": f"Why {item_id.replace('-', ' ')} matters.",
        "createdAt": "2025-01-15",
        "createdBy": "security-team",
        "appliesTo": ["Deployment"],
    }
    data.update(overrides)
    return data


def git(root: Path, *args: str) -> str:
    """Run git in `root` and return its standard output (raises on failure)."""
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def write_item(root: Path, folder: str, data: dict[str, Any]) -> Path:
    """Write one item as `<root>/<folder>/<id>.yaml`."""
    path = root / folder / f"{data['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_text(data), encoding="utf-8")
    return path


def make_kb_repo(
    root: Path,
    patterns: Iterable[dict[str, Any]] = (),
    policies: Iterable[dict[str, Any]] = (),
    *,
    commit: bool = True,
) -> Path:
    """A git repository at `root` holding the given items, committed on branch main."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text(".patternbot/\n", encoding="utf-8")
    for data in patterns:
        write_item(root, "patterns", data)
    for data in policies:
        write_item(root, "policies", data)
    if commit:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "knowledge base")
    return root


@pytest.fixture
def kb_repo_factory(tmp_path: Path) -> Callable[..., Path]:
    """Build a temporary knowledge-base git repository: factory(patterns=[...], policies=[...])."""
    counter = iter(range(1000))

    def factory(
        patterns: Iterable[dict[str, Any]] = (),
        policies: Iterable[dict[str, Any]] = (),
        commit: bool = True,
    ) -> Path:
        return make_kb_repo(tmp_path / f"kb{next(counter)}", patterns, policies, commit=commit)

    return factory
