"""The CLI's one error boundary: exit codes that mean something, no traceback for bad input."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

from bot.errors import PatternbotError, UsageError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130


class ExitCode(Exception):
    """Raised inside the boundary to leave with a given code after output was already written."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _crash_log_path() -> Path:
    base = os.environ.get("PATTERNBOT_LOG_DIR") or tempfile.gettempdir()
    return Path(base) / "patternbot-crash.log"


@contextlib.contextmanager
def error_boundary() -> Iterator[list[int]]:
    """Run a command; translate failures into an exit code stored in the yielded one-item list."""
    result = [EXIT_OK]
    try:
        yield result
    except ExitCode as exc:
        result[0] = exc.code
    except UsageError as exc:
        print(f"patternbot: error: {exc}", file=sys.stderr)
        result[0] = EXIT_USAGE
    except PatternbotError as exc:
        print(f"patternbot: {exc}", file=sys.stderr)
        result[0] = EXIT_FAILURE
    except KeyboardInterrupt:
        print("patternbot: interrupted", file=sys.stderr)
        result[0] = EXIT_INTERRUPTED
    except Exception as exc:
        log_path = _crash_log_path()
        try:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.write_text(traceback.format_exc(), encoding="utf-8")
            where = f"the traceback is in {log_path}"
        except OSError:
            where = "the traceback could not be written"
        print(
            f"patternbot: unexpected error: {type(exc).__name__}: {exc}\n"
            f"This is a bug in patternbot; {where}. Please report it with that file.",
            file=sys.stderr,
        )
        result[0] = EXIT_BUG
