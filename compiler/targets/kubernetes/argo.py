"""The Argo side of the Kubernetes target: the pipeline's WorkflowTemplates and CronWorkflow.

Size (issue 16): a stage's task names a step template shared by every stage of its type and
shape, `<type>-<hash>` (`shape_template`), and passes it one argument, the stage's name, which
becomes MLOPS_STAGE and so picks the stage's command and env file; so a task is a few lines
(about 200 bytes) however long its pod spec. `templateDefaults` is not used: Argo merges it
into every template, the DAG and the approval's suspend included (a default retryStrategy or
deadline there would retry the whole DAG or end the wait for a human), and into the params
check's container (which must not get the wrapper, the working directory or the workspace,
and a strategic merge cannot take them away); the shapes already make a template's bytes a
matter of a few templates per pipeline. The objects' size limits are `LIMITS`: with
`targets.kubernetes.apply: server-side` every object carries Argo CD's
`ServerSideApply=true` sync option and the 1 MiB object limit applies instead of the 262,144
bytes of client-side apply's annotation; the WorkflowTemplate keeps to 512 KiB, since every
run's Workflow holds a copy of its spec and must stay under Argo's 1 MiB with its node status.
A pipeline of more than `parts.STAGES_PER_WORKFLOW` stages (1,000) runs as a parent Workflow
of child Workflows, one per part of its stages, each from its own WorkflowTemplate
(`workflowtemplate-part-<n>.yaml`); `parts.py` says how, and what it costs. Splitting with
`templateRef` instead would not do: a run stores every template it references in its own
status (`status.storedTemplates`), so one Workflow would still hold them all.

Approval (an environment's `approval: true`): before each deploy stage, a task
`approve-<stage>` suspends the workflow for at most `approval_timeout` (default 24h). Its answer
is the suspend step's intermediate parameter `approve` (default `reject`); the deploy task, and
every task below it, runs only `when` the answer is `approve`. To approve, in one command:

    argo node set <workflow> --output-parameter approve=approve --phase Succeeded \
        --node-field-selector displayName=approve-<stage>

or resume the step in the Argo UI choosing `approve`. To reject: `argo resume <workflow>`, or
let the timeout pass; either gives the default, `reject`, and the deploy and what follows it
are skipped (the run still ends, so a CronWorkflow's `concurrencyPolicy: Forbid` skips later
runs for at most the timeout). The duration alone would not do: an Argo suspend step with a
`duration` resumes when it passes, which without the parameter would approve every deploy
nobody looked at. Do not resume the step with `argo resume --node-field-selector` alone: that
marks it done without an answer, and Argo then waits for one.

Params: Argo checks a run's parameter values only against `enum`. When any param has a bound,
a pattern or a type other than text, the DAG's first task, `mlops-check-params` (`-x` appended
while a stage has that name), runs the shared check (`compiler.render.params_check`) from the
ConfigMap with `python3 -I`, and every stage without upstream depends on it: a refused value
fails the workflow (exit 87, never retried) before any stage starts. It runs in the first
stage's image, which needs python3 anyway (the gate runs under it), with the values as every
step gets them (`{{workflow.parameters.X}}` in a pod annotation, read with the Downward API).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

from compiler.plan import Plan, PlanStage
from compiler.render.params_check import SCHEMAS_VAR
from compiler.render.runner import GATE_FAILED
from compiler.render.shapes import shape_name
from compiler.spec.params import env_text
from compiler.spec.values import duration_seconds
from compiler.targets.kubernetes import names, parts, scripts
from compiler.targets.kubernetes.names import template_name
from compiler.targets.kubernetes.pod import (
    STAGE_PARAMETER,
    PodEnv,
    common,
    meta,
    param_annotation,
    param_field,
    pod_env,
    run_sources,
    stage_image,
    target_settings,
)

APPROVE_TEMPLATE = "approve"
# The approval's answer: an intermediate parameter of the suspend step (Argo 3.4+), which a
# human sets; the default, taken when the step's `duration` passes unanswered or `argo resume`
# gives none, is a rejection. An Argo suspend with a duration *resumes* when it passes, so the
# duration alone would approve every deploy nobody looked at.
APPROVAL_PARAMETER = "approve"
APPROVE, REJECT = "approve", "reject"
# Argo retries a step only while this holds: a failed gate is a verdict, never retried.
NOT_A_FAILED_GATE = f'lastRetry.exitCode != "{GATE_FAILED}"'
# The params check (`check_task`): the first task of the DAG when a run's params need more
# checking than Argo's `enum`. Its template cannot be a stage's (`run-...`), `approve` or the
# DAG's `pipeline`; its task name is made unique against the stages' (`check_task`).
CHECK_TASK = "mlops-check-params"
CHECK_TEMPLATE = "check-params"
CHECK_CPU, CHECK_MEMORY = "100m", "128Mi"
CHECK_DEADLINE = 300  # seconds: the check reads a few variables
def shape_template(stage: PlanStage, step: dict[str, Any]) -> str:
    """The name of a stage's step template (`compiler.render.shapes`): a hash of everything
    the template holds for it (its `step`: image, env, resources, retries, deadline, matrix).
    No shape's name can be the DAG's `pipeline`, `approve` or `check-params`."""
    return shape_name(stage.type, step)


def approved(approve_tasks: tuple[str, ...], in_part: bool = False) -> Optional[str]:
    """The `when` of a task that runs only if every one of these approvals said `approve`
    (Argo compares the two sides as strings). In a part of a split pipeline (`parts.py`) the
    answers are the part's parameters, given by the parent that asked."""
    if not approve_tasks:
        return None
    if in_part:
        return " && ".join(f"{{{{workflow.parameters.{parts.approval_parameter(task)}}}}} == "
                           f"{APPROVE}" for task in approve_tasks)
    return " && ".join(f"{{{{tasks.{task}.outputs.parameters.{APPROVAL_PARAMETER}}}}} == {APPROVE}"
                       for task in approve_tasks)


