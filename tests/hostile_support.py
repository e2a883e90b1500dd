"""Shared pieces of the hostile-input tests: a spec with every free-text field, the ways to
inject a text into one field, and the structural checks on every target's output.

Not a test module (no `test_` prefix): test_hostile.py and test_security_*.py import it.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from compiler import pipeline
from compiler.analysis import Analysis, analyze

# Pinned by digest, as zizmor asks of job containers.
IMAGE = "ghcr.io/acme/x:1.0@sha256:" + "a" * 64
SERVE_IMAGE = "ghcr.io/acme/serve:1.0@sha256:" + "b" * 64

# The probe: the prep stage writes each env value it sees to a file, byte for byte.
PROBE = ("printf '%s' \"$TOP\" > top.out; printf '%s' \"$DEF\" > def.out; "
         "printf '%s' \"$STAGE\" > stage.out; printf '%s' \"$MLOPS_PARAM_LR\" > lr.out")
MATRIX_PROBE = "printf '%s' \"$MLOPS_MATRIX_SEED\" > seed.out; echo '{\"auc\": 1}' > metrics.json"

BASE: dict[str, Any] = {
    "version": 1,
    "name": "hostile",
    "description": "benign description",
    "owner": "benign-owner",
    "params": {"lr": {"default": "benign", "type": "string", "description": "benign text",
                      "enum": ["benign", "other"]}},
    "env": {"TOP": "benign"},
    "defaults": {"image": IMAGE, "env": {"DEF": "benign"}},
    "triggers": {"push": {"branches": ["main"], "paths": ["src/**"]}, "manual": True},
    "stages": {
        "prep": {"run": PROBE, "env": {"STAGE": "benign"}, "outputs": ["data/"]},
        "train": {"run": MATRIX_PROBE, "inputs": ["data/"], "outputs": ["model/"],
                  "metrics": "metrics.json", "gate": ["auc >= 0.5"],
                  "matrix": {"seed": ["1", "benign"]}},
        "deploy": {"type": "deploy", "needs": ["train"], "run": "true",
                   "serve": {"image": SERVE_IMAGE, "health": "/benign"}},
    },
    "targets": {
        "github": {"runs_on": "ubuntu-24.04"},
        "airflow": {"version": 3, "operator": "bash"},
        "kubernetes": {"namespace": "hostile", "service_account": "runner",
                       "workspace": {"size": "1Gi", "storage_class": "standard"}},
    },
}


# The hostile corpus: texts that engines and encoders are known to trip on (quotes, escapes,
# template and expression syntax, YAML markers, look-alike Unicode, control characters). The
# property test of test_hostile.py combines them; the conformance suite sends each one through
# `run`, `env` and `${params.X}` on every engine and checks the bytes that arrive.
FRAGMENTS = [
    "'", '"', "\\", "\n", "\r\n", "\t", "{{", "}}", "{{ workflow.name }}", "{{=sprig.env('X')}}",
    "{% if x %}", "{{ ti.xcom_pull() }}", "$(id)", "$(HOME)", "$$(HOME)", "`id`", "${{ github.ref }}",
    "${HOME}", "$HOME", "---", "...", "\n---\n", "# c", ": ", "- ", "&a", "*a", "!!python/object",
    "%", "\u2018", "\u201c", "\uff04\uff08id\uff09", "\u00a0", "\u2028", "\u0085", "\ufeff",
    "\x01", "\x1b[31m", "\x7f", "\U0001f600", "'''", '"""', "\\x00", "\\n", "@", "|", ">",
    "; rm -rf /", "&& echo", "$$", "${", "}", "~", "null", "true", "0x1", "1e3", "[a]", "{a: b}",
]


def _set(*path: str | int) -> Callable[[dict[str, Any], str], None]:
    def setter(spec: dict[str, Any], text: str) -> None:
        node: Any = spec
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = text
    return setter


def _param_default(spec: dict[str, Any], text: str) -> None:
    spec["params"]["lr"]["default"] = text
    spec["params"]["lr"]["enum"] = [text, "other"]


def _path(spec: dict[str, Any], text: str) -> None:
    spec["stages"]["prep"]["outputs"] = [text]
    spec["stages"]["train"]["inputs"] = [text]


def _health(spec: dict[str, Any], text: str) -> None:
    spec["stages"]["deploy"]["serve"]["health"] = "/" + text


# Every free-text field of the spec, by a name the tests report.
FIELDS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "description": _set("description"),
    "owner": _set("owner"),
    "env": _set("env", "TOP"),
    "defaults.env": _set("defaults", "env", "DEF"),
    "stage.env": _set("stages", "prep", "env", "STAGE"),
    "run": _set("stages", "prep", "run"),
    "param.default": _param_default,
    "param.description": _set("params", "lr", "description"),
    "param.enum": _set("params", "lr", "enum", 1),
    "matrix": _set("stages", "train", "matrix", "seed", 1),
    "paths": _path,
    "metrics": _set("stages", "train", "metrics"),
    "image": _set("defaults", "image"),
    "serve.image": _set("stages", "deploy", "serve", "image"),
    "serve.health": _health,
    "push.branch": _set("triggers", "push", "branches", 0),
    "push.path": _set("triggers", "push", "paths", 0),
    "github.runs_on": _set("targets", "github", "runs_on"),
    "airflow.workdir": _set("targets", "airflow", "workdir"),
    "k8s.service_account": _set("targets", "kubernetes", "service_account"),
    "k8s.storage_class": _set("targets", "kubernetes", "workspace", "storage_class"),
}

