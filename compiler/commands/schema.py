"""`mlops schema`: print the published JSON Schema of mlops.yaml."""

from __future__ import annotations

import argparse
import sys

from compiler.errors import UsageError

HELP = "print the JSON Schema of mlops.yaml"
DESCRIPTION = """\
Print the JSON Schema of mlops.yaml (draft 2020-12), the file shipped as
schemas/mlops.schema.json. Point your editor at it for completion and checks while typing,
e.g. with the YAML language server:

  # yaml-language-server: $schema=schemas/mlops.schema.json

The schema checks structure, types and names; 'mlops lint' also checks the stage graph, cron
expressions, params against their schemas and the MLOps rules."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`mlops schema` takes no options."""


def run(args: argparse.Namespace) -> int:
    from compiler.resources import schema_path

    path = schema_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:  # a broken installation, not the user's input
        raise UsageError(f"cannot read the schema {path}: {error.strerror}") from None
    sys.stdout.write(text)
    return 0
