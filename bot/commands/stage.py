"""`patternbot stage`: the final "learning suggestions" stage of one finished workflow."""

from __future__ import annotations

import argparse

from bot.config import load_config
from bot.console import print_json, print_lines
from bot.error_handler import EXIT_FAILURE, EXIT_OK
from bot.workflow.stage import learning_suggestions, stage_lines


def run(args: argparse.Namespace) -> int:
    config = load_config(args.repo)
    stage = learning_suggestions(
        config, args.workflow, args.logs or config.paths.logs, platform_name=args.platform
    )
    if args.json:
        print_json(stage.to_data())
    else:
        print_lines(stage_lines(stage))
    return EXIT_FAILURE if stage.result == "unknown_workflow" else EXIT_OK
