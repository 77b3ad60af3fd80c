"""Terminal output, the one place it is rendered: JSON for machines, tables for people, warnings.

Everything the CLI writes to standard output and standard error passes through `inert_output()`,
so text that came from a log or a model can never act on what reads the output: no line can start
a CI runner's workflow command (`::add-mask::`, `::error::`...), and control characters (escape
sequences, carriage returns) are removed when the output is not a terminal.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderHook

# C0 controls and DEL, except tab and line feed; escape sequences start with ESC (\x1b).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Runners read a workflow command from a line whose first non-blank characters are `::`.
_COMMAND_START = re.compile(r"^([ \t]*):", re.MULTILINE)
# A wide virtual terminal for pipes and CI logs: tables are printed whole, never cut at 80 columns.
_UNBOUNDED_WIDTH = 1_000_000


def inert_line_starts(text: str) -> str:
    """Text whose lines cannot start a CI runner command: a leading `:` is escaped as `\\:`."""
    return _COMMAND_START.sub(lambda m: f"{m.group(1)}\\:", text)


def strip_control(text: str) -> str:
    """Text without control characters other than tab and line feed."""
    return _CONTROL.sub("", text)


class InertStream(io.TextIOBase):
    """A text stream that passes writes on, keeping every line inert (see the module docstring).

    Lines are held until they end (or until flush), so a line written in pieces is judged whole.
    """

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self.wrapped = stream
        self._pending = ""
        self._line_started = False  # part of the current line was already passed on

    def _clean(self, text: str) -> str:
        return text if self.wrapped.isatty() else strip_control(text)

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            self._emit(complete + "\n")
        return len(text)

    def _emit(self, text: str) -> None:
        text = self._clean(text)
        if self._line_started:
            # The start of this line was already judged and written; judge only the lines after.
            head, newline, rest = text.partition("\n")
            text = head + newline + inert_line_starts(rest)
        else:
            text = inert_line_starts(text)
        self._line_started = not text.endswith("\n")
        self.wrapped.write(text)

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, ""
            self._emit(pending)
        self.wrapped.flush()

    def isatty(self) -> bool:
        return self.wrapped.isatty()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.wrapped, "encoding", "utf-8") or "utf-8"


@contextlib.contextmanager
def inert_output() -> Iterator[None]:
    """Route standard output and standard error through InertStream for the block's duration."""
    saved = sys.stdout, sys.stderr
    out, err = InertStream(sys.stdout), InertStream(sys.stderr)
    sys.stdout, sys.stderr = out, err
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            out.flush()
            err.flush()
        sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def protocol_output() -> Iterator[None]:
    """The real standard output, for a protocol that frames its own output (MCP's JSON-RPC).

    JSON-RPC frames are JSON objects, one per line: JSON escapes every control character, and no
    frame can start with `:`, so the inert wrapping has nothing to add and would hide the file
    descriptors the transport needs.
    """
    saved = sys.stdout
    if isinstance(saved, InertStream):
        saved.flush()
        sys.stdout = saved.wrapped
    try:
        yield
    finally:
        sys.stdout = saved


def stdout_console() -> Console:
    """A console for human-readable output: rich in a terminal, whole plain text elsewhere."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False, soft_wrap=True)
    console = Console(highlight=False, soft_wrap=True, width=_UNBOUNDED_WIDTH, color_system=None)
    console.push_render_hook(_plain_tables_hook())
    return console


def _plain_table(table: Any) -> str:
    """A rich Table as aligned plain columns, nothing cut, no trailing blanks."""
    from rich.console import Console

    table.box = None
    table.show_edge = False
    table.pad_edge = False
    table.title_justify = "left"
    buffer = io.StringIO()
    Console(
        file=buffer, width=_UNBOUNDED_WIDTH, color_system=None, highlight=False, soft_wrap=True
    ).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def _plain_tables_hook() -> RenderHook:
    """A render hook that turns tables into plain text (for output that is not a terminal)."""
    from rich.console import RenderHook
    from rich.table import Table
    from rich.text import Text

    class PlainTables(RenderHook):
        def process_renderables(self, renderables: list[Any]) -> list[Any]:
            return [Text(_plain_table(r)) if isinstance(r, Table) else r for r in renderables]

    return PlainTables()


def print_json(data: Any) -> None:
    """Print data as indented JSON on standard output."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def print_lines(lines: Iterable[str]) -> None:
    """Print lines of plain text on standard output."""
    for line in lines:
        sys.stdout.write(f"{line}\n")


def warn(message: str) -> None:
    """A one-line warning on standard error."""
    print(f"patternbot: warning: {message}", file=sys.stderr)


def progress(message: str) -> None:
    """A progress line on standard error, so standard output stays clean for --json."""
    print(f"patternbot: {message}", file=sys.stderr, flush=True)
