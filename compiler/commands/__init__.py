"""One module per `mlops` command: HELP, DESCRIPTION, add_arguments(parser), run(args) -> int."""
