"""How each target carries each spec feature: native, emulated (and how), or unsupported;
and the engine limits each target's files are checked against.

The features are listed here, once; each target declares its support for every one of them
(`Target.capabilities`, checked by a test) and its engine's limits (`Target.limits`). Read by
lint (MLP401 warns where no built target can carry a feature the spec uses), by `mlops
targets`, and printed in the README.
"""

from __future__ import annotations

from compiler.limits import SUPPORTED_STAGES
from compiler.targets import TARGETS

# Feature -> what it is, in the order `mlops targets` shows them. Keys are what MLP401 names.
FEATURES: dict[str, str] = {
    "needs": "stages that must finish first",
    "inputs/outputs": "files passed from the stage that writes them to the stages that read them",
    "retries": "retries after a failure, with retry_delay",
    "timeout": "the longest an attempt may run",
    "image": "the container image a stage runs in",
    "resources": "cpu and memory",
    "gpu": "GPUs",
    "matrix": "one run per combination of axis values",
    "params": "run-time parameters, overridable when a run starts",
    "secrets": "secrets as environment variables, by reference",
    "gate": "metric conditions checked after the command",
    "schedule": "the pipeline on a cron schedule",
    "stage schedule": "a stage on a schedule of its own",
    "approval": "a human approval before deploy stages",
    "serve": "a long-running model server",
    "push trigger": "a run on each push",
    "tracking": "MLflow and W&B settings, token by secret, runs tagged with the pipeline run",
}


def table_markdown() -> str:
    """The capability table as Markdown, for `mlops targets --format markdown` and the README."""
    names = list(TARGETS)
    lines = ["| feature | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for feature in FEATURES:
        cells = [f"{t.capabilities[feature].level}: {t.capabilities[feature].how}"
                 for t in TARGETS.values()]
        lines.append(f"| {feature} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def table_text() -> str:
    lines = []
    width = max(len(name) for name in TARGETS) + 1
    for feature in FEATURES:
        lines.append(feature)
        lines += [f"  {name:{width}} {t.capabilities[feature].level:12} {t.capabilities[feature].how}"
                  for name, t in TARGETS.items()]
    return "\n".join(lines) + "\n"


def _limit_rows() -> list[tuple[str, str, str]]:
    """(target, what is limited, the documented source) for every declared limit."""
    return [(name, f"at most {limit.maximum:,} {limit.unit} for {limit.name}", limit.source)
            for name, t in TARGETS.items() for limit in t.limits]


def _held(holds: int) -> str:
    """How much of the benchmark spec a target holds (`Target.holds`), in words."""
    if holds >= SUPPORTED_STAGES:
        return (f"{SUPPORTED_STAGES:,} stages, the most a spec may have "
                "(no declared engine limit reached)")
    return f"{holds:,} stages"


def limits_markdown() -> str:
    """The engine limits as Markdown: `mlops targets --format markdown` and the README."""
    lines = ["| target | limit | why |", "|---|---|---|"]
    lines += [f"| {name} | {what} | {source} |" for name, what, source in _limit_rows()]
    lines += ["", "The largest benchmark spec (`benchmarks/generate.py`, default settings) each "
              "target's files hold, measured by `benchmarks/largest.py`:", "",
              "| target | largest spec that fits |", "|---|---|"]
    lines += [f"| {name} | {_held(t.holds)} |" for name, t in TARGETS.items()]
    return "\n".join(lines) + "\n"


def limits_text() -> str:
    width = max(len(name) for name in TARGETS) + 1
    lines = ["engine limits (mlops build writes nothing over them: MLP410, MLP411)"]
    lines += [f"  {name:{width}} {what}\n  {'':{width}} ({source})"
              for name, what, source in _limit_rows()]
    lines += ["", "largest benchmark spec that fits (benchmarks/generate.py, default settings; "
              "measured by benchmarks/largest.py)"]
    lines += [f"  {name:{width}} {_held(t.holds)}" for name, t in TARGETS.items()]
    return "\n".join(lines) + "\n"
