"""The Kubernetes target: Argo Workflows for the pipeline DAG, plain Kubernetes for the rest.

Files, under `<targets.kubernetes.path>/<environment or "default">/`, one per resource:

| file | kind |
|---|---|
| `configmap.yaml` | ConfigMap `<pipeline>-run`: every stage's command and env file, the stage runner, the params check and schemas (when needed), the commit (`--ref`) |
| `configmap-<part>.yaml` | with more than `names.STAGES_PER_PART` stages, ConfigMap `<pipeline>-run-<part>`: the files of the stages whose name hashes to it (`scripts.configmap_parts`), no longer in `configmap.yaml` |
| `workflowtemplate.yaml` | Argo WorkflowTemplate `<pipeline>`: the DAG of pipeline stages, one step template per stage shape; past 1,000 stages, the parent of the parts (`parts.py`) |
| `workflowtemplate-part-<n>.yaml` | past 1,000 stages, Argo WorkflowTemplate `<pipeline>-part-<n>`: the DAG of one part of the stages, which the parent runs as a child Workflow |
| `cronworkflow.yaml` | Argo CronWorkflow `<pipeline>` (only with `triggers.schedule`) |
| `cronjob-<stage>.yaml` | CronJob per stage with its own `schedule` |
| `deployment-<stage>.yaml`, `service-<stage>.yaml`, `networkpolicy-<stage>.yaml`, `hpa-<stage>.yaml` | per `serve` (HPA with `autoscale`); the NetworkPolicy admits ingress on the server's port only |
| `kustomization.yaml` | lists them all and sets the namespace |

Defaults where the spec says nothing: cpu `500m` and memory `512Mi` (requests = limits, always
set: SPEC.md 5.5). Every pod runs as UID/GID 65532, non-root, read-only root filesystem, no
privilege escalation, all capabilities dropped, RuntimeDefault seccomp, `/tmp` an emptyDir.
Every pod (Argo steps, the server, CronJobs) runs as `service_account` when one is set and
pulls with `image_pull_secrets` (the workflow's `spec.imagePullSecrets`, each pod spec's own).
See `scripts.py` for why commands and env values live in the ConfigMap.

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

The source commit (`build --ref`, SPEC.md section 5.6) is an annotation on every object's own
metadata, never in a pod template: a Deployment rolls out whenever its pod template changes, so
a commit there would restart the model server at every build of another commit, with nothing
changed. A pod learns the commit as `MLOPS_GIT_SHA` from the ConfigMap's `commit` key instead
(`configMapKeyRef`, optional: without `--ref` the key is absent and so is the variable). The
kubelet reads it when a pod starts, and a ConfigMap change restarts nothing, so the server's
pod template is the same bytes at every commit, with and without `--ref`; a pod started later
(a restart, a scale-up) reads the commit of the build applied last, whose pod template is, by
then, the same. Argo steps and CronJobs read it the same way: one mechanism for every pod, and
their templates (which roll nothing, but land in diffs) do not change with the commit either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from collections.abc import Sequence
from typing import Any, Literal, Optional

from compiler.envvars import Secret
from compiler.plan import Plan, PlanStage
from compiler.render.params_check import SCHEMAS_VAR
from compiler.render.runner import GATE_FAILED
from compiler.render.templating import render as render_template
from compiler.spec.params import env_text
from compiler.spec.values import Ref, duration_seconds
from compiler.targets.base import OutputFile
from compiler.targets.kubernetes import NAME, SERVER_SIDE_ANNOTATION, KubernetesSettings
from compiler.targets.kubernetes import names
from compiler.targets.kubernetes.names import configmap_name, template_name
from compiler.targets.kubernetes import parts, scripts

APPROVE_TEMPLATE = "approve"
# The approval's answer: an intermediate parameter of the suspend step (Argo 3.4+), which a
# human sets; the default, taken when the step's `duration` passes unanswered or `argo resume`
# gives none, is a rejection. An Argo suspend with a duration *resumes* when it passes, so the
# duration alone would approve every deploy nobody looked at.
APPROVAL_PARAMETER = "approve"
APPROVE, REJECT = "approve", "reject"
# MLOPS_RUN_ID, read with the Downward API from a label that the engine's controller puts on
# every pod of a run: the Workflow's name (Argo; every step and retry of the run shares it, and
# `argo get NAME` finds the run), or the Job's name (a CronJob's run, shared by its retries).
# A fieldRef, not a `{{workflow.uid}}` value: no Argo expression in an env value at all.
ARGO_RUN_ID = "metadata.labels['workflows.argoproj.io/workflow']"
JOB_RUN_ID = "metadata.labels['batch.kubernetes.io/job-name']"
PART_RUN_ID = f"metadata.annotations['{parts.RUN_ID_ANNOTATION}']"
# Argo retries a step only while this holds: a failed gate is a verdict, never retried.
NOT_A_FAILED_GATE = f'lastRetry.exitCode != "{GATE_FAILED}"'
# The params check (`check_task`): the first task of the DAG when a run's params need more
# checking than Argo's `enum`. Its template cannot be a stage's (`run-...`), `approve` or the
# DAG's `pipeline`; its task name is made unique against the stages' (`check_task`).
CHECK_TASK = "mlops-check-params"
CHECK_TEMPLATE = "check-params"
CHECK_CPU, CHECK_MEMORY = "100m", "128Mi"
CHECK_DEADLINE = 300  # seconds: the check reads a few variables
# A stage's step template is shared by every stage of its shape (`shape_template`); what tells
# them apart is the task's argument `stage`, the stage's name: a name the compiler validated
# (letters, digits, `-`, `_`), the only value of ours that Argo substitutes into a step.
STAGE_PARAMETER = "stage"
SHAPE_DIGITS = 10

Pod = Literal["step", "job", "server"]


@dataclass(frozen=True)
class PodEnv:
    """One entry of a container's `env`: exactly one of the sources is set."""

    name: str
    value: Optional[str] = None     # compiler-made text (or Argo expressions of ours)
    field: Optional[str] = None     # a Downward API fieldPath
    secret: Optional[str] = None    # a key of the pipeline's Secret
    config: Optional[str] = None    # a key of the pipeline's ConfigMap
    optional: bool = True           # (of `config`) the pod starts without the key


