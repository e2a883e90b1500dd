"""The GitHub Actions target: workflows under `{targets.github.path}/`.

Per plan:
- `mlops-<pipeline>[-<env>].yml`: one job per pipeline stage, `needs` = the stage's upstream,
  after a first job `_check-params` where a run's params need a check GitHub does not make;
- `mlops-<pipeline>-<stage>[-<env>].yml`: one per scheduled stage, on its own cron.
Per spec: `mlops-check.<pipeline>.yml` (the dot keeps it apart from every name a pipeline,
stage or environment can produce), linting the spec and failing on stale outputs in pull requests.

Each stage's Run step runs the shared stage runner (`compiler.render.runner`: clear the
declared outputs and metrics, retries, a time limit on each attempt, the gate, tracking tags).
The runner is the same bytes for every spec and is written once per workflow, in the workflow's
`env` as `MLOPS_RUNNER` (once per job would cost a workflow ~3.7 kB per stage against GitHub's
512,000-byte file limit); the step's `run:` is three fixed lines that take it out of the
environment and `exec sh -c` it, so the runner does not run under the `-e` of `shell: sh`.
GitHub has no per-attempt retries or timeout, so the runner does both (`control_env(retries=True,
timeout=True)`); the job's `timeout-minutes` stays as a backstop over all attempts.

Values only the engine knows: `MLOPS_GIT_SHA` is `github.sha` (the commit the run checked out)
unless `build --ref` stamped one; `MLOPS_RUN_ID` is `github.run_id`, one id for every job of a
workflow run. It leaves out `github.run_attempt` on purpose: re-running failed jobs keeps the
run id, so the re-run stages join the same tracking group as the jobs that passed the first time
(as a cleared Airflow task keeps its DAG run's id).

How spec strings stay data (SPEC.md section 5): a command travels in the step's environment
(`MLOPS_RUN`) and the fixed runner runs `sh -c "$MLOPS_RUN"`, so `run:` is the same bytes for
every spec. The only `${{ }}` expressions in a workflow are the fixed ones built below
(`_expr_*`), and no spec string is ever placed inside one: param defaults are plain
`MLOPS_DEFAULT_*` variables that an expression names, never spliced into it.
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.envvars import Engine, Secret
from compiler.plan import Plan, PlanParam, PlanStage, Scalar
from compiler.render.params_check import (
    PARAMS_CHECK,
    SCHEMAS_VAR,
    needs_check,
    schemas_json,
)
from compiler.render.runner import RUNNER, control_env
from compiler.render.templating import render as render_template
from compiler.spec.params import env_text
from compiler.spec.values import Ref
from compiler.targets import TARGETS
from compiler.targets.base import OutputFile
from compiler.targets.github import NAME
from compiler.targets.github.budget import JOB_OVERHEAD_MINUTES, budget_minutes
from compiler.targets.github.names import check_path, workflow_path
from compiler.targets.github.names import settings as _settings

# Actions pinned to full commit SHAs (SPEC.md section 5); the tag is written beside each as a
# comment. Verified against public workflows that pin the same tag to the same commit (many
# independent repositories agree); re-verify with `git ls-remote` when bumping.
CHECKOUT = ("actions/checkout", "11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2")
UPLOAD_ARTIFACT = ("actions/upload-artifact", "ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2")
DOWNLOAD_ARTIFACT = ("actions/download-artifact", "d3f86a106a0bac45b974a628896c90dbdf5c8093",
                     "v4.3.0")

# The job that checks a run's params before any stage: no stage name starts with '_'.
CHECK_JOB = "_check-params"


# ----------------------------------------------------------------- the fixed expressions
# Every `${{ }}` the target writes comes from one of these; their arguments are names that the
# spec's name rules restrict to `[A-Za-z0-9_-]` (checked again here: a failure is our bug).

def _name_arg(name: str) -> str:
    if not name.replace("-", "").replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"not a safe name for a GitHub expression: {name!r}")
    return name


def _expr_param(param: PlanParam) -> str:
    # `github.event.inputs` holds dispatch inputs as text ('true', '0', ''); it is null for
    # other events, and so is an input a dispatch left out: then the default applies. Chosen by
    # presence, not truth: `a || b` would turn a dispatched '' into the default, so both sides
    # are JSON text (never empty) and `fromJSON` gives the chosen text back unchanged.
    given = f"toJSON(github.event.inputs['{_name_arg(param.name)}'])"
    return (f"${{{{ fromJSON({given} != 'null' && {given} || "
            f"toJSON(env.{_default_var(param)})) }}}}")


def _expr_matrix(axis: str) -> str:
    return f"${{{{ matrix['{_name_arg(axis)}'] }}}}"


def _expr_secret(name: str) -> str:
    return f"${{{{ secrets.{_name_arg(name)} }}}}"


EXPR_REF = "${{ github.ref }}"
# A matrix job's shard number, a key the compiler writes into each of the matrix's `include`
# entries (no axis name starts with '_'), rather than `strategy.job-index`: an engine detail
# that act, for one, leaves empty, which gave every shard's artifact the same name.
SHARD_KEY = "_shard"
EXPR_SHARD = _expr_matrix(SHARD_KEY)
# What only the engine knows (compiler.envvars.Engine), as GitHub knows it.
EXPR_ENGINE = {"git_sha": "${{ github.sha }}", "run_id": "${{ github.run_id }}"}


def _default_var(param: PlanParam) -> str:
    return "MLOPS_DEFAULT_" + param.var.removeprefix("MLOPS_PARAM_")


# ----------------------------------------------------------------------------- context
Env = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Input:
    name: str
    type: str                     # string, number, boolean or choice
    default: Scalar
    description: str | None
    options: tuple[str, ...]      # choice only


@dataclass(frozen=True)
class _Artifact:
    name: str                     # download: the artifact's name, or a glob over a matrix's
    many: bool                    # uploaded by every job of a matrix: download with a pattern
    upload_name: str              # upload: unique per matrix job
    path: str                     # the output as written
    directory: str                # where its contents belong (download path)


@dataclass(frozen=True)
class _Job:
    id: str
    needs: tuple[str, ...]
    runs_on: tuple[str, ...] | str
    timeout: int | None           # job minutes (None: GitHub's default)
    image: str | None
    credentials: tuple[str, str] | None   # (username, password expression) for the container
    gpu: bool
    environment: str | None
    approval: bool
    matrix: tuple[tuple[tuple[str, str], ...], ...]   # the include entries: (key, text) pairs
    downloads: tuple[_Artifact, ...]
    run_env: Env | None           # None: the stage has no command (a `serve`-only deploy)
    uploads: tuple[_Artifact, ...]


@dataclass(frozen=True)
class _Check:
    id: str
    runs_on: tuple[str, ...] | str
    env: Env                      # the schemas, each param's value, the check script


@dataclass(frozen=True)
class _Workflow:
    name: str
    schedule: str | None
    push: dict[str, tuple[str, ...]] | None
    dispatch: bool
    inputs: tuple[_Input, ...]
    env: Env                      # the param defaults
    runner: bool                  # some job runs a command: the workflow holds the runner
    check: _Check | None          # the params check job, first
    concurrency: str
    jobs: tuple[_Job, ...]


# `uses:` values, with the tag as a trailing YAML comment (as Dependabot and Renovate write them).
_ACTIONS = {key: f"{repo}@{sha} # {tag}" for key, (repo, sha, tag) in
            {"checkout": CHECKOUT, "upload": UPLOAD_ARTIFACT, "download": DOWNLOAD_ARTIFACT}.items()}


def render(plan: Plan) -> list[OutputFile]:
    files = [OutputFile(workflow_path(plan), _workflow_text(_pipeline_workflow(plan)))]
    for stage in plan.scheduled_stages:
        files.append(OutputFile(workflow_path(plan, stage),
                                _workflow_text(_scheduled_workflow(plan, stage))))
    return files


def repository_files(plans: Sequence[Plan]) -> list[OutputFile]:
    with_github = [p for p in plans if NAME in p.targets]
    if not with_github:
        return []
    first = with_github[0]
    settings = _settings(first)
    # Triggered by the spec and by every generated directory (a hand edit makes --check
    # fail), as paths from the repository root: the spec's directory prefixes what lives there.
    spec = posixpath.join(first.spec_dir, posixpath.basename(first.spec_path))
    paths = sorted({spec, *(f"{d}/**" for d in _generated_dirs(plans))})
    pin = first.compiler_pin if first.compiler_pin and first.compiler_pin.is_commit else None
    text = render_template("github/check.yml.j2", paths=paths, spec=spec, pin=pin,
                           actions=_ACTIONS, runs_on=settings.runs_on,
                           group=f"mlops-check-{first.dns}-{EXPR_REF}")
    return [OutputFile(check_path(first), text)]


def _generated_dirs(plans: Sequence[Plan]) -> set[str]:
    """Every target's directories, from the repository root."""
    return {root if TARGETS[name].anchor == "repository" else posixpath.join(plan.spec_dir, root)
            for plan in plans for name, settings in plan.targets.items()
            for root in TARGETS[name].roots(settings)}


