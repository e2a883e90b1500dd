"""Behaviours the current renderers get wrong, by (case, engine): the one place they are listed.

A listed pair still runs in full; its test is an expected failure (`xfail(strict=True)`, and
only a `check.Mismatch` counts: an engine that fails to start is still a failure). When a fix
lands and the pair conforms, the test fails as an unexpected pass until its entry is removed
here. Each reason says what goes wrong and where the fix belongs (compiler/render/ and
templates/ are not changed by the suite).
"""

from __future__ import annotations

_LOCAL_SECRETS = (
    "kfp.local (the engine here, not the file): the local runner ignores kfp-kubernetes' "
    "secretAsEnv and gives every task the runner's whole environment, so a secret listed on one "
    "stage is visible to all. On a cluster each task's pod gets only its own keys; "
    "tests/test_kubeflow_target.py checks the file lists each stage's secrets on its executor only")

KNOWN_GAPS: dict[tuple[str, str], str] = {
    ("secret-scoped-to-stage", "kfp"): _LOCAL_SECRETS,
}
