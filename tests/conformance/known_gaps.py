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
_GIT_SHA = (
    "github: MLOPS_GIT_SHA is set only by `build --ref` (stamped); a run knows its commit as "
    "github.sha, but the workflow never passes it. Fix: MLOPS_GIT_SHA: ${{ github.sha }} in "
    "each step's env when no commit is stamped")
_EMPTY_INPUT = (
    "github: a param is read as github.event.inputs['x'] || env.MLOPS_DEFAULT_X, and '||' "
    "takes an empty dispatched text for false, so the run gets the default. Fix: choose the "
    "default by the event (inputs exist only on workflow_dispatch), not by the value's truth")
_PARAM_SCHEMA = (
    "github: workflow_dispatch input types cannot say minimum, maximum or pattern (they are "
    "only written into the input's description) and nothing checks a dispatched value, so the "
    "run starts with it. Fix: a first step or job that checks inputs against the params' "
    "schemas (python3, standard library) and fails before any stage")
_ATTEMPT_TIMEOUT = (
    "github: the Run step's timeout-minutes is the budget of all attempts together and the "
    "wrapper's retry loop bounds no single attempt, so an attempt past the timeout runs on. "
    "Fix: bound each attempt in the wrapper (e.g. coreutils `timeout` around `sh -c`) and keep "
    "timeout-minutes as the outer limit")
_STALE_METRICS = (
    "the gate reads whatever metrics file is in the working directory; nothing removes the "
    "stage's metrics (or declared outputs) before its command runs, so a file from an earlier "
    "run (or committed) passes the gate. Fix: the runtime deletes the metrics file before the "
    "command, on every target")
_LOCAL_SECRETS = (
    "kfp.local (the engine here, not the file): the local runner ignores kfp-kubernetes' "
    "secretAsEnv and gives every task the runner's whole environment, so a secret listed on one "
    "stage is visible to all. On a cluster each task's pod gets only its own keys; "
    "tests/test_kubeflow_target.py checks the file lists each stage's secrets on its executor only")

KNOWN_GAPS: dict[tuple[str, str], str] = {
    ("matrix-fan-in", "github"): _MATRIX_ARTIFACT,
    ("git-sha", "github"): _GIT_SHA,
    ("param-override-empty", "github"): _EMPTY_INPUT,
    ("param-above-maximum", "github"): _PARAM_SCHEMA,
    ("param-below-minimum", "github"): _PARAM_SCHEMA,
    ("param-pattern-mismatch", "github"): _PARAM_SCHEMA,
    ("timeout-each-attempt", "github"): _ATTEMPT_TIMEOUT,
    ("gate-stale-metrics", "github"): _STALE_METRICS,
    ("secret-scoped-to-stage", "kfp"): _LOCAL_SECRETS,
}
