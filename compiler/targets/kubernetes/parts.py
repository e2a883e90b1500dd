"""A pipeline too large for one Argo Workflow, run as a parent Workflow of child Workflows.

Every Argo run keeps its WorkflowTemplate's spec and the status of every node in one object,
which must stay under 1 MiB (`LIMITS`), so one Workflow holds a few thousand tasks at most.
Past `STAGES_PER_WORKFLOW` pipeline stages the WorkflowTemplate `<pipeline>` becomes a parent:
its DAG runs the params check, each approval, and one task per *part*, a resource step that
creates a child Workflow from the WorkflowTemplate `<pipeline>-part-<n>` and waits for it to
succeed (`successCondition`; a failed child fails its task, so nothing after it starts, as in
one DAG that fails fast). A part is a run of consecutive stages in the plan's topological
order, so a part's upstream parts all come before it; its task depends on each part that
holds an upstream of one of its stages. What the parent passes each child, as Workflow
parameters:
- every param's value of this run, as the JSON text Argo's `toJson` makes of it (the child's
  manifest is YAML: JSON is YAML, and nothing a value holds can become a key of it);
- `MLOPS_RUN_ID`, the parent's name: every stage of the run reports the one run id;
- `MLOPS_WORKSPACE`, the parent's workspace claim (`<parent>-workspace`: Argo's controller
  names the claim of a `volumeClaimTemplates` entry `<workflow>-<volume>` and creates it when
  the run starts): every child mounts that one volume (Argo substitutes global parameters in
  `spec.volumes`, argo-workflows#1238), so a stage reads what a stage of another part wrote,
  as in one Workflow. The claim lives as long as the parent, which outlives its children;
- `ANSWER-approve-<stage>` for each approval that a stage of the part waits for: the answer
  of the parent's `approve-<stage>` step, compared by the stage's `when` as in one Workflow.

A deploy that waits for approval is a part of its own, so the parent asks once every stage
above it has finished, and only what needs the deploy waits for the answer. What this costs,
and why it is only done past the limit: a stage of a part waits for every part that holds one
of its upstreams to finish, not just for that upstream; and adding a stage early moves the
boundary of every part after it (the parts' files change, not a stage's lines).

The parent's service account must be allowed to create and watch Workflows in its namespace
(a Role with `create`, `get`, `list`, `watch` and `patch` on `workflows.argoproj.io`): the
part step creates its child and watches it until a condition holds. Each child is owned by
its parent (`setOwnerReference`), so deleting a run deletes its parts. What an operator should
know: `argo stop` or `argo terminate` of the parent does not stop a part that is running (stop
it too: its name is the parent's followed by `-<n>-`); and `argo retry` of the parent runs a
failed part again from its first stage, as a new Workflow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.plan import Plan, PlanStage
from compiler.targets.kubernetes import names

# 1,000 stages are about 215 KB of WorkflowTemplate on the benchmark spec: within the 262,144
# bytes of a client-side apply and far within the 512 KiB a run's copy may take.
STAGES_PER_WORKFLOW = 1_000
# Workflow parameters of a child that no param can be named (params are lower case).
RUN_ID_PARAMETER = "MLOPS_RUN_ID"
WORKSPACE_PARAMETER = "MLOPS_WORKSPACE"
APPROVAL_PREFIX = "ANSWER-"
# The parent's claim of the `workspace` volume claim template: Argo names it
# `<workflow name>-<volume name>`.
WORKSPACE_CLAIM = "{{workflow.name}}-workspace"
RUN_ID_ANNOTATION = "mlops.dev/run-id"


@dataclass(frozen=True)
class Part:
    index: int                       # 0, 1, ...: the part's place in topological order
    stages: tuple[PlanStage, ...]
    approvals: tuple[str, ...]       # the parent's approve tasks that its stages wait for


def split(plan: Plan, guards: Mapping[str, tuple[str, ...]]) -> tuple[Part, ...] | None:
    """The parts of the pipeline (`guards`: each stage's approve tasks), or None when it fits
    one Workflow."""
    chunks = _chunks(plan)
    if chunks is None:
        return None
    return tuple(Part(index, tuple(chunk),
                      tuple(dict.fromkeys(t for s in chunk for t in guards[s.name])))
                 for index, chunk in enumerate(chunks))


def part_count(plan: Plan) -> int:
    """How many parts the pipeline has (0: it is one Workflow)."""
    chunks = _chunks(plan)
    return 0 if chunks is None else len(chunks)


def _chunks(plan: Plan) -> list[list[PlanStage]] | None:
    stages = plan.pipeline_stages
    if len(stages) <= STAGES_PER_WORKFLOW:
        return None
    chunks: list[list[PlanStage]] = [[]]
    for stage in stages:
        # A deploy that waits for approval is a part of its own: the parent asks once every
        # upstream stage (all in earlier parts) has finished, as the approval step in one DAG
        # does, and no stage that does not need the deploy waits for the answer.
        approval = plan.approval and stage.type == "deploy"
        if len(chunks[-1]) == STAGES_PER_WORKFLOW or (approval and chunks[-1]):
            chunks.append([])
        chunks[-1].append(stage)
        if approval:
            chunks.append([])
    if not chunks[-1]:
        chunks.pop()
    return chunks


def part_name(index: int) -> str:
    """The parent's task and template of a part."""
    return f"part-{index}"


def template_name(plan: Plan, index: int) -> str:
    """The part's WorkflowTemplate: `<pipeline>-part-<n>`."""
    return names.short_name(f"{names.template_name(plan)}-part-{index}")


def approval_parameter(task: str) -> str:
    return APPROVAL_PREFIX + task


def part_of(parts: Sequence[Part]) -> dict[str, int]:
    """Each stage's name -> the index of the part that holds it."""
    return {stage.name: part.index for part in parts for stage in part.stages}


def upstream_of(where: Mapping[str, int], stages: Sequence[PlanStage], index: int) -> list[int]:
    """The parts other than `index` that hold an upstream of one of `stages` (`where`:
    `part_of`)."""
    return sorted({where[need] for stage in stages for need in stage.needs
                   if where[need] != index})


@dataclass(frozen=True)
class Expression:
    """An Argo expression written as a JSON value of a child's manifest: `{{=...}}` whose
    result is JSON text (`toJson`), so it is one value of the manifest whatever it holds."""

    text: str


Manifest = str | Expression | Sequence["Manifest"] | Mapping[str, "Manifest"]


def manifest_text(value: Manifest, indent: str = "") -> str:
    """`value` as indented JSON (which is YAML), with each Expression as its `{{=...}}`; a
    mapping of plain values on one line."""
    inner = indent + "  "
    if isinstance(value, Expression):
        return "{{=" + value.text + "}}"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping) and all(isinstance(v, (str, Expression))
                                          for v in value.values()):
        pairs = (f"{json.dumps(k)}: {manifest_text(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, Mapping):
        items = [f"{inner}{json.dumps(k)}: {manifest_text(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    items = [inner + manifest_text(v, inner) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + indent + "]"


def _to_json(scope: str, name: str) -> Expression:
    """`toJson(<scope>['<name>'])`: a parameter's value as JSON text. Names here are param
    names (lower case, digits, `_` and `-`) and our own, never a quote."""
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name), name
    return Expression(f"toJson({scope}['{name}'])")


