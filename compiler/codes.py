"""Every diagnostic code, in one table: `MLP1xx` YAML and schema, `MLP2xx` graph, `MLP3xx`
MLOps rules, `MLP4xx` target capability and engine limits.

Codes are stable and never reused: a code that is no longer reported stays here, marked
`removed`, so nobody hands it out again. `mlops explain CODE` shows a code's documentation:
a lint rule's module docstring, or `compiler/codedocs/<CODE>.md` for the codes the front end
(source, validate, graph) reports. Both carry a failing and a fixed example, which the tests run.
Rules and phases never restate a code's severity: the drivers stamp it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Severity

E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class Code:
    code: str
    name: str               # kebab-case, stable like the code
    severity: Severity
    summary: str            # what it finds, in one line (README table, `mlops explain --list`)
    removed: bool = False   # no longer reported; listed so that the code is never reused


CODES: dict[str, Code] = {c.code: c for c in (
    # ---- MLP1xx: the file and its schema (compiler/source.py, validate.py, spec/params.py)
    Code("MLP101", "invalid-yaml", E, "the file is not valid YAML"),
    Code("MLP102", "duplicate-key", E, "a key appears twice in one mapping"),
    Code("MLP103", "yaml-tag", E, "a YAML tag (!!python/..., !custom), which a spec never needs"),
    Code("MLP104", "several-documents", E, "more than one YAML document in the file"),
    Code("MLP105", "alias-expansion", E, "anchors and aliases that expand to too many nodes"),
    Code("MLP106", "not-utf8", E, "the file is not valid UTF-8"),
    Code("MLP107", "control-character", E, "a NUL byte or a control character YAML forbids"),
    Code("MLP108", "bidi-control", E, "an invisible bidirectional control character"),
    Code("MLP109", "file-too-large", E, "the file is over the size limit (--max-size)"),
    Code("MLP110", "too-deep", E, "YAML nested deeper than the limit"),
    Code("MLP111", "merge-conflict", E, "a git merge-conflict marker"),
    Code("MLP112", "empty-file", E, "the file holds no spec"),
    Code("MLP113", "merge-key", E, "a YAML merge key ('<<')"),
    Code("MLP114", "complex-key", E, "a mapping key that is a list or a mapping"),
    Code("MLP115", "too-many-stages", E, "more stages than the compiler accepts"),
    Code("MLP116", "value-too-long", E, "one value longer than the limit (1 MiB)"),
    Code("MLP120", "unknown-key", E, "a key the spec does not have"),
    Code("MLP121", "missing-field", E, "a required field is missing"),
    Code("MLP122", "wrong-type", E, "a value of the wrong type (text, number, list, ...)"),
    Code("MLP123", "invalid-value", E, "a value outside what the field accepts"),
    Code("MLP124", "unsupported-version", E, "a spec version this compiler does not read"),
    Code("MLP125", "invalid-name", E, "a stage, param, environment, variable or secret name "
                                      "that breaks the naming rules"),
    Code("MLP126", "param-schema-violation", E, "a param default or override that its schema "
                                                "refuses"),
    Code("MLP128", "not-a-mapping", E, "the file is not a mapping of spec fields"),
    Code("MLP129", "invalid-param-schema", E, "a param schema that is not valid JSON Schema"),
    Code("MLP130", "empty-run", E, "a stage's 'run' that holds no command"),
    Code("MLP131", "yaml11-number", E, "a number YAML 1.1 reads in octal or base 60 (010 is 8, "
                                       "1:30 is 90) where YAML 1.2 and editors read another"),
    Code("MLP132", "unseen-line-break", E, "U+0085, U+2028 or U+2029: a line break to YAML, "
                                           "not to editors"),
    # ---- MLP2xx: the stage graph (compiler/graph.py)
    Code("MLP201", "unknown-stage", E, "'needs' names a stage the spec does not have"),
    Code("MLP202", "needs-itself", E, "a stage that needs itself"),
    Code("MLP203", "cycle", E, "stages that depend on each other in a cycle"),
    Code("MLP204", "output-clash", E, "two stages that write the same output"),
    Code("MLP205", "scheduled-stage-edge", E, "a scheduled stage with 'needs', or needed by "
                                              "another stage"),
    Code("MLP206", "name-collision", E, "two names that become one in generated files"),
    Code("MLP207", "nested-output", E, "an output inside a directory that another output "
                                       "already declares"),
    Code("MLP208", "duplicate-entry", E, "one entry listed twice in needs, inputs, outputs or "
                                         "secrets"),
    Code("MLP209", "shared-metrics-file", E, "two stages that write the same metrics file"),
    # ---- MLP3xx: MLOps rules (compiler/lint/)
    Code("MLP301", "unpinned-image", W, "container image without a version tag, or tagged "
                                        "latest"),
    Code("MLP302", "deploy-without-gate", W, "deploy stage not downstream of an evaluate stage "
                                             "with a gate"),
    Code("MLP303", "gate-without-metrics", E, "stage with a gate but no metrics file"),
    Code("MLP304", "bad-gate", E, "gate condition that is not '<metric> <op> <number>'"),
    Code("MLP305", "unknown-param", E, "${params.NAME} naming an undeclared param"),
    Code("MLP306", "unknown-matrix-axis", E, "${matrix.AXIS} where the stage has no such axis"),
    Code("MLP307", "github-expression", E, "'${{' (a GitHub Actions expression) in a spec "
                                           "string"),
    Code("MLP308", "credential-literal", E, "a literal that looks like a credential (key, "
                                            "token, password)"),
    Code("MLP309", "invalid-cron", E, "schedule that is not a valid cron expression"),
    Code("MLP310", "invalid-duration", E, "retry_delay or timeout that is not a duration like "
                                          "30s or 1h30m"),
    Code("MLP311", "monitor-without-schedule", W, "monitor stage without a schedule of its "
                                                  "own"),
    Code("MLP312", "unknown-overlay-stage", E, "environment patching a stage or param the spec "
                                               "does not have"),
    Code("MLP313", "gpu-without-github-runner", W, "GPU stage while the GitHub target has no "
                                                   "gpu_runs_on"),
    Code("MLP314", "interpolation-outside-run", E, "${params.X} or ${matrix.X} outside run and "
                                                   "env values"),
    Code("MLP315", "overlay-changes-graph", E, "environment changing a stage's matrix axes or "
                                               "adding/removing a schedule"),
    Code("MLP316", "missing-image", E, "stage without an image while a container target is "
                                       "built"),
    Code("MLP317", "secret-shadows-env", E, "a stage that gets one variable both from env and "
                                            "as a secret"),
    # ---- MLP4xx: targets (compiler/lint/ and compiler/targets/<name>/)
    Code("MLP401", "unsupported-on-target", W, "a spec feature that a built target cannot "
                                               "carry"),
    Code("MLP402", "kubernetes-name", E, "an image or Kubernetes name that Kubernetes would "
                                         "not accept"),
    Code("MLP403", "argo-substitution", E, "'{{' in a param default, choice or description "
                                           "that Argo would substitute"),
    Code("MLP410", "file-over-engine-limit", E, "a generated file larger than its engine "
                                                "accepts"),
    Code("MLP412", "derived-name-collision", E, "two spec names that a target turns into the "
                                                "same name"),
    Code("MLP411", "stage-over-engine-limit", E, "a stage that needs more than its engine "
                                                 "allows (e.g. matrix jobs)"),
    Code("MLP404", "kfp-placeholder", E, "a param default, choice or description that Kubeflow "
                                         "Pipelines would resolve or expand"),
    Code("MLP405", "kfp-approval", E, "an environment with approval while the kubeflow target, "
                                      "which cannot enforce it, is built"),
    Code("MLP407", "dvc-environment", E, "the environment DVC builds asks for approval, or "
                                         "DVC would build several environments"),
    Code("MLP408", "dvc-interpolation", E, "'${...}' in a path, which DVC would interpolate"),
    Code("MLP409", "dvc-output-overlap", E, "a stage whose input overlaps its own output, "
                                            "which DVC refuses"),
    Code("MLP413", "airflow-approval", E, "an environment with approval while the airflow "
                                          "target is built for Airflow 2, which cannot "
                                          "enforce it"),
    Code("MLP414", "github-hosted-time-limit", E, "a stage whose attempts may run longer "
                                                   "than a GitHub-hosted job may (6 hours)"),
    Code("MLP416", "single-node-workspace", W, "stages that run at the same time while the "
                                               "Kubernetes workspace is ReadWriteOnce"),
    Code("MLP417", "github-artifact-root", E, "an output under .mlops-artifact-root, the path "
                                              "every GitHub upload names"),
)}

_DOCS = Path(__file__).resolve().parent / "codedocs"


def severity(code: str) -> Severity:
    return CODES[code].severity


def documentation(code: str) -> str | None:
    """The documentation of a code: its rule's module docstring, or its file in codedocs/."""
    from compiler.lint import RULES

    rule = RULES.get(code)
    if rule is not None:
        return rule.doc
    path = _DOCS / f"{code}.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None
