"""The lint rules (MLP3xx MLOps, MLP4xx target capability): each rule's documented examples,
and the tricky cases."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from compiler.analysis import analyze
from compiler.diagnostics import Diagnostic, Severity
from compiler.lint import RULES

REPO = Path(__file__).resolve().parent.parent
SECTIONS = ("## What it finds", "## Why it matters", "## Failing example", "## Fixed example")
IMAGE = "ghcr.io/acme/churn:1.4.2"


def lint(text: str) -> list[Diagnostic]:
    analysis = analyze(textwrap.dedent(text).encode(), "mlops.yaml")
    assert analysis.validated is not None, [d.format() for d in analysis.diagnostics]
    return analysis.diagnostics


def found(text: str, code: str) -> list[Diagnostic]:
    return [d for d in lint(text) if d.code == code]


def example(doc: str, section: str) -> str:
    match = re.search(rf"## {section} example\n```yaml\n(.*?)```", doc, re.S)
    assert match is not None, f"no ```yaml block under '## {section} example'"
    return match.group(1)


# --- the registry and the documented examples -------------------------------------------------

def test_codes_are_unique_stable_and_documented() -> None:
    codes = [rule.code for rule in RULES.values()]
    assert len(codes) == len(set(codes))
    names = [rule.name for rule in RULES.values()]
    assert len(names) == len(set(names))
    for key, rule in RULES.items():
        assert key == rule.code
        assert re.fullmatch(r"MLP[34]\d\d", rule.code), rule.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name
        assert rule.doc.startswith(f"{rule.code} {rule.name}:"), rule.code
        positions = [rule.doc.find(section) for section in SECTIONS]
        assert -1 not in positions and positions == sorted(positions), rule.code
        assert rule.summary and rule.severity in (Severity.ERROR, Severity.WARNING)


@pytest.mark.parametrize("code", sorted(RULES))
def test_failing_example_reports_the_rule(code: str) -> None:
    diagnostics = lint(example(RULES[code].doc, "Failing"))
    assert [d.code for d in diagnostics] and all(d.code == code for d in diagnostics), \
        [d.format() for d in diagnostics]
    assert all(d.severity == RULES[code].severity for d in diagnostics)


@pytest.mark.parametrize("code", sorted(RULES))
def test_fixed_example_is_clean(code: str) -> None:
    diagnostics = lint(example(RULES[code].doc, "Fixed"))
    assert diagnostics == [], [d.format() for d in diagnostics]


@pytest.mark.parametrize("name", ["churn", "minimal", "sweep", "vertex"])
def test_examples_lint_clean(name: str) -> None:
    path = REPO / "examples" / name / "mlops.yaml"
    analysis = analyze(path.read_bytes(), str(path))
    assert analysis.diagnostics == [], [d.format() for d in analysis.diagnostics]


# --- MLP302 deploy-without-gate -------------------------------------------------------------

GATED = f"""\
version: 1
name: churn
defaults: {{image: "{IMAGE}"}}
stages:
  train: {{run: t, outputs: [model/]}}
  evaluate:
    type: evaluate
    run: e
    inputs: [model/]
    outputs: [report/]
    metrics: m.json
    gate: ["auc >= 0.8"]
  package: {{run: p, inputs: [report/]}}
  deploy: {{type: deploy, run: d, needs: [package]}}