def child_manifest(plan: Plan, part: Part) -> str:
    """The Workflow that the parent's part step creates: the part's WorkflowTemplate, with this
    run's params, run id, workspace claim and approvals."""
    parameters: list[Manifest] = [
        {"name": RUN_ID_PARAMETER, "value": "{{workflow.name}}"},
        {"name": WORKSPACE_PARAMETER, "value": WORKSPACE_CLAIM},
    ]
    parameters += [{"name": p.name, "value": _to_json("workflow.parameters", p.name)}
                   for p in plan.params]
    parameters += [{"name": approval_parameter(task),
                    "value": _to_json("inputs.parameters", approval_parameter(task))}
                   for task in part.approvals]
    manifest: dict[str, Manifest] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": "{{workflow.name}}-" + f"{part.index}-",
            "labels": dict(names.labels(plan, "pipeline")),
        },
        "spec": {
            "workflowTemplateRef": {"name": template_name(plan, part.index)},
            "arguments": {"parameters": parameters},
        },
    }
    return manifest_text(manifest) + "\n"


def child_parameters(part: Part) -> list[dict[str, Any]]:
    """The part's own WorkflowTemplate arguments, after the params (which keep their defaults,
    for a part run by hand): ours have none, so Argo refuses a run that does not give them."""
    ours = [RUN_ID_PARAMETER, WORKSPACE_PARAMETER, *map(approval_parameter, part.approvals)]
    return [{"name": name, "value": None, "enum": [], "description": None} for name in ours]
