"""What a GitHub stage's Run step sees, and which of it is written once per workflow.

The workflow level holds only what is pipeline-wide by construction: it comes from the plan's
`defaults` (`compiler.plan.StageDefaults`: what a stage that sets nothing of its own gets) or
from the params, never from what happens to be equal in every stage; a stage writes what
differs from it, so a one-stage edit changes only that stage's lines.

Where each variable lives (GitHub context availability decides some of it: workflow and job
`env` cannot read `env`, only a step's can):
- workflow `env`, as YAML: the built-ins that do not name the stage (`MLOPS_PIPELINE`,
  `MLOPS_ENVIRONMENT`, `MLOPS_GIT_SHA` = `github.sha`, `MLOPS_RUN_ID` = `github.run_id`); the
  runner's retries, delay and per-attempt timeout of `defaults` (a stage with its own writes
  them); per param its default (`MLOPS_DEFAULT_<N>`, plain text), whether the run was
  dispatched with it (`MLOPS_GIVEN_<N>`) and the dispatched text (`MLOPS_INPUT_<N>`); the
  runner with the GitHub prelude below (`MLOPS_RUNNER`).
- workflow `env` as shell (`MLOPS_ENV`): the spec's env and tracking settings of `defaults`,
  one `export NAME=value` line each, applied by the prelude inside the Run step only. As shell
  rather than YAML env so that neither the checkout and artifact actions nor the params check
  see the spec's variables (a spec's `PATH`, `HOME` or `GIT_DIR` is for its commands), and so
  that a value made of params (`DATASET: ${params.dataset}`) is built at run time.
- the Run step's `env`: `MLOPS_STAGE`, matrix axes (`${{ matrix['x'] }}`), every secret (a
  secret is only ever in the step that runs the command), the gate's data, the stage's own
  plain variables, and `MLOPS_STAGE_ENV`: as shell, its variables that are made of params or
  matrix values or that replace one of `MLOPS_ENV` (applied after it, so the stage's value
  wins). A stage with a secret named like a variable of `MLOPS_ENV` (which would overwrite
  the secret) writes its whole list as its own `MLOPS_ENV` instead.

Every literal in the shell text is one shell word (`shell_word`) and a reference is
`"${MLOPS_PARAM_X}"`, as in the Kubernetes target's env files: data, never spec text run as code.
No spec string reaches a `${{ }}` (`expressions.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from compiler.diagnostics import quote
from compiler.envvars import Engine, EnvVar, Secret
from compiler.plan import Plan, PlanStage, Policy
from compiler.render.encode import Encoded, shell_word, yaml_string
from compiler.render.runner import RUNNER, control_env
from compiler.spec.values import Ref
from compiler.targets.github.expressions import (
    EXPR_ENGINE,
    EXPR_JOB,
    default_var,
    expr_given,
    expr_input,
    expr_matrix,
    expr_secret,
    param_suffix,
    refuse_expression,
)

PARAMS_VAR = "MLOPS_GITHUB_PARAMS"   # not MLOPS_PARAM_*: a param may be called anything
PIPELINE_ENV_VAR = "MLOPS_ENV"
STAGE_ENV_VAR = "MLOPS_STAGE_ENV"
STAGE_VAR = "MLOPS_STAGE"

# GitHub's prelude to the shared runner (`compiler.render.runner`), in the same
# `MLOPS_RUNNER` text. A param's value is its dispatched input where the run was dispatched
# with one (even ''), else its default, byte for byte: `printenv` prints the value and a
# newline, `echo x` guards the value's own trailing newlines from `$( )`, `%??` takes both off.
# Then the spec's env, the pipeline's then the stage's (see the module docstring).
PRELUDE = f"""\
unset MLOPS_RUNNER
for mlops_name in ${{{PARAMS_VAR}:-}}; do
  mlops_from=MLOPS_DEFAULT_
  if [ "$(printenv "MLOPS_GIVEN_$mlops_name")" = true ]; then mlops_from=MLOPS_INPUT_; fi
  mlops_value=$(printenv "$mlops_from$mlops_name"; echo x)
  export "MLOPS_PARAM_$mlops_name=${{mlops_value%??}}"
