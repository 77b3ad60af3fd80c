"""The `patternbot` command: argument parsing and dispatch. Each command lives in bot/commands/."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from bot import __version__
from bot.console import inert_output
from bot.error_handler import EXIT_USAGE, error_boundary

# Imported lazily so `patternbot validate` does not pay for loading Qdrant or the ONNX runtime.
COMMANDS = (
    "validate", "sync", "recommend", "metrics", "suggest", "propose", "run", "schema", "logs",
    "stage", "mcp", "new", "import_dotai",
)


def _add_repo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the knowledge-base repository (default: the current directory)",
    )


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _add_logs(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument(
        "--logs",
        nargs="+",
        required=required,
        metavar="PATH",
        help="workflow log files, directories or globs (.jsonl, .jsonl.gz; '-' for standard input)",
    )
    parser.add_argument("--since", metavar="DATE", help="only events at or after this date or time")
    parser.add_argument("--until", metavar="DATE", help="only events before this date or time")
    parser.add_argument("--strict", action="store_true", help="fail on the first rejected log line")
    parser.add_argument(
        "--quarantine",
        type=Path,
        metavar="FILE",
        help="where rejected log lines are kept (default: <state>/quarantine/<time>.jsonl)",
    )


def _add_proposal_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform",
        choices=("github", "local"),
        help="default: github with GITHUB_TOKEN, else local",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the plan and previews; change nothing"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="patternbot",
        description="Keep deployment patterns and policies learning from how they are used.",
    )
    parser.add_argument("--version", action="version", version=f"patternbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("validate", help="check every pattern and policy file")
    _add_repo(p)
    _add_json(p)
    p.add_argument(
        "files", nargs="*", type=Path, help="only these files (as pre-commit passes them)"
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="also say where createdAt/createdBy came from"
    )

    p = sub.add_parser("sync", help="mirror patterns and policies into the Qdrant index")
    _add_repo(p)
    _add_json(p)
    p.add_argument(
        "--rebuild", action="store_true", help="drop and rebuild the collections from git"
    )
    p.add_argument(
        "--prune",
        action="store_true",
        help="allow removing all of the index or more than half of it (the knowledge base shrank)",
    )

    p = sub.add_parser("recommend", help="retrieve the patterns and policies that match an intent")
    p.add_argument("intent", help="what the user wants to deploy, in plain language")
    _add_repo(p)
    _add_json(p)
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="results per kind (default: retrieval.limit)",
    )
    p.add_argument(
        "--log", type=Path, metavar="FILE", help="append a 'retrieved' event to this workflow log"
    )
    p.add_argument(
        "--workflow-id", metavar="ID", help="workflow id for --log (default: a new one, printed)"
    )
    p.add_argument("--workflow", choices=("recommend", "operate"), default="recommend")
    p.add_argument("--cluster", metavar="NAME", help="cluster name recorded with --log")

    p = sub.add_parser("metrics", help="aggregate workflow logs into usage metrics")
    _add_repo(p)
    _add_json(p)
    _add_logs(p, required=True)
    p.add_argument("--cluster", metavar="NAME", help="only workflows on this cluster")
    p.add_argument(
        "--no-index", action="store_true", help="do not write metrics into the Qdrant payloads"
    )

    p = sub.add_parser("suggest", help="suggest new or updated patterns and policies from usage")
    _add_repo(p)
    _add_json(p)
    _add_logs(p, required=True)
    p.add_argument(
        "--min-confidence", type=float, metavar="X", help="default: learning.minConfidence"
    )
    p.add_argument("--limit", type=int, metavar="N", help="default: learning.maxSuggestions")

    p = sub.add_parser("propose", help="open or update a pull request per suggestion")
    _add_repo(p)
    _add_json(p)
    _add_logs(p, required=True)
    _add_proposal_flags(p)

    p = sub.add_parser("run", help="validate, sync, metrics, suggest and propose in one go")
    _add_repo(p)
    _add_json(p)
    _add_logs(p, required=False)
    _add_proposal_flags(p)

    p = sub.add_parser("stage", help="the final learning-suggestions stage of one workflow")
    _add_repo(p)
    _add_json(p)
    p.add_argument("--workflow", required=True, metavar="ID", help="the finished workflow's id")
    p.add_argument(
        "--logs", nargs="+", metavar="PATH", help="workflow logs (default: paths.logs)"
    )
    p.add_argument(
        "--platform", choices=("github", "local"), help="default: github with GITHUB_TOKEN"
    )

    p = sub.add_parser("mcp", help="serve patternbot's tools over MCP (stdio)")
    _add_repo(p)
    p.add_argument(
        "--log", type=Path, metavar="FILE", help="where events go (default: <state>/logs/mcp.jsonl)"
    )
    p.add_argument(
        "--logs", nargs="+", metavar="PATH", help="logs the stage reads (default: paths.logs)"
    )
    p.add_argument("--cluster", metavar="NAME", help="cluster recorded with every event")

    p = sub.add_parser("logs", help="bring workflow records from other tools into the log format")
    logs_sub = p.add_subparsers(dest="logs_command", metavar="SOURCE", required=True)
    p = logs_sub.add_parser(
        "import-dot-ai",
        help="dot-ai Solution records (kubectl get solutions -A -o json) as v1 events",
    )
    _add_repo(p)
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="kubectl JSON output")
    p.add_argument(
        "-o", "--output", type=Path, metavar="OUT.jsonl", help="write here (default: stdout)"
    )
    p.add_argument("--cluster", metavar="NAME", help="the cluster the records come from")

    p = sub.add_parser("new", help="write a commented skeleton for a new pattern or policy")
    p.add_argument("type", choices=("pattern", "policy"), help="what to create")
    p.add_argument("id", help="the new item's id, also its file name (e.g. stateless-web-app)")
    _add_repo(p)

    p = sub.add_parser("import", help="bring patterns and policies from another tool into git")
    import_sub = p.add_subparsers(dest="source", metavar="SOURCE", required=True)
    p = import_sub.add_parser(
        "dot-ai", help="a DevOps AI Toolkit pattern and policy store (Qdrant collections)"
    )
    p.set_defaults(command="import_dotai")  # bot/commands/import_dotai.py
    _add_repo(p)
    _add_json(p)
    p.add_argument("--qdrant-url", metavar="URL", help="the Qdrant server dot-ai used")
    p.add_argument("--api-key", metavar="KEY", help="its API key (default: none)")
    p.add_argument("--file", type=Path, metavar="EXPORT.json", help="a scroll dump instead")
    p.add_argument("--patterns-collection", default="patterns", metavar="NAME")
    p.add_argument("--policies-collection", default="policies", metavar="NAME")
    p.add_argument(
        "--dry-run", action="store_true", help="say what would be written; write nothing"
    )

    p = sub.add_parser("schema", help="write the JSON Schema files for patterns, policies and logs")
    p.add_argument("--out", type=Path, default=Path("schemas"), metavar="DIR")
    p.add_argument(
        "--check", action="store_true", help="exit 1 if the files on disk are out of date"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # onnxruntime otherwise writes telemetry state under the home directory.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    # Set before numpy loads: its OpenBLAS otherwise starts a spinning thread per core at import,
    # 0.08 s of CPU in every cold command, for matrix products that are small here (one intent
    # against the stored rows; docs/index.md, "Cold start").
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with inert_output():
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse already printed the usage error
            return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
        with error_boundary() as result:
            module = _import_command(args.command, whole_process=argv is None)
            result[0] = module.run(args)
        return result[0]


def _import_command(name: str, *, whole_process: bool) -> ModuleType:
    """Import a command's module; in the `patternbot` process itself, with the garbage collector
    paused, and what the import loaded then frozen.

    Importing numpy, pydantic and the settings allocates hundreds of thousands of objects that
    live as long as the process, and each collection would walk them again for nothing (a cold
    `recommend`: docs/index.md, "Cold start"). A program that calls main(argv) keeps its own
    collector as it is: freezing would also keep its pending garbage forever.
    """
    if not whole_process:
        return importlib.import_module(f"bot.commands.{name}")
    gc.disable()
    try:
        return importlib.import_module(f"bot.commands.{name}")
    finally:
        gc.freeze()  # later collections skip what is loaded now: none of it is garbage
        gc.enable()


if __name__ == "__main__":
    sys.exit(main())
