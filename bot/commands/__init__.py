"""One module per `patternbot` subcommand, each with `run(args) -> exit code`."""
