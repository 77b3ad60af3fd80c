"""The settings a recommend needs, kept from the last validation so a cold start skips pydantic.

Validating `patternbot.yaml` builds pydantic's models: about a third of a cold `patternbot
recommend` (docs/index.md). The settings only change when the file, the environment or patternbot
itself does, so after a validation the few settings a recommend uses are written to
`.patternbot/cache/settings.json` under a key: the sha256 of the file's bytes, every
`PATTERNBOT_*` and `QDRANT_*` variable, the package version and the source of the modules that
validate (bot/config.py, bot/camel.py, bot/yamlfile.py). The next cold start compares keys: the
same key gives the same validated settings without importing pydantic; anything else (no file,
another key, a file it cannot read) validates again.

The snapshot is derived state, never trusted over the file: it is rebuilt from a validation, and
read back only whole, with every value of the right type and within validation's bounds. It is
kept for the embedded index only. With `index.url` the process loads qdrant-client (and pydantic
with it) anyway, and an API key must never be written to disk.
A custom `paths.state` has no snapshot either: its location is known only once the file is read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from bot import __version__

if TYPE_CHECKING:
    from bot.config import Config

CONFIG_FILE = "patternbot.yaml"
DEFAULT_STATE = ".patternbot"
SNAPSHOT_FILE = Path(DEFAULT_STATE) / "cache" / "settings.json"
# Where a recommend records the embedding model's checksum (bot.index.embeddings.verify_model_file).
MODEL_RECORD = Path(DEFAULT_STATE) / "cache" / "model-checked.json"
FORMAT = 1
EmbeddingProvider = Literal["minilm-onnx", "fastembed"]
# Bounds bot/config.py validates with, checked again on a snapshot read back: a snapshot is a
# file like any other (someone may commit one), and none may hold what validation would refuse.
COLLECTION_PREFIX = r"^[A-Za-z0-9_-]+$"
MAX_BATCH_SIZE = 1024
MAX_LIMIT = 100
# The modules whose code decides what a validation gives.
_VALIDATING_SOURCES = tuple(
    Path(__file__).with_name(name) for name in ("config.py", "camel.py", "yamlfile.py")
)


@dataclass(frozen=True)
class IndexSettings:
    """Where the index is: what bot.index.store.open_index reads."""

    url: str | None
    api_key: str | None
    timeout_seconds: float
    collection_prefix: str


@dataclass(frozen=True)
class EmbeddingSettings:
    """Which embedding model: what bot.index.embeddings.load_embedder reads."""

    provider: EmbeddingProvider
    model: str | None
    batch_size: int


@dataclass(frozen=True)
class RecommendSettings:
    """Everything a recommend reads from the configuration, and where it came from."""

    root: Path
    qdrant_path: Path
    index: IndexSettings
    embedding: EmbeddingSettings
    limit: int
    include_deprecated: bool
    # The validation's warnings (unknown keys), kept so that every start can show them.
    warnings: tuple[str, ...] = ()

    @property
    def model_record(self) -> Path | None:
        """Where the model's checksum is recorded: in the state folder, when it exists (a
        recommend never creates it)."""
        return self.root / MODEL_RECORD if (self.root / DEFAULT_STATE).is_dir() else None

    @classmethod
    def of(cls, config: Config, warnings: tuple[str, ...] = ()) -> RecommendSettings:
        return cls(
            root=config.root,
            qdrant_path=config.qdrant_path,
            index=IndexSettings(
                config.index.url,
                config.index.api_key,
                config.index.timeout_seconds,
                config.index.collection_prefix,
            ),
            embedding=EmbeddingSettings(
                config.embedding.provider, config.embedding.model, config.embedding.batch_size
            ),
            limit=config.retrieval.limit,
            include_deprecated=config.retrieval.include_deprecated,
            warnings=warnings,
        )


def snapshot_key(root: Path, environ: Mapping[str, str]) -> str | None:
    """What the validated settings depend on, hashed: the file, the environment, patternbot.

    None when the file exists but cannot be read (then there is no snapshot, and the validation
    reports the problem every time), or when patternbot's own sources cannot be."""
    digest = hashlib.sha256()
    try:
        digest.update(b"file\0" + (root / CONFIG_FILE).read_bytes())
    except FileNotFoundError:
        digest.update(b"no file\0")
    except OSError:
        return None
    variables = sorted(
        (name, value)
        for name, value in environ.items()
        if name.startswith(("PATTERNBOT_", "QDRANT_"))
    )
    digest.update(json.dumps([__version__, variables]).encode())
    try:
        for source in _VALIDATING_SOURCES:
            digest.update(source.read_bytes())
    except OSError:  # installed without its sources (a zip): no snapshot
        return None
    return digest.hexdigest()


