"""The GitHub Actions target: workflows under `{targets.github.path}/`.

Per plan:
- `mlops-<pipeline>[-<env>].yml`: one job per pipeline stage, `needs` = the stage's upstream,
  after a first job `_check-params` where a run's params need a check GitHub does not make;
- `mlops-<pipeline>-<stage>[-<env>].yml`: one per scheduled stage, on its own cron.
Per spec: `mlops-check.<pipeline>.yml` (the dot keeps it apart from every name a pipeline,
stage or environment can produce), linting the spec and failing on stale outputs in pull requests.

Compact by construction (issue 16): GitHub refuses, silently, a workflow file over 512,000
bytes, so what is the same for every job *by construction* is written once at the workflow
level, and a job holds only what its stage says. Never "what happens to be equal in every
stage": the shared values come from the plan's `defaults` (`compiler.plan.StageDefaults`), the
params and fixed text, so a one-stage edit changes only that stage's lines. Once per workflow:
- `defaults.run.shell: sh` and `permissions: contents: read` (what every stage job uses: its
  checkout; the params check job says `permissions: {}`);
- `env` (`environment.py` says what lives where and why): the built-ins, `MLOPS_STAGE` as
  `github.job` (a job's id is its stage's name), each param's default, dispatched input and
  whether it was given, the runner's retries and timeout of `defaults`, the spec's env of
  `defaults` as shell (`MLOPS_ENV`), and the stage runner (`compiler.render.runner`) behind a
  short GitHub prelude (`MLOPS_RUNNER`), which picks each param's value and applies the env.
- YAML anchors in `env` (`_anchors`) for the pinned actions and the image of `defaults`:
  each job names them by alias (`uses: *checkout`, `container: *image`). GitHub reads anchors
  and aliases since September 2025 (docs: "Reusing workflow configurations", YAML anchors and
  aliases); it has no merge key (`<<`), so only whole values are shared. The anchors sit in
  `env` because it is the one mapping every workflow has that takes any text: each one is also
  a variable every step sees (`MLOPS_ACTION_*`, `MLOPS_IMAGE`), which is harmless.
Per job: its needs, runner, time budget, image, matrix; checkout; one download step for every
artifact it reads; the Run step (`run: exec sh -c "$MLOPS_RUNNER" mlops`, the same bytes for
every stage) with the stage's own env, secrets, gate data, runner settings that differ from
`defaults` and its command; one upload per output. Each is rooted at the repository root
(`ARTIFACT_ROOT`), so one step with a brace pattern downloads them all into the workspace.

Decided against: a local composite action for the artifact steps (a file per repository
outside the workflows, its own registry root and pre-commit pattern, and a stage's steps no
longer readable in its job); secrets at the workflow level (they would be in the environment
of every action step and of the params check: each secret stays in the step that runs the
command, ~125 bytes a job on the benchmark spec).

GitHub has no per-attempt retries or timeout, so the runner does both (`control_env(retries=True,
timeout=True)`); the job's `timeout-minutes` stays as a backstop over all attempts.

Values only the engine knows: `MLOPS_GIT_SHA` is `github.sha` (the commit the run checked out)
unless `build --ref` stamped one; `MLOPS_RUN_ID` is `github.run_id`, one id for every job of a
workflow run. It leaves out `github.run_attempt` on purpose: re-running failed jobs keeps the
run id, so the re-run stages join the same tracking group as the jobs that passed the first time
(as a cleared Airflow task keeps its DAG run's id).

How spec strings stay data (SPEC.md section 5): a command travels in the step's environment
(`MLOPS_RUN`) and the fixed runner runs `sh -c "$MLOPS_RUN"`; the spec's env reaches the
prelude as shell assignments whose every literal is one shell word. The only `${{ }}`
expressions in a workflow are the fixed ones of `expressions.py`, and no spec string is ever
placed inside one: param defaults are plain `MLOPS_DEFAULT_*` variables, picked at run time.
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.plan import Plan, PlanStage, Scalar
from compiler.render.params_check import (
    PARAMS_CHECK,
    SCHEMAS_VAR,
    needs_check,
    schemas_json,
)
from compiler.render.templating import render as render_template
from compiler.spec.params import env_text
from compiler.targets import TARGETS
from compiler.targets.base import OutputFile
from compiler.targets.github import ARTIFACT_ROOT, NAME
from compiler.targets.github.budget import JOB_OVERHEAD_MINUTES, budget_minutes
from compiler.render.encode import Encoded, yaml_string
from compiler.targets.github.environment import (
    RUNNER_TEXT,
    Shared,
    Var,
    block_scalar,
    shared,
    step_env,
)
from compiler.targets.github.expressions import (
    EXPR_REF,
    EXPR_SHARD,
    SHARD_KEY,
    expr_param,
    expr_secret,
    refuse_expression,
)
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
class _Upload:
    name: str                     # unique per output and per matrix job
    path: Encoded                 # the lines of `path:`, encoded (they are spec text)


@dataclass(frozen=True)
class _Anchor:
    var: str                      # the `env` entry that holds it
    name: str                     # the anchor; jobs write `*name`
    text: str                     # the YAML text after `&name` (a pin with its tag comment)


@dataclass(frozen=True)
class _Download:
    name: str | None              # one artifact of a job without a matrix: by name
    pattern: str | None           # otherwise a pattern over every artifact it needs, merged


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
    download: _Download | None
    run_env: tuple[Var, ...] | None   # None: the stage has no command (a `serve`-only deploy)
    uploads: tuple[_Upload, ...]


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
    env: Shared                   # what every Run step shares (`environment.py`)
    anchors: tuple[_Anchor, ...]  # in `env`, before any job names them
    image: str | None             # the image behind `*image`, when a job uses it
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
    return render_template("github/workflow.yml.j2", workflow=workflow,
                           runner=RUNNER_TEXT.rstrip("\n"), root=ARTIFACT_ROOT)


def _title(plan: Plan, stage: PlanStage | None = None) -> str:
    name = f"mlops {plan.pipeline}" + (f" {stage.name}" if stage else "")
    return name + (f" ({plan.environment})" if plan.environment else "")


def _group(plan: Plan, stage: PlanStage | None = None) -> str:
    base = f"mlops-{plan.dns}" + (f"-{stage.dns}" if stage else "") + plan.suffix
    return f"{base}-{EXPR_REF}"


def _anchors(plan: Plan, jobs: Sequence[_Job]) -> tuple[tuple[_Anchor, ...], str | None]:
    """What jobs name by alias (the template writes `*checkout`, `*download`, `*upload` and
    `*image`): each pinned action some job uses, and the image of `defaults`
    when some job runs in it. Decided by the plan's `defaults` and whether any job needs it,
    never by what most jobs happen to share, so a one-stage edit changes only that stage's
    lines (and the anchor line, when it is the first or last stage to need one)."""
    used = {"checkout": bool(jobs), "download": any(j.download is not None for j in jobs),
            "upload": any(j.uploads for j in jobs)}
    anchors = [_Anchor(f"MLOPS_ACTION_{key.upper()}", key, _ACTIONS[key])
               for key in ("checkout", "download", "upload") if used[key]]
    image = plan.defaults.image
    if image is None or not any(j.image == image for j in jobs):
        return tuple(anchors), None
    return (*anchors, _Anchor("MLOPS_IMAGE", "image", yaml_string(image))), image


def _pipeline_workflow(plan: Plan) -> _Workflow:
    push = plan.push
    triggered = plan.schedule is not None or push is not None
    check = _check(plan)
    env = shared(plan)
    jobs = tuple(_job(plan, s, check, env) for s in plan.pipeline_stages)
    anchors, image = _anchors(plan, jobs)
    return _Workflow(
        name=_title(plan),
        schedule=plan.schedule,
        push={"branches": push.branches, "tags": push.tags, "paths": push.paths}
        if push else None,
        # A workflow needs a trigger: without any, it can still be started by hand.
        dispatch=plan.manual or not triggered,
        inputs=_inputs(plan),
        env=env,
        anchors=anchors,
        image=image,
        runner=any(job.run_env is not None for job in jobs),
        check=check,
        concurrency=_group(plan),
        jobs=jobs,
    )


def _scheduled_workflow(plan: Plan, stage: PlanStage) -> _Workflow:
    check = _check(plan)
    env = shared(plan)
    job = _job(plan, stage, check, env)
    anchors, image = _anchors(plan, (job,))
    return _Workflow(
        name=_title(plan, stage), schedule=stage.schedule, push=None, dispatch=True,
        inputs=_inputs(plan), env=env, anchors=anchors, image=image,
        runner=job.run_env is not None,
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
    refuse_expression(schemas)
    assert "${{" not in PARAMS_CHECK, "GitHub would evaluate an expression in the check"
    labels = _settings(plan).runs_on
    return _Check(CHECK_JOB, labels if isinstance(labels, str) else tuple(labels),
                  ((SCHEMAS_VAR, schemas), *((p.var, expr_param(p)) for p in plan.params),
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


def _job(plan: Plan, stage: PlanStage, check: _Check | None, env: Shared) -> _Job:
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
        download=_download(plan, stage),
        run_env=step_env(plan, stage, env) if stage.run is not None else None,
        uploads=tuple(_upload(stage, i, out) for i, out in enumerate(stage.outputs)),
    )


def _credentials(settings: Any) -> tuple[str, str] | None:
    """The container's registry login: the user name as written (spec text, so checked for
    expressions like every value), the password only as a secret reference."""
    creds = settings.registry_credentials
    if creds is None:
        return None
    refuse_expression(creds.username)
    return creds.username, expr_secret(creds.password_secret)


def _artifact_name(stage: PlanStage, index: int) -> str:
    """One artifact per output (per matrix job: `.<shard>` added). Stage names never contain
    '.', so `mlops.<stage>.` is an unambiguous prefix."""
    return f"mlops.{stage.name}.{index}"


def _upload(stage: PlanStage, index: int, output: str) -> _Upload:
    # `path:` lists the output and ARTIFACT_ROOT, a path at the repository root that no stage
    # writes: upload-artifact roots an artifact at the common ancestor of its paths, so every
    # artifact is rooted there and every download goes to the workspace, all in one step.
    # (The root's absence does not count as "no files"; the output's does, an error.)
    name = _artifact_name(stage, index) + (f".{EXPR_SHARD}" if stage.matrix else "")
    return _Upload(name, block_scalar(f"{ARTIFACT_ROOT}\n{output}\n", indent=10))


def _holds_any(sorted_paths: list[str], directory: str) -> bool:
    """Some path lies in `directory` (which ends in '/'): the paths that start with it sort
    together, right after where `directory` itself would go."""
    at = bisect.bisect_left(sorted_paths, directory)
    return at < len(sorted_paths) and sorted_paths[at].startswith(directory)


def _download(plan: Plan, stage: PlanStage) -> _Download | None:
    """The artifacts of upstream pipeline stages that hold this stage's inputs, in one step:
    by name when it is a single artifact (a missing one fails the step), else by a brace
    pattern (`{a,b.*}`: download-artifact matches names with minimatch) whose artifacts are
    merged into the workspace, where each is rooted (`_upload`)."""
    if stage.scheduled:
        return None
    found: dict[str, bool] = {}
    # A stage that writes one of our inputs is always a direct upstream (the graph adds that
    # edge), so looking at `needs` finds them all. Inputs are looked up, not scanned: a fan-in
    # stage reading the outputs of 10,000 stages would otherwise compare every pair.
    exact = frozenset(stage.inputs)
    inputs = sorted(stage.inputs)
    for producer in (plan.stage(name) for name in stage.needs):
        for index, output in enumerate(producer.outputs):
            if output in exact or (output.endswith("/") and _holds_any(inputs, output)):
                found.setdefault(_artifact_name(producer, index), bool(producer.matrix))
    if not found:
        return None
    if len(found) == 1 and not any(found.values()):
        return _Download(next(iter(found)), None)
    names = [name + (".*" if many else "") for name, many in found.items()]
    return _Download(None, names[0] if len(names) == 1 else "{" + ",".join(names) + "}")
