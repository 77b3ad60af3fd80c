"""A cache of parsed item files under the state folder, keyed by each file's content hash.

Parsing YAML with positions is most of what loading a large knowledge base costs; a file whose bytes
did not change since the last run is taken from here instead. Only files that validated are kept,
only what the file itself says is stored (never the git-derived `createdAt`/`createdBy`), and a
missing, corrupt or outdated cache is simply rebuilt: it can make loading faster, never different.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.atomicfile import write_atomically

CACHE_FILE = "yaml-cache-v1.json"
# Modules whose code decides what a file parses and validates to: a change to any of them
# invalidates every entry.
_CODE_FILES = ("schema.py", "kinds.py", "repository.py", "parse_cache.py")


def _code_fingerprint() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in (*_CODE_FILES, "../yamlfile.py"):
        with contextlib.suppress(OSError):
            digest.update((here / name).read_bytes())
    return digest.hexdigest()


def content_key(raw: bytes, item_type: str) -> str:
    """The cache key of a file's bytes read as a pattern or a policy."""
    return f"{item_type}:{hashlib.sha256(raw).hexdigest()}"


@dataclass(frozen=True)
class CachedFile:
    """What a valid file said (plain data, `x-` keys left out) and the line of its id."""

    data: dict[str, Any]
    id_line: int


@dataclass
class ParseCache:
    """Parsed files by content key; `path` None keeps the cache in memory only."""

    path: Path | None
    entries: dict[str, CachedFile] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    changed: bool = False

    @classmethod
    def open(cls, state_dir: Path | None) -> ParseCache:
        """The cache stored under `state_dir`; empty when absent, unreadable or outdated."""
        if state_dir is None:
            return cls(None)
        path = state_dir / "cache" / CACHE_FILE
        cache = cls(path)
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("code") != _code_fingerprint():
                return cache
            for key, entry in stored["files"].items():
                if isinstance(entry.get("data"), dict) and isinstance(entry.get("idLine"), int):
                    cache.entries[key] = CachedFile(entry["data"], entry["idLine"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            # A corrupt or foreign cache is ignored and rewritten: the files are the truth.
            cache.entries.clear()
        return cache

    def get(self, key: str) -> CachedFile | None:
        found = self.entries.get(key)
        if found is not None:
            self.used.add(key)
        return found

    def put(self, key: str, data: dict[str, Any], id_line: int) -> None:
        self.entries[key] = CachedFile(data, id_line)
        self.used.add(key)
        self.changed = True

    def save(self) -> None:
        """Write the entries used in this run (atomically); a failure to write is not an error."""
        if self.path is None or not (self.changed or set(self.entries) != self.used):
            return
        files = {
            key: {"data": entry.data, "idLine": entry.id_line}
            for key, entry in sorted(self.entries.items())
            if key in self.used
        }
        text = json.dumps({"code": _code_fingerprint(), "files": files}, ensure_ascii=False)
        with contextlib.suppress(OSError):
            write_atomically(self.path, text)
