"""Coverage-guided fuzzing of the front end with atheris (libFuzzer): any bytes in, diagnostics
out, never an exception. Complements the hypothesis fuzzing in tests/test_fuzz.py.

    python fuzz/fuzz_analyze.py -runs=100000 NEW_CORPUS_DIR tests/lint examples/churn

libFuzzer writes the inputs it finds into the FIRST corpus directory: make that a scratch
directory, never tests/lint (the seeds follow it, read only).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from compiler.analysis import analyze


def test_one_input(data: bytes) -> None:
    result = analyze(data, "fuzz.yaml", max_size=64 * 1024)
    for d in result.diagnostics:
        if d.line < 1 or d.column < 1 or not d.message:
            raise AssertionError(f"bad diagnostic position or message: {d}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
