"""`patternbot.yaml`: where things are, which index and model to use, and the learning thresholds.

Every key has a default, so the file is optional. Any key can be overridden from the environment as
`PATTERNBOT_<SECTION>_<KEY>` (for example `PATTERNBOT_LEARNING_MIN_CONFIDENCE=0.8`);
`QDRANT_URL` and
`QDRANT_API_KEY` set `index.url` and `index.apiKey`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from ruamel.yaml.comments import CommentedMap

from bot.camel import CamelModel
from bot.config_snapshot import (
    COLLECTION_PREFIX,
    CONFIG_FILE,
    DEFAULT_STATE,
    MAX_BATCH_SIZE,
    MAX_LIMIT,
    EmbeddingProvider,
)
from bot.errors import ConfigError
from bot.yamlfile import (
    Problem,
    YamlSyntaxError,
    describe_value,
    load_file,
    problems_from_validation,
)

# A memory size DuckDB understands (its units are case-insensitive; patternbot's spelling is not).
_SIZE = re.compile(r"[0-9]+(\.[0-9]+)? ?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)")


class PathsConfig(CamelModel):
    patterns: str = "patterns"
    policies: str = "policies"
    # Derived, git-ignored state: the embedded Qdrant index, quarantined log lines, run records.
    state: str = DEFAULT_STATE
    # Logs analysed by `patternbot run` when no --logs is given.
    logs: list[str] = Field(default_factory=lambda: ["examples/logs"])


class IndexConfig(CamelModel):
    url: str | None = None
    api_key: str | None = None
    # Embedded local mode folder, relative to the repository; defaults to <state>/qdrant.
    path: str | None = None
    collection_prefix: str = Field(default="patternbot", pattern=COLLECTION_PREFIX)
    timeout_seconds: float = Field(default=30.0, gt=0)


class EmbeddingConfig(CamelModel):
    provider: EmbeddingProvider = "minilm-onnx"
    # For provider fastembed: a model name fastembed knows (fastembed downloads it: needs internet).
    model: str | None = None
    batch_size: int = Field(default=32, ge=1, le=MAX_BATCH_SIZE)


class RetrievalConfig(CamelModel):
    limit: int = Field(default=5, ge=1, le=MAX_LIMIT)
    include_deprecated: bool = False


class MetricsConfig(CamelModel):
    # A retrieval whose best pattern score is below this is a weak match: evidence of a gap.
    weak_match_threshold: float = Field(default=0.4, ge=-1.0, le=1.0)
    # Bounds on the user text kept as evidence (privacy): how many intents, how many characters.
    max_evidence_intents: int = Field(default=500, ge=0, le=100_000)
    max_intent_length: int = Field(default=240, ge=16, le=4000)
    # DuckDB's threads for reading and aggregating the logs; unset: the CPUs this process may use.
    threads: int | None = Field(default=None, ge=1, le=1024)
    # DuckDB's memory ceiling; past it DuckDB spills to a private folder under the system's
    # temporary folder (TMPDIR).
    memory_limit: str = "2GB"

    @field_validator("memory_limit")
    @classmethod
    def _a_size(cls, value: str) -> str:
        if not _SIZE.fullmatch(value):
            raise ValueError("expected a size such as 2GB or 512MiB (KB, MB, GB, TB, KiB to TiB)")
        return value


class LearningConfig(CamelModel):
    min_confidence: float = Field(default=0.7, ge=0.0, le=1.0)
    min_support: int = Field(default=5, ge=1)
    max_suggestions: int = Field(default=10, ge=1, le=1000)
    # A retrieval scoring at least this counts as "recommended as relevant" for deprecation.
    strong_match_threshold: float = Field(default=0.55, ge=-1.0, le=1.0)
    # Learning engine (docs/learning.md): z of the one-sided Wilson lower bound used as confidence.
    confidence_z: float = Field(default=1.645, gt=0.0, le=5.0)
    # Co-usage: the pair must be used together this many times more often than chance.
    co_usage_min_lift: float = Field(default=1.5, ge=1.0)
    # Gaps: weak intents closer than this (cosine, average linkage) may form one group, unless
    # their solutions disagree on a kind (docs/learning.md, bench/bench_gap_grouping.py).
    gap_similarity: float = Field(default=0.25, ge=-1.0, le=1.0)
    gap_min_group_size: int = Field(default=5, ge=2)
    # A kind belongs to a gap's resource set when this share of the group's solutions holds it.
    gap_kind_share: float = Field(default=0.6, gt=0.0, le=1.0)
    # Tie-breaker for settings the vocabulary does not know: a policy sharing some of the path's
    # words covers the setting when their cosine reaches this (known settings are matched by words).
    policy_coverage_similarity: float = Field(default=0.62, ge=-1.0, le=1.0)
    # A drafted new pattern whose description and triggers are at least this close (cosine) to an
    # existing pattern's is an update of that pattern.
    duplicate_similarity: float = Field(default=0.5, ge=-1.0, le=1.0)
    # ...and only when their resource sets overlap this much (Jaccard): a name alone is not enough.
    duplicate_resource_overlap: float = Field(default=0.5, ge=0.0, le=1.0)
    # Failing: the pattern's failure rate must be at least this many times the others' rate.
    failure_rate_ratio: float = Field(default=2.0, ge=1.0)
    # A rejected suggestion returns only when its cases grew by this factor (confidence not lower).
    resubmit_growth: float = Field(default=1.5, ge=1.0)
    # Time: the recent window is this many days before the newest event; regularities adopted in it
    # (or stopped in it) are judged against the time before it.
    recent_days: int = Field(default=30, ge=1, le=3650)


class ClaudeConfig(CamelModel):
    model: str = "claude-sonnet-4-6"
    max_tokens: int = Field(default=4096, ge=256, le=64_000)
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=1, ge=0, le=5)
    # Upper bound on the prompt sent in the one batched call per run (characters).
    max_prompt_chars: int = Field(default=60_000, ge=2_000, le=1_000_000)


class ProposalsConfig(CamelModel):
    max_open_pull_requests: int = Field(default=5, ge=0)
    max_new_per_run: int = Field(default=3, ge=0)
    labels: list[str] = Field(default_factory=lambda: ["patternbot"])
    branch_prefix: str = "patternbot"
    dashboard: bool = False
    # A dashboard issue a user closed stays closed (switched off) unless this reopens it.
    reopen_dashboard: bool = False
    # Per-type confidence thresholds follow reviewers' decisions (docs/pull-requests.md).
    adaptive_thresholds: bool = True
    threshold_bounds: list[float] = Field(
        default_factory=lambda: [0.6, 0.9], min_length=2, max_length=2
    )
    threshold_step: float = Field(default=0.05, ge=0.0, le=0.5)
    min_decisions: int = Field(default=3, ge=1)
    # A GitHub Retry-After longer than this stops the run (listing what is pending) instead.
    max_rate_limit_wait_seconds: float = Field(default=60.0, ge=0.0, le=3600.0)


class Config(CamelModel):
    """The whole configuration; `root` is the repository it belongs to."""

    paths: PathsConfig = Field(default_factory=PathsConfig)
    index: IndexConfig = Field(default_factory=IndexConfig)
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    learning: LearningConfig = Field(default_factory=LearningConfig)
    claude: ClaudeConfig = Field(default_factory=ClaudeConfig)
    proposals: ProposalsConfig = Field(default_factory=ProposalsConfig)

    root: Path = Field(default=Path("."), exclude=True)

    @property
    def state_dir(self) -> Path:
        return self.root / self.paths.state

    @property
    def qdrant_path(self) -> Path:
        return self.root / self.index.path if self.index.path else self.state_dir / "qdrant"

    @property
    def patterns_dir(self) -> Path:
        return self.root / self.paths.patterns

    @property
    def policies_dir(self) -> Path:
        return self.root / self.paths.policies


_ENV_ALIASES = {"QDRANT_URL": ("index", "url"), "QDRANT_API_KEY": ("index", "apiKey")}


def _camel_to_env(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def _section_keys() -> dict[str, tuple[str, str]]:
    """PATTERNBOT_SECTION_KEY -> (section alias, key alias) for every scalar or list setting."""
    table = {}
    for section_name, section_field in Config.model_fields.items():
        section_type = section_field.annotation
        if section_name == "root" or not isinstance(section_type, type):
            continue
        if not issubclass(section_type, BaseModel):
            continue
        section = section_field.alias or section_name
        for key_name, key_field in section_type.model_fields.items():
            key = key_field.alias or key_name
            table[f"PATTERNBOT_{_camel_to_env(section)}_{_camel_to_env(key)}"] = (section, key)
    return table


def _apply_environment(
    data: dict[str, Any], environ: Mapping[str, str]
) -> dict[tuple[str, str], str]:
    """Merge environment overrides into raw config data; returns (section, key) -> variable used."""
    used: dict[tuple[str, str], str] = {}
    table = {**_section_keys(), **_ENV_ALIASES}
    for variable, (section, key) in table.items():
        value = environ.get(variable)
        if value is None or value == "":
            continue
        target = data.setdefault(section, {})
        if not isinstance(target, dict):
            continue
        # Lists come as comma-separated text; pydantic converts the rest from strings.
        default = getattr(getattr(Config(), _snake(section)), _snake(key))
        target[key] = (
            [part.strip() for part in value.split(",") if part.strip()]
            if isinstance(default, list)
            else value
        )
        used[(section, key)] = variable
    return used


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _plain(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {str(key): _plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_plain(value) for value in data]
    return data


def _warn_unknown_keys(data: CommentedMap, shown: str, warnings: list[str]) -> dict[str, Any]:
    """Drop unknown keys with a warning and a did-you-mean, the way pre-commit treats its config."""
    from bot.yamlfile import did_you_mean

    cleaned: dict[str, Any] = {}
    sections = {(f.alias or n): f.annotation for n, f in Config.model_fields.items() if n != "root"}
    for key, value in data.items():
        line = data.lc.key(key)[0] + 1
        if key not in sections:
            warnings.append(
                f"patternbot: warning: {shown}:{line}: unknown key {key!r}"
                f"{did_you_mean(str(key), list(sections))}; ignored"
            )
            continue
        section_type = sections[key]
        if (
            isinstance(value, CommentedMap)
            and isinstance(section_type, type)
            and issubclass(section_type, BaseModel)
        ):
            known = [(f.alias or n) for n, f in section_type.model_fields.items()]
            kept = {}
            for inner_key, inner_value in value.items():
                if inner_key in known:
                    kept[inner_key] = inner_value
                else:
                    inner_line = value.lc.key(inner_key)[0] + 1
                    hint = did_you_mean(str(inner_key), known)
                    where = f"{shown}:{inner_line}"
                    warnings.append(
                        f"patternbot: warning: {where}: unknown key "
                        f"{f'{key}.{inner_key}'!r}{hint}; ignored"
                    )
            cleaned[key] = kept
        else:
            cleaned[key] = value
    return cleaned


def load_config(root: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read `<root>/patternbot.yaml` (optional) and apply environment overrides; warnings about
    unknown keys go to standard error."""
    config, warnings = load_config_and_warnings(root, environ)
    for warning in warnings:
        print(warning, file=sys.stderr)
    return config


