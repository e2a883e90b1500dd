"""The Kubeflow target: `<targets.kubeflow.path>/<pipeline>[-<env>].yaml`, the KFP v2 pipeline
IR (`PipelineSpec`, schema 2.1.0) and, as a second YAML document, the `platforms.kubernetes`
document kfp-kubernetes writes (`PlatformSpec`), which Vertex AI ignores.

Per pipeline stage: a task of the root DAG, whose `MLOPS_SCRIPT` input is the stage script
(`task.script`); a matrix stage's task sits in a `ParallelFor` (a task with a
`parameterIterator` over the combinations' indexes, whose component is a DAG of that one task).
Per shape of stage (`compiler.render.shapes`: image, resources, run-time arguments, secrets,
deadline, GPU placement): one component `comp-stage-<hash>` and its executor
`exec-stage-<hash>`, a container that runs `task.WRAPPER` (the stage runner behind a fixed
prologue) with the task's script as its first argument. Writing the 5 kB wrapper once per shape
rather than once per stage makes a stage about 1.3 kB instead of 7.5 (issue 16), in the file and
in the Argo Workflow that Kubeflow Pipelines makes of it, which holds each distinct executor
once (keyed by a hash of its container) and every task. That key is also why stages share a
component only with an identical executor: KFP's backend keeps the first component spec it sees
for a container and would give it to every task of that container.
Params are typed inputs of the root DAG, passed to every task. The platform document gives each
executor the spec's secrets (`secretAsEnv`, from `Plan.pod.secret_name`), a non-root user, a
writable `/tmp`, a deadline, GPU placement, and the run's workspace.

Caching is what the spec says: on for `cache: true` stages, explicitly off for every other
(KFP's SDK turns it on by default). A stage without a gate retries by KFP's `retryPolicy`, each
attempt a new pod; a gated stage retries in its pod (the stage runner), because KFP would also
retry a failed gate. Each attempt's timeout is the runner's (KFP has none per attempt).
"""

from __future__ import annotations

from compiler.diagnostics import quote

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from compiler import __version__
from compiler.plan import Plan, PlanStage
from compiler.pods import RUN_AS
from compiler.render.params_check import needs_check
from compiler.render.shapes import shape_name
from compiler.render.templating import render as render_template
from compiler.targets.base import OutputFile
from compiler.targets.kubeflow import NAME, KubeflowSettings
from compiler.targets.kubeflow.names import file_path, pipeline_name
from compiler.targets.kubeflow import task as tasks

SCHEMA_VERSION = "2.1.0"
_TYPES = {"string": "STRING", "integer": "NUMBER_INTEGER", "number": "NUMBER_DOUBLE",
          "boolean": "BOOLEAN"}
# Kubernetes quantity suffixes (apimachinery resource.Quantity).
_SUFFIX: dict[str, Decimal] = {
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
    "Pi": Decimal(2**50), "Ei": Decimal(2**60), "n": Decimal("1e-9"), "u": Decimal("1e-6"),
    "m": Decimal("1e-3"), "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9),
    "T": Decimal(10**12), "P": Decimal(10**15), "E": Decimal(10**18)}
_QUANTITY = re.compile(r"\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
                       r"([KMGTPE]i|[eE][-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)|[numkMGTPE])?")
CHECK_TASK = "mlops-check-params"
# Shapes are `stage-<hash>`, whatever the stages' types: KFP's backend stores one copy of each
# distinct executor anyway, and names that differ only by type would be copies in the file.
SHAPE_PREFIX = "stage"
CHECK_RESOURCES = {"cpu": "100m", "memory": "128Mi", "cores": 0.1, "gigabytes": 0.134217728,
                   "accelerator": None, "gpu": "0"}
CHECK_DEADLINE = 300  # seconds: the check reads a few variables
DEADLINE_MARGIN = 60  # seconds for the pod to start, the gate and the launcher


@dataclass(frozen=True)
class Input:
    name: str
    kind: str            # "component": a component input of the enclosing DAG; "constant"
    value: str


@dataclass(frozen=True)
class Task:
    name: str
    component: str
    depends: tuple[str, ...]
    inputs: tuple[Input, ...]
    cache: bool | None                  # None: a loop task (its inner task caches)
    retry: dict[str, Any] | None
    items: str | None = None            # ParallelFor: the combinations' indexes, JSON


def _settings(plan: Plan) -> KubeflowSettings:
    settings = plan.settings(NAME)
    assert isinstance(settings, KubeflowSettings)
    return settings


def render(plan: Plan) -> list[OutputFile]:
    if not plan.pipeline_stages:
        return []  # only scheduled stages: a KFP file holds none of them (MLP401 says so)
    return [OutputFile(file_path(plan), render_template("kubeflow/pipeline.yaml.j2",
                                                        **_context(plan)))]


