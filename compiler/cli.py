"""`mlops`: parse arguments, call one command, map its outcome to an exit code.

Each command is a module of `compiler.commands` with `HELP`, `DESCRIPTION`,
`add_arguments(parser)` and `run(args) -> int`. This module holds the one handler that turns
exceptions into exit codes (SPEC.md section 4): no input ever produces a traceback unless
`--debug` asks for one.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from compiler import __version__
from compiler.errors import EXIT_INTERNAL, EXIT_USAGE, MlopsError

# What writing the output can fail with that is no bug of ours: a full disk or quota, a file
# too large for the filesystem, a failing device.
_NO_ROOM = frozenset(code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG,
                                       errno.EIO) if code is not None)

# Imported on use, so a command loads only what it needs (lint never imports jinja2 or git).
COMMANDS = ("init", "lint", "build", "run", "graph", "diff", "history", "schema", "targets",
            "explain")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"mlops: error: {message}\n")


def _parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = _Parser(
        prog="mlops",
        description="Compile one mlops.yaml into GitHub Actions workflows, Airflow DAG files, "
                    "Kubernetes/Argo manifests, Kubeflow Pipelines / Vertex AI pipeline files "
                    "and DVC pipelines, and lint it.",
        epilog="Start with 'mlops init', then 'mlops lint' and 'mlops build'. "
               "'mlops COMMAND --help' explains each command.",
    )
    parser.add_argument("--version", action="version", version=f"mlops-compiler {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show a traceback on internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    modules: dict[str, object] = {}
    for name in COMMANDS:
        module = importlib.import_module(f"compiler.commands.{name}")
        command = sub.add_parser(name, help=module.HELP, description=module.DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show a traceback on internal errors")
        module.add_arguments(command)
        modules[name] = module
    return parser, modules


def main(argv: Sequence[str] | None = None) -> int:
    # pydantic reads every installed distribution's entry points looking for plugins when the
    # first model is defined (~15 ms of a 0.3 s lint); the compiler's own models use none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        parser, modules = _parser()
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        return int(modules[args.command].run(args))  # type: ignore[attr-defined]
    except MlopsError as error:
        print(f"mlops: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # noqa: BLE001 - the one place that turns our bugs into exit 3
        if isinstance(error, OSError) and error.errno in _NO_ROOM:
            # The system could not take the output: an environment error, as for a full disk
            # under --out (the writer's own errors say which path).
            return _cannot_write(error)
        if debug:
            traceback.print_exc()
        else:
            kind = sys.exc_info()[0].__name__  # type: ignore[union-attr]
            print(f"mlops: internal error ({kind}). This is a bug in mlops-compiler: please "
                  "report it with the spec that caused it; rerun with --debug for details.",
                  file=sys.stderr)
        return EXIT_INTERNAL


def entry_point() -> NoReturn:
    """The `mlops` command and `python -m compiler`: `main`, then leave at once.

    Tearing the interpreter down (its last garbage collection, every module and object freed
    one by one) takes 90-110 ms after a lint or build of a small spec and 160 ms after a build
    of 10,000 stages, against 6-25 ms for leaving at once. When `main` returns, all is done:
    files are written and closed, temp files removed, the forked children reaped, and locks go
    with the process. So only the output streams are flushed, and the process ends without the
    teardown (as mypy does). `main` stays an ordinary function: the tests call it in-process.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader left (`mlops graph | head`): nothing more to tell it
        pass
    except OSError as error:  # e.g. a redirected stdout on a full disk
        exit_code = _cannot_write(error)  # said even when the command already failed
        code = code or exit_code
    os._exit(code)


def _cannot_write(error: OSError) -> int:
    """Say that the output could not be written (if stderr still takes it): exit 2."""
    with contextlib.suppress(OSError):
        print(f"mlops: error: cannot write: {error.strerror}", file=sys.stderr, flush=True)
    return EXIT_USAGE