def _k8s_literal(text: str) -> str:
    """An env value Kubernetes passes on unchanged: it reduces `$$` to `$`, so `$(X)` survives
    as written. (Only compiler-made values reach manifests, but they get it too.)"""
    return text.replace("$", "$$")


def _settings(plan: Plan) -> KubernetesSettings:
    settings = plan.settings(NAME)
    assert isinstance(settings, KubernetesSettings)
    return settings


def render(plan: Plan) -> list[OutputFile]:
    settings = _settings(plan)
    directory = f"{settings.path.rstrip('/')}/{plan.environment or 'default'}"
    files: list[tuple[str, str, dict[str, Any]]] = _configmaps(plan)
    if plan.pipeline_stages:
        guards = approval_guards(plan)
        split = parts.split(plan, guards)
        files.append(("workflowtemplate.yaml", "workflowtemplate.yaml.j2",
                      _workflow(plan, guards) if split is None else _parent_workflow(plan, split)))
        for part in split or ():
            files.append((f"workflowtemplate-part-{part.index}.yaml", "workflowtemplate.yaml.j2",
                          _workflow(plan, guards, part)))
        if plan.schedule:
            files.append(("cronworkflow.yaml", "cronworkflow.yaml.j2", _cron_workflow(plan)))
    for stage in plan.scheduled_stages:
        files.append((f"cronjob-{stage.dns}.yaml", "cronjob.yaml.j2", _cronjob(plan, stage)))
    for stage in plan.stages:
        if stage.serve is None:
            continue
        files.append((f"deployment-{stage.dns}.yaml", "deployment.yaml.j2", _deployment(plan, stage)))
        files.append((f"service-{stage.dns}.yaml", "service.yaml.j2", _service(plan, stage)))
        files.append((f"networkpolicy-{stage.dns}.yaml", "networkpolicy.yaml.j2",
                      _service(plan, stage)))
        if stage.serve.autoscale:
            files.append((f"hpa-{stage.dns}.yaml", "hpa.yaml.j2", _hpa(plan, stage)))
    outputs = [OutputFile(f"{directory}/{file}", render_template(f"kubernetes/{template}", **ctx))
               for file, template, ctx in files]
    kustomization = render_template("kubernetes/kustomization.yaml.j2",
                                    namespace=plan.pod.namespace,
                                    resources=sorted(file for file, _, _ in files))
    outputs.append(OutputFile(f"{directory}/kustomization.yaml", kustomization))
    return sorted(outputs, key=lambda f: f.path)