def _workflow_text(workflow: _Workflow) -> str:
    assert "${{" not in RUNNER, "GitHub would evaluate an expression in the runner"
    return render_template("github/workflow.yml.j2", workflow=workflow, actions=_ACTIONS,
                           runner=RUNNER.rstrip("\n"))


def _title(plan: Plan, stage: PlanStage | None = None) -> str:
    name = f"mlops {plan.pipeline}" + (f" {stage.name}" if stage else "")
    return name + (f" ({plan.environment})" if plan.environment else "")


def _group(plan: Plan, stage: PlanStage | None = None) -> str:
    base = f"mlops-{plan.dns}" + (f"-{stage.dns}" if stage else "") + plan.suffix
    return f"{base}-{EXPR_REF}"


def _pipeline_workflow(plan: Plan) -> _Workflow:
    push = plan.push
    triggered = plan.schedule is not None or push is not None
    check = _check(plan)
    jobs = tuple(_job(plan, s, check) for s in plan.pipeline_stages)
    return _Workflow(
        name=_title(plan),
        schedule=plan.schedule,
        push={"branches": push.branches, "tags": push.tags, "paths": push.paths}
        if push else None,
        # A workflow needs a trigger: without any, it can still be started by hand.
        dispatch=plan.manual or not triggered,
        inputs=_inputs(plan),
        env=_default_env(plan),
        runner=any(job.run_env is not None for job in jobs),
        check=check,
        concurrency=_group(plan),
        jobs=jobs,
    )


