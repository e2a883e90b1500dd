"""The Airflow target: one self-contained DAG file per plan, for Airflow 2.10+ and 3.x.

Layout of `{targets.airflow.path}/mlops_<pipeline>[_<env>].py`:

- the pipeline DAG, dag_id = the file's stem, with the pipeline's schedule (or none);
- in the same file, one DAG per scheduled stage (`<stem>__<stage>`), on the stage's cron;
- a matrix stage expands into one task per combination (`<stage>__<axis>-<value>...`), and
  the tasks of a downstream stage depend on every one of them.

Spec strings reach the file only as Python literals, and the generated operators declare no
templated fields, so Airflow renders no Jinja in them (SPEC.md section 5).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from compiler.plan import Plan, PlanStage, Scalar
from compiler.render import gate
from compiler.render.base import OutputFile
from compiler.render.pod import DEFAULT_CPU, DEFAULT_MEMORY, cpu_memory
from compiler.render.encode import Encoded, python_literal, trusted
from compiler.render.templating import render
from compiler.spec.models import AirflowTarget as AirflowSettings
from compiler.spec.models import KubernetesTarget as KubernetesSettings
from compiler.spec.params import env_text
from compiler.spec.values import Ref

# Pods need cpu and memory requests equal to limits (SPEC.md section 5); these apply when the
# spec sets neither a stage's nor the defaults' resources (the same as the kubernetes target).

_TASK_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_TASK_ID_MAX = 200  # Airflow allows 250; leave room for the suffixes below


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


# `_task()` arguments besides task_id, run and env, in the order written, with the value used
# when a file has no stage task to take a default from.
_SETTINGS: dict[str, dict[str, Any]] = {
    "bash": {"gated": False, "secret_names": (), "retries": 0, "retry_delay": None,
             "timeout": None},
    "kubernetes": {"gated": False, "secret_names": (), "image": None, "cpu": DEFAULT_CPU,
                   "memory": DEFAULT_MEMORY, "gpu": 0, "retries": 0, "retry_delay": None,
                   "timeout": None},
}


@dataclass(frozen=True)
class _Dag:
    dag_id: str
    var: str
    description: str | None
    doc_md: str
    schedule: str | None
    tags: list[str]
    tasks: tuple[_Task, ...]


def file_stem(plan: Plan) -> str:
    """`mlops_<pipeline>[_<env>]`, a Python module name and the pipeline's dag_id."""
    env = f"_{plan.environment}" if plan.environment else ""
    return f"mlops_{plan.pipeline}{env}".replace("-", "_")


def dag_path(plan: Plan) -> str:
    directory = _settings(plan).path.strip("/")
    return f"{directory}/{file_stem(plan)}.py" if directory not in ("", ".") else \
        f"{file_stem(plan)}.py"


def _settings(plan: Plan) -> AirflowSettings:
    return plan.airflow or AirflowSettings.model_validate({})


def matrix_combinations(stage: PlanStage) -> tuple[tuple[tuple[str, Scalar], ...], ...]:
    """Every combination of the stage's axes, in the order written (one empty one without)."""
    axes = [[(axis, value) for value in values] for axis, values in stage.matrix]
    return tuple(tuple(combo) for combo in itertools.product(*axes))


def task_ids(stage: PlanStage) -> tuple[str, ...]:
    """Task ids of a stage, one per matrix combination: valid, unique and deterministic.

    A readable `<stage>__<axis>-<value>...`; when a value needs characters Airflow does not
    allow, or two combinations would share an id, a short hash of the combination is added.
    """
    combos = matrix_combinations(stage)
    if not stage.matrix:
        return (stage.name,)
    raw = [stage.name + "".join(f"__{axis}-{env_text(value)}" for axis, value in combo)
           for combo in combos]
    safe = [_TASK_ID_UNSAFE.sub("_", r)[:_TASK_ID_MAX] for r in raw]
    safe_counts = Counter(safe)
    ids = []
    for r, s, combo in zip(raw, safe, combos):
        if s != r or safe_counts[s] > 1:
            digest = hashlib.sha256(json.dumps([[a, v] for a, v in combo]).encode()).hexdigest()
            s = f"{s}__{digest[:8]}"
        ids.append(s)
    # identical combinations (a value listed twice) still need distinct ids
    counts = Counter(ids)
    return tuple(s if counts[s] == 1 else f"{s}__{i}" for i, s in enumerate(ids))


def _env_recipe(plan: Plan, stage: PlanStage,
                combo: tuple[tuple[str, Scalar], ...]) -> dict[str, Encoded]:
    """The task's environment: literal values as Python strings, values with `${params.x}` as
    tuples of strings and `ParamRef("x")`, resolved when the task runs."""
    matrix = {axis: env_text(value) for axis, value in combo}
    recipe: dict[str, Encoded] = {}
    for name, value in plan.builtin_env(stage):
        recipe[name] = python_literal(value)
    for param in plan.params:
        recipe[param.var] = trusted(f"(ParamRef({python_literal(param.name)}),)")
    for axis, text in matrix.items():
        recipe[Ref("matrix", axis).var] = python_literal(text)
    for name, text in gate.gate_env(stage):
        recipe[name] = python_literal(text)
    for name, parts in stage.env:
        # matrix values are known per task: they become literal text here
        recipe[name] = _pieces([matrix[p.name] if isinstance(p, Ref) and p.kind == "matrix"
                                else p for p in parts])
    return recipe


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


