"""Security linters over generated files (SPEC.md section 5): every example, and a sample of
hostile specs that lint clean, built as `mlops build` writes them (headers included).

- bandit on every DAG file: zero findings;
- yamllint with the committed `.yamllint.yaml` on every YAML file: zero problems;
- the linters a user's repository already runs, with their default configurations: yamllint
  (`default`), ruff and flake8 skip our files by the directive each header
  carries (`# yamllint disable-file`, `# ruff: noqa`, `# flake8: noqa`);
- zizmor (offline) on every workflow, pedantic too on the hostile sample: zero findings;
- checkov: GitHub Actions, Kubernetes and Argo Workflows frameworks, zero failed checks beyond
  the justified skip list of test_kubernetes_target.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.analysis import analyze
from tests import tooling
from tests.hostile_support import errors, outputs, spec_bytes, spec_with
from tests.test_kubernetes_target import CHECKOV_SKIPS

REPO = Path(__file__).resolve().parent.parent
# checkov GitHub Actions findings we accept, each for a reason (anything else fails):
GITHUB_CHECKOV_SKIPS = {
    # "workflow_dispatch inputs MUST be empty" (SLSA build L3 wording): params overridable at
    # dispatch are the spec's contract (SPEC.md section 2). They reach the command as env data
    # through the fixed `${{ fromJSON(toJSON(github.event.inputs['x']) ...) }}` form, never as code.
    "CKV_GHA_7",
}
EXAMPLES = sorted(REPO.glob("examples/*/mlops.yaml"))

# Hostile specs that lint clean: the text must survive every linter as plain data.
HOSTILE_SAMPLE: list[tuple[str, str]] = [
    ("run", "echo '{{ ds }}' \"$(id)\" `uname` ${HOME}\n---\n# : x\n... \\ \u2028 \U0001f600"),
    ("env", "$(HOME) $$(x) {% raw %} '\"\\ \n- item\n: colon"),
    ("stage.env", "password=hunter"),
    ("description", "Description with {{ jinja }}, {% tags %}, `ticks` and \"quotes\"\n---\n"),
    ("owner", "team <a href='x'>"),
    ("param.default", "$(HOME) \"'\\ ${x}"),
    ("param.description", "describe $(x) `y` '\"\n..."),
    ("matrix", "$(id)\n'; rm -rf / #"),
    ("paths", "data dir/with 'quotes' & $(x)/"),
    ("push.branch", "release/*'\"$(x)"),
    ("serve.health", "health?q=$(x)&r='y'"),
    ("airflow.workdir", "/srv/repo '$(x)'\"\\"),
]


def _build(root: Path) -> None:
    cases = [(spec.parent.name, spec.read_bytes()) for spec in EXAMPLES]
    cases += [(f"hostile-{i}", spec_bytes(spec_with(field, text)))
              for i, (field, text) in enumerate(HOSTILE_SAMPLE)]
    for name, raw in cases:
        analysis = analyze(raw, "mlops.yaml")
        assert not errors(analysis), (name, [d.format() for d in analysis.diagnostics])
        for path, content in outputs(analysis).items():
            target = root / name / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("security-linters")
    _build(root)
    return root


def _files(root: Path, *patterns: str) -> list[Path]:
    return sorted(p for pattern in patterns for p in root.rglob(pattern) if p.is_file())


def test_the_sample_covers_every_target(built: Path) -> None:
    assert len(list(built.iterdir())) == len(EXAMPLES) + len(HOSTILE_SAMPLE)
    assert _files(built, "*.py") and _files(built, "*.yml") and _files(built, "workflowtemplate.yaml")


@pytest.mark.slow
def test_bandit_finds_nothing_in_dag_files(built: Path) -> None:
    dags = _files(built, "*.py")
    proc = tooling._run([tooling.find_tool("bandit"), "-q", "-f", "json", *dags])
    report = json.loads(proc.stdout)
    assert report["errors"] == [], report["errors"]
    findings = [f"{r['filename']}:{r['line_number']}: {r['test_id']} {r['issue_text']}"
                for r in report["results"]]
    assert findings == [], "\n".join(findings)


@pytest.mark.slow
def test_yamllint_passes_with_the_committed_config(built: Path) -> None:
    config = REPO / ".yamllint.yaml"
    proc = tooling._run([tooling.find_tool("yamllint"), "-c", config, "-f", "parsable", "--strict",
                         built])
    assert proc.returncode == 0 and proc.stdout.strip() == "", proc.stdout + proc.stderr


@pytest.mark.slow
def test_users_linters_with_their_defaults_skip_generated_files(built: Path) -> None:
    yamllint = tooling._run([tooling.find_tool("yamllint"), "-d", "default", "-f", "parsable",
                             "--strict", "."], cwd=built)
    assert yamllint.returncode == 0 and yamllint.stdout.strip() == "", yamllint.stdout
    dags = _files(built, "*.py")
    # Ruff's defaults (a repository that selects every rule also gets PGH004, which flags the
    # blanket skip itself: such a repository excludes the generated directories instead).
    ruff = tooling._run([tooling.find_tool("ruff"), "check", "--isolated", "--no-cache", *dags],
                        cwd=built)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    flake8 = tooling._run([tooling.find_tool("flake8"), "--isolated", *dags], cwd=built)
    assert flake8.returncode == 0, flake8.stdout + flake8.stderr


@pytest.mark.slow
def test_zizmor_finds_nothing(built: Path) -> None:
    workflows = _files(built, "*.yml")
    tooling.zizmor(workflows)
    # Pedantic zizmor also wants images pinned by digest: the examples' tag-pinned images are
    # their authors' choice (see test_github_target.py); the hostile sample pins by digest.
    tooling.zizmor([p for p in workflows if p.relative_to(built).parts[0].startswith("hostile-")],
                   pedantic=True)


@pytest.mark.slow
def test_checkov_finds_nothing_beyond_the_skip_list(built: Path) -> None:
    workflows = [p for p in _files(built, "*.yml") if ".github/workflows" in p.as_posix()]
    manifests = _files(built, "*.yaml")
    failed = set(tooling.checkov(workflows, ("github_actions",)))
    failed |= set(tooling.checkov(manifests, ("kubernetes", "argo_workflows")))
    assert failed - CHECKOV_SKIPS - GITHUB_CHECKOV_SKIPS == set(), sorted(failed)