done
eval "${{{PIPELINE_ENV_VAR}:-}}"
eval "${{{STAGE_ENV_VAR}:-}}"
"""
RUNNER_TEXT = PRELUDE + RUNNER
assert "${{" not in RUNNER_TEXT, "GitHub would evaluate an expression in the runner"

# The runner's settings that `defaults` gives every stage, and what each reads when unset.
_CONTROL_OFF = {"MLOPS_RETRIES": "0", "MLOPS_RETRY_DELAY": "0", "MLOPS_TIMEOUT": ""}


@dataclass(frozen=True)
class Var:
    """One `env` entry, its value already encoded for YAML (a block scalar for shell text)."""

    name: str
    value: Encoded


@dataclass(frozen=True)
class Shared:
    """The workflow's `env`."""

    builtins: tuple[Var, ...]
    params: tuple[Var, ...]
    controls: tuple[Var, ...]
    assignments: Var | None       # MLOPS_ENV
    names: frozenset[str]         # the variables MLOPS_ENV sets
    base: Mapping[str, EnvVar] = field(compare=False)   # `defaults`' variables by name


def shared(plan: Plan) -> Shared:
    base = plan.defaults.env
    assigned = [v for v in base if _assigned(v)]
    params = []
    if plan.params:
        params.append(_var(PARAMS_VAR, " ".join(param_suffix(p) for p in plan.params)))
        for param in plan.params:
            suffix = param_suffix(param)
            params += [_var(default_var(param), param.default_text),
                       _expr_var("MLOPS_GIVEN_" + suffix, expr_given(param)),
                       _expr_var("MLOPS_INPUT_" + suffix, expr_input(param))]
    return Shared(
        builtins=(*(Var(v.name, _yaml(v)) for v in base if v.origin == "builtin"),
                  _expr_var(STAGE_VAR, EXPR_JOB)),
        params=tuple(params),
        controls=tuple(_var(name, value) for name, value in policy_env(plan.defaults.policy)
                       .items()),
        assignments=_shell_var(PIPELINE_ENV_VAR, assigned, indent=4) if assigned else None,
        names=frozenset(v.name for v in assigned),
        base={v.name: v for v in base},
    )


def step_env(plan: Plan, stage: PlanStage, workflow: Shared) -> tuple[Var, ...]:
    """The Run step's `env`: what differs from the workflow's, then the runner's settings."""
    base = workflow.base
    missing = base.keys() - {v.name for v in stage.env}
    assert not missing, f"a pipeline-wide variable the stage does not have: {missing}"
    # A secret with the name of a pipeline-wide variable: MLOPS_ENV would overwrite it.
    own = any(v.name in workflow.names and _secret(v) for v in stage.env)
    entries: list[Var] = []
    assigned: list[EnvVar] = []
    for var in stage.env:
        if var.name == STAGE_VAR:
            assert var.text == stage.name, "a job's id is its stage's name"
            continue
        if var.origin == "param" or (var.origin == "builtin" and base.get(var.name) == var):
            continue  # the prelude sets params; the workflow's env holds these built-ins
        if not _assigned(var):
            entries.append(Var(var.name, _yaml(var)))
        elif own or base.get(var.name) != var:
            if own or var.text is None or var.name in workflow.names:
                assigned.append(var)
            else:
                entries.append(Var(var.name, _yaml(var)))
    if assigned:
        entries.append(_shell_var(PIPELINE_ENV_VAR if own else STAGE_ENV_VAR, assigned,
                                  indent=10))
    entries += _controls(plan, stage)
    assert stage.run is not None
    refuse_expression(stage.run)
    entries.append(_var("MLOPS_RUN", stage.run))
    return tuple(entries)


