"""The spec as pydantic models: strict, frozen, unknown keys forbidden. The model is the schema.

`schemas/mlops.schema.json` is generated from `Spec` (see `compiler.schema`). Field descriptions
here are what editors show on hover, so they are written for the person typing the spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Optional, Union

from pydantic import ConfigDict, Field, create_model, model_validator
from pydantic.config import JsonDict

from compiler.spec.base import Model

from compiler.spec.types import (
    AxisValues,
    Cron,
    Duration,
    EnvName,
    Gate,
    Name,
    PositiveInt,
    Quantity,
    RelPath,
    Scalar,
    SecretName,
)

StageType = Literal["data", "features", "train", "evaluate", "deploy", "monitor", "task"]
STAGE_TYPES: tuple[str, ...] = StageType.__args__  # type: ignore[attr-defined]
# Fields an environment overlay may not change: they shape the graph, which is the same everywhere.
GRAPH_FIELDS = ("needs", "inputs", "outputs", "type")


class ParamSchema(Model):
    """A run-time parameter with a JSON Schema; `default` is required."""

    default: Scalar = Field(description="value used when a run does not override it")
    type: Optional[Literal["string", "integer", "number", "boolean"]] = None
    enum: Optional[list[Scalar]] = Field(None, min_length=1)
    minimum: Optional[Union[int, float]] = None
    maximum: Optional[Union[int, float]] = None
    pattern: Optional[str] = None
    description: Optional[str] = None


Param = Union[Scalar, ParamSchema]


class Resources(Model):
    cpu: Optional[Quantity] = Field(None, description="cpu request and limit, e.g. \"2\" or 500m")
    memory: Optional[Quantity] = Field(None, description="memory request and limit, e.g. 4Gi")
    gpu: Optional[int] = Field(None, ge=0, le=64, description="number of GPUs")


class Autoscale(Model):
    min: int = Field(1, ge=1, le=1000)
    max: int = Field(..., ge=1, le=1000)
    cpu_percent: int = Field(80, ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> "Autoscale":
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be at least min ({self.min})")
        return self


class Serve(Model):
    """A long-running model server, rendered as a Deployment and a Service."""

    image: Optional[str] = Field(None, min_length=1, description="server image; default: the stage image")
    port: int = Field(8080, ge=1, le=65535, description="a decimal number: YAML 1.1 reads "
                      "010 as 8, so a leading zero is refused")
    replicas: int = Field(1, ge=0, le=1000)
    health: str = Field("/healthz", pattern=r"^/[^\s]*$", description="HTTP path of the health check")
    autoscale: Optional[Autoscale] = None


# A command has a non-blank character: `run: ""` would run nothing and pass, most likely a
# leftover; a deploy stage with `serve` leaves `run` out instead (MLP130).
RUN_PATTERN = r"\S"
_UNIQUE: JsonDict = {"uniqueItems": True}  # MLP208 says so in lint; editors say it as you type
RUN_DESCRIPTION = ("shell command, run by `sh -c`; never empty (a deploy stage with `serve` "
                   "may leave it out)")


class Stage(Model):
    """One step of the pipeline."""

    type: StageType = Field("task", description="what the stage does; drives lint rules and "
                                                 "rendering")
    run: Optional[str] = Field(None, pattern=RUN_PATTERN, description=RUN_DESCRIPTION)
    image: Optional[str] = Field(None, min_length=1, description="container image for container "
                                                                  "targets; default: defaults.image")
    needs: list[str] = Field(default_factory=list, json_schema_extra=_UNIQUE,
                             description="stages that must finish first, each named once")
    inputs: list[RelPath] = Field(default_factory=list, json_schema_extra=_UNIQUE,
                                  description="paths the stage reads; an input another stage "
                                  "outputs adds that dependency")
    outputs: list[RelPath] = Field(default_factory=list, json_schema_extra=_UNIQUE,
                                   description="paths the stage writes (`dir/` for a "
                                   "directory): one writer per path, and no output inside "
                                   "another output's directory")
    metrics: Optional[RelPath] = Field(None, description="JSON object of numbers the gate reads: "
                                       "a file of the stage's own, or one that another stage "
                                       "lists in its outputs")
    gate: list[Gate] = Field(default_factory=list, description="conditions on the metrics file, "
                             "checked after run; a failed gate fails the stage")
    env: dict[EnvName, str] = Field(default_factory=dict, description="environment variables "
                                    "(text), merged over the top-level env")
    secrets: list[SecretName] = Field(default_factory=list, json_schema_extra=_UNIQUE,
                                      description="names of secrets the stage sees as "
                                      "environment variables; never values")
    resources: Optional[Resources] = None
    retries: Optional[PositiveInt] = Field(None, description="retries after a failure")
    retry_delay: Optional[Duration] = None
    timeout: Optional[Duration] = None
    schedule: Optional[Cron] = Field(None, description="run on this cron schedule (UTC), outside "
                                                       "the pipeline graph")
    matrix: dict[Name, AxisValues] = Field(default_factory=dict, description="fan out once per "
                                             "combination of values; ${matrix.AXIS} in run")
    serve: Optional[Serve] = Field(None, description="deploy stages only: a long-running server")
    cache: Optional[bool] = Field(None, description="true: the outputs are a pure function of "
                                  "the command, image, env, params and inputs, so an engine "
                                  "that caches (KFP, DVC) may skip the stage when none changed; "
                                  "default false: the stage always runs")

    @model_validator(mode="after")
    def _run_or_serve(self) -> "Stage":
        if self.serve is not None and self.type != "deploy":
            raise ValueError("'serve' is only allowed on a stage of type 'deploy'")
        if self.run is None and self.serve is None:
            raise ValueError("a stage needs 'run' (a shell command); only a deploy stage with "
                             "'serve' may leave it out")
        return self


class Defaults(Model):
    """Values every stage inherits; a stage's own value wins, env and resources merge by key."""

    image: Optional[str] = Field(None, min_length=1)
    retries: Optional[PositiveInt] = None
    retry_delay: Optional[Duration] = None
    timeout: Optional[Duration] = None
    resources: Optional[Resources] = None
    env: dict[EnvName, str] = Field(default_factory=dict)
    secrets: list[SecretName] = Field(default_factory=list)
    cache: Optional[bool] = None


