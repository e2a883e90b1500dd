"""`python -m compiler` is the same as the `mlops` command."""

from compiler.cli import entry_point

entry_point()