def load_recommend_settings(
    root: Path, environ: Mapping[str, str] | None = None
) -> RecommendSettings:
    """The settings for a recommend in `root`: from the snapshot when its key matches, else
    validated from `patternbot.yaml` (ConfigError when invalid) and snapshotted for next time.

    Either way `warnings` holds the validation's warnings, for the caller to show.
    """
    environ = os.environ if environ is None else environ
    key = snapshot_key(root, environ)
    settings = read_snapshot(root, key) if key is not None else None
    if settings is None:
        from bot.config import load_config_and_warnings

        config, warnings = load_config_and_warnings(root, environ)
        settings = RecommendSettings.of(config, tuple(warnings))
        if key is not None:
            write_snapshot(settings, key, config.paths.state)
    return settings


def read_snapshot(root: Path, key: str) -> RecommendSettings | None:
    """The snapshot's settings when it exists, is whole and has `key`; None otherwise."""
    try:
        data = json.loads((root / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        return None
    try:
        return _settings_from(root, data["settings"])
    except (KeyError, TypeError, ValueError):
        return None


def write_snapshot(settings: RecommendSettings, key: str, state: str) -> None:
    """Keep `settings` for the next start, when they are the embedded index's in the default state
    folder and that folder exists (a recommend never creates it). Failing to write changes
    nothing: the next start validates again."""
    if settings.index.url or settings.index.api_key or state != DEFAULT_STATE:
        return
    if not (settings.root / DEFAULT_STATE).is_dir():
        return
    from bot.atomicfile import write_atomically

    data = {
        "format": FORMAT,
        "key": key,
        "settings": {
            # Relative to the repository, which may move (an absolute index.path stays absolute).
            "qdrant_path": str(_under(settings.root, settings.qdrant_path)),
            "index": asdict(settings.index),
            "embedding": asdict(settings.embedding),
            "limit": settings.limit,
            "include_deprecated": settings.include_deprecated,
            "warnings": list(settings.warnings),
        },
    }
    with contextlib.suppress(OSError):
        write_atomically(settings.root / SNAPSHOT_FILE, json.dumps(data, indent=1) + "\n")


def _under(root: Path, path: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path


def _settings_from(root: Path, data: Any) -> RecommendSettings:
    """Settings from a snapshot's data, each value checked for its type and bounds (TypeError or
    ValueError if not)."""
    index, embedding = data["index"], data["embedding"]
    warnings = data["warnings"]
    if not isinstance(warnings, list):
        raise TypeError("warnings")
    return RecommendSettings(
        root=root,
        qdrant_path=root / _of(data["qdrant_path"], str),
        index=IndexSettings(
            url=_optional(index["url"], str),
            api_key=_optional(index["api_key"], str),
            timeout_seconds=_positive(float(_of(index["timeout_seconds"], (int, float)))),
            collection_prefix=_matching(_of(index["collection_prefix"], str), COLLECTION_PREFIX),
        ),
        embedding=EmbeddingSettings(
            provider=_one_of(embedding["provider"], get_args(EmbeddingProvider)),
            model=_optional(embedding["model"], str),
            batch_size=_within(_of(embedding["batch_size"], int), 1, MAX_BATCH_SIZE),
        ),
        limit=_within(_of(data["limit"], int), 1, MAX_LIMIT),
        include_deprecated=_of(data["include_deprecated"], bool),
        warnings=tuple(_of(warning, str) for warning in warnings),
    )


def _of(value: Any, kind: type | tuple[type, ...]) -> Any:
    # A JSON true is a Python int too: only a boolean setting may hold one.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise TypeError(f"expected {kind}, found {type(value).__name__}")
    return value


def _within(value: Any, low: int, high: int) -> Any:
    if not low <= value <= high:
        raise ValueError(f"{value!r} is not within {low}-{high}")
    return value


def _positive(value: float) -> float:
    if not value > 0:
        raise ValueError(f"{value!r} is not positive")
    return value


def _matching(value: str, pattern: str) -> str:
    if not re.fullmatch(pattern, value):
        raise ValueError(f"{value!r} does not match {pattern}")
    return value


def _one_of(value: Any, allowed: tuple[str, ...]) -> Any:
    if value not in allowed:
        raise ValueError(f"expected one of {allowed}, found {value!r}")
    return value


def _optional(value: Any, kind: type) -> Any:
    return None if value is None else _of(value, kind)
