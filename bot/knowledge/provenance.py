"""Who added each item file and when, from git: the values of `createdAt` and `createdBy` a file
leaves out.

One `git log` pass reads the whole history of the knowledge-base folders (oldest first, renames
followed), so a knowledge base of hundreds of files costs two git processes, not one per file.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Record and field separators in the `git log` format: never found in a date or a name.
_RECORD = "\x1e"
_FIELD = "\x1f"
_UNKNOWN_AUTHOR = "unknown"


@dataclass(frozen=True)
class Origin:
    """When and by whom a file was added; `commit` is None for a file git has not recorded yet."""

    created_at: str
    created_by: str
    commit: str | None


@dataclass
class Provenance:
    """The adding commit of every file under the knowledge-base folders, by absolute path."""

    root: Path
    origins: dict[Path, Origin] = field(default_factory=dict)
    shallow_boundary: frozenset[str] = frozenset()
    _identity: str | None = None

    def origin_of(self, path: Path) -> Origin:
        """The commit that added `path`; an uncommitted file gets its own time and your git name."""
        found = self.origins.get(path.absolute())
        if found is not None:
            return found
        return Origin(_file_time(path), self.identity(), None)

    def is_shallow_guess(self, origin: Origin) -> bool:
        """True when `origin` is the oldest commit of a shallow clone: the file may be older."""
        return origin.commit is not None and origin.commit in self.shallow_boundary

    def identity(self) -> str:
        """The configured git author name (GIT_AUTHOR_NAME, user.name), looked up once."""
        if self._identity is None:
            self._identity = _git_author_name(self.root)
        return self._identity


def _file_time(path: Path) -> str:
    # The file's own modification time, not the clock: it stays the same from one run to the next,
    # so an uncommitted file's index payload (and embedding) is not rewritten on every sync.
    try:
        seconds = path.stat().st_mtime
    except OSError:
        seconds = dt.datetime.now(dt.UTC).timestamp()
    moment = dt.datetime.fromtimestamp(int(seconds), dt.UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _run_git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            check=False,
            encoding="utf-8",
            errors="replace",
        )
    except OSError:
        return None  # git is not installed: every file counts as uncommitted
    return done.stdout if done.returncode == 0 else None


def _git_author_name(root: Path) -> str:
    ident = _run_git(root, "var", "GIT_AUTHOR_IDENT")
    if ident is None:
        return _UNKNOWN_AUTHOR
    name = ident.split(" <", 1)[0].strip()
    return name or _UNKNOWN_AUTHOR


def _shallow_boundary(root: Path) -> frozenset[str]:
    path = _run_git(root, "rev-parse", "--git-path", "shallow")
    if path is None:
        return frozenset()
    shallow = Path(path.strip())
    shallow = shallow if shallow.is_absolute() else root / shallow
    try:
        return frozenset(shallow.read_text(encoding="utf-8").split())
    except OSError:
        return frozenset()  # not a shallow clone


def parse_log(output: str, root: Path) -> dict[Path, Origin]:
    """Adding commits from `git log --reverse --name-status -z` output (oldest commit first)."""
    origins: dict[Path, Origin] = {}
    for record in output.split(_RECORD)[1:]:
        header, _, changes = record.partition("\0")
        commit, created_at, created_by = [*header.split(_FIELD), "", "", ""][:3]
        origin = Origin(created_at, created_by or _UNKNOWN_AUTHOR, commit)
        tokens = changes.lstrip("\n").split("\0")
        position = 0
        while position < len(tokens) and tokens[position]:
            status = tokens[position]
            if status.startswith("R") and position + 2 < len(tokens):
                old, new = root / tokens[position + 1], root / tokens[position + 2]
                # A renamed file keeps the origin of the file it was renamed from.
                origins[new] = origins.pop(old, origin)
                position += 3
            else:
                origins[root / tokens[position + 1]] = origin
                position += 2
    return origins


def read_provenance(root: Path, folders: Sequence[Path]) -> Provenance:
    """The adding commit of every file under `folders` (inside `root`), in one `git log` pass."""
    absolute_root = root.absolute()
    specs = []
    for folder in folders:
        try:
            specs.append(str(folder.absolute().relative_to(absolute_root)) or ".")
        except ValueError:
            continue
    if not specs:
        return Provenance(absolute_root)
    output = _run_git(
        absolute_root,
        "-c",
        "core.quotePath=false",
        "log",
        "--reverse",
        "-M",
        "--diff-filter=AR",
        "--name-status",
        "-z",
        "--relative",
        f"--format={_RECORD}%H{_FIELD}%aI{_FIELD}%an",
        "--",
        *specs,
    )
    if output is None:
        return Provenance(absolute_root)  # not a git repository, or no commit yet
    origins = parse_log(output, absolute_root)
    boundary = _shallow_boundary(absolute_root) if origins else frozenset()
    return Provenance(absolute_root, origins, boundary)
