"""The CLI's error boundary: 1 for expected failures, 2 for usage, 3 for bugs, 130 for Ctrl-C."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.error_handler import ExitCode, error_boundary
from bot.errors import KnowledgeBaseError, UsageError
from bot.main import main

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_expected_failure_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "patternbot.yaml").write_text("learning: 5\n", encoding="utf-8")

    code = main(["validate", "--repo", str(tmp_path)])

    out, err = capsys.readouterr()
    assert code == 1
    assert (
        err == "patternbot: patternbot.yaml:1: learning: expected a mapping, found the number 5\n"
    )
    assert out == ""


def test_bad_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--bogus"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines()[-1] == "patternbot: error: unrecognized arguments: --bogus"


def test_usage_error_raised_by_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with error_boundary() as result:
        raise UsageError("--limit must be at least 1")

    assert result == [2]
    assert capsys.readouterr().err == "patternbot: error: --limit must be at least 1\n"


def test_patternbot_error_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with error_boundary() as result:
        raise KnowledgeBaseError("3 problems in the knowledge base; run `patternbot validate`")

    assert result == [1]
    assert capsys.readouterr().err == (
        "patternbot: 3 problems in the knowledge base; run `patternbot validate`\n"
    )


def test_bug_exits_3_and_points_at_the_crash_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATTERNBOT_LOG_DIR", str(tmp_path / "logs"))

    with error_boundary() as result:
        _ = 1 / 0

    log = tmp_path / "logs" / "patternbot-crash.log"
    assert result == [3]
    assert capsys.readouterr().err == (
        "patternbot: unexpected error: ZeroDivisionError: division by zero\n"
        f"This is a bug in patternbot; the traceback is in {log}."
        " Please report it with that file.\n"
    )
    traceback = log.read_text(encoding="utf-8")
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert traceback.endswith("ZeroDivisionError: division by zero\n")


def test_bug_when_the_log_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("PATTERNBOT_LOG_DIR", str(blocker))

    with error_boundary() as result:
        raise RuntimeError("boom")

    assert result == [3]
    assert capsys.readouterr().err == (
        "patternbot: unexpected error: RuntimeError: boom\n"
        "This is a bug in patternbot; the traceback could not be written."
        " Please report it with that file.\n"
    )


def test_ctrl_c_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    with error_boundary() as result:
        raise KeyboardInterrupt

    assert result == [130]
    assert capsys.readouterr().err == "patternbot: interrupted\n"


def test_exit_code_after_output(capsys: pytest.CaptureFixture[str]) -> None:
    with error_boundary() as result:
        print("partial result")
        raise ExitCode(4)

    assert result == [4]
    assert capsys.readouterr() == ("partial result\n", "")


def test_exit_codes_reach_the_shell(tmp_path: Path) -> None:
    (tmp_path / "patternbot.yaml").write_text("learning: 5\n", encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )

    failed, misused = run("validate"), run("validate", "--bogus")

    assert (failed.returncode, failed.stderr.count("\n")) == (1, 1)
    assert misused.returncode == 2
    assert "Traceback" not in failed.stderr + misused.stderr