"""


def test_deploy_gated_transitively_is_fine() -> None:
    assert found(GATED, "MLP302") == []


def test_environment_dropping_the_gate_warns_there() -> None:
    spec = GATED + "environments:\n  dev:\n    stages: {evaluate: {gate: []}}\n"
    [d] = found(spec, "MLP302")
    assert d.message.startswith("in environment 'dev': ") and d.severity == Severity.WARNING


def test_no_deploy_warning_without_a_graph() -> None:
    spec = GATED.replace("needs: [package]", "needs: [pakage]")
    codes = {d.code for d in analyze(spec.encode(), "mlops.yaml").diagnostics}
    assert "MLP201" in codes and "MLP302" not in codes


# --- MLP303 / MLP304 gates ------------------------------------------------------------------

def test_bad_gate_is_reported_at_the_item() -> None:
    spec = f"""\
    version: 1
    name: churn
    defaults: {{image: "{IMAGE}"}}
    stages:
      evaluate:
        type: evaluate
        run: e
        metrics: m.json
        gate:
          - auc >= 0.8
          - auc >= high
    environments:
      prod:
        stages: {{evaluate: {{gate: ["auc >> 1"]}}}}
    """
    diagnostics = found(spec, "MLP304")
    assert [(d.line, d.column) for d in diagnostics] == [(11, 9), (14, 32)]
    assert "'auc >= high'" in diagnostics[0].message
    assert "environment 'prod'" in diagnostics[1].message


def test_gate_without_metrics_in_an_environment() -> None:
    spec = f"""\
    version: 1
    name: churn
    defaults: {{image: "{IMAGE}"}}
    stages:
      evaluate: {{type: evaluate, run: e}}
    environments:
      prod:
        stages: {{evaluate: {{gate: ["auc >= 0.9"]}}}}
    """
    [d] = found(spec, "MLP303")
    assert d.message.startswith("in environment 'prod'") and d.line == 8


# --- MLP305 / MLP306 / MLP314 interpolation -------------------------------------------------

def test_unknown_params_everywhere_run_and_env_are_read() -> None:
    spec = f"""\
    version: 1
    name: churn
    params: {{lr: 0.1}}
    env: {{A: "${{params.a}}"}}
    defaults: {{image: "{IMAGE}", env: {{B: "${{params.b}}"}}}}
    stages:
      train: {{run: "x ${{params.lr}} $${{params.literal}}", env: {{C: "${{params.c}}"}}}}
    environments:
      prod:
        env: {{D: "${{params.d}}"}}
        defaults: {{env: {{E: "${{params.e}}"}}}}
        stages: {{train: {{run: "${{params.f}}", env: {{G: "${{params.lr}}"}}}}}}
    """
    names = [re.search(r"param '(\w+)'", d.message).group(1)  # type: ignore[union-attr]
             for d in found(spec, "MLP305")]
    assert sorted(names) == ["a", "b", "c", "d", "e", "f"]


def test_shared_env_matrix_reference_needs_the_axis_in_every_receiving_stage() -> None:
    base = f"""\
    version: 1
    name: sweep
    env: {{LR: "${{matrix.lr}}"}}
    defaults: {{image: "{IMAGE}"}}
    stages:
      a: {{run: x, matrix: {{lr: [1, 2]}}}}
      b: {{run: y, matrix: {{lr: [3]}}}}
    """
    assert found(base, "MLP306") == []
    lacking = base + "  c: {run: z}\n"
    [d] = found(lacking, "MLP306")
    assert "'c'" in d.message and d.line == 3
    overriding = base + "  c: {run: z, env: {LR: \"0.1\"}}\n"
    assert found(overriding, "MLP306") == []


def test_matrix_reference_in_an_environment_patch() -> None:
    spec = f"""\
    version: 1
    name: sweep
    defaults: {{image: "{IMAGE}"}}
    stages:
      train: {{run: "x ${{matrix.lr}}", matrix: {{lr: [1, 2]}}}}
    environments:
      dev:
        stages: {{train: {{run: "x ${{matrix.depth}}"}}}}
    """
    [d] = found(spec, "MLP306")
    assert "'depth'" in d.message and d.line == 8


def test_interpolation_outside_run_and_env() -> None:
    spec = f"""\
    version: 1
    name: churn
    description: "costs $${{params.x}} dollars"
    params: {{dataset: clicks}}
    defaults: {{image: "{IMAGE}"}}
    stages:
      train:
        run: "train ${{params.dataset}}"
        inputs: ["data/${{params.dataset}}.parquet"]
    """
    [d] = found(spec, "MLP314")
    assert (d.line, d.column) == (9, 14) and "stages.train.inputs[0]" in d.message


# --- MLP307 github-expression ---------------------------------------------------------------

def test_github_expression_in_a_key_and_a_value() -> None:
    spec = f"""\
    version: 1
    name: churn
    description: "uses ${{{{ secrets.X }}}}"
    defaults: {{image: "{IMAGE}"}}
    stages:
      train: {{run: t}}
    targets:
      kubernetes:
        gpu_node_selector:
          "${{{{ github.actor }}}}": "true"
    """
    diagnostics = found(spec, "MLP307")
    assert [(d.line, d.column) for d in diagnostics] == [(3, 14), (10, 7)]
    assert "the key" in diagnostics[1].message


# --- MLP308 credential-literal --------------------------------------------------------------

# Built from pieces so that this file holds no complete credential-looking literal.
SECRETS = {
    "an AWS access key id": "AKIA" + "Q" * 16,
    "a GitHub token": "gh" + "p_" + "aB3" * 12,
    "a GitHub fine-grained token": "github" + "_pat_" + "11AB" * 8,
    "a Slack token": "xo" + "xb-" + "1234567890-abcdef",
    "a Google API key": "AI" + "za" + "Sy" + "x" * 33,
    "a JSON Web Token": "ey" + "JhbGciOiJIUzI1NiJ9.ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX2hlcmU",
    "a password assignment": "pass" + "word=" + "Tr0ub4dor&3x",
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_credentials_are_found_and_never_echoed(kind: str) -> None:
    secret = SECRETS[kind]
    spec = f"""\
    version: 1
    name: churn
    defaults: {{image: "{IMAGE}"}}
    stages:
      train:
        run: "train --with '{secret}'"
    """
    diagnostics = lint(spec)
    assert [d.code for d in diagnostics] == ["MLP308"], [d.format() for d in diagnostics]
    assert diagnostics[0].line == 6
    for d in diagnostics:
        text = d.format()
        assert secret not in text
        for piece in re.findall(r"[A-Za-z0-9]{6,}", secret):  # not even partially
            if piece.lower() not in ("password", "secret"):
                assert piece not in text, piece


def test_private_key_block_and_secret_named_env() -> None:
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
    spec = f"""\
    version: 1
    name: churn
    defaults: {{image: "{IMAGE}"}}
    stages:
      train:
        run: t
        env:
          KEY: |
            -----BEGIN RSA {'PRIVATE'} KEY-----
            {body}
          DB_PASSWORD: hunter2hunter2
    """
    diagnostics = found(spec, "MLP308")
    assert [d.line for d in diagnostics] == [8, 11]
    assert "private key" in diagnostics[0].message
    assert all(body not in d.format() and "hunter2" not in d.format() for d in diagnostics)


def test_credential_in_a_key_is_not_echoed_through_paths() -> None:
    secret = "AKIA" + "Z" * 16
    spec = f"""\
    version: 1
    name: churn
    defaults: {{image: "{IMAGE}"}}
    stages:
      train: {{run: t, env: {{{secret}: "x", OTHER: "{'AKIA' + 'Y' * 16}"}}}}
    """
    diagnostics = found(spec, "MLP308")
    assert len(diagnostics) == 2
    assert all(secret not in d.format() for d in diagnostics)


def test_no_credential_false_positives() -> None:
    spec = f"""\
    version: 1
    name: churn
    params: {{tok: abc}}
    defaults:
      image: ghcr.io/acme/churn@sha256:4f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c
    stages:
      train:
        run: "train --token=$HF_TOKEN --password=${{DB_PASSWORD}} --max-tokens=100000 --tokenizer=bert-base"
        env:
          HF_TOKEN: "${{params.tok}}"
          TOKENIZER: bert-base-uncased
          PASSWORD_FILE_MODE: "0600"
        secrets: [DB_PASSWORD]
    """
    assert found(spec, "MLP308") == []


def _without_prefilter(text: str) -> str | None:
    from compiler import credentials

    if not credentials._ANY.search(text):
        return None
    return next((kind for kind, pattern in credentials._PATTERNS if pattern.search(text)), None)


# Letters that `re` matches case-insensitively with ASCII ones of the keywords (dotless i,
# long s, Kelvin sign, dotted capital I), and upper case.
_FOLDS = {"i": "\u0131", "s": "\u017f", "k": "\u212a", "I": "\u0130"}


@pytest.mark.parametrize("text", [
    *SECRETS.values(), "-----BEGIN RSA " + "PRIVATE KEY-----", "https://u:" + "pa55word@h.example",
    *(word + "=" + "Tr0ub4dor&3x" for word in ("PASSWORD", "passwd", "Token", "SECRET", "api_key",
                                              "apikey", "Access-Key")),
    *("".join(_FOLDS.get(c, c) if i == at else c for i, c in enumerate(word)) + ": Tr0ub4dor&3x"
      for word in ("password", "token", "secret", "api-key", "access_key", "PASSWORD")
      for at in range(len(word))),
    "nothing here", "high-weight tokenizer", "eyJ.only", "ghp_short", "AKIA" + "q" * 16,
])
def test_the_quick_check_never_changes_what_is_found(text: str) -> None:
    from compiler.credentials import credential_kind

    assert credential_kind(text) == _without_prefilter(text)


def test_the_quick_check_never_changes_what_is_found_in_the_benchmark_spec() -> None:
    from benchmarks import generate
    from compiler.credentials import credential_kind

    texts = set(re.findall(r"[^\n]+", generate.spec_text(200)))
    assert all(credential_kind(t) == _without_prefilter(t) for t in texts)


# --- MLP309 / MLP310 / MLP311 ---------------------------------------------------------------

def test_cron_in_stage_and_environment_patch() -> None:
    spec = f"""\
    version: 1
    name: churn
    triggers: {{schedule: "@daily"}}
    defaults: {{image: "{IMAGE}"}}
    stages:
      train: {{run: t}}
      drift: {{type: monitor, run: d, schedule: "*/15 * * * MON-FRI"}}
    environments:
      prod:
        stages: {{drift: {{schedule: "0 0 * 13 *"}}}}
    """
    [d] = found(spec, "MLP309")
    assert d.line == 10 and "month" in d.message


def test_durations_and_zero_timeout() -> None:
    spec = """\
    version: 1
    name: churn
    defaults: {image: "%s", retry_delay: 0s, timeout: 1h30m}
    stages:
      train: {run: t, timeout: 0m}
    environments:
      prod:
        defaults: {retry_delay: 30 s}
    """ % IMAGE
    diagnostics = found(spec, "MLP310")
    assert [d.line for d in diagnostics] == [5, 8]
    assert "positive" in diagnostics[0].message and "invalid duration" in diagnostics[1].message


# --- MLP312 / MLP315 environments -----------------------------------------------------------

def test_unknown_overlay_param_and_stage() -> None:
    spec = f"""\
    version: 1
    name: churn
    params: {{learning_rate: 0.1}}
    defaults: {{image: "{IMAGE}"}}
    stages:
      train: {{run: t}}
    environments:
      prod:
        params: {{learning_rte: 0.2}}
        stages: {{deploy: {{retries: 2}}}}
    """
    diagnostics = found(spec, "MLP312")
    assert [(d.line, d.column) for d in diagnostics] == [(9, 14), (10, 14)]
    assert diagnostics[0].hint == "did you mean 'learning_rate'?"


def test_overlay_may_change_values_but_not_the_graph() -> None:
    spec = f"""\
    version: 1
    name: churn
    defaults: {{image: "{IMAGE}"}}
    stages:
      train: {{run: t, matrix: {{lr: [1, 2]}}}}
      drift: {{type: monitor, run: d, schedule: "@hourly"}}
    environments:
      ok:
        stages: {{train: {{matrix: {{lr: [1]}}}}, drift: {{schedule: "@daily"}}}}
      bad:
        stages: {{train: {{schedule: "@daily"}}, drift: {{schedule: null}}}}
    """
    diagnostics = found(spec, "MLP315")
    assert [d.line for d in diagnostics] == [11, 11]
    assert all("environment 'bad'" in d.message for d in diagnostics)


# --- MLP313 gpu-without-github-runner -------------------------------------------------------

GPU = f"""\
version: 1
name: churn
defaults: {{image: "{IMAGE}", resources: {{gpu: 1}}}}
stages:
  train: {{run: t}}
  cpu: {{run: c, resources: {{gpu: 0}}}}