# ------------------------------------------------------------------------------ names


def shape_template(stage: PlanStage, step: dict[str, Any]) -> str:
    """The name of a stage's step template, `<type>-<10 hex digits>`: a sha256 of everything the
    template holds for it (its `step`: image, env, resources, retries, deadline, matrix), never
    of which stage came first. Stages of one type and shape share one template; an edit that
    changes a stage's shape moves its task to another template and changes no other stage's
    lines. A type is a word, so no name can be the DAG's `pipeline`, `approve` or
    `check-params`."""
    text = json.dumps(step, sort_keys=True, default=asdict, separators=(",", ":"))
    return f"{stage.type}-{hashlib.sha256(text.encode()).hexdigest()[:SHAPE_DIGITS]}"


def param_annotation(param: str) -> str:
    """The pod annotation that carries a param's value (param names are valid name parts)."""
    return f"mlops.dev/param-{param}"


def param_field(param: str) -> str:
    """The Downward API field of that annotation."""
    return f"metadata.annotations['{param_annotation(param)}']"


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
        "image": _image(plan.pipeline_stages[0]), "env": env, "annotations": annotations,
        "cpu": CHECK_CPU, "memory": CHECK_MEMORY, "gpu": None, "retries": 0,
        "retry_delay": None, "retry_when": None, "timeout": CHECK_DEADLINE,
    }


def _meta(plan: Plan, name: str, component: str) -> dict[str, Any]:
    annotations = names.trace_annotations(plan)
    if _settings(plan).apply == "server-side":
        annotations.append(SERVER_SIDE_ANNOTATION)
    return {"name": name, "namespace": plan.pod.namespace,
            "labels": names.labels(plan, component), "annotations": annotations}


def _common(plan: Plan) -> dict[str, Any]:
    pod = plan.pod
    return {
        "wrapper": scripts.WRAPPER,
        "run_dir": scripts.RUN_DIR,
        "workspace_dir": scripts.WORKSPACE_DIR,
        "configmap": configmap_name(plan),
        "secret_name": pod.secret_name,
        "node_selector": list(pod.gpu_node_selector),
        "tolerations": list(pod.gpu_tolerations),
        "service_account": pod.service_account,
        "pull_secrets": _pull_secrets(plan),
        "check_command": ["python3", "-I", f"{scripts.RUN_DIR}/{scripts.PARAMS_CHECK_KEY}"],
    }


def _pull_secrets(plan: Plan) -> list[str]:
    """`image_pull_secrets` as written, each once: the kubelet tries them in order."""
    return list(dict.fromkeys(_settings(plan).image_pull_secrets))


def _image(stage: PlanStage) -> str:
    # Linted specs give every stage an image for container targets; a serve-only deploy stage
    # may have only its server's.
    image = stage.image or (stage.serve.image if stage.serve else None)
    assert image is not None, f"stage {stage.name!r} has no image (lint should have said so)"
    return image


