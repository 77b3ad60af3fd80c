"""`patternbot.yaml` and its environment overrides: defaults, warnings, exact error messages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.config import Config, load_config
from bot.errors import ConfigError
from bot.yamlfile import load_file

REPO_ROOT = Path(__file__).resolve().parent.parent


def _settings() -> Iterator[tuple[str, str, Any]]:
    """(section, key, default) for every setting, with the camelCase names the file uses."""
    defaults = Config()
    for section_name, section_field in Config.model_fields.items():
        model = section_field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        section = getattr(defaults, section_name)
        for key_name, key_field in model.model_fields.items():
            yield (
                section_field.alias or section_name,
                key_field.alias or key_name,
                getattr(section, key_name),
            )


def _env_name(section: str, key: str) -> str:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", key).upper()
    return f"PATTERNBOT_{section.upper()}_{snake}"


def _load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Config:
    (tmp_path / "patternbot.yaml").write_text(text, encoding="utf-8")
    return load_config(tmp_path, environ or {})


def _error(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text, environ)
    return str(caught.value)


def test_no_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path, {})

    assert config.model_dump() == Config().model_dump()
    assert config.learning.min_confidence == 0.7
    assert config.root == tmp_path
    assert config.state_dir == tmp_path / ".patternbot"
    assert config.qdrant_path == tmp_path / ".patternbot" / "qdrant"
    assert config.patterns_dir == tmp_path / "patterns"


def test_index_path_is_relative_to_the_repository(tmp_path: Path) -> None:
    config = _load(tmp_path, "index:\n  path: index-data\n")

    assert config.qdrant_path == tmp_path / "index-data"


def test_shipped_file_sets_every_key_to_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    data = load_file(REPO_ROOT / "patternbot.yaml")
    in_file = {(section, key) for section, keys in data.items() for key in keys}

    missing = [f"{s}.{k}" for s, k, _ in _settings() if (s, k) not in in_file]
    assert missing == [], "add these keys (at their defaults, with a comment) to patternbot.yaml"
    assert load_config(REPO_ROOT, {}).model_dump() == Config().model_dump()
    assert capsys.readouterr().err == ""


def test_shipped_file_comments_every_key() -> None:
    lines = (REPO_ROOT / "patternbot.yaml").read_text(encoding="utf-8").splitlines()

    uncommented = [
        line.strip()
        for number, line in enumerate(lines)
        if line.startswith("  ")
        and not line.startswith("  #")
        and not lines[number - 1].lstrip().startswith("#")
    ]

    assert uncommented == []


def test_file_values_and_environment_overrides(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "learning:\n  minConfidence: 0.8\n  minSupport: 3\nproposals:\n  labels: [a]\n",
        {
            "PATTERNBOT_LEARNING_MIN_CONFIDENCE": "0.9",
            "PATTERNBOT_PROPOSALS_LABELS": "patternbot, needs-review,",
            "PATTERNBOT_RETRIEVAL_INCLUDE_DEPRECATED": "true",
            "QDRANT_URL": "http://qdrant.internal:6333",
            "QDRANT_API_KEY": "secret",
            "PATTERNBOT_CLAUDE_MAX_TOKENS": "",
        },
    )

    assert config.learning.min_confidence == 0.9
    assert config.learning.min_support == 3
    assert config.proposals.labels == ["patternbot", "needs-review"]
    assert config.retrieval.include_deprecated is True
    assert (config.index.url, config.index.api_key) == ("http://qdrant.internal:6333", "secret")
    assert config.claude.max_tokens == 4096


def test_unknown_keys_warn_with_a_hint_and_are_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _load(
        tmp_path,
        "learnin:\n  minConfidence: 0.1\nlearning:\n  minConfidense: 0.2\n  minSupport: 2\n"
        "retrieval:\n  min_confidence: 3\n",
    )

    assert capsys.readouterr().err.splitlines() == [
        "patternbot: warning: patternbot.yaml:1: unknown key 'learnin' (did you mean 'learning'?);"
        " ignored",
        "patternbot: warning: patternbot.yaml:4: unknown key 'learning.minConfidense'"
        " (did you mean 'minConfidence'?); ignored",
        "patternbot: warning: patternbot.yaml:7: unknown key 'retrieval.min_confidence'; ignored",
    ]
    assert (config.learning.min_confidence, config.learning.min_support) == (0.7, 2)


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        pytest.param(
            "learning:\n  minConfidence: 2\n",
            {},
            "patternbot.yaml:2: learning.minConfidence: Input should be less than or equal to 1",
            id="out of range",
        ),
        pytest.param(
            "embedding:\n  provider: openai\n",
            {},
            "patternbot.yaml:2: embedding.provider: Input should be 'minilm-onnx' or 'fastembed'",
            id="not a choice",
        ),
        pytest.param(
            "index:\n  collectionPrefix: my prefix\n",
            {},
            "patternbot.yaml:2: index.collectionPrefix: String should match pattern"
            " '^[A-Za-z0-9_-]+$'",
            id="pattern",
        ),
        pytest.param(
            "learning: 5\n",
            {},
            "patternbot.yaml:1: learning: expected a mapping, found the number 5",
            id="section not a mapping",
        ),
        pytest.param(
            "- learning\n",
            {},
            "patternbot.yaml:1: expected a mapping of settings, found a list",
            id="top-level list",
        ),
        pytest.param(
            "learning:\n  minConfidence: [0.7\n",
            {},
            "patternbot.yaml:3: YAML syntax error: expected ',' or ']', but got '<stream end>'"
            " (while parsing a flow sequence at line 2)",
            id="syntax error",
        ),
        pytest.param(
            "",
            {"PATTERNBOT_RETRIEVAL_LIMIT": "many"},
            "PATTERNBOT_RETRIEVAL_LIMIT: Input should be a valid integer, unable to parse string"
            " as an integer",
            id="environment variable",
        ),
        pytest.param(
            "retrieval:\n  limit: 3\n",
            {"PATTERNBOT_RETRIEVAL_LIMIT": "0"},
            "PATTERNBOT_RETRIEVAL_LIMIT: Input should be greater than or equal to 1",
            id="environment variable beats the file",
        ),
        pytest.param(
            "learning:\n  minConfidence: 2\nretrieval:\n  limit: x\n",
            {"PATTERNBOT_CLAUDE_MAX_RETRIES": "9"},
            "invalid configuration:\n"
            "  PATTERNBOT_CLAUDE_MAX_RETRIES: Input should be less than or equal to 5\n"
            "  patternbot.yaml:2: learning.minConfidence: Input should be less than or equal to 1\n"
            "  patternbot.yaml:4: retrieval.limit: Input should be a valid integer, unable to parse"
            " string as an integer",
            id="several problems",
        ),
    ],
)
def test_bad_values_name_the_line_or_the_variable(
    tmp_path: Path, text: str, environ: dict[str, str], message: str
) -> None:
    assert _error(tmp_path, text, environ) == message


def test_every_environment_variable_reaches_its_key(tmp_path: Path) -> None:
    # Setting each variable to its own default's text must validate and keep the value.
    environ = {
        _env_name(section, key): ",".join(map(str, default))
        if isinstance(default, list)
        else str(default)
        for section, key, default in _settings()
        if default is not None
    }

    config = load_config(tmp_path, environ)

    assert config.model_dump() == Config().model_dump()
    wrong = {name: "not a value" for name in environ if name.endswith("_BATCH_SIZE")}
    with pytest.raises(ConfigError, match=r"^PATTERNBOT_EMBEDDING_BATCH_SIZE: "):
        load_config(tmp_path, wrong)


def _doc_value(value: Any) -> str:
    return f"`{json.dumps(value)}`"


def test_configuration_doc_lists_every_key() -> None:
    doc = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows = {
        cells[0]: cells[1:]
        for line in doc.splitlines()
        if line.startswith("| `") and (cells := [c.strip() for c in line.strip("|").split("|")])
    }

    expected = {
        f"`{section}.{key}`": [_doc_value(default), f"`{_env_name(section, key)}`"]
        for section, key, default in _settings()
    }
    # The variable column may add an alias after the name ("or `QDRANT_URL`").
    wrong = {
        key: f"| {key} | {default} | {variable} | <what it is for> |"
        for key, (default, variable) in expected.items()
        if key not in rows or rows[key][0] != default or not rows[key][1].startswith(variable)
    }

    assert wrong == {}, "docs/configuration.md needs these rows"
    assert all(row[2] for row in rows.values()), "every key says what it is for"