class Push(Model):
    branches: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)


class MlflowTracking(Model):
    """MLflow: every stage gets MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_NAME and tags that tie
    its runs to the pipeline run, stage, environment and commit."""

    tracking_uri: str = Field(min_length=1, description="MLFLOW_TRACKING_URI")
    experiment: Optional[str] = Field(None, min_length=1, description="MLFLOW_EXPERIMENT_NAME; "
                                      "default: the server's default experiment")
    token_secret: Optional[SecretName] = Field(None, description="name of the secret that "
                                               "holds MLFLOW_TRACKING_TOKEN (never its value)")


class WandbTracking(Model):
    """Weights & Biases: every stage gets WANDB_PROJECT, WANDB_ENTITY, a run group per pipeline
    run, its stage as job type and name, and tags."""

    project: str = Field(min_length=1, description="WANDB_PROJECT")
    entity: Optional[str] = Field(None, min_length=1, description="WANDB_ENTITY")
    api_key_secret: Optional[SecretName] = Field(None, description="name of the secret that "
                                                 "holds WANDB_API_KEY (never its value)")


class Tracking(Model):
    """Experiment tracking, wired into every stage on every target."""

    mlflow: Optional[MlflowTracking] = None
    wandb: Optional[WandbTracking] = None


class Triggers(Model):
    schedule: Optional[Cron] = Field(None, description="5-field cron in UTC")
    push: Optional[Push] = None
    manual: bool = Field(True, description="allow starting a run by hand")


def _targets_model() -> type[Model]:
    """`targets`: one optional field per registered target, holding its settings model."""
    from compiler.targets import TARGETS

    fields: dict[str, Any] = {
        name: (Optional[target.settings], Field(None, description=f"build {target.title} "
                                                 "files, with these settings"))
        for name, target in TARGETS.items()}
    return create_model(
        "Targets", __base__=Model,
        __doc__="Present: only the listed targets are built (`github: {}` builds GitHub with "
                "defaults).", **fields)