def _pod_env(plan: Plan, stage: PlanStage, pod: Pod, in_part: bool = False) -> list[PodEnv]:
    """The variables that the manifest sets, in the plan's order (a step's matrix combination
    after the built-ins). For a step or a job the rest, spec text, is in the stage's env file
    (`scripts.in_env_file`); the commit comes from the ConfigMap (module docstring), the run id
    from the engine. A server runs the image's own entrypoint, not the wrapper: it gets
    `_server_env` instead."""
    if pod == "server":
        return _server_env(plan, stage)
    builtins: list[PodEnv] = []
    rest: list[PodEnv] = []
    params = {p.var: p.name for p in plan.params}
    for var in stage.env:
        if var.name == scripts.GIT_SHA_VAR:
            builtins.append(PodEnv(var.name, config=scripts.GIT_SHA_KEY))
        elif var.name == scripts.RUN_ID_VAR:
            if pod == "step":
                # A part's pods carry the parent's name (`parts.RUN_ID_ANNOTATION`).
                builtins.append(PodEnv(var.name, field=PART_RUN_ID if in_part else ARGO_RUN_ID))
            elif pod == "job":
                builtins.append(PodEnv(var.name, field=JOB_RUN_ID))
        elif var.name == scripts.STAGE_VAR and pod == "step":
            # One template per shape, not per stage: the task says which stage it runs.
            builtins.append(PodEnv(var.name, value=f"{{{{inputs.parameters.{STAGE_PARAMETER}}}}}"))
        elif var.origin == "builtin":
            if var.text is not None:
                builtins.append(PodEnv(var.name, value=_k8s_literal(var.text)))
        elif var.origin == "param":
            if pod == "step":  # a CronJob's env file sets the defaults
                rest.append(PodEnv(var.name, field=param_field(params[var.name])))
        elif len(var.pieces) == 1 and isinstance(var.pieces[0], Secret):
            rest.append(PodEnv(var.name, secret=var.pieces[0].name))
    if pod == "step" and stage.combinations:
        builtins.append(PodEnv(scripts.COMBINATION_VAR,
                               value="{{inputs.parameters.combination}}"))
    return builtins + rest


def _server_env(plan: Plan, stage: PlanStage) -> list[PodEnv]:
    """The model server's configuration (SPEC.md section 2, `serve`): the deploy stage's merged
    env and secrets, with the tracking settings, as a pipeline pod sees them, minus what only a
    run has. No wrapper reads an env file here, so the values are in the pod template itself:
    each one YAML-encoded and `$`-doubled (`_k8s_literal`), so the kubelet's `$(VAR)` expansion
    gives back the text as written; a secret is a `secretKeyRef`, never its value.

    What a server does not get: the run id, the params' and matrix's variables, the gate's
    data. A server is not a run: a `${params.X}` in a value is the param's default (what a
    CronJob's run sees too), fixed when the files are built, and a value that reads a matrix
    axis is left out (one Deployment serves every combination, so no axis has one value).

    Rollouts: the env is part of the pod template, so a change to any of these values (the
    deploy stage's env or secrets, the top-level ones it inherits, the tracking settings, the
    default of a param it reads) rolls the server, as it must for the server to see it; an edit
    to another stage changes none of them. A secret's value lives in the Secret: changing it
    rolls nothing (restart the Deployment, or use a controller that does)."""
    defaults = {p.var: p.default_text for p in plan.params}
    found: list[PodEnv] = []
    for var in stage.env:
        if var.name == scripts.GIT_SHA_VAR:
            found.append(PodEnv(var.name, config=scripts.GIT_SHA_KEY))
        elif var.origin == "builtin":
            if var.text is not None:
                found.append(PodEnv(var.name, value=_k8s_literal(var.text)))
        elif var.origin not in ("spec", "tracking", "secret"):
            continue
        elif len(var.pieces) == 1 and isinstance(var.pieces[0], Secret):
            found.append(PodEnv(var.name, secret=var.pieces[0].name))
        else:
            text = _server_text(var.pieces, defaults)
            if text is not None:
                found.append(PodEnv(var.name, value=_k8s_literal(text)))
    if not any(e.name == "HOME" for e in found):
        # The root filesystem is read-only and runs as a user the image may have no home for:
        # libraries that cache under ~ (Hugging Face, torch hub, pip) write to the pod's own
        # /tmp volume instead, as the stage runner does for pipeline pods. A spec's HOME wins.
        found.append(PodEnv("HOME", value="/tmp"))
    return found