# ------------------------------------------------------------------------------ names


def loop_names(plan: Plan) -> dict[str, str]:
    """Stage -> the name of the ParallelFor task (and its DAG component) of a matrix stage:
    `for-each-<stage>`, made unique if a stage already has that name."""
    taken = {s.dns for s in plan.pipeline_stages}
    names = {}
    for stage in plan.pipeline_stages:
        if stage.combinations:
            name = f"for-each-{stage.dns}"
            while name in taken:
                name += "-x"
            taken.add(name)
            names[stage.name] = name
    return names


def check_name(plan: Plan) -> str | None:
    """The task that checks a run's params before any stage, if KFP would not check them all
    itself (it checks types only): `mlops-check-params`, made unique like the loops' names."""
    if not needs_check(plan.params, checked=("type",)):
        return None
    taken = {s.dns for s in plan.pipeline_stages} | set(loop_names(plan).values())
    name = CHECK_TASK
    while name in taken:
        name += "-x"
    return name


def component(name: str) -> str:
    """The component of a task (the params check, a loop) or of a shape."""
    return f"comp-{name}"


def executor(name: str) -> str:
    return f"exec-{name}"


# ----------------------------------------------------------------------------- values


def quantity(text: str) -> Decimal:
    """A Kubernetes quantity's value ("500m" -> 0.5, "2Gi" -> 2147483648, "1e3" -> 1000)."""
    match = _QUANTITY.fullmatch(text)
    assert match is not None, f"not a quantity: {quote(text)} (the spec model checks them)"
    number, suffix = match.group(1), match.group(2) or ""
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        return Decimal(number + suffix)
    return Decimal(number) * _SUFFIX.get(suffix, Decimal(1))


def _number(value: Decimal) -> float:
    return float(value.normalize())


def _resources(settings: KubeflowSettings, stage: PlanStage) -> dict[str, Any]:
    r = stage.resources
    return {"cpu": r.cpu, "memory": r.memory, "cores": _number(quantity(r.cpu)),
            "gigabytes": _number(quantity(r.memory) / 10**9),
            "accelerator": settings.accelerator if r.gpu else None, "gpu": str(r.gpu)}


def native_retries(stage: PlanStage) -> bool:
    """KFP retries (a new pod each attempt) unless a failed gate could be retried with them."""
    return stage.gate is None


def _retry(stage: PlanStage) -> dict[str, Any] | None:
    policy = stage.policy
    if not native_retries(stage) or not policy.retries:
        return None
    return {"count": policy.retries,
            "delay": f"{policy.retry_delay}s" if policy.retry_delay else None}


def deadline(stage: PlanStage) -> int | None:
    """Seconds the pod may run: every attempt it makes, with the runner's kill grace, and the
    delays between them; a backstop, since the runner bounds each attempt itself."""
    seconds = stage.policy.longest_seconds(1 if native_retries(stage) else stage.policy.retries + 1)
    return None if seconds is None else seconds + DEADLINE_MARGIN


# ---------------------------------------------------------------------------- context


def _stage_inputs(plan: Plan, stage: PlanStage, workspace: bool, inside_loop: bool
                  ) -> tuple[Input, ...]:
    found = [Input(tasks.SCRIPT_INPUT, "constant",
                   tasks.script(plan, stage, native_retries=native_retries(stage)))]
    for var, name in tasks.arguments(plan, stage, workspace=workspace):
        if var == tasks.WORKSPACE_VAR:
            found.append(Input(name, "constant", tasks.WORKSPACE_PLACEHOLDER))
        elif var == tasks.RUN_ID_VAR:
            found.append(Input(name, "constant", tasks.RUN_ID_PLACEHOLDER))
        else:  # a param, or the loop's item
            found.append(Input(name, "component", name))
    assert inside_loop or not stage.combinations
    return tuple(found)


def _shape(plan: Plan, settings: KubeflowSettings, stage: PlanStage, workspace: bool,
           param_inputs: list[tuple[str, str]]) -> dict[str, Any]:
    """What the component, executor and platform config of `stage` hold: everything of the
    stage but its script (`_stage_inputs`), which its task gives."""
    arguments = tasks.arguments(plan, stage, workspace=workspace)
    params = {p.var for p in plan.params}
    image = stage.image or (stage.serve.image if stage.serve else None)
    assert image is not None, f"stage {quote(stage.name)} has no image (lint should have said so)"
    gpu = stage.resources.gpu > 0
    return {
        "inputs": [(tasks.SCRIPT_INPUT, "STRING"),
                   *((name, "STRING") for var, name in arguments if var not in params),
                   *param_inputs],
        "image": image,
        "args": [tasks.placeholder(tasks.SCRIPT_INPUT)]
        + [f"{var}={tasks.placeholder(name)}" for var, name in arguments],
        "resources": _resources(settings, stage),
        "platform": {
            "secrets": list(tasks.secret_env(stage)),
            "deadline": deadline(stage),
            "node_selector": list(plan.pod.gpu_node_selector) if gpu else [],
            "tolerations": list(plan.pod.gpu_tolerations) if gpu else [],
        },
    }


