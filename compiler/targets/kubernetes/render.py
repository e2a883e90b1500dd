"""The Kubernetes target: Argo Workflows for the pipeline DAG, plain Kubernetes for the rest.

Files, under `<targets.kubernetes.path>/<environment or "default">/`, one per resource:

`argo.py` writes the pipeline's WorkflowTemplates and CronWorkflow, `pod.py` what every pod
shares (its env, metadata, defaults, and how it learns the commit), `scripts.py` the ConfigMap.
"""

from __future__ import annotations

from typing import Any

from compiler.plan import Plan, PlanStage
from compiler.render.runner import GATE_FAILED
from compiler.render.templating import render as render_template
from compiler.targets.base import OutputFile
from compiler.targets.kubernetes import names, parts, scripts
from compiler.targets.kubernetes.argo import (
    approval_guards,
    cron_workflow,
    parent_workflow,
    pipeline_workflow,
)
from compiler.targets.kubernetes.names import configmap_name
from compiler.targets.kubernetes.pod import (
    common,
    meta,
    pod_env,
    pull_secrets,
    run_sources,
    stage_image,
    target_settings,
)


def render(plan: Plan) -> list[OutputFile]:
    settings = target_settings(plan)
    directory = f"{settings.path.rstrip('/')}/{plan.environment or 'default'}"
    files: list[tuple[str, str, dict[str, Any]]] = _configmaps(plan)
    if plan.pipeline_stages:
        guards = approval_guards(plan)
        split = parts.split(plan, guards)
        files.append(("workflowtemplate.yaml", "workflowtemplate.yaml.j2",
                      pipeline_workflow(plan, guards) if split is None else parent_workflow(plan, split)))
        for part in split or ():
            files.append((f"workflowtemplate-part-{part.index}.yaml", "workflowtemplate.yaml.j2",
                          pipeline_workflow(plan, guards, part)))
        if plan.schedule:
            files.append(("cronworkflow.yaml", "cronworkflow.yaml.j2", cron_workflow(plan)))
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


def _configmaps(plan: Plan) -> list[tuple[str, str, dict[str, Any]]]:
    """`configmap.yaml`, and `configmap-<part>.yaml` per part when the stages' files are split
    (`scripts.configmap_parts`)."""
    return [("configmap.yaml" if part is None else f"configmap-{part}.yaml", "configmap.yaml.j2",
             {"meta": meta(plan, configmap_name(plan, part), "pipeline"), "data": data})
            for part, data in scripts.configmap_parts(plan)]


def _cronjob(plan: Plan, stage: PlanStage) -> dict[str, Any]:
    return {
        **common(plan),
        "meta": meta(plan, names.resource_name(plan, stage.dns, names.CRONJOB_LIMIT), stage.dns),
        "run_sources": run_sources(plan, [stage]),
        "schedule": stage.schedule, "image": stage_image(stage),
        "env": pod_env(plan, stage, "job"),
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
        "meta": meta(plan, names.resource_name(plan, stage.dns), stage.dns),
        "selector": names.selector(plan, stage.dns),
        # With an HPA, the HPA owns the replica count: a `replicas` here would reset it on
        # every apply.
        "replicas": None if serve.autoscale else serve.replicas,
        "image": serve.image or stage_image(stage), "port": serve.port, "health": serve.health,
        "env": pod_env(plan, stage, "server"),
        "configmap": configmap_name(plan), "secret_name": plan.pod.secret_name,
        "service_account": plan.pod.service_account,
        "pull_secrets": pull_secrets(plan),
        "cpu": stage.resources.cpu, "memory": stage.resources.memory,
    }


def _service(plan: Plan, stage: PlanStage) -> dict[str, Any]:
    assert stage.serve is not None
    return {"meta": meta(plan, names.resource_name(plan, stage.dns), stage.dns),
            "selector": names.selector(plan, stage.dns), "port": stage.serve.port}


def _hpa(plan: Plan, stage: PlanStage) -> dict[str, Any]:
    assert stage.serve is not None
    name = names.resource_name(plan, stage.dns)
    return {"meta": meta(plan, name, stage.dns), "target": name,
            "autoscale": stage.serve.autoscale}