def approval_task(plan: Plan, stage: PlanStage) -> str:
    """`approve-<stage>`, made unique if a stage already has that name (deterministically)."""
    taken = {s.dns for s in plan.stages}
    task = names.short_name(f"approve-{stage.dns}")
    while task in taken:
        task = names.short_name(f"{task}-x")
    return task


def check_task(plan: Plan) -> Optional[str]:
    """The task that checks a run's param values before any stage, when Argo would not check
    them all itself (`scripts.params_need_check`): `mlops-check-params`, with `-x` appended
    while a stage has that name (approval tasks start with `approve-`, so never do)."""
    if not scripts.params_need_check(plan):
        return None
    taken = {s.dns for s in plan.stages}
    task = CHECK_TASK
    while task in taken:
        task += "-x"
    return task


def _check_step(plan: Plan, annotations: list[tuple[str, str]]) -> dict[str, Any]:
    """The check's step: the fixed script from the ConfigMap under python3, in the first
    stage's image (a stage image needs python3 anyway, for the gate), with each param's value
    as every stage step gets it (an annotation that Argo fills in, read with the Downward API)
    and the schemas from the ConfigMap. No retries: a refused value (exit `PARAMS_FAILED`) is
    a verdict, and the workflow fails before any stage starts. No workspace either."""
    env = [PodEnv(scripts.GIT_SHA_VAR, config=scripts.GIT_SHA_KEY),  # as every pod (docstring)
           PodEnv(SCHEMAS_VAR, config=scripts.PARAMS_KEY, optional=False)]
    env += [PodEnv(p.var, field=param_field(p.name)) for p in plan.params]
    return {
        "template": CHECK_TEMPLATE, "matrix": False, "check": True,
        "image": stage_image(plan.pipeline_stages[0]), "env": env, "annotations": annotations,
        "cpu": CHECK_CPU, "memory": CHECK_MEMORY, "gpu": None, "retries": 0,
        "retry_delay": None, "retry_when": None, "timeout": CHECK_DEADLINE,
    }


def approval_guards(plan: Plan) -> dict[str, tuple[str, ...]]:
    """Each pipeline stage -> the approve tasks it waits for: its own (a deploy, when the
    environment asks for approval) and those of every deploy above it, so that nothing
    downstream of a rejected deploy runs either (a skipped task counts as done for
    `dependencies`). Stages are in topological order."""
    guards: dict[str, tuple[str, ...]] = {}
    for stage in plan.pipeline_stages:
        guard = [task for need in stage.needs for task in guards[need]]
        if plan.approval and stage.type == "deploy":
            guard.append(approval_task(plan, stage))
        guards[stage.name] = tuple(dict.fromkeys(guard))
    return guards


