"""What every pod of the Kubernetes target shares: its env entries, metadata and settings.

Defaults where the spec says nothing: cpu `500m` and memory `512Mi` (requests = limits, always
set: SPEC.md 5.5). Every pod runs as UID/GID 65532, non-root, read-only root filesystem, no
privilege escalation, all capabilities dropped, RuntimeDefault seccomp, `/tmp` an emptyDir.
Every pod (Argo steps, the server, CronJobs) runs as `service_account` when one is set and
pulls with `image_pull_secrets` (the workflow's `spec.imagePullSecrets`, each pod spec's own).
See `scripts.py` for why commands and env values live in the ConfigMap.

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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Optional

from compiler.envvars import Secret
from compiler.plan import Plan, PlanStage
from compiler.spec.values import Ref
from compiler.targets.kubernetes import (
    NAME,
    SERVER_SIDE_ANNOTATION,
    KubernetesSettings,
    names,
    parts,
    scripts,
)
from compiler.targets.kubernetes.names import configmap_name

# MLOPS_RUN_ID, read with the Downward API from a label that the engine's controller puts on
# every pod of a run: the Workflow's name (Argo; every step and retry of the run shares it, and
# `argo get NAME` finds the run), or the Job's name (a CronJob's run, shared by its retries).
# A fieldRef, not a `{{workflow.uid}}` value: no Argo expression in an env value at all.
ARGO_RUN_ID = "metadata.labels['workflows.argoproj.io/workflow']"
JOB_RUN_ID = "metadata.labels['batch.kubernetes.io/job-name']"
PART_RUN_ID = f"metadata.annotations['{parts.RUN_ID_ANNOTATION}']"
# A stage's step template is shared by every stage of its shape (`shape_template`); what tells
# them apart is the task's argument `stage`, the stage's name: a name the compiler validated
# (letters, digits, `-`, `_`), the only value of ours that Argo substitutes into a step.
STAGE_PARAMETER = "stage"

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


def k8s_literal(text: str) -> str:
    """An env value Kubernetes passes on unchanged: it reduces `$$` to `$`, so `$(X)` survives
    as written. (Only compiler-made values reach manifests, but they get it too.)"""
    return text.replace("$", "$$")


def target_settings(plan: Plan) -> KubernetesSettings:
    settings = plan.settings(NAME)
    assert isinstance(settings, KubernetesSettings)
    return settings


def param_annotation(param: str) -> str:
    """The pod annotation that carries a param's value (param names are valid name parts)."""
    return f"mlops.dev/param-{param}"


def param_field(param: str) -> str:
    """The Downward API field of that annotation."""
    return f"metadata.annotations['{param_annotation(param)}']"


def meta(plan: Plan, name: str, component: str) -> dict[str, Any]:
    annotations = names.trace_annotations(plan)
    if target_settings(plan).apply == "server-side":
        annotations.append(SERVER_SIDE_ANNOTATION)
    return {"name": name, "namespace": plan.pod.namespace,
            "labels": names.labels(plan, component), "annotations": annotations}


def common(plan: Plan) -> dict[str, Any]:
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
        "pull_secrets": pull_secrets(plan),
        "check_command": ["python3", "-I", f"{scripts.RUN_DIR}/{scripts.PARAMS_CHECK_KEY}"],
    }


def pull_secrets(plan: Plan) -> list[str]:
    """`image_pull_secrets` as written, each once: the kubelet tries them in order."""
    return list(dict.fromkeys(target_settings(plan).image_pull_secrets))


def stage_image(stage: PlanStage) -> str:
    # Linted specs give every stage an image for container targets; a serve-only deploy stage
    # may have only its server's.
    image = stage.image or (stage.serve.image if stage.serve else None)
    assert image is not None, f"stage {stage.name!r} has no image (lint should have said so)"
    return image


def pod_env(plan: Plan, stage: PlanStage, pod: Pod, in_part: bool = False) -> list[PodEnv]:
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
                builtins.append(PodEnv(var.name, value=k8s_literal(var.text)))
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
    each one YAML-encoded and `$`-doubled (`k8s_literal`), so the kubelet's `$(VAR)` expansion
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
                found.append(PodEnv(var.name, value=k8s_literal(var.text)))
        elif var.origin not in ("spec", "tracking", "secret"):
            continue
        elif len(var.pieces) == 1 and isinstance(var.pieces[0], Secret):
            found.append(PodEnv(var.name, secret=var.pieces[0].name))
        else:
            text = _server_text(var.pieces, defaults)
            if text is not None:
                found.append(PodEnv(var.name, value=k8s_literal(text)))
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


def run_sources(plan: Plan, stages: Sequence[PlanStage]) -> list[str]:
    """The ConfigMaps that a pod running these stages mounts at `RUN_DIR`: the pipeline's, and
    the parts that hold their files (one projected volume: the keys never clash)."""
    parts = names.part_count(plan)
    used = sorted({names.stage_part(s, parts) for s in stages}) if parts > 1 else []
    return [configmap_name(plan)] + [configmap_name(plan, part) for part in used]