def policy_env(policy: Policy) -> dict[str, str]:
    """The runner's retry and timeout settings of `policy`, as `control_env` writes them."""
    found = {}
    if policy.retries:
        found["MLOPS_RETRIES"] = str(policy.retries)
        found["MLOPS_RETRY_DELAY"] = str(policy.retry_delay or 0)
    if policy.timeout:
        found["MLOPS_TIMEOUT"] = str(policy.timeout)
    return found


def _controls(plan: Plan, stage: PlanStage) -> list[Var]:
    """Retries, delay and timeout where they differ from the workflow's (`defaults`), and
    what to clear before each attempt. GitHub has neither retries nor a timeout per attempt,
    so the runner does both."""
    settings = dict(control_env(stage, retries=True, timeout=True))
    clean = settings.pop("MLOPS_CLEAN", None)
    assert settings == policy_env(stage.policy), "policy_env drifted from control_env"
    workflow = policy_env(plan.defaults.policy)
    found = [_var(name, settings.get(name, off)) for name, off in _CONTROL_OFF.items()
             if settings.get(name, off) != workflow.get(name, off)]
    if clean is not None:
        found.append(_var("MLOPS_CLEAN", clean))
    return found


def _secret(var: EnvVar) -> bool:
    return any(isinstance(p, Secret) for p in var.pieces)


def _assigned(var: EnvVar) -> bool:
    """A variable the prelude sets from shell text: the spec's env and tracking settings
    (never a secret: those only ever come from GitHub's secrets context)."""
    return var.origin in ("spec", "tracking") and not _secret(var)


def _var(name: str, text: str) -> Var:
    """Spec or compiler text, never an expression."""
    refuse_expression(text)
    return Var(name, yaml_string(text))


def _expr_var(name: str, expression: str) -> Var:
    """A fixed expression of `expressions.py`."""
    return Var(name, yaml_string(expression))


@lru_cache(maxsize=4096)  # most variables (secrets, tracking) are the same in every stage
def _yaml(var: EnvVar) -> Encoded:
    """A variable as GitHub reads it, each piece in its own form."""
    refuse_expression(*(p for p in var.pieces if isinstance(p, str)))
    return yaml_string("".join(
        piece if isinstance(piece, str)
        else expr_secret(piece.name) if isinstance(piece, Secret)
        else EXPR_ENGINE[piece.what] if isinstance(piece, Engine)
        else expr_matrix(piece.name) if isinstance(piece, Ref) and piece.kind == "matrix"
        else _unknown(piece)
        for piece in var.pieces))


def _unknown(piece: object) -> str:
    raise AssertionError(f"no GitHub env value for {quote(piece)}")


def _shell_value(var: EnvVar) -> str:
    refuse_expression(*(p for p in var.pieces if isinstance(p, str)))
    if not var.pieces:
        return "''"
    return "".join(shell_word(p) if isinstance(p, str) else f'"${{{p.var}}}"'
                   for p in var.pieces if isinstance(p, (str, Ref)))


def _shell_var(name: str, variables: Iterable[EnvVar], indent: int) -> Var:
    text = "".join(f"export {v.name}={_shell_value(v)}\n" for v in variables)
    assert "${{" not in text, "a GitHub expression formed in shell text"
    return Var(name, block_scalar(text, indent))


_BLOCK_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F))


def block_scalar(text: str, indent: int) -> Encoded:
    """`text` (ending in one newline) as a YAML literal block at `indent` when it reads back
    exactly (printable ASCII, no line starting or ending with a space); otherwise the
    double-quoted scalar, which can hold any text."""
    lines = text[:-1].split("\n")
    if text.endswith("\n") and not text.endswith("\n\n") and lines[0][:1] not in ("", " ") \
            and all(set(line) <= _BLOCK_SAFE and line == line.rstrip() for line in lines):
        pad = " " * indent
        return Encoded("|\n" + "\n".join(pad + line if line else "" for line in lines))
    return yaml_string(text)