def load_config_and_warnings(
    root: Path, environ: Mapping[str, str] | None = None
) -> tuple[Config, list[str]]:
    """The settings as load_config reads them, and its warnings instead of printing them."""
    environ = os.environ if environ is None else environ
    warnings: list[str] = []
    path = root / CONFIG_FILE
    data: Any = CommentedMap()
    if path.is_file():
        try:
            data = load_file(path, CONFIG_FILE)
        except YamlSyntaxError as exc:
            raise ConfigError(str(exc.problem)) from exc
        if data is None:
            data = CommentedMap()
        if not isinstance(data, CommentedMap):
            found = describe_value(data)
            raise ConfigError(f"{CONFIG_FILE}:1: expected a mapping of settings, found {found}")
        raw = _warn_unknown_keys(data, CONFIG_FILE, warnings)
    else:
        raw = {}
    raw = _plain(raw)
    used = _apply_environment(raw, environ)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for problem, error in zip(
            problems_from_validation(exc, data, CONFIG_FILE, Config), exc.errors(), strict=True
        ):
            variable = used.get(tuple(str(part) for part in error["loc"][:2]))  # type: ignore[arg-type]
            if variable:
                problem = Problem(variable, 0, problem.message.split(": ", 1)[-1])
            problems.append(problem)
        problems.sort()
        if len(problems) == 1:
            raise ConfigError(str(problems[0])) from exc
        raise ConfigError(
            "invalid configuration:\n  " + "\n  ".join(str(p) for p in problems)
        ) from exc
    config.root = root
    return config, warnings