def _server_text(pieces: tuple[Any, ...], defaults: dict[str, str]) -> Optional[str]:
    """The value a server sees: literal text, a param reference as its default; None when the
    value reads something a server has no value for (a matrix axis, the engine)."""
    text = ""
    for piece in pieces:
        if isinstance(piece, str):
            text += piece
        elif isinstance(piece, Ref) and piece.kind == "params":
            text += defaults[piece.var]
        else:
            return None
    return text


def _configmaps(plan: Plan) -> list[tuple[str, str, dict[str, Any]]]:
    """`configmap.yaml`, and `configmap-<part>.yaml` per part when the stages' files are split
    (`scripts.configmap_parts`)."""
    return [("configmap.yaml" if part is None else f"configmap-{part}.yaml", "configmap.yaml.j2",
             {"meta": _meta(plan, configmap_name(plan, part), "pipeline"), "data": data})
            for part, data in scripts.configmap_parts(plan)]


def _run_sources(plan: Plan, stages: Sequence[PlanStage]) -> list[str]:
    """The ConfigMaps that a pod running these stages mounts at `RUN_DIR`: the pipeline's, and
    the parts that hold their files (one projected volume: the keys never clash)."""
    parts = names.part_count(plan)
    used = sorted({names.stage_part(s, parts) for s in stages}) if parts > 1 else []
    return [configmap_name(plan)] + [configmap_name(plan, part) for part in used]


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
        found.append((parts.RUN_ID_ANNOTATION, f"{{{{workflow.parameters.{parts.RUN_ID_PARAMETER}}}}}"))
    return found


def _workflow(plan: Plan, guards: dict[str, tuple[str, ...]],
              part: parts.Part | None = None) -> dict[str, Any]:
    """The WorkflowTemplate of the pipeline, or of one part of it (`parts.py`): a part has no
    params check and no approval steps of its own (its parent has them), its stages' `when`
    reads the approvals' answers from its parameters, and it mounts its parent's workspace.
    `guards`: `approval_guards(plan)`."""
    settings = _settings(plan)
    stages = plan.pipeline_stages if part is None else part.stages
    inside = None if part is None else {stage.name for stage in stages}
    param_annotations = _param_annotations(plan, part)
    tasks: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    shapes: dict[str, dict[str, Any]] = {}  # template name -> its step (`shape_template`)
    # The repr of a (type, step) -> its template: equal reprs are equal steps, and hashing the
    # step's JSON for each of 10,000 stages took most of this target's render.
    named: dict[str, str] = {}
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
            "image": _image(stage), "env": _pod_env(plan, stage, "step", part is not None),
            "annotations": param_annotations,
            "cpu": stage.resources.cpu, "memory": stage.resources.memory,
            "gpu": stage.resources.gpu, "retries": stage.policy.retries,
            "retry_delay": f"{stage.policy.retry_delay}s" if stage.policy.retry_delay else None,
            "retry_when": NOT_A_FAILED_GATE if stage.gate is not None else None,
            "timeout": stage.policy.timeout,
        }
        key = repr((stage.type, step))
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
        "params": _params(plan) + ([] if part is None else parts.child_parameters(plan, part)),
        "workspace": settings.workspace,
        "workspace_claim": None if part is None else
        f"{{{{workflow.parameters.{parts.WORKSPACE_PARAMETER}}}}}",
        "run_sources": _run_sources(plan, stages),
        "tasks": tasks,
        "steps": steps,
        "resources": [],
        "approvals": any(t["template"] == APPROVE_TEMPLATE for t in tasks),
    }