def _scheduled_workflow(plan: Plan, stage: PlanStage) -> _Workflow:
    check = _check(plan)
    job = _job(plan, stage, check)
    return _Workflow(
        name=_title(plan, stage), schedule=stage.schedule, push=None, dispatch=True,
        inputs=_inputs(plan), env=_default_env(plan), runner=job.run_env is not None,
        check=check, concurrency=_group(plan, stage), jobs=(job,))


def _check(plan: Plan) -> _Check | None:
    """The first job, when a run's params need checking (`compiler.render.params_check`):
    GitHub checks only that a dispatched choice is one of its options, so any bound, pattern
    or type other than text (a `number` input takes 2.5 for an integer) is checked here, and
    every stage job needs this one. Schedule and push runs get the defaults, which lint checks,
    but the job costs seconds and keeps one path for every event."""
    if not needs_check(plan.params, checked=("enum",), as_text=True):
        return None
    schemas = schemas_json(plan.params)
    _refuse_expression(schemas)
    assert "${{" not in PARAMS_CHECK, "GitHub would evaluate an expression in the check"
    labels = _settings(plan).runs_on
    return _Check(CHECK_JOB, labels if isinstance(labels, str) else tuple(labels),
                  ((SCHEMAS_VAR, schemas), *((p.var, _expr_param(p)) for p in plan.params),
                   ("MLOPS_PARAMS_CHECK", PARAMS_CHECK)))


def _inputs(plan: Plan) -> tuple[_Input, ...]:
    result = []
    for param in plan.params:
        schema = param.schema
        description = _description(schema)
        if "enum" in schema:
            result.append(_Input(param.name, "choice", param.default_text, description,
                                 tuple(env_text(v) for v in schema["enum"])))
            continue
        kind = {"integer": "number", "number": "number", "boolean": "boolean"}.get(
            str(schema.get("type")), "string")
        default = param.default if kind != "string" else param.default_text
        result.append(_Input(param.name, kind, default, description, ()))
    return tuple(result)


def _description(schema: Mapping[str, Any]) -> str | None:
    """The param's description, plus the constraints that GitHub's input types cannot express
    (the dispatch form shows it; lint checks defaults, the first job a dispatched value)."""
    limits = []
    if schema.get("type") == "integer":
        limits.append("integer")
    for key in ("minimum", "maximum", "pattern"):
        if key in schema:
            limits.append(f"{key} {env_text(schema[key])}")
    text = " ".join(filter(None, [schema.get("description"),
                                  f"({', '.join(limits)})" if limits else None]))
    return text or None


def _default_env(plan: Plan) -> Env:
    return tuple((_default_var(p), p.default_text) for p in plan.params)


