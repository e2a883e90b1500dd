"""Check or run generated KFP files inside a virtualenv with the real kfp packages.

Run with the python of the kfp tool venv (``tests/tooling.py:kfp_python``), never with the test
interpreter: this module imports kfp.

    python kfp_harness.py validate FILE...
    python kfp_harness.py run FILE WORKSPACE [--args JSON] [--keep DIR]
        (MLOPS_KFP_CACHE=DIR: local caching on, kept in DIR)

`validate` parses each file strictly with protobuf's `json_format.ParseDict` (unknown fields
and bad enums are errors): the first document as `PipelineSpec`, its executors as
`PipelineDeploymentConfig`, the second as `PlatformSpec` and each of its executors as
kfp-kubernetes' `KubernetesExecutorConfig`; then it checks the references between them and
loads the file with kfp's own loader.

`run` runs the pipeline in kfp's local orchestrator (`kfp.local`, SubprocessRunner) with
`WORKSPACE` as the run's workspace. The SubprocessRunner refuses container components: that one
check (a private method, hence kfp pinned exactly) is turned off, so each task's command runs on
this host, ignoring its image. The result: which tasks ran and how they ended.

The result is one JSON object on the last line of stdout, prefixed by ``RESULT_MARKER``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from typing import Any

RESULT_MARKER = "@@KFP_HARNESS_RESULT@@ "


def _documents(path: str) -> list[Any]:
    import yaml

    with open(path, encoding="utf-8") as f:
        return list(yaml.safe_load_all(f))


def validate(path: str) -> list[str]:
    from google.protobuf import json_format
    from kfp.kubernetes import kubernetes_executor_config_pb2 as k8s
    from kfp.pipeline_spec import pipeline_spec_pb2 as ir

    problems: list[str] = []

    def parse(data: Any, message: Any, where: str) -> Any:
        try:
            return json_format.ParseDict(data, message, ignore_unknown_fields=False)
        except json_format.ParseError as error:
            problems.append(f"{path}: {where}: {error}")
            return message

    docs = _documents(path)
    if len(docs) != 2:
        return [f"{path}: expected 2 YAML documents (PipelineSpec, PlatformSpec), found {len(docs)}"]
    spec = parse(docs[0], ir.PipelineSpec(), "PipelineSpec")
    deployment = parse(docs[0].get("deploymentSpec", {}), ir.PipelineDeploymentConfig(),
                       "deploymentSpec")
    platform = parse(docs[1], ir.PlatformSpec(), "PlatformSpec")
    if set(platform.platforms) != {"kubernetes"}:
        problems.append(f"{path}: platforms {sorted(platform.platforms)}")
    for label, config in docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"].items():
        parse(config, k8s.KubernetesExecutorConfig(), f"platform executor {label}")
        if label not in deployment.executors:
            problems.append(f"{path}: platform executor {label} is no executor of the pipeline")
    if spec.schema_version != "2.1.0":
        problems.append(f"{path}: schemaVersion {spec.schema_version!r}")
    for name, component in spec.components.items():
        if component.executor_label and component.executor_label not in deployment.executors:
            problems.append(f"{path}: component {name} names unknown executor "
                            f"{component.executor_label}")
    dags = [("root", spec.root)] + [(n, c) for n, c in spec.components.items() if c.HasField("dag")]
    for owner, component in dags:
        for name, task in component.dag.tasks.items():
            if task.component_ref.name not in spec.components:
                problems.append(f"{path}: task {owner}/{name} names unknown component "
                                f"{task.component_ref.name}")
                continue
            declared = spec.components[task.component_ref.name].input_definitions.parameters
            given = task.inputs.parameters
            if task.HasField("parameter_iterator"):
                given = {**given, task.parameter_iterator.item_input: None}
            required = {n for n, d in declared.items()
                        if not d.is_optional and not d.HasField("default_value")}
            if not required <= set(given) <= set(declared):
                problems.append(f"{path}: task {owner}/{name} passes {sorted(given)}, its "
                                f"component declares {sorted(declared)}")
            for upstream in task.dependent_tasks:
                if upstream not in component.dag.tasks:
                    problems.append(f"{path}: task {owner}/{name} depends on unknown {upstream}")
            for input_name, spec_input in task.inputs.parameters.items():
                ref = spec_input.component_input_parameter
                if ref and ref not in component.input_definitions.parameters:
                    problems.append(f"{path}: task {owner}/{name} input {input_name} reads "
                                    f"{ref}, which {owner} does not declare")
    if not problems:
        from kfp import components

        with contextlib.redirect_stdout(io.StringIO()):
            components.load_component_from_file(path)
    return problems


def run(path: str, workspace: str, arguments: dict[str, Any], keep: str | None = None
        ) -> dict[str, Any]:
    import shutil
    import types

    from kfp import components, local
    from kfp.local import pipeline_orchestrator, subprocess_task_handler, task_dispatcher
    from kfp.local.orchestrator import task_executor

    if keep is not None:  # the orchestrator deletes the workspace after a run: copy it first
        def rmtree(path: str, *args: Any, **kwargs: Any) -> None:
            shutil.copytree(path, keep, symlinks=True, dirs_exist_ok=True)
            shutil.rmtree(path, *args, **kwargs)

        pipeline_orchestrator.shutil = types.SimpleNamespace(rmtree=rmtree)  # type: ignore[assignment]

    # The one check turned off: container components run on the host (images are ignored).
    subprocess_task_handler.SubprocessTaskHandler.validate_not_container_component = (
        lambda self, full_command: None)
    attempts: list[str] = []     # task of each attempt, in order (tasks of one shape share
    tasks: list[list[str]] = []  # a component); [task, final status], in order of completion
    running: list[str] = []      # the task being run (the orchestrator runs one at a time)

    run_attempt = task_dispatcher.run_single_task_implementation
    run_task = task_executor.execute_single_task

    def attempt(**kwargs: Any) -> Any:
        attempts.append(running[-1])
        return run_attempt(**kwargs)

    def task(task_name: str, *args: Any, **kwargs: Any) -> Any:
        running.append(task_name)
        try:
            outputs, status = run_task(task_name, *args, **kwargs)
        finally:
            running.pop()
        tasks.append([task_name, status.name])
        return outputs, status

    task_dispatcher.run_single_task_implementation = attempt
    task_executor.execute_single_task = task
    os.makedirs(workspace, exist_ok=True)  # a cluster makes the volume; the local runner does not
    cache = os.environ.get("MLOPS_KFP_CACHE")  # a directory: local caching on, kept there
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=workspace + "-root",
               workspace_root=workspace, raise_on_error=True, enable_caching=cache is not None,
               cache_root=cache)
    pipeline = components.load_component_from_file(path)
    error = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            pipeline(**arguments)
    except Exception as exc:  # a failed task fails the run
        error = f"{type(exc).__name__}: {exc}"
    return {"error": error, "attempts": attempts, "tasks": tasks}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("validate")
    check.add_argument("files", nargs="+")
    go = sub.add_parser("run")
    go.add_argument("file")
    go.add_argument("workspace")
    go.add_argument("--args", default="{}")
    go.add_argument("--keep", help="copy the workspace here before the runner deletes it")
    args = parser.parse_args(argv)
    if args.command == "validate":
        result: dict[str, Any] = {"problems": [p for f in args.files for p in validate(f)]}
    else:
        result = run(args.file, args.workspace, json.loads(args.args), args.keep)
    sys.stdout.write(RESULT_MARKER + json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