def _parent_workflow(plan: Plan, split: Sequence[parts.Part]) -> dict[str, Any]:
    """The WorkflowTemplate `<pipeline>` of a pipeline split into parts (`parts.py`): the params
    check, each approval, and one step per part that creates its child Workflow."""
    settings = _settings(plan)
    where = {stage.name: part.index for part in split for stage in part.stages}
    upstream = parts.upstream_parts(plan, split)
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
                ups = sorted({where[n] for n in stage.needs if where[n] != part.index})
                tasks.append({"name": approve, "template": APPROVE_TEMPLATE,
                              "dependencies": [parts.part_name(i) for i in ups] or
                              ([check] if check else []),
                              "with_items": None, "when": None, "stage": None, "arguments": []})
                approvals = True
    resources = []
    for part in split:
        # Its upstream parts, and each approval whose answer it takes (its own deploy's, or
        # those guarding its stages: already done, and said so for Argo's reference check).
        dependencies = [parts.part_name(i) for i in upstream[part.index]]
        dependencies += [task for task in part.approvals if task not in dependencies]
        answers = [(parts.approval_parameter(task),
                    f"{{{{tasks.{task}.outputs.parameters.{APPROVAL_PARAMETER}}}}}")
                   for task in part.approvals]
        tasks.append({"name": parts.part_name(part.index), "template": parts.part_name(part.index),
                      "dependencies": dependencies or ([check] if check else []),
                      "with_items": None, "when": None, "stage": None, "arguments": answers})
        resources.append({"template": parts.part_name(part.index),
                          "inputs": [name for name, _ in answers],
                          "manifest": parts.child_manifest(plan, part)})
    return {
        **_workflow_common(plan, template_name(plan)),
        "params": _params(plan),
        "workspace": settings.workspace,
        "workspace_claim": None,
        "run_sources": _run_sources(plan, []),
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
    settings = _settings(plan)
    return {
        **_common(plan),
        "meta": _meta(plan, name, "pipeline"),
        "pod_labels": names.labels(plan, "pipeline"),
        "stage_parameter": STAGE_PARAMETER,
        "approval": {"parameter": APPROVAL_PARAMETER, "approve": APPROVE, "reject": REJECT,
                     "timeout": str(duration_seconds(settings.approval_timeout)),
                     "timeout_text": settings.approval_timeout},
    }


def _cron_workflow(plan: Plan) -> dict[str, Any]:
    return {"meta": _meta(plan, template_name(plan), "pipeline"),
            "schedule": plan.schedule, "template_name": template_name(plan)}


def _cronjob(plan: Plan, stage: PlanStage) -> dict[str, Any]:
    return {
        **_common(plan),
        "meta": _meta(plan, names.resource_name(plan, stage.dns, names.CRONJOB_LIMIT), stage.dns),
        "run_sources": _run_sources(plan, [stage]),
        "schedule": stage.schedule, "image": _image(stage),
        "env": _pod_env(plan, stage, "job"),
        "cpu": stage.resources.cpu, "memory": stage.resources.memory,
        "gpu": stage.resources.gpu, "retries": stage.policy.retries,
        # The Job retries a failed pod, but never one whose gate failed.
        "gate_failed": GATE_FAILED if stage.gate is not None and stage.policy.retries else None,
        "timeout": stage.policy.timeout,
    }


def _deployment(plan: Plan, stage: PlanStage) -> dict[str, Any]:
    serve = stage.serve
    assert serve is not None
    return {
        "meta": _meta(plan, names.resource_name(plan, stage.dns), stage.dns),
        "selector": names.selector(plan, stage.dns),
        # With an HPA, the HPA owns the replica count: a `replicas` here would reset it on
        # every apply.
        "replicas": None if serve.autoscale else serve.replicas,
        "image": serve.image or _image(stage), "port": serve.port, "health": serve.health,
        "env": _pod_env(plan, stage, "server"),
        "configmap": configmap_name(plan), "secret_name": plan.pod.secret_name,
        "service_account": plan.pod.service_account,
        "pull_secrets": _pull_secrets(plan),
        "cpu": stage.resources.cpu, "memory": stage.resources.memory,
    }


def _service(plan: Plan, stage: PlanStage) -> dict[str, Any]:
    assert stage.serve is not None
    return {"meta": _meta(plan, names.resource_name(plan, stage.dns), stage.dns),
            "selector": names.selector(plan, stage.dns), "port": stage.serve.port}


def _hpa(plan: Plan, stage: PlanStage) -> dict[str, Any]:
    assert stage.serve is not None
    name = names.resource_name(plan, stage.dns)
    return {"meta": _meta(plan, name, stage.dns), "target": name,
            "autoscale": stage.serve.autoscale}