"""


def test_gpu_from_defaults_with_all_targets() -> None:
    [d] = found(GPU, "MLP313")
    assert "'train'" in d.message and d.line == 3


def test_gpu_without_github_target_is_fine() -> None:
    assert found(GPU + "targets: {kubernetes: {}}\n", "MLP313") == []


def test_gpu_only_in_an_environment() -> None:
    spec = GPU.replace("{gpu: 1}", "{gpu: 0}") + \
        "environments:\n  big:\n    stages: {train: {resources: {gpu: 2}}}\n"
    [d] = found(spec, "MLP313")
    assert d.message.startswith("in environment 'big'") and d.line == 9


# --- MLP417 github-artifact-root ------------------------------------------------------------

ROOTED = f"""\
version: 1
name: churn
defaults: {{image: "{IMAGE}"}}
stages:
  train: {{run: t, outputs: [.mlops-artifact-root/model/, .mlops-artifact-rootx/, a/.mlops-artifact-root]}}
"""


def test_only_an_output_under_the_artifact_root_is_refused() -> None:
    # a name that only starts like it, or the name deeper down, roots nothing elsewhere
    [d] = found(ROOTED, "MLP417")
    assert "'.mlops-artifact-root/model/'" in d.message and d.line == 5 and d.severity == "error"


def test_the_artifact_root_is_free_without_the_github_target() -> None:
    assert found(ROOTED + "targets: {kubernetes: {}}\n", "MLP417") == []


# --- MLP316 missing-image -------------------------------------------------------------------

def test_missing_image_names_the_airflow_target() -> None:
    spec = """\
    version: 1
    name: churn
    stages:
      train: {run: t}
    targets: {github: {}, airflow: {operator: kubernetes}}
    """
    [d] = found(spec, "MLP316")
    assert "airflow (operator: kubernetes)" in d.message


def test_no_image_needed_without_container_targets() -> None:
    spec = """\
    version: 1
    name: churn
    stages:
      train: {run: t}
    targets: {github: {}, airflow: {operator: bash}}
    """
    assert found(spec, "MLP316") == []


def test_serve_image_falls_back_to_the_stage_image() -> None:
    spec = """\
    version: 1
    name: churn
    stages:
      with-own: {type: deploy, serve: {image: "%s"}}
      from-stage: {type: deploy, image: "%s", serve: {port: 80}}
      none: {type: deploy, serve: {port: 80}}
    targets: {kubernetes: {}}
    """ % (IMAGE, IMAGE)
    [d] = found(spec, "MLP316")
    assert "'none'" in d.message and d.line == 6


def test_secret_named_param_default_and_override() -> None:
    spec = f"""\
    version: 1
    name: churn
    params:
      api_token: {{default: "{'s3cr3t' * 3}", type: string}}
      hf_token: ""
    defaults: {{image: "{IMAGE}"}}
    stages:
      train: {{run: "t ${{params.api_token}} ${{params.hf_token}}"}}
    environments:
      prod:
        params: {{hf_token: "{'0verr1de' * 2}"}}
    """
    diagnostics = found(spec, "MLP308")
    assert [d.line for d in diagnostics] == [4, 11]
    assert all("s3cr3t" not in d.format() and "0verr1de" not in d.format() for d in diagnostics)
