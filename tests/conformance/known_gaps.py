"""Behaviours the current renderers get wrong, by (case, engine): the one place they are listed.

A listed pair still runs in full; its test is an expected failure (`xfail(strict=True)`, and
only a `check.Mismatch` counts: an engine that fails to start is still a failure). When a fix
lands and the pair conforms, the test fails as an unexpected pass until its entry is removed
here. Each reason says what goes wrong and where the fix belongs (compiler/render/ and
templates/ are not changed by the suite).
"""

from __future__ import annotations

_MATRIX_ARTIFACT = (
    "github: each matrix shard uploads its outputs as 'mlops.<stage>.<i>.${{ strategy.job-index }}'; "
    "act leaves the expression empty, so every shard uploads under one name and the fan-in "
    "stage downloads one shard's files. Fix: name the artifact from a value the compiler "
    "writes into the matrix itself (e.g. an index per combination), not from an engine detail")
_GATE_RETRIED = (
    "airflow: the gate check runs inside the task's shell command, so a failed gate fails the "
    "task and Airflow retries command and gate. Fix: report a failed gate as "
    "AirflowFailException (no retry), e.g. from a distinct exit code of the gate script")
_STALE_METRICS = (
    "the gate reads whatever metrics file is in the working directory; nothing removes the "
    "stage's metrics (or declared outputs) before its command runs, so a file from an earlier "
    "run (or committed) passes the gate. Fix: the runtime deletes the metrics file before the "
    "command, on every target")
_SCOPED_SECRET = (
    "airflow (bash): tasks get the whole worker environment (append_env=True), so a secret "
    "listed on one stage is visible to every task of the worker. Fix: drop from each task's "
    "environment the spec's secret names that its stage does not list")
_LOCAL_SECRETS = (
    "kfp.local (the engine here, not the file): the local runner ignores kfp-kubernetes' "
    "secretAsEnv and gives every task the runner's whole environment, so a secret listed on one "
    "stage is visible to all. On a cluster each task's pod gets only its own keys; "
    "tests/test_kubeflow_target.py checks the file lists each stage's secrets on its executor only")

KNOWN_GAPS: dict[tuple[str, str], str] = {
    ("matrix-fan-in", "github"): _MATRIX_ARTIFACT,
    ("gate-never-retried", "airflow3"): _GATE_RETRIED,
    ("gate-never-retried", "airflow2"): _GATE_RETRIED,
    ("gate-stale-metrics", "airflow3"): _STALE_METRICS,
    ("gate-stale-metrics", "airflow2"): _STALE_METRICS,
    ("secret-scoped-to-stage", "airflow3"): _SCOPED_SECRET,
    ("secret-scoped-to-stage", "airflow2"): _SCOPED_SECRET,
    ("secret-scoped-to-stage", "kfp"): _LOCAL_SECRETS,
}
