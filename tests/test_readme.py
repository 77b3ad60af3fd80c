"""The README's quick start stays true: its test command is the one CI runs."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _section(markdown: str, title: str) -> str:
    match = re.search(
        rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.MULTILINE | re.DOTALL
    )
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def quick_start_commands() -> list[str]:
    """The command lines of the README's quick-start block."""
    section = _section((REPO_ROOT / "README.md").read_text(encoding="utf-8"), "Quick start")
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, "the quick start holds exactly one fenced block"
    return [line for line in blocks[0].splitlines() if line.strip()]


def ci_commands() -> list[str]:
    """The command lines .ci/run executes (those that run python), in order."""
    lines = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.startswith("python ")]


def test_quick_start_is_two_commands() -> None:
    commands = quick_start_commands()

    assert len(commands) == 2
    assert commands[0] == "python -m pip install . && patternbot run"


def test_quick_start_test_command_is_what_ci_runs() -> None:
    assert quick_start_commands()[1] == ci_commands()[0]
    assert ci_commands() == [
        "python -m pip install '.[test]' && python -m pytest",
        "python -m mypy",
        "python -m ruff check bot tests bench testing",
    ]
