"""`mlops run`: build the spec's DVC files, then run them with `dvc repro`."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

from compiler.errors import EXIT_FINDINGS, EXIT_OK, EnvironmentProblem, UsageError

HELP = "build the spec's DVC pipeline and run it here with dvc repro"
DESCRIPTION = """\
Build the spec's dvc target (as 'mlops build --target dvc' does) and run the
pipeline on this machine with 'dvc repro', which skips the stages marked
'cache: true' whose command, inputs and params did not change. Options after
'--' go to 'dvc repro'. Needs DVC 3 (pip install 'dvc>=3,<4') in a repository
where 'dvc init' ran.

examples:
  mlops run                                # ./mlops.yaml
  mlops run ranker/mlops.yaml --env staging
  mlops run -- --force                     # rerun every stage, cached or not
"""

INSTALL = "pip install 'dvc>=3,<4'"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", nargs="?", help="spec file (default: mlops.yaml here)")
    parser.add_argument("--env", metavar="ENV",
                        help="the environment to run (the one targets.dvc.environment names)")
    parser.add_argument("repro", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from compiler import pipeline, repository, writer
    from compiler.analysis import display, find_spec, read_spec
    from compiler.report import text

    spec, repro = args.spec, list(args.repro)
    if spec is not None and spec.startswith("-"):  # `mlops run -- -f`: argparse took it as SPEC
        spec, repro = None, [spec, *repro]
    dvc = shutil.which("dvc")
    if dvc is None:
        raise EnvironmentProblem(f"dvc is not installed here: install it with {INSTALL}, "
                                 "then run 'dvc init' at the root of the repository")
    spec_path = find_spec(spec)
    spec_bytes = read_spec(spec_path)
    analysis = pipeline.check(spec_bytes.raw, display(spec_path), size=spec_bytes.size)
    if analysis.diagnostics:
        sys.stderr.write(text(analysis.diagnostics))
    if not analysis.ok():
        sys.stderr.write("mlops: nothing written or run: fix the errors above first\n")
        return EXIT_FINDINGS
    placement = repository.place(spec_path, None)
    output = pipeline.build(analysis, layout=placement.layout, environment=args.env,
                            target="dvc")
    pipelines = sorted(path for path in output.files if path.endswith("/dvc.yaml"))
    if len(pipelines) != 1:
        raise UsageError(f"--env {args.env}: DVC builds another environment of this spec "
                         "(targets.dvc.environment); run that one, or change the setting")
    (part,) = output.parts  # DVC's files are all below the output root
    out = placement.roots[part.anchor]
    writer.write(out, part.files, part.scope)
    command = [dvc, "repro", pipelines[0], *repro]
    print(f"mlops: dvc repro {' '.join([pipelines[0], *repro])}", file=sys.stderr)
    try:
        code = subprocess.run(command, cwd=out, check=False).returncode
    except OSError as error:
        raise EnvironmentProblem(f"cannot run {dvc}: {error.strerror}") from None
    if code != 0:
        print(f"mlops: dvc repro failed (exit {code})", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK
