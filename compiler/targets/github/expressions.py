"""Every `${{ }}` expression the GitHub target writes (SPEC.md section 5).

Their arguments are names that the spec's name rules restrict to `[A-Za-z0-9_-]`, checked
again here (a failure is our bug); no spec string is ever placed inside one. A param's default
is a plain `MLOPS_DEFAULT_*` variable that an expression names, never spliced into it.
"""

from __future__ import annotations

from compiler.diagnostics import quote
from compiler.plan import PlanParam


def name_arg(name: str) -> str:
    if not name.replace("-", "").replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"not a safe name for a GitHub expression: {quote(name)}")
    return name


def param_suffix(param: PlanParam) -> str:
    """`X` of `MLOPS_PARAM_X`: the part every variable of the param shares."""
    return param.var.removeprefix("MLOPS_PARAM_")


def default_var(param: PlanParam) -> str:
    return "MLOPS_DEFAULT_" + param_suffix(param)


def expr_param(param: PlanParam) -> str:
    """The param's value in one expression, for a step's env (the params check job).

    `github.event.inputs` holds dispatch inputs as text ('true', '0', ''); it is null for
    other events, and so is an input a dispatch left out: then the default applies. Chosen by
    presence, not truth: `a || b` would turn a dispatched '' into the default, so both sides
    are JSON text (never empty) and `fromJSON` gives the chosen text back unchanged."""
    given = f"toJSON(github.event.inputs['{name_arg(param.name)}'])"
    return (f"${{{{ fromJSON({given} != 'null' && {given} || "
            f"toJSON(env.{default_var(param)})) }}}}")


def expr_input(param: PlanParam) -> str:
    """The dispatched text of the param's input ('' for other events)."""
    return f"${{{{ github.event.inputs['{name_arg(param.name)}'] }}}}"


def expr_given(param: PlanParam) -> str:
    """'true' when the run was dispatched with this input, even as '' (see `expr_param`)."""
    return f"${{{{ toJSON(github.event.inputs['{name_arg(param.name)}']) != 'null' }}}}"


def expr_matrix(axis: str) -> str:
    return f"${{{{ matrix['{name_arg(axis)}'] }}}}"


def expr_secret(name: str) -> str:
    return f"${{{{ secrets.{name_arg(name)} }}}}"


EXPR_REF = "${{ github.ref }}"
# The job's id, which is its stage's name: `MLOPS_STAGE`, once for every job.
EXPR_JOB = "${{ github.job }}"
# A matrix job's shard number, a key the compiler writes into each of the matrix's `include`
# entries (no axis name starts with '_'), rather than `strategy.job-index`: an engine detail
# that act, for one, leaves empty, which gave every shard's artifact the same name.
SHARD_KEY = "_shard"
EXPR_SHARD = expr_matrix(SHARD_KEY)
# What only the engine knows (compiler.envvars.Engine), as GitHub knows it.
EXPR_ENGINE = {"git_sha": "${{ github.sha }}", "run_id": "${{ github.run_id }}"}


def refuse_expression(*texts: str) -> None:
    # Lint rejects `${{` in every spec string (GitHub would evaluate it); this guards the promise
    # should a spec ever reach the renderer without lint.
    for text in texts:
        if "${{" in text:
            raise ValueError(f"spec text with '${{{{' reached the GitHub renderer: {quote(text)}")
