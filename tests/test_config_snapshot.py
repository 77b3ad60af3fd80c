"""The settings snapshot a cold recommend reads instead of validating patternbot.yaml again.

Every test reads the settings the way `patternbot recommend` does (load_recommend_settings) and
compares them with a fresh validation (load_config): the snapshot must never give other settings
than the file and the environment would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from bot.config_snapshot import (
    SNAPSHOT_FILE,
    EmbeddingSettings,
    IndexSettings,
    RecommendSettings,
    load_recommend_settings,
    snapshot_key,
)
from bot.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent


def _repo(tmp_path: Path, config: str | None = None, state: bool = True) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    if config is not None:
        (root / "patternbot.yaml").write_text(config, encoding="utf-8")
    if state:
        (root / ".patternbot").mkdir()
    return root


def _validated(root: Path, environ: dict[str, str]) -> RecommendSettings:
    return RecommendSettings.of(load_config(root, environ))


def test_the_first_start_validates_and_keeps_the_settings_the_next_reads_them(
    tmp_path: Path,
) -> None:
    root = _repo(tmp_path, "retrieval:\n  limit: 3\nembedding:\n  batchSize: 8\n")

    first = load_recommend_settings(root, {})

    assert first == RecommendSettings(
        root=root,
        qdrant_path=root / ".patternbot" / "qdrant",
        index=IndexSettings(None, None, 30.0, "patternbot"),
        embedding=EmbeddingSettings("minilm-onnx", None, 8),
        limit=3,
        include_deprecated=False,
    )
    snapshot = json.loads((root / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    assert snapshot == {
        "format": 1,
        "key": snapshot_key(root, {}),
        "settings": {
            "qdrant_path": ".patternbot/qdrant",
            "index": {
                "url": None,
                "api_key": None,
                "timeout_seconds": 30.0,
                "collection_prefix": "patternbot",
            },
            "embedding": {"provider": "minilm-onnx", "model": None, "batch_size": 8},
            "limit": 3,
            "include_deprecated": False,
            "warnings": [],
        },
    }
    assert load_recommend_settings(root, {}) == first == _validated(root, {})


def _loads_pydantic(root: Path) -> bool:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.config_snapshot import load_recommend_settings\n"
        "print(load_recommend_settings(Path(sys.argv[1])).limit, 'pydantic' in sys.modules,"
        " 'ruamel.yaml' in sys.modules)"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PATTERNBOT_", "QDRANT_"))}
    done = subprocess.run(
        [sys.executable, "-c", code, str(root)],
        env={**environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    limit, pydantic, ruamel = done.stdout.split()
    assert limit == "4"
    return (pydantic, ruamel) == ("True", "True")


def test_a_start_with_a_matching_snapshot_loads_neither_pydantic_nor_ruamel(
    tmp_path: Path,
) -> None:
    root = _repo(tmp_path, "retrieval:\n  limit: 4\n")

    assert _loads_pydantic(root) is True
    assert _loads_pydantic(root) is False


@pytest.mark.parametrize(
    ("change", "expected_limit"),
    [
        (lambda root: (root / "patternbot.yaml").write_text("retrieval:\n  limit: 7\n"), 7),
        (lambda root: (root / "patternbot.yaml").write_text("retrieval:\n  limit: 3 \n"), 3),
        (lambda root: (root / "patternbot.yaml").unlink(), 5),
    ],
    ids=["edited", "same length", "removed"],
)
def test_any_change_to_the_file_validates_again(
    tmp_path: Path, change: object, expected_limit: int
) -> None:
    root = _repo(tmp_path, "retrieval:\n  limit: 2\n")
    assert load_recommend_settings(root, {}).limit == 2

    change(root)  # type: ignore[operator]

    again = load_recommend_settings(root, {})
    assert again.limit == expected_limit
    assert again == _validated(root, {})
    assert json.loads((root / SNAPSHOT_FILE).read_text())["settings"]["limit"] == expected_limit


def test_the_environment_is_part_of_the_key(tmp_path: Path) -> None:
    root = _repo(tmp_path, "retrieval:\n  limit: 2\n")
    assert load_recommend_settings(root, {}).limit == 2

    overridden = {"PATTERNBOT_RETRIEVAL_LIMIT": "9", "HOME": "/elsewhere"}
    assert load_recommend_settings(root, overridden).limit == 9
    # Variables patternbot does not read leave the key alone.
    assert snapshot_key(root, overridden) == snapshot_key(root, {"PATTERNBOT_RETRIEVAL_LIMIT": "9"})
    assert load_recommend_settings(root, {}).limit == 2


def test_an_invalid_file_is_an_error_every_time_and_leaves_no_snapshot(tmp_path: Path) -> None:
    root = _repo(tmp_path, "retrieval:\n  limit: 0\n")

    for _ in range(2):
        with pytest.raises(ConfigError) as caught:
            load_recommend_settings(root, {})
        assert str(caught.value) == (
            "patternbot.yaml:2: retrieval.limit: Input should be greater than or equal to 1"
        )
    assert not (root / SNAPSHOT_FILE).exists()


def test_warnings_come_back_from_the_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repo(tmp_path, "retrieval:\n  limt: 2\n")
    warning = (
        "patternbot: warning: patternbot.yaml:2: unknown key 'retrieval.limt' "
        "(did you mean 'limit'?); ignored"
    )

    assert load_recommend_settings(root, {}).warnings == (warning,)
    assert load_recommend_settings(root, {}).warnings == (warning,)
    assert capsys.readouterr().err == ""  # shown by the command, not the library


_DAMAGES: dict[str, tuple[object, ...]] = {
    # A value of another type, or one validation would refuse, at a path of the settings.
    "limit as text": ("limit", "6"),
    "limit over the maximum": ("limit", 100_000),
    "limit zero": ("limit", 0),
    "a boolean for a number": ("limit", True),
    "batch size over the maximum": ("embedding", "batch_size", 4096),
    "timeout zero": ("index", "timeout_seconds", 0),
    "a boolean for a timeout": ("index", "timeout_seconds", True),
    "collection prefix with a slash": ("index", "collection_prefix", "../other"),
    "unknown provider": ("embedding", "provider", "remote-model"),
    "warnings not a list": ("warnings", "text"),
}


@pytest.mark.parametrize(
    "damage", ["not json", '{"format": 1}', "[1, 2]", "OTHER_FORMAT", *_DAMAGES]
)
def test_a_damaged_snapshot_is_ignored_and_rewritten(tmp_path: Path, damage: str) -> None:
    root = _repo(tmp_path, "retrieval:\n  limit: 6\n")
    load_recommend_settings(root, {})
    path = root / SNAPSHOT_FILE
    data = json.loads(path.read_text())
    if damage in _DAMAGES:
        *keys, value = _DAMAGES[damage]
        target = data["settings"]
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
        path.write_text(json.dumps(data))
    elif damage == "OTHER_FORMAT":
        data["format"] = 2
        data["settings"]["limit"] = 99
        path.write_text(json.dumps(data))
    else:
        path.write_text(damage)

    assert load_recommend_settings(root, {}) == _validated(root, {})
    assert json.loads(path.read_text())["settings"]["limit"] == 6


def test_a_server_index_and_its_key_are_never_written(tmp_path: Path) -> None:
    root = _repo(tmp_path, "retrieval:\n  limit: 2\n")
    environ = {"QDRANT_URL": "http://127.0.0.1:6333", "QDRANT_API_KEY": "secret-key"}

    settings = load_recommend_settings(root, environ)

    expected = IndexSettings("http://127.0.0.1:6333", "secret-key", 30.0, "patternbot")
    assert settings.index == expected
    assert not (root / SNAPSHOT_FILE).exists()
    assert "secret-key" not in "".join(p.read_text() for p in root.rglob("*") if p.is_file())


def test_no_state_folder_is_created_and_a_custom_one_has_no_snapshot(tmp_path: Path) -> None:
    bare = _repo(tmp_path, None, state=False)
    assert load_recommend_settings(bare, {}) == _validated(bare, {})
    assert list(bare.iterdir()) == []

    custom = tmp_path / "custom"
    custom.mkdir()
    (custom / "patternbot.yaml").write_text("paths:\n  state: .state\n")
    (custom / ".state").mkdir()
    (custom / ".patternbot").mkdir()
    settings = load_recommend_settings(custom, {})
    assert settings.qdrant_path == custom / ".state" / "qdrant"
    assert not (custom / SNAPSHOT_FILE).exists()
    assert list((custom / ".state").iterdir()) == []


@pytest.mark.parametrize("absolute", [False, True])
def test_a_moved_repository_keeps_its_paths(tmp_path: Path, absolute: bool) -> None:
    folder = tmp_path / "elsewhere" if absolute else Path("data/index")
    root = _repo(tmp_path, f"index:\n  path: {folder}\n")
    load_recommend_settings(root, {})
    moved = tmp_path / "moved"
    root.rename(moved)

    settings = load_recommend_settings(moved, {})

    assert settings.qdrant_path == (folder if absolute else moved / "data" / "index")
    assert settings == _validated(moved, {})
    assert json.loads((moved / SNAPSHOT_FILE).read_text())["settings"]["qdrant_path"] == str(folder)


def test_a_file_that_cannot_be_read_is_validated_every_time(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "patternbot.yaml").mkdir()  # not a file: load_config reads no settings from it

    assert snapshot_key(root, {}) is None
    assert load_recommend_settings(root, {}) == _validated(root, {})
    assert not (root / SNAPSHOT_FILE).exists()