def _param_annotations(plan: Plan, part: parts.Part | None) -> list[tuple[str, str]]:
    # A run's param values reach the pod through annotations that Argo fills in, read back with
    # the Downward API: the kubelet expands `$(VAR)` in an env `value` (and reduces `$$` to
    # `$`), never in a `fieldRef`, so a run-time value reaches the stage byte for byte. A part
    # learns its run's id the same way (`parts.RUN_ID_PARAMETER`).
    found = [(param_annotation(p.name), f"{{{{workflow.parameters.{p.name}}}}}")
             for p in plan.params]
    if part is not None:
        found.append((parts.RUN_ID_ANNOTATION,
                      f"{{{{workflow.parameters.{parts.RUN_ID_PARAMETER}}}}}"))
    return found


def pipeline_workflow(plan: Plan, guards: dict[str, tuple[str, ...]],
              part: parts.Part | None = None) -> dict[str, Any]:
    """The WorkflowTemplate of the pipeline, or of one part of it (`parts.py`): a part has no
    params check and no approval steps of its own (its parent has them), its stages' `when`
    reads the approvals' answers from its parameters, and it mounts its parent's workspace.
    `guards`: `approval_guards(plan)`."""
    settings = target_settings(plan)
    stages = plan.pipeline_stages if part is None else part.stages
    inside = None if part is None else {stage.name for stage in stages}
    param_annotations = _param_annotations(plan, part)
    tasks: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    shapes: dict[str, dict[str, Any]] = {}  # template name -> its step (`shape_template`)
    # (type, the step's values) -> its template: equal keys are equal steps, and hashing the
    # step's JSON for each of 10,000 stages took most of this target's render.
    named: dict[tuple[Any, ...], str] = {}
    check = check_task(plan) if part is None else None
    if check is not None:
        tasks.append({"name": check, "template": CHECK_TEMPLATE, "dependencies": [],
                      "with_items": None, "when": None, "stage": None, "arguments": []})
        steps.append(_check_step(plan, param_annotations))
    for stage in stages:
        # A stage with no upstream waits for the params check: a refused run starts nothing.
        # (In a part, the upstream in earlier parts have finished before the part started.)
        dependencies = [plan.stage(n).dns for n in stage.needs
                        if inside is None or n in inside] or ([check] if check else [])
        if part is None and plan.approval and stage.type == "deploy":
            # Unconditional: a `when` reading a skipped task's output would never resolve.
            approve = approval_task(plan, stage)
            tasks.append({"name": approve, "template": APPROVE_TEMPLATE,
                          "dependencies": dependencies, "with_items": None, "when": None,
                          "stage": None, "arguments": []})
            dependencies = [approve]
        combos = stage.combinations
        step = {
            "matrix": bool(combos), "check": False,
            "image": stage_image(stage), "env": pod_env(plan, stage, "step", part is not None),
            "annotations": param_annotations,
            "cpu": stage.resources.cpu, "memory": stage.resources.memory,
            "gpu": stage.resources.gpu, "retries": stage.policy.retries,
            "retry_delay": f"{stage.policy.retry_delay}s" if stage.policy.retry_delay else None,
            "retry_when": NOT_A_FAILED_GATE if stage.gate is not None else None,
            "timeout": stage.policy.timeout,
        }
        key = (stage.type, *(tuple(v) if isinstance(v, list) else v for v in step.values()))
        template = named.get(key, "")
        if not template:  # a shape not seen yet
            template = named[key] = shape_template(stage, step)
            assert shapes.setdefault(template, step) == step, f"two shapes named {template}"
        tasks.append({"name": stage.dns, "template": template, "stage": stage.name,
                      "dependencies": dependencies, "arguments": [],
                      "with_items": [str(c.index) for c in combos] if combos else None,
                      "when": approved(guards[stage.name], part is not None)})
    # By name: where a template sits does not depend on which stage uses it first.
    steps += [{"template": name, **shapes[name]} for name in sorted(shapes)]
    name = template_name(plan) if part is None else parts.template_name(plan, part.index)
    return {
        **_workflow_common(plan, name),
        "params": _params(plan) + ([] if part is None else parts.child_parameters(part)),
        "workspace": settings.workspace,
        "workspace_claim": None if part is None else
        f"{{{{workflow.parameters.{parts.WORKSPACE_PARAMETER}}}}}",
        "run_sources": run_sources(plan, stages),
        "tasks": tasks,
        "steps": steps,
        "resources": [],
        "approvals": any(t["template"] == APPROVE_TEMPLATE for t in tasks),
    }