def _add_check(plan: Plan, name: str, root_tasks: list[Task], components: list[dict[str, Any]],
               executors: list[dict[str, Any]], platform: list[dict[str, Any]]) -> None:
    """The params check task. It runs in the first stage's image (the check needs python3,
    as a gate does), never cached (it must see each run's values) and never retried."""
    params = tuple(Input(p.name, "component", p.name) for p in plan.params)
    root_tasks.append(Task(name, component(name), (), params, False, None))
    components.append({"name": component(name), "executor": executor(name),
                       "inputs": [(p.name, _TYPES[p.schema["type"]]) for p in plan.params],
                       "tasks": None})
    first = plan.pipeline_stages[0]
    image = first.image or (first.serve.image if first.serve else None)
    assert image is not None, "the first stage has no image (lint should have said so)"
    executors.append({"label": executor(name), "image": image, "command": list(tasks.COMMAND),
                      "args": [tasks.check_script(plan)] + [
                          f"{var}={tasks.placeholder(input_name)}"
                          for var, input_name in tasks.check_arguments(plan)],
                      "resources": CHECK_RESOURCES})
    platform.append({"label": executor(name), "secrets": [], "deadline": CHECK_DEADLINE,
                     "node_selector": [], "tolerations": []})


def _context(plan: Plan) -> dict[str, Any]:
    settings = _settings(plan)
    loops = loop_names(plan)
    root_name = {s.name: loops.get(s.name, s.dns) for s in plan.pipeline_stages}
    params = [{"name": p.name, "type": _TYPES[p.schema["type"]], "default": p.default,
               "description": p.schema.get("description")} for p in plan.params]
    param_inputs = [(p.name, _TYPES[p.schema["type"]]) for p in plan.params]
    root_tasks: list[Task] = []
    components: list[dict[str, Any]] = []
    executors: list[dict[str, Any]] = []
    platform: list[dict[str, Any]] = []
    check = check_name(plan)
    if check is not None:
        _add_check(plan, check, root_tasks, components, executors, platform)
    shapes: dict[str, dict[str, Any]] = {}  # shape name -> what its component holds
    for stage in plan.pipeline_stages:
        workspace = tasks.runs_in_workspace(plan, stage, settings.workspace is not None)
        shape = _shape(plan, settings, stage, workspace, param_inputs)
        name = shape_name(SHAPE_PREFIX, shape)
        assert shapes.setdefault(name, shape) == shape, f"two shapes named {name}"
        # A stage with no upstream waits for the params check: a refused run starts nothing.
        depends = tuple(root_name[n] for n in stage.needs) or ((check,) if check else ())
        inner = Task(stage.dns, component(name), () if stage.combinations else depends,
                     _stage_inputs(plan, stage, workspace, True), stage.cache, _retry(stage))
        if stage.combinations:
            loop = loops[stage.name]
            components.append({"name": component(loop), "executor": None,
                               "inputs": [(tasks.COMBINATION_INPUT, "STRING"), *param_inputs],
                               "tasks": [inner]})
            root_tasks.append(Task(
                loop, component(loop), depends,
                tuple(Input(p.name, "component", p.name) for p in plan.params), None, None,
                items=json.dumps([str(c.index) for c in stage.combinations])))
        else:
            root_tasks.append(inner)
    for name, shape in shapes.items():
        components.append({"name": component(name), "executor": executor(name),
                           "inputs": shape["inputs"], "tasks": None})
        executors.append({"label": executor(name), "image": shape["image"],
                          "command": list(tasks.COMMAND), "args": shape["args"],
                          "resources": shape["resources"]})
        platform.append({"label": executor(name), **shape["platform"]})
    return {
        "name": pipeline_name(plan),
        "description": plan.description,
        "sdk_version": f"mlops-compiler-{__version__}",
        "schema_version": SCHEMA_VERSION,
        "params": params,
        "root_tasks": root_tasks,
        "components": sorted(components, key=lambda c: c["name"]),
        "executors": sorted(executors, key=lambda e: e["label"]),
        "platform": sorted(platform, key=lambda e: e["label"]),
        "secret_name": plan.pod.secret_name,
        "workspace": settings.workspace,
        "run_as": RUN_AS,
        "item_input": tasks.COMBINATION_INPUT,
    }
