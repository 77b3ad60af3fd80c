"""Terminal output stays inert: no data line starts a CI runner command; tables print whole."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.table import Table

from bot.console import InertStream, inert_output, print_json, stdout_console, warn
from bot.main import main

INJECTED = "db\n::add-mask::x\n::error title=pwned::x\n  ::warning::y\nend"


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_lines_starting_a_workflow_command_are_escaped() -> None:
    target = _Pipe()
    stream = InertStream(target)

    stream.write(f"value: {INJECTED}\n")
    stream.flush()

    assert target.getvalue() == (
        "value: db\n\\::add-mask::x\n\\::error title=pwned::x\n  \\::warning::y\nend\n"
    )


def test_a_command_written_in_pieces_is_still_escaped() -> None:
    target = _Pipe()
    stream = InertStream(target)

    for piece in ("ok\n", ":", ":", "error::x", "\n", "tail ::not-a-start\n"):
        stream.write(piece)

    assert target.getvalue() == "ok\n\\::error::x\ntail ::not-a-start\n"


def test_a_flushed_partial_line_is_judged_once() -> None:
    target = _Pipe()
    stream = InertStream(target)

    stream.write("progress ")
    stream.flush()
    stream.write("::x\n::y\n")

    assert target.getvalue() == "progress ::x\n\\::y\n"


def test_control_characters_are_removed_when_not_a_terminal() -> None:
    pipe, tty = _Pipe(), _Tty()

    for target in (pipe, tty):
        stream = InertStream(target)
        stream.write("a\x1b[2Jb\rc\x00d\te\n")

    assert pipe.getvalue() == "a[2Jbcd\te\n"
    assert tty.getvalue() == "a\x1b[2Jb\rc\x00d\te\n"


def test_cli_output_and_errors_pass_through_the_inert_streams(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with inert_output():
        print(f"intent: {INJECTED}")
        warn(f"setting {INJECTED}")
        print_json({"intent": INJECTED})

    out, err = capsys.readouterr()
    lines = out.splitlines() + err.splitlines()
    assert [line for line in lines if line.lstrip().startswith("::")] == []
    assert json.loads(out[out.index("{") :]) == {"intent": INJECTED}
    assert "\\::error title=pwned::x" in err


def test_tables_are_whole_plain_text_when_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = _Pipe()
    monkeypatch.setattr(sys, "stdout", target)
    table = Table("#", "target/id", "reason", title="Suggestions")
    long_id = "grpc-backend-service-for-the-payments-team-in-eu-west"
    table.add_row("1", long_id, "x" * 120)

    stdout_console().print(table)

    assert target.getvalue().splitlines() == [
        "Suggestions",
        "#  target/id" + " " * (len(long_id) - len("target/id")) + "  reason",
        f"1  {long_id}  {'x' * 120}",
    ]


def test_patternbot_never_prints_a_runner_command(tmp_path: Path) -> None:
    """A file name carrying workflow commands, echoed in a `file:line` problem, stays inert."""
    patterns = tmp_path / "patterns"
    patterns.mkdir()
    (patterns / "x\n::add-mask::x\n::error title=pwned::x.yaml").write_text("id: [", "utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "bot", "validate", "--repo", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )

    lines = result.stdout.splitlines() + result.stderr.splitlines()
    assert result.returncode == 1
    assert "\\::error title=pwned::x.yaml" in result.stdout + result.stderr
    assert [line for line in lines if line.lstrip().startswith("::")] == []


def test_main_restores_the_standard_streams(tmp_path: Path) -> None:
    before = sys.stdout, sys.stderr

    main(["validate", "--repo", str(tmp_path)])

    assert (sys.stdout, sys.stderr) == before