def parent_workflow(plan: Plan, split: Sequence[parts.Part]) -> dict[str, Any]:
    """The WorkflowTemplate `<pipeline>` of a pipeline split into parts (`parts.py`): the params
    check, each approval, and one step per part that creates its child Workflow."""
    settings = target_settings(plan)
    where = parts.part_of(split)
    check = check_task(plan)
    tasks: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    if check is not None:
        tasks.append({"name": check, "template": CHECK_TEMPLATE, "dependencies": [],
                      "with_items": None, "when": None, "stage": None, "arguments": []})
        steps.append(_check_step(plan, _param_annotations(plan, None)))
    # An approval waits for the parts that hold its deploy's upstream; the deploy's part waits
    # for the approval.
    approvals = False
    for part in split:
        for stage in part.stages:
            if plan.approval and stage.type == "deploy":
                approve = approval_task(plan, stage)
                ups = parts.upstream_of(where, [stage], part.index)
                tasks.append({"name": approve, "template": APPROVE_TEMPLATE,
                              "dependencies": [parts.part_name(i) for i in ups] or
                              ([check] if check else []),
                              "with_items": None, "when": None, "stage": None, "arguments": []})
                approvals = True
    resources = []
    for part in split:
        # Its upstream parts, and each approval whose answer it takes (its own deploy's, or
        # those guarding its stages: already done, and said so for Argo's reference check).
        dependencies = [parts.part_name(i) for i in parts.upstream_of(where, part.stages,
                                                                      part.index)]
        dependencies += [task for task in part.approvals if task not in dependencies]
        answers = [(parts.approval_parameter(task),
                    f"{{{{tasks.{task}.outputs.parameters.{APPROVAL_PARAMETER}}}}}")
                   for task in part.approvals]
        name = parts.part_name(part.index)
        tasks.append({"name": name, "template": name,
                      "dependencies": dependencies or ([check] if check else []),
                      "with_items": None, "when": None, "stage": None, "arguments": answers})
        resources.append({"template": name,
                          "inputs": [param for param, _ in answers],
                          "manifest": parts.child_manifest(plan, part)})
    return {
        **_workflow_common(plan, template_name(plan)),
        "params": _params(plan),
        "workspace": settings.workspace,
        "workspace_claim": None,
        "run_sources": run_sources(plan, []),
        "tasks": tasks,
        "steps": steps,
        "resources": resources,
        "approvals": approvals,
    }


def _params(plan: Plan) -> list[dict[str, Any]]:
    return [{"name": p.name, "value": p.default_text,
             "enum": [env_text(v) for v in p.schema.get("enum", ())],
             "description": p.schema.get("description")} for p in plan.params]


def _workflow_common(plan: Plan, name: str) -> dict[str, Any]:
    """What every WorkflowTemplate of the pipeline says alike."""
    settings = target_settings(plan)
    return {
        **common(plan),
        "meta": meta(plan, name, "pipeline"),
        "pod_labels": names.labels(plan, "pipeline"),
        "stage_parameter": STAGE_PARAMETER,
        "approval": {"parameter": APPROVAL_PARAMETER, "approve": APPROVE, "reject": REJECT,
                     "timeout": str(duration_seconds(settings.approval_timeout)),
                     "timeout_text": settings.approval_timeout},
    }


def cron_workflow(plan: Plan) -> dict[str, Any]:
    return {"meta": meta(plan, template_name(plan), "pipeline"),
            "schedule": plan.schedule, "template_name": template_name(plan)}
