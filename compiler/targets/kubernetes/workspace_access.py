"""MLP416 single-node-workspace: stages that run at the same time on one ReadWriteOnce workspace.

## What it finds
A spec that builds the `kubernetes` target and leaves the workspace's access mode to its
default, `ReadWriteOnce`, while two pipeline stages can run at the same time: two stages
neither of which waits for the other (directly or not), or a stage whose `matrix` has more
than one combination. Checked in the base spec and in every environment (an environment may
set `targets.kubernetes.workspace.access_mode`). Setting it, to either value, is the answer:
`ReadWriteMany`, or `ReadWriteOnce` written out for a cluster where every step runs on one
node.

## Why it matters
Every Argo step mounts the run's one workspace claim. A `ReadWriteOnce` volume attaches to one
node at a time: a step scheduled onto another node while a parallel step holds the volume waits
in `ContainerCreating` (a Multi-Attach error) until the other finishes or its own deadline
passes, which is most likely with GPU steps pinned to GPU nodes. On a single-node cluster, or
if every step lands on one node, it works. `ReadWriteMany` lets every node mount it, but needs
a storage class that offers it (NFS, Amazon EFS, Filestore, Azure Files, CephFS): on one that
does not (most block storage: EBS, Persistent Disk, Azure Disk), the claim is never bound. The
compiler cannot know your cluster, so it keeps `ReadWriteOnce`, which works everywhere for a
pipeline whose stages run one at a time, and says so when yours do not.

## Failing example
```yaml
version: 1
name: sweep
defaults:
  image: ghcr.io/acme/sweep:1.0
stages:
  train:
    run: python train.py --lr ${matrix.lr}
    matrix: {lr: [0.01, 0.1]}
targets:
  kubernetes: {workspace: {size: 20Gi}}
```

## Fixed example
```yaml
version: 1
name: sweep
defaults:
  image: ghcr.io/acme/sweep:1.0
stages:
  train:
    run: python train.py --lr ${matrix.lr}
    matrix: {lr: [0.01, 0.1]}
targets:
  kubernetes: {workspace: {size: 20Gi, storage_class: nfs, access_mode: ReadWriteMany}}
```
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule
from compiler.lint.walk import Finding, per_spec
from compiler.spec.models import Spec
from compiler.targets import built
from compiler.targets.kubernetes import NAME, KubernetesSettings

if TYPE_CHECKING:  # pragma: no cover - networkx: `mlops explain` must not import it
    from compiler.graph import StageGraph

_HINT = ("set targets.kubernetes.workspace.access_mode: ReadWriteMany with a storage_class "
         "that offers it (NFS, EFS, Filestore, Azure Files, CephFS); write ReadWriteOnce "
         "there only if every step runs on one node")


def parallel_stages(spec: Spec, graph: StageGraph) -> Iterator[tuple[str, str | None]]:
    """(stage, other) for stages that run at the same time: a matrix stage with more than one
    combination (other None), and the first two stages, in topological order, neither of which
    waits for the other. Two stages next to each other in a topological order with no edge
    between them are such a pair, and if every neighbouring pair has an edge the stages form
    one chain: so one pass, however large the spec."""
    pipeline = [name for name in graph.order if spec.stages[name].schedule is None]
    for name in pipeline:
        matrix = spec.stages[name].matrix or {}
        if math.prod(len(values) for values in matrix.values()) > 1:
            yield name, None
    for first, second in zip(pipeline, pipeline[1:]):
        if not graph.graph.has_edge(first, second):
            yield second, first
            return


def check(context: LintContext) -> Iterator[Diagnostic]:
    graph = context.graph
    if graph is None:
        return

    def find(spec: Spec) -> Iterator[Finding]:
        settings = built(spec.targets).get(NAME)
        if not isinstance(settings, KubernetesSettings) \
                or "access_mode" in settings.workspace.model_fields_set:
            return  # a choice made: ReadWriteMany, or ReadWriteOnce for a one-node cluster
        for stage, other in parallel_stages(spec, graph):
            what = (f"stage {quote(stage)} runs its matrix combinations at the same time"
                    if other is None else
                    f"stages {quote(other)} and {quote(stage)} can run at the same time")
            yield Finding(("rwo", stage, other), ("stages", stage),
                          f"{what}, but the Kubernetes workspace is one ReadWriteOnce volume: "
                          "a step on another node cannot mount it while the other runs",
                          hint=_HINT)

    yield from per_spec(context, find)


RULE = Rule("MLP416", check, __doc__ or "")
