"""What a fresh interpreter loads: the cold-start gains must not come back silently.

Each check runs in a new Python process (the test session has everything loaded already) and
compares the exact set of heavy libraries loaded with the one expected. Nothing here is timed:
the times are measured by hand with bench/bench_cli.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import load_config
from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.index.store import open_index
from bot.index.sync import sync_index
from bot.knowledge.repository import load_knowledge_base
from tests.support.kb import pattern_data, policy_data

REPO_ROOT = Path(__file__).resolve().parent.parent
# Libraries (and our own heavy modules) whose loading costs a cold command real time.
WATCHED = (
    "anthropic",
    "duckdb",
    "qdrant_client",
    "httpx",
    "rich",
    "onnxruntime",
    "tokenizers",
    "qdrant_edge",
    "numpy",
    "github",
    "git",
    "mcp",
    "pydantic",
    "ruamel.yaml",
    "bot.knowledge.schema",
    "bot.logs.emitter",
)


def loaded_after(code: str, cwd: Path = REPO_ROOT, **env: str) -> list[str]:
    """The WATCHED modules a fresh interpreter has loaded after running `code`."""
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps(sorted(m for m in {WATCHED!r} if m in sys.modules)))"
    )
    environ = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "QDRANT_URL")}
    environ["PYTHONPATH"] = str(REPO_ROOT)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=cwd,
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    result: list[str] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_parsing_any_command_loads_no_heavy_library() -> None:
    code = (
        "import bot.main\n"
        "for argv in (['recommend', 'x'], ['validate'], ['suggest', '--logs', 'l'], ['sync']):\n"
        "    bot.main.build_parser().parse_args(argv)"
    )
    assert loaded_after(code) == []


def test_the_command_line_runs_numpy_blas_on_one_thread_unless_told_otherwise() -> None:
    code = (
        "import contextlib, io, os\n"
        "from bot.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--version'])\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'])"
    )
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    environ["PYTHONPATH"] = str(REPO_ROOT)
    for given, expected in ((None, "1"), ("2", "2")):
        env = environ if given is None else {**environ, "OPENBLAS_NUM_THREADS": given}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert done.stdout.splitlines()[-1] == expected


@pytest.mark.parametrize(("how", "frozen"), [("sys.argv", True), ("main(argv)", False)])
def test_the_cli_process_freezes_what_the_command_import_loaded(
    tmp_path: Path, how: str, frozen: bool
) -> None:
    # Run as `patternbot`, the command's import runs without collections and its objects are
    # frozen; a program calling main(argv) keeps its collector untouched. Both end with it on.
    call = "main()" if how == "sys.argv" else "main(['recommend', 'x', '--json'])"
    code = (
        "import contextlib, gc, io, sys\n"
        "from bot.main import main\n"
        "sys.argv = ['patternbot', 'recommend', 'x', '--json']\n"
        "with contextlib.redirect_stderr(io.StringIO()):\n"
        f"    assert {call} == 1  # no index here: the command ran and failed cleanly\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 0)"
    )
    environ = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=environ, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    assert done.stdout.split() == ["True", str(frozen)]


def test_the_recommend_command_module_loads_only_numpy() -> None:
    assert loaded_after("import bot.main, bot.commands.recommend") == ["numpy"]


def test_opening_the_index_module_loads_no_engine() -> None:
    assert loaded_after("import bot.index.store, bot.index.retrieval") == ["numpy"]


def test_duckdb_loads_only_for_the_log_commands() -> None:
    assert "duckdb" not in loaded_after("import bot.commands.validate, bot.commands.sync")
    assert "duckdb" in loaded_after("import bot.logs.analysis")


def test_the_json_commands_load_rich_only_for_tables() -> None:
    assert "rich" not in loaded_after("import bot.commands.suggest, bot.commands.metrics")


def test_the_learning_engine_does_not_load_the_anthropic_sdk_without_a_key() -> None:
    code = (
        "from pathlib import Path\n"
        "from bot.config import load_config\n"
        "from bot.learning.claude import drafter_from_environment\n"
        "import bot.learning.engine\n"
        "assert drafter_from_environment(load_config(Path('.'))) is None"
    )
    assert "anthropic" not in loaded_after(code)


@pytest.fixture
def synced_repo(kb_repo_factory: Callable[..., Path], minilm: MiniLMOnnxEmbedder) -> Path:
    root = kb_repo_factory(
        patterns=[pattern_data("stateful-database", triggers=["database", "PostgreSQL"])],
        policies=[policy_data("require-resource-limits")],
    )
    with open_index(load_config(root)) as index:
        sync_index(index, minilm, load_knowledge_base(root))
    return root


def test_a_cold_recommend_loads_the_model_and_edge_only(synced_repo: Path) -> None:
    code = (
        "import contextlib, io\n"
        "from bot.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['recommend', 'a postgres database', '--json']) == 0\n"
        "assert 'stateful-database' in out.getvalue()"
    )
    engines = ["numpy", "onnxruntime", "qdrant_edge", "tokenizers"]
    validating = sorted([*engines, "pydantic", "ruamel.yaml"])
    # The first start validates the settings (pydantic, ruamel.yaml) and keeps them; the next
    # ones read them back (bot/config_snapshot.py).
    assert loaded_after(code, cwd=synced_repo) == validating
    assert loaded_after(code, cwd=synced_repo) == engines
    (synced_repo / "patternbot.yaml").write_text("retrieval:\n  limit: 2\n", encoding="utf-8")
    assert loaded_after(code, cwd=synced_repo) == validating
    assert loaded_after(code, cwd=synced_repo) == engines


def test_the_table_loads_rich_and_the_log_loads_no_event_models(
    synced_repo: Path, tmp_path: Path
) -> None:
    log = tmp_path / "workflows.jsonl"
    code = (
        "import contextlib, io\n"
        "from bot.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['recommend', 'a postgres database', '--log', {str(log)!r}]) == 0"
    )
    loaded_after(code, cwd=synced_repo)  # the first start keeps the validated settings
    # The `retrieved` line is written without the emitter's pydantic models (bot/logs/append.py).
    assert loaded_after(code, cwd=synced_repo) == [
        "numpy",
        "onnxruntime",
        "qdrant_edge",
        "rich",
        "tokenizers",
    ]
    assert [json.loads(line)["type"] for line in log.read_text().splitlines()] == [
        "retrieved",
        "retrieved",
    ]


def test_only_a_server_url_loads_qdrant_client(synced_repo: Path) -> None:
    code = (
        "from pathlib import Path\n"
        "from bot.config import load_config\n"
        "from bot.index.store import open_index\n"
        "with open_index(load_config(Path('.'))) as index:\n"
        "    pass"
    )
    assert "qdrant_client" not in loaded_after(code, cwd=synced_repo)
    # Nothing listens there: opening needs no connection, and only qdrant-client is loaded.
    served = loaded_after(code, cwd=synced_repo, QDRANT_URL="http://127.0.0.1:9").__contains__
    assert served("qdrant_client") and served("httpx") and not served("qdrant_edge")
