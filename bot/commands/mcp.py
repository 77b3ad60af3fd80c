"""`patternbot mcp`: serve recommend, record_solution, record_outcome and learning_suggestions."""

from __future__ import annotations

import argparse

from bot.config import load_config
from bot.console import protocol_output
from bot.error_handler import EXIT_OK
from bot.workflow.mcp_server import build_server


def run(args: argparse.Namespace) -> int:
    config = load_config(args.repo)
    log_path = args.log if args.log is not None else config.state_dir / "logs" / "mcp.jsonl"
    analysed = list(args.logs or config.paths.logs)
    server = build_server(config, log_path, analysed, cluster=args.cluster)
    with protocol_output():
        server.run("stdio")
    return EXIT_OK