def _tasks(plan: Plan, stages: tuple[PlanStage, ...], ids: dict[str, tuple[str, ...]],
           operator: str) -> Iterator[_Task]:
    for stage in stages:
        upstream = tuple(t for need in stage.needs for t in ids[need])
        values: dict[str, Any] = {
            "gated": bool(gate.gate_env(stage)), "secret_names": stage.secrets,
            "image": stage.image, **cpu_memory(stage), "gpu": stage.gpu,
            "retries": stage.retries, "retry_delay": stage.retry_delay, "timeout": stage.timeout,
        }
        settings = {name: python_literal(values[name]) for name in _SETTINGS[operator]}
        for task_id, combo in zip(ids[stage.name], matrix_combinations(stage)):
            yield _Task(task_id=task_id, run=stage.run, recipe=_env_recipe(plan, stage, combo),
                        settings=settings, upstream=upstream)


def _doc_md(plan: Plan, stage: PlanStage | None) -> str:
    lines = [plan.description or f"The {plan.pipeline} pipeline."]
    if stage is not None:
        lines = [f"Stage `{stage.name}` of the {plan.pipeline} pipeline, on its own schedule.",
                 "", *lines]
    if plan.approval:
        lines += ["", "**Approval:** deploy stages require approval in this environment. "
                      "Airflow has no native approval step: trigger or unpause this DAG only "
                      "after a human approved the release."]
    lines += ["", f"Generated from `{plan.spec_path}` by mlops-compiler; do not edit."]
    if plan.git_sha:
        lines.append(f"Built from commit `{plan.git_sha}`.")
    return "\n".join(lines)


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
    dags = [_Dag(stem, "dag", plan.description or None, _doc_md(plan, None), plan.schedule, _tags(plan),
                 tuple(_tasks(plan, plan.pipeline_stages, ids, operator)))]
    for index, stage in enumerate(plan.scheduled_stages, start=1):
        dags.append(_Dag(f"{stem}__{stage.name.replace('-', '_')}", f"stage_dag_{index}",
                         plan.description or None, _doc_md(plan, stage), stage.schedule,
                         _tags(plan), tuple(_tasks(plan, (stage,), ids, operator))))
    return tuple(dags)


def _split(dags: tuple[_Dag, ...], operator: str) -> tuple[
        dict[str, Encoded], dict[str, Encoded], tuple[_Dag, ...]]:
    """What the file writes once, and the DAGs with each task reduced to what differs.

    - BASE_ENV: the environment entries every stage task shares (pipeline, environment,
      params, spec-wide variables); each task's `env` has the rest.
    - `_task()`'s defaults: for each setting (retries, timeout, secrets...), the value most
      tasks have (the first one seen on a tie); a task passes only the settings that differ.

    Airflow compiles the whole file every time it parses the DAG folder: written out for every
    task, these made a 1,000-task file 1 MB, slower to load than the operators it makes.
    """
    stage_tasks = [t for d in dags for t in d.tasks if t.run is not None]
    shared = dict(stage_tasks[0].recipe) if stage_tasks else {}
    for task in stage_tasks[1:]:
        shared = {k: v for k, v in shared.items() if task.recipe.get(k) == v}
    defaults = {name: python_literal(value) for name, value in _SETTINGS[operator].items()}
    for name in defaults:
        counts = Counter(t.settings[name] for t in stage_tasks)
        if counts:
            defaults[name] = counts.most_common(1)[0][0]  # ties: first seen (Counter keeps order)

    def reduced(task: _Task) -> _Task:
        return replace(
            task,
            env=_dict_expression({k: v for k, v in task.recipe.items() if k not in shared}, "    "),
            overrides=tuple((k, v) for k, v in task.settings.items() if v != defaults[k]))

    return shared, defaults, tuple(
        replace(d, tasks=tuple(reduced(t) for t in d.tasks)) for d in dags)


def _tolerations(kubernetes: KubernetesSettings) -> list[dict[str, Any]]:
    return [{k: v for k, v in t.model_dump().items() if v is not None}
            for t in kubernetes.gpu_tolerations]


def render_dag(plan: Plan) -> str:
    settings = _settings(plan)
    kubernetes = plan.kubernetes or KubernetesSettings.model_validate({})
    depth = len([p for p in settings.path.split("/") if p not in ("", ".")])
    operator = settings.operator
    base_env, defaults, dags = _split(_dags(plan, operator), operator)
    return render(
        "airflow/dag.py.j2",
        pipeline=plan.pipeline,
        owner=plan.owner or "airflow",
        dags=dags,
        base_env=_dict_expression(base_env, ""),
        defaults=defaults,
        empty=any(t.run is None for d in dags for t in d.tasks),
        kubernetes=operator == "kubernetes",
        depth=depth,
        dag_path=dag_path(plan).replace(file_stem(plan), "<file>"),
        workdir_absolute=(settings.workdir or "").startswith("/"),
        workdir=settings.workdir or ".",
        params=[{"name": p.name, "default": p.default, "schema": dict(p.schema)}
                for p in plan.params],
        gate_script=gate.GATE_SCRIPT,
        namespace=settings.namespace or kubernetes.namespace or "default",
        service_account=kubernetes.service_account,
        secret_name=kubernetes.secret_name or f"mlops-{plan.dns}",
        workspace_claim=f"mlops-{plan.dns}-workspace",
        gpu_node_selector=dict(sorted(kubernetes.gpu_node_selector.items())),
        gpu_tolerations=_tolerations(kubernetes),
    )


class AirflowTarget:
    """`targets.airflow`: DAG files for Airflow 2.10+ and 3.x."""

    name = "airflow"

    def render(self, plan: Plan) -> list[OutputFile]:
        return [OutputFile(dag_path(plan), render_dag(plan))]

    def repository_files(self, plans: tuple[Plan, ...]) -> list[OutputFile]:
        return []  # each DAG file is self-contained

