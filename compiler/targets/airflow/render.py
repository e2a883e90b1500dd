"""The Airflow target: one self-contained DAG file per plan, for Airflow 2.10+ and 3.x.

Layout of `{targets.airflow.path}/mlops_<pipeline>[_<env>].py`:

- the pipeline DAG, dag_id = the file's stem, with the pipeline's schedule (or none);
- in the same file, one DAG per scheduled stage (`<stem>__<stage>`), on the stage's cron;
- a matrix stage expands into one task per combination (`<stage>__<axis>-<value>...`), and
  the tasks of a downstream stage depend on every one of them.

Every task runs the shared stage runner (`compiler.render.runner`, the file's RUNNER) with
the stage's environment from the plan plus the runner's settings: the command (MLOPS_RUN), the
paths to clear first (MLOPS_CLEAN) and the gate's data. Airflow retries and bounds attempts
itself (`retries`, `retry_delay`, `execution_timeout`), so the runner does neither; a failed
gate (the runner's exit GATE_FAILED) fails the task with AirflowFailException, which Airflow
never retries (a stage without a gate that exits so fails like any other, and is retried). MLOPS_RUN_ID is the run's `run_id`, read from the task's context when it runs;
MLOPS_GIT_SHA is set only when `build --ref` stamped a commit.

In an environment with approval (`version: 3`), each deploy stage's tasks wait for a task of
their own, `approve_<stage>`: the standard provider's ApprovalOperator (Airflow 3.1+), which
fails on "Reject" and, with no answer within `approval_timeout`, chooses "Reject" itself, so
the deploy tasks never run unapproved. Airflow 2 has no such task: lint refuses approval there
(MLP413).

Spec strings reach the file only as Python literals, and the stage operators declare no
templated fields, so Airflow renders no Jinja in them (SPEC.md section 5). The approval task's
`subject` and `body` are template fields: they hold only text the compiler writes (fixed words,
validated names, a duration it formats), never a spec string, and are checked to hold no Jinja.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from compiler.envvars import Engine, EnvVar, Piece, Secret
from compiler.matrix import Combination
from compiler.plan import Plan, PlanStage
from compiler.render.encode import Encoded, python_literal, trusted
from compiler.render.runner import GATE_FAILED, RUNNER, control_env
from compiler.render.templating import render as render_template
from compiler.spec.values import Ref, duration_seconds
from compiler.targets.airflow.names import (
    approval_task_ids,
    dag_path,
    file_stem,
    stage_dag_id,
    task_ids,
)
from compiler.targets.airflow.names import settings as _settings
from compiler.targets.base import OutputFile


@dataclass(frozen=True)
class _Task:
    task_id: str
    run: str | None
    recipe: dict[str, Encoded]        # the whole environment: name -> Python expression
    settings: dict[str, Encoded]      # every other `_task()` argument: name -> Python literal
    upstream: tuple[str, ...]
    # Set by _split, once every task of the file is known: what the file's shared values lack.
    env: Encoded = trusted("{}")      # a Python dict expression
    overrides: tuple[tuple[str, Encoded], ...] = ()
    kind: str = "stage"


@dataclass(frozen=True)
class _Approval:
    """`_approval()`: a human approves the tasks of a deploy stage before they run."""

    task_id: str
    subject: Encoded                  # Python literals of compiler-made text (template fields)
    body: Encoded
    upstream: tuple[str, ...]
    run: None = None                  # not a stage task (the template tells them apart by kind)
    kind: str = "approval"


# `_task()` arguments besides task_id, run and env, in the order written.
_SETTINGS: dict[str, tuple[str, ...]] = {
    "bash": ("secrets", "retries", "retry_delay", "timeout"),
    "kubernetes": ("secrets", "image", "cpu", "memory", "gpu", "retries", "retry_delay",
                   "timeout"),
}


@dataclass(frozen=True)
class _Dag:
    dag_id: str
    var: str
    description: str | None
    doc_md: str
    schedule: str | None
    tags: list[str]
    tasks: tuple[_Task | _Approval, ...]


def _env_recipe(env: tuple[EnvVar, ...], combo: Combination | None) -> dict[str, Encoded]:
    """The task's environment: literal values as Python strings, values with `${params.x}` as
    tuples of strings and `ParamRef("x")`, resolved when the task runs; the run id as
    `(RUN_ID,)`, read from the task's context. Matrix values are known per task: they become
    literal text. Secrets come from the worker (or a Secret): see `_secret_env`. A commit the
    build did not stamp is unknown to a DAG run: MLOPS_GIT_SHA is then left out."""
    matrix = dict(combo.texts) if combo is not None else {}
    recipe: dict[str, Encoded] = {}
    for var in env:
        pieces = var.pieces if not matrix else tuple(
            matrix[p.name] if isinstance(p, Ref) and p.kind == "matrix" else p
            for p in var.pieces)
        value = _encoded(var.origin, pieces)
        if value is not None:
            recipe[var.name] = value
    return recipe


@functools.lru_cache(maxsize=4096)
def _encoded(origin: str, pieces: tuple[Piece, ...]) -> Encoded | None:
    """One variable's value as `_env_recipe` writes it (None: left out of the recipe), by its
    pieces alone: most variables are the same in every stage, and a 10,000-stage spec would
    encode them 10,000 times."""
    if pieces == (Engine("run_id"),):
        return trusted("(RUN_ID,)")
    if origin == "secret" or any(isinstance(p, (Engine, Secret)) for p in pieces):
        return None
    return _pieces(list(pieces))  # type: ignore[arg-type]


def _secret_env(env: tuple[EnvVar, ...]) -> tuple[tuple[str, str], ...]:
    """(variable, secret name) of every secret the environment reads (tracking tokens too)."""
    return tuple((var.name, var.pieces[0].name) for var in env
                 if len(var.pieces) == 1 and isinstance(var.pieces[0], Secret))


def _text_expression(text: str) -> Encoded:
    """A long text as a parenthesized run of Python string literals, one per line of it, so
    the file shows fixed scripts (the runner) as they read."""
    lines = text.splitlines(keepends=True)
    return trusted("(\n" + "".join(f"    {python_literal(line)}\n" for line in lines) + ")")


def _dict_expression(items: dict[str, Encoded], indent: str) -> Encoded:
    """`{'NAME': value, ...}` with one entry per line, keys sorted: a Python dict expression."""
    if not items:
        return trusted("{}")
    lines = "".join(f"\n{indent}    {python_literal(k)}: {v}," for k, v in sorted(items.items()))
    return trusted("{" + lines + "\n" + indent + "}")


def _pieces(pieces: list[str | Ref]) -> Encoded:
    merged: list[str | Ref] = []
    for piece in pieces:  # join adjacent literals (matrix values became literals)
        last = merged[-1] if merged else None
        if isinstance(piece, str) and isinstance(last, str):
            merged[-1] = last + piece
        else:
            merged.append(piece)
    literals = [p for p in merged if isinstance(p, str)]
    if len(literals) == len(merged):
        return python_literal("".join(literals))
    encoded = [python_literal(p) if isinstance(p, str) else
               trusted(f"ParamRef({python_literal(p.name)})") for p in merged]  # params only
    return trusted("(" + ", ".join(encoded) + ("," if len(encoded) == 1 else "") + ")")


_JINJA = ("{{", "{%", "{#")


def _duration_text(seconds: int) -> str:
    """5400 -> `1h30m`, 86400 -> `24h`: a duration as the compiler writes it (never the spec's
    text)."""
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _approval(plan: Plan, stage: PlanStage, task_id: str,
              upstream: tuple[str, ...]) -> _Approval:
    """The approval task of a deploy stage. Airflow renders its subject and body with Jinja:
    they are made here from fixed words and names the spec validated as identifiers
    (`[a-z][a-z0-9_-]*`), and checked, so no spec text and no Jinja can reach them."""
    timeout = _duration_text(duration_seconds(_settings(plan).approval_timeout))
    subject = f"Approve stage {stage.name} of {plan.pipeline} in {plan.environment}?"
    body = (f"Deploy stage `{stage.name}` of pipeline `{plan.pipeline}` waits for approval "
            f"in environment `{plan.environment}`.\n\n"
            f"**Approve** to run it. **Reject**, or no answer within {timeout}, fails this "
            "task: the deploy does not run.")
    for text in (subject, body):
        if any(mark in text for mark in _JINJA):  # pragma: no cover - names are identifiers
            raise AssertionError(f"Jinja in the approval text of stage {stage.name!r}")
    return _Approval(task_id, python_literal(subject), python_literal(body), upstream)


def _tasks(plan: Plan, stages: tuple[PlanStage, ...], ids: dict[str, tuple[str, ...]],
           approvals: dict[str, str], operator: str) -> Iterator[_Task | _Approval]:
    for stage in stages:
        upstream = tuple(t for need in stage.needs for t in ids[need])
        if stage.name in approvals:  # the stage's tasks wait for a human
            yield _approval(plan, stage, approvals[stage.name], upstream)
            upstream = (approvals[stage.name],)
        values: dict[str, Any] = {
            "secrets": _secret_env(stage.env),
            "image": stage.image, "cpu": stage.resources.cpu, "memory": stage.resources.memory,
            "gpu": stage.resources.gpu, "retries": stage.policy.retries,
            "retry_delay": stage.policy.retry_delay, "timeout": stage.policy.timeout,
        }
        settings = {name: python_literal(values[name]) for name in _SETTINGS[operator]}
        control = {name: python_literal(value) for name, value in
                   control_env(stage, retries=False, timeout=False)}
        combos: tuple[Combination | None, ...] = stage.combinations or (None,)
        for task_id, combo in zip(ids[stage.name], combos):
            yield _Task(task_id=task_id, run=stage.run,
                        recipe={**_env_recipe(stage.env, combo), **control},
                        settings=settings, upstream=upstream)


def _doc_md(plan: Plan, stage: PlanStage | None, approval: bool) -> str:
    lines = [plan.description or f"The {plan.pipeline} pipeline."]
    if stage is not None:
        lines = [f"Stage `{stage.name}` of the {plan.pipeline} pipeline, on its own schedule.",
                 "", *lines]
    if approval:
        lines += ["", "**Approval:** in this environment each deploy stage waits for a human "
                      "to approve its `approve_<stage>` task (Airflow 3.1+); a rejection or no "
                      "answer in time fails it, and the deploy does not run."]
    lines += ["", f"Generated from `{plan.spec_path}` by mlops-compiler; do not edit."]
    if plan.git_sha:
        lines.append(f"Built from commit `{plan.git_sha}`.")
    return "\n".join(lines)


def _approves(tasks: tuple[_Task | _Approval, ...]) -> bool:
    return any(isinstance(t, _Approval) for t in tasks)


def _tags(plan: Plan) -> list[str]:
    tags = ["mlops", plan.pipeline]
    if plan.environment:
        tags.append(plan.environment)
    if plan.git_sha:
        tags.append(f"git:{plan.git_sha}")
    return tags


def _dags(plan: Plan, operator: str) -> tuple[_Dag, ...]:
    stem = file_stem(plan)
    ids = {stage.name: task_ids(stage) for stage in plan.stages}  # once: specs may be big
    approvals = approval_task_ids(plan)
    tasks = tuple(_tasks(plan, plan.pipeline_stages, ids, approvals, operator))
    dags = [_Dag(stem, "dag", plan.description or None, _doc_md(plan, None, _approves(tasks)),
                 plan.schedule, _tags(plan), tasks)]
    for index, stage in enumerate(plan.scheduled_stages, start=1):
        tasks = tuple(_tasks(plan, (stage,), ids, approvals, operator))
        dags.append(_Dag(stage_dag_id(plan, stage), f"stage_dag_{index}",
                         plan.description or None, _doc_md(plan, stage, _approves(tasks)),
                         stage.schedule, _tags(plan), tasks))
    return tuple(dags)


def _split(plan: Plan, dags: tuple[_Dag, ...], operator: str) -> tuple[
        dict[str, Encoded], dict[str, Encoded], tuple[_Dag, ...]]:
    """What the file writes once, and the DAGs with each task reduced to what differs.

    Both shared parts are what the spec itself shares (`Plan.defaults`: its `defaults:` and
    top-level values), never what most stages happen to have, so editing one stage changes
    only that stage's task:
    - BASE_ENV: the environment a stage that sets nothing of its own gets (pipeline,
      environment, params, top-level and default env); each task's `env` has the rest.
    - `_task()`'s defaults: the settings a stage that sets nothing gets (retries, timeout,
      secrets, image, resources); a task passes only the settings that differ.

    Airflow compiles the whole file every time it parses the DAG folder: written out for every
    task, these made a 1,000-task file 1 MB, slower to load than the operators it makes.
    """
    base = plan.defaults
    shared = _env_recipe(base.env, None)
    values: dict[str, Any] = {
        "secrets": _secret_env(base.env), "image": base.image,
        "cpu": base.resources.cpu, "memory": base.resources.memory, "gpu": base.resources.gpu,
        "retries": base.policy.retries, "retry_delay": base.policy.retry_delay,
        "timeout": base.policy.timeout,
    }
    defaults = {name: python_literal(values[name]) for name in _SETTINGS[operator]}
    def reduced(task: _Task | _Approval) -> _Task | _Approval:
        if isinstance(task, _Approval):
            return task
        env = {k: v for k, v in task.recipe.items() if shared.get(k) != v}
        # Every stage gets every shared variable: only a secret of the same name could take
        # one away, and lint refuses that (a name that is both env and secret is ambiguous).
        assert task.run is None or shared.keys() <= task.recipe.keys(), task.task_id
        return replace(task, env=_dict_expression(env, "    "),
                       overrides=tuple((k, v) for k, v in task.settings.items()
                                       if v != defaults[k]))

    return shared, defaults, tuple(
        replace(d, tasks=tuple(reduced(t) for t in d.tasks)) for d in dags)


def render_dag(plan: Plan) -> str:
    settings = _settings(plan)
    pod = plan.pod
    depth = len([p for p in settings.path.split("/") if p not in ("", ".")])
    operator = settings.operator
    base_env, defaults, dags = _split(plan, _dags(plan, operator), operator)
    return render_template(
        "airflow/dag.py.j2",
        pipeline=plan.pipeline,
        owner=plan.owner or "airflow",
        dags=dags,
        base_env=_dict_expression(base_env, ""),
        defaults=defaults,
        empty=any(t.run is None and isinstance(t, _Task) for d in dags for t in d.tasks),
        approval=any(_approves(d.tasks) for d in dags),
        approval_timeout=duration_seconds(settings.approval_timeout),
        kubernetes=operator == "kubernetes",
        depth=depth,
        dag_path=dag_path(plan).replace(file_stem(plan), "<file>"),
        workdir_absolute=(settings.workdir or "").startswith("/"),
        workdir=settings.workdir or ".",
        params=[{"name": p.name, "default": p.default, "schema": dict(p.schema)}
                for p in plan.params],
        runner=_text_expression(RUNNER),
        gate_failed=GATE_FAILED,
        namespace=settings.namespace or pod.namespace,
        service_account=pod.service_account,
        secret_name=pod.secret_name,
        image_pull_secrets=list(pod.image_pull_secrets),
        workspace_claim=f"mlops-{plan.dns}-workspace",
        gpu_node_selector=dict(pod.gpu_node_selector),
        gpu_tolerations=[{k: v for k, v in (("key", t.key), ("operator", t.operator),
                                            ("value", t.value), ("effect", t.effect))
                          if v is not None} for t in pod.gpu_tolerations],
    )


def render(plan: Plan) -> list[OutputFile]:
    return [OutputFile(dag_path(plan), render_dag(plan))]