# A value of each field that lints clean (the reference rendering).
BENIGN: dict[str, str] = {"paths": "data/", "metrics": "metrics.json", "image": IMAGE,
                          "serve.image": SERVE_IMAGE, "serve.health": "benign",
                          "push.path": "src/**", "push.branch": "main",
                          "github.runs_on": "ubuntu-24.04", "airflow.workdir": "work",
                          "k8s.service_account": "runner", "k8s.storage_class": "standard",
                          "matrix": "benign", "param.enum": "other"}


def spec_with(field: str, text: str) -> dict[str, Any]:
    spec = copy.deepcopy(BASE)
    FIELDS[field](spec, text)
    return spec


def spec_bytes(spec: dict[str, Any]) -> bytes:
    # PyYAML's own emitter, ASCII only: every character arrives as written (a raw U+2028 would
    # be a line break to YAML 1.1, and JSON's surrogate pairs are not YAML escapes).
    return yaml.safe_dump(spec, allow_unicode=False, sort_keys=False, width=1 << 20).encode()


def analyze_spec(spec: dict[str, Any]) -> Analysis:
    return analyze(spec_bytes(spec), "mlops.yaml")


def errors(analysis: Analysis) -> list[Any]:
    return [d for d in analysis.diagnostics if d.severity.name == "ERROR"]


def outputs(analysis: Analysis) -> dict[str, str]:
    """Every file of every target, with headers, as `mlops build` writes them."""
    return pipeline.build(analysis, spec_path="mlops.yaml").files


# ------------------------------------------------------------------------------ shapes

PLACEHOLDER = "<S>"


def yaml_shape(value: Any) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER
    if isinstance(value, dict):
        return {k: yaml_shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [yaml_shape(v) for v in value]
    return value


class _Blank(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str):
            return ast.copy_location(ast.Constant(PLACEHOLDER), node)
        return node


def python_shape(text: str) -> str:
    return ast.dump(_Blank().visit(ast.parse(text)))


def parse(path: str, text: str) -> Any:
    if path.endswith(".py"):
        ast.parse(text)
        return python_shape(text)
    return [yaml_shape(doc) for doc in yaml.safe_load_all(text)]


def documents(files: dict[str, str]) -> Iterator[tuple[str, Any]]:
    for path, text in files.items():
        if path.endswith((".yml", ".yaml")):
            for doc in yaml.safe_load_all(text):
                yield path, doc


def strings(value: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every string value (not key) in a YAML document, with its path."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            yield path, node
        elif isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in enumerate(node))


# The only `${{ }}` forms the GitHub target writes (compiler/targets/github/expressions.py).
GITHUB_EXPRESSION = re.compile(
    r"\$\{\{ (?:fromJSON\(toJSON\(github\.event\.inputs\['([a-z][a-z0-9_-]*)'\]\) != 'null' && "
    r"toJSON\(github\.event\.inputs\['\1'\]\) \|\| toJSON\(env\.MLOPS_DEFAULT_[A-Z0-9_]+\)\)"
    r"|github\.event\.inputs\['[a-z][a-z0-9_-]*'\]"
    r"|toJSON\(github\.event\.inputs\['[a-z][a-z0-9_-]*'\]\) != 'null'"
    r"|matrix\['(?:_shard|[a-z][a-z0-9_-]*)'\]|secrets\.[A-Za-z_][A-Za-z0-9_]*|github\.[a-z_.]+"
    r"|runner\.[a-z_]+|inputs\.[a-z_]+) \}\}")
# The only `{{...}}` the Kubernetes target writes into Argo documents.
ARGO_EXPRESSION = re.compile(
    r"\{\{(?:workflow\.parameters\.[a-z][a-z0-9_-]*|inputs\.parameters\.(?:combination|stage)|item"
    r"|tasks\.[a-z0-9][a-z0-9-]*\.outputs\.parameters\.approve)\}\}")
# `$(` that the kubelet would expand: one not preceded by an odd number of `$`.
KUBELET_EXPANSION = re.compile(r"(?<!\$)(?:\$\$)*\$\(")


def unsafe_places(files: dict[str, str]) -> list[str]:
    """Places where spec text could be evaluated by an engine (empty when there are none)."""
    found: list[str] = []
    for path, doc in documents(files):
        argo = isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith("argoproj.io/")
        k8s = isinstance(doc, dict) and "kind" in doc
        for where, text in strings(doc):
            if "${{" in GITHUB_EXPRESSION.sub("", text):
                found.append(f"{path}: {where}: a GitHub expression not made by the compiler")
            if argo and "{{" in ARGO_EXPRESSION.sub("", text):
                found.append(f"{path}: {where}: '{{{{' that Argo would substitute")
            if k8s and doc.get("kind") != "ConfigMap" and _expanded_by_kubelet(where) \
                    and KUBELET_EXPANSION.search(text):
                found.append(f"{path}: {where}: '$(' that the kubelet would expand")
    return found


def _expanded_by_kubelet(where: tuple[Any, ...]) -> bool:
    """command, args and env[].value of a container: where Kubernetes expands `$(VAR)`."""
    if "command" in where or "args" in where:
        return True
    return len(where) >= 3 and where[-1] == "value" and where[-3] == "env"


def kubelet_expand(text: str, defined: dict[str, str]) -> str:
    """The kubelet's expansion of an env `value` (k8s.io/kubernetes third_party/forked/golang/
    expansion): `$$` is `$`, `$(NAME)` is NAME's value when defined (else kept as written), any
    other `$` is kept."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2:end]
                    out.append(defined.get(name, f"$({name})"))
                    i = end + 1
                    continue
            out.append("$" + nxt)
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)