if TYPE_CHECKING:  # a model made at import time is not a type to mypy: name its base
    Targets = Model
else:
    Targets = _targets_model()


class ServePatch(Model):
    image: Optional[str] = Field(None, min_length=1)
    port: Optional[int] = Field(None, ge=1, le=65535)
    replicas: Optional[int] = Field(None, ge=0, le=1000)
    health: Optional[str] = Field(None, pattern=r"^/[^\s]*$")
    autoscale: Optional[Autoscale] = None


class StagePatch(Model):
    """What an environment may change in a stage: values, never the graph."""

    run: Optional[str] = Field(None, pattern=RUN_PATTERN, description=RUN_DESCRIPTION)
    image: Optional[str] = Field(None, min_length=1)
    metrics: Optional[RelPath] = None
    gate: Optional[list[Gate]] = None
    env: Optional[dict[EnvName, str]] = None
    secrets: Optional[list[SecretName]] = None
    resources: Optional[Resources] = None
    retries: Optional[PositiveInt] = None
    retry_delay: Optional[Duration] = None
    timeout: Optional[Duration] = None
    schedule: Optional[Cron] = None
    matrix: Optional[dict[Name, AxisValues]] = None
    serve: Optional[ServePatch] = None
    cache: Optional[bool] = None


class _Environment(Model):
    """A GitOps overlay, deep-merged over the spec (mappings merge, lists replace)."""

    approval: bool = Field(False, description="require a human approval before deploy stages")
    params: dict[str, Scalar] = Field(default_factory=dict, description="new default values")
    env: dict[EnvName, str] = Field(default_factory=dict)
    defaults: Optional[Defaults] = None
    triggers: Optional[Triggers] = Field(None, description="replaces the spec's triggers as a "
                                         "whole in this environment")
    tracking: Optional[Tracking] = None
    stages: dict[str, StagePatch] = Field(default_factory=dict)
    targets: Optional[Targets] = None


def _environment_model() -> type[_Environment]:
    """`_Environment` plus the shortcuts targets offer (`kubernetes: {namespace: ...}`)."""
    from compiler.targets import TARGETS

    shortcuts: dict[str, Any] = {
        name: (Optional[target.shortcut], Field(None, description=f"shortcut for "
                                                 f"targets.{name} in this environment"))
        for name, target in TARGETS.items() if target.shortcut is not None}
    return create_model("Environment", __base__=_Environment, __doc__=_Environment.__doc__,
                        **shortcuts)


if TYPE_CHECKING:
    Environment = _Environment
else:
    Environment = _environment_model()


class Spec(Model):
    """An mlops.yaml file."""

    model_config = ConfigDict(title="mlops.yaml", json_schema_extra={
        "$schema": "https://json-schema.org/draft/2020-12/schema",
    })

    version: Literal[1] = Field(description="schema version of this file; 1 is the only one")
    name: Name = Field(description="pipeline name: lowercase letters, digits, '-' and '_'")
    description: str = ""
    owner: str = Field("", description="free text, e.g. the owning team")
    params: dict[Name, Param] = Field(default_factory=dict, description="run-time parameters: "
                                      "a default, or a JSON Schema with one; ${params.NAME}")
    env: dict[EnvName, str] = Field(default_factory=dict, description="environment variables "
                                    "(text) for every stage")
    secrets: list[SecretName] = Field(default_factory=list, description="names of secrets every "
                                      "stage sees; values live in the engine's secret store")
    defaults: Defaults = Defaults()
    triggers: Triggers = Triggers()
    tracking: Tracking = Tracking()
    stages: dict[Name, Stage] = Field(min_length=1, description="the pipeline's stages, by name")
    environments: dict[Name, Environment] = Field(
        default_factory=dict, description="overlays (e.g. staging, production), each built "
                                          "apart")
    targets: Optional[Targets] = Field(
        None, description="targets to build; absent: the default targets "
                          "(see 'mlops targets')")