def _job(plan: Plan, stage: PlanStage, check: _Check | None) -> _Job:
    settings = _settings(plan)
    gpu = stage.resources.gpu > 0 and settings.gpu_runs_on is not None
    labels = settings.gpu_runs_on if gpu and settings.gpu_runs_on is not None \
        else settings.runs_on
    budget = budget_minutes(stage)
    deploy_env = plan.environment if stage.type == "deploy" else None
    return _Job(
        id=stage.name,
        needs=stage.needs or ((check.id,) if check is not None else ()),
        runs_on=labels if isinstance(labels, str) else tuple(labels),
        timeout=budget + JOB_OVERHEAD_MINUTES if budget is not None else None,
        image=stage.image,
        credentials=_credentials(settings) if stage.image is not None else None,
        gpu=gpu,
        environment=deploy_env,
        approval=plan.approval and deploy_env is not None,
        matrix=tuple(((SHARD_KEY, str(combo.index)), *combo.texts)
                     for combo in stage.combinations),
        downloads=_downloads(plan, stage),
        run_env=_run_env(plan, stage) if stage.run is not None else None,
        uploads=tuple(_artifact(stage, i, out) for i, out in enumerate(stage.outputs)),
    )


def _credentials(settings: Any) -> tuple[str, str] | None:
    """The container's registry login: the user name as written (spec text, so checked for
    expressions like every value), the password only as a secret reference."""
    creds = settings.registry_credentials
    if creds is None:
        return None
    _refuse_expression(creds.username)
    return creds.username, _expr_secret(creds.password_secret)


def _artifact(stage: PlanStage, index: int, output: str) -> _Artifact:
    # One artifact per output: upload-artifact roots a single directory at itself and a single
    # file at its parent, so the download directory follows from the path alone. Stage names
    # never contain '.', so `mlops.<stage>.` is an unambiguous prefix.
    base = f"mlops.{stage.name}.{index}"
    directory = output.rstrip("/") if output.endswith("/") else posixpath.dirname(output)
    if stage.matrix:
        return _Artifact(f"{base}.*", True, f"{base}.{EXPR_SHARD}", output, directory or ".")
    return _Artifact(base, False, base, output, directory or ".")


def _holds_any(sorted_paths: list[str], directory: str) -> bool:
    """Some path lies in `directory` (which ends in '/'): the paths that start with it sort
    together, right after where `directory` itself would go."""
    at = bisect.bisect_left(sorted_paths, directory)
    return at < len(sorted_paths) and sorted_paths[at].startswith(directory)


def _downloads(plan: Plan, stage: PlanStage) -> tuple[_Artifact, ...]:
    """The artifacts of upstream pipeline stages that hold this stage's inputs."""
    found: dict[str, _Artifact] = {}
    if stage.scheduled:
        return ()
    # A stage that writes one of our inputs is always a direct upstream (the graph adds that
    # edge), so looking at `needs` finds them all. Inputs are looked up, not scanned: a fan-in
    # stage reading the outputs of 10,000 stages would otherwise compare every pair.
    exact = frozenset(stage.inputs)
    inputs = sorted(stage.inputs)
    for producer in (plan.stage(name) for name in stage.needs):
        for index, output in enumerate(producer.outputs):
            if output in exact or (output.endswith("/") and _holds_any(inputs, output)):
                artifact = _artifact(producer, index, output)
                found.setdefault(artifact.name, artifact)
    return tuple(found.values())


def _run_env(plan: Plan, stage: PlanStage) -> Env:
    """The Run step's environment: the stage's variables (gate data included), each piece as
    GitHub reads it, then the runner's settings (retries and each attempt's timeout: GitHub
    has neither per attempt) and the command."""
    params = {p.name: p for p in plan.params}
    env: list[tuple[str, str]] = []
    for var in stage.env:
        _refuse_expression(*(p for p in var.pieces if isinstance(p, str)))
        env.append((var.name, "".join(
            piece if isinstance(piece, str)
            else _expr_secret(piece.name) if isinstance(piece, Secret)
            else EXPR_ENGINE[piece.what] if isinstance(piece, Engine)
            else _expr_param(params[piece.name]) if isinstance(piece, Ref) and piece.kind == "params"
            else _expr_matrix(piece.name) if isinstance(piece, Ref)
            else _unknown(piece)
            for piece in var.pieces)))
    for name, value in control_env(stage, retries=True, timeout=True):
        _refuse_expression(value)
        env.append((name, value))
    assert stage.run is not None
    _refuse_expression(stage.run)
    env.append(("MLOPS_RUN", stage.run))
    return tuple(env)


def _unknown(piece: object) -> str:
    raise AssertionError(f"no GitHub expression for {piece!r}")


def _refuse_expression(*texts: str) -> None:
    # Lint rejects `${{` in every spec string (GitHub would evaluate it); this guards the promise
    # should a spec ever reach the renderer without lint.
    for text in texts:
        if "${{" in text:
            raise ValueError(f"spec text with '${{{{' reached the GitHub renderer: {text!r}")
