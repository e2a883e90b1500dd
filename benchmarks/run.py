"""Run every benchmark and print a table of medians and ratios against the targets.

    python benchmarks/run.py            # the full run (medians of 5; a few minutes)
    python benchmarks/run.py --quick    # medians of 3, large build at 2,000 stages (< ~2 min)

Every time is the wall time of a fresh process (start-up included), except the Airflow rows,
which time a DAG module's import inside a process that has already imported Airflow. Peers run
from their own venvs under .cache/bench-tools/ (built on first use; see tools.py).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from benchmarks import generate, tools  # noqa: E402
from compiler.targets import TARGETS  # noqa: E402

PY = sys.executable
MLOPS = [PY, "-m", "compiler"]
FLOOR_LINT = "import sys, yaml, pydantic\nyaml.compose(open(sys.argv[1], 'rb').read(), Loader=yaml.CSafeLoader)\n"
# The lint floor plus defining the spec's pydantic models: what any pydantic-validated lint pays.
FLOOR_MODELS = ("import sys, yaml, pydantic\nimport compiler.spec.models\n"
                "yaml.compose(open(sys.argv[1], 'rb').read(), Loader=yaml.CSafeLoader)\n")
# ... and importing networkx, the graph engine: the least any lint of this design can cost.
FLOOR_MODELS_NX = FLOOR_MODELS + "import networkx\n"
FLOOR_BUILD = "import gc, sys, yaml\ngc.disable()\nyaml.compose(open(sys.argv[1], 'rb').read(), Loader=yaml.CSafeLoader)\n"
# What every build runs before it renders a file (source, schema, graph, lint rules without
# rendering the files MLP410 measures: the build measures the files it renders itself).
FRONT_END = ("import gc, sys\ngc.disable()  # as `mlops build` runs\nfrom compiler import pipeline\n"
             "pipeline.check(open(sys.argv[1], 'rb').read(), 'mlops.yaml', renders=False)\n")
TIMEOUT = 180.0  # one run slower than this is reported as such, not waited for again


@dataclass
class Measure:
    median: float
    peak_mib: float
    runs: int
    timed_out: bool = False


@dataclass(frozen=True)
class Job:
    """A command to time `repeat` times, each run a fresh process."""

    cmd: Sequence[str | os.PathLike[str]]
    repeat: int
    cwd: Path | None = None
    env: dict[str, str] | None = None
    ok: Sequence[int] = (0,)


def _run_once(job: Job) -> tuple[float, float] | None:
    """Wall time and peak RSS (MiB) of one run, or None when it ran out of time."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in job.cmd], cwd=job.cwd, env=job.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = start + TIMEOUT
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            return None
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if code not in job.ok:
        raise SystemExit(f"benchmark command failed ({code}): {' '.join(map(str, job.cmd))}\n{err[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def timed_together(jobs: dict[str, Job]) -> dict[str, Measure]:
    """Median wall time and peak RSS of each job, run round robin: one run of each per round.

    A command and its baseline run side by side, so a drift in the machine's speed (this
    shared machine drifts by tens of percent within minutes) moves both alike and their ratio
    holds. A job stops after a run slower than TIMEOUT / 4 (one says enough) or one that ran
    out of time.
    """
    times: dict[str, list[float]] = {key: [] for key in jobs}
    peaks: dict[str, list[float]] = {key: [] for key in jobs}
    stopped: set[str] = set()
    out_of_time: set[str] = set()
    for round_index in range(max(job.repeat for job in jobs.values())):
        for key, job in jobs.items():
            if key in stopped or round_index >= job.repeat:
                continue
            result = _run_once(job)
            if result is None:
                stopped.add(key)
                out_of_time.add(key)
                continue
            times[key].append(result[0])
            peaks[key].append(result[1])
            if result[0] > TIMEOUT / 4:
                stopped.add(key)
    return {key: Measure(TIMEOUT, 0.0, len(times[key]) + 1, timed_out=True) if key in out_of_time
            else Measure(statistics.median(times[key]), max(peaks[key]), len(times[key]))
            for key in jobs}


def timed(cmd: Sequence[str | os.PathLike[str]], repeat: int, *, cwd: Path | None = None,
          env: dict[str, str] | None = None, ok: Sequence[int] = (0,)) -> Measure:
    """Median wall time and peak RSS of `cmd` over `repeat` fresh processes."""
    return timed_together({"": Job(cmd, repeat, cwd, env, ok)})[""]


@dataclass
class Row:
    name: str
    value: Measure
    baseline_name: str
    baseline: Measure | None
    target: str
    check: Callable[[float], bool] | None  # on the ratio value / baseline (or value alone)
    unit: str = "s"  # "MiB" for the memory row; "B/stage" and "stages" for the size rows

    @property
    def ratio(self) -> float | None:
        return None if self.baseline is None else self.value.median / self.baseline.median


def fmt_s(m: Measure) -> str:
    return (">" if m.timed_out else "") + (f"{m.median * 1000:.0f} ms" if m.median < 10 else f"{m.median:.1f} s")


def print_table(rows: list[Row], info: dict[str, str]) -> bool:
    header = ("benchmark", "median", "baseline", "baseline median", "ratio", "target", "")
    lines = []
    all_ok = True
    for r in rows:
        ratio = r.ratio
        status = ""
        if r.check is not None:
            good = not r.value.timed_out and r.check(ratio if ratio is not None else r.value.median)
            status = "ok" if good else "MISSED"
            all_ok &= good
        if r.unit == "MiB":
            shown = "n/a (run stopped)" if r.value.timed_out else f"{r.value.median:.0f} MiB"
        elif r.unit != "s":  # a count, not a time
            shown = f"{r.value.median:,.0f} {r.unit}"
        else:
            shown = fmt_s(r.value)
        lines.append((r.name, shown, r.baseline_name,
                      fmt_s(r.baseline) if r.baseline else "",
                      f"{ratio:.2f}x" if ratio is not None else "", r.target, status))
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths)) + " |" for line in lines]
    print()
    for key, value in info.items():
        print(f"{key}: {value}")
    print()
    print("\n".join(out))
    return all_ok


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def write_specs(work: Path, sizes: Sequence[int]) -> dict[int, Path]:
    paths = {}
    for n in sizes:
        d = work / f"s{n}"
        d.mkdir()
        paths[n] = d / "mlops.yaml"
        paths[n].write_text(generate.spec_text(n))
    return paths


def dvc_project(work: Path, n: int) -> Path:
    d = work / f"dvc{n}"
    d.mkdir()
    (d / "dvc.yaml").write_text(generate.dvc_text(n))
    (d / "params.yaml").write_text(generate.dvc_params_text())
    subprocess.run([tools.bin_of("dvc", "dvc"), "init", "--no-scm", "-q"], cwd=d, check=True)
    return d


def diff_repo(work: Path, n_stages: int, commits: int) -> Path:
    """A git repository whose spec changed in each of `commits` commits (via fast-import)."""
    d = work / "repo"
    d.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.com"}
    subprocess.run(["git", "init", "-q", "-b", "main", str(d)], check=True, env=env)
    base = generate.spec_text(n_stages)
    stream = []
    for i in range(commits):
        # each commit retunes one stage's command and the learning rate: a real semantic change
        text = base.replace("--block 0 ", f"--block 0 --rev {i} ").replace(
            "default: 0.05", f"default: {0.05 + (i % 7) / 100:.2f}")
        data = text.encode()
        msg = f"tune run {i}\n".encode()
        stream.append(b"commit refs/heads/main\n")
        stream.append(f"committer bench <b@example.com> {1700000000 + i * 60} +0000\n".encode())
        stream.append(f"data {len(msg)}\n".encode() + msg)
        stream.append(f"M 100644 inline mlops.yaml\ndata {len(data)}\n".encode() + data + b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=d, input=b"".join(stream), check=True,
                   env=env)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=d, check=True, env=env)
    return d


def airflow_env(home: Path) -> dict[str, str]:
    from tests.tooling import _airflow_env

    return _airflow_env(home)


def airflow_runs(python: Path, dag_file: Path, repeat: int, home: Path, *extra: str) -> list[float]:
    """Times of `repeat` imports of `dag_file` in one process of an Airflow venv."""
    proc = subprocess.run([str(python), str(HERE / "airflow_import.py"), str(dag_file), str(repeat), *extra],
                          env=airflow_env(home), capture_output=True, text=True, cwd=home, timeout=1800)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("@@BENCH@@ ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"airflow import benchmark failed for {dag_file}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1].split(" ", 1)[1])
    print(f"  {dag_file.name}: DAGs {result['dags']}", file=sys.stderr)
    return [float(t) for t in result["runs"]]


def count(value: float) -> Measure:
    return Measure(value, 0.0, 1)


def size_rows(*, quick: bool) -> list[Row]:
    """Sizes, not times: the bytes each stage adds to its target's pipeline file at 1,000
    stages (issue 16's targets: a GitHub job 1,000 bytes, an Argo task 600), and the largest
    benchmark spec each target holds within its engine's limits (`largest.py`)."""
    from benchmarks import largest

    wanted = {"github": ("<= 1,000", lambda v: v <= 1000),
              "kubernetes": ("<= 600", lambda v: v <= 600)}
    held = {"github": (">= 400", lambda v: v >= 400)}
    rows = []
    for name in TARGETS:
        per_stage = largest.pipeline_bytes_per_stage(name, 1000)
        text, check = wanted.get(name, ("(info)", None))
        rows.append(Row(f"bytes per stage, {name} pipeline file, 1,000", count(per_stage), "",
                        None, text, check, unit="B/stage"))
    for name in (("github", "kubernetes") if quick else TARGETS):
        fit = largest.largest(name)
        text, check = held.get(name, ("(info)", None))
        if not fit.limited:
            text = f"(no limit up to {fit.stages:,})" if check is None else text
        rows.append(Row(f"largest spec that fits, {name}", count(fit.stages), "", None, text,
                        check, unit="stages"))
    # Argo's 2,000 stages are in objects under 1 MiB: applied server-side, which lifts the
    # 262,144-byte annotation of client-side apply (the default, the row above).
    fit = largest.largest("kubernetes", settings={"apply": "server-side"})
    rows.append(Row("largest spec that fits, kubernetes server-side", count(fit.stages), "",
                    None, ">= 2,000", lambda v: v >= 2000, unit="stages"))
    if not quick:  # Vertex AI runs no Argo Workflow: only the file's 32 MiB applies
        fit = largest.largest("kubeflow", settings={"platform": "vertex"})
        rows.append(Row("largest spec that fits, kubeflow on Vertex AI", count(fit.stages), "",
                        None, f"(no limit up to {fit.stages:,})" if not fit.limited
                        else "(info)", None, unit="stages"))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs and a smaller large build")
    parser.add_argument("--repeat", type=int, help="runs per benchmark (default 5, quick 3)")
    parser.add_argument("--only", help="comma-separated groups: lint,dvc,build,fanin,airflow,sizes,diff")
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 5)
    large = 2000 if args.quick else 10_000
    groups = set((args.only or "lint,dvc,build,fanin,airflow,sizes,diff").split(","))
    rows: list[Row] = []

    def progress(what: str) -> None:
        print(f"... {what}", file=sys.stderr, flush=True)

    # pip compiles an installed package's bytecode; an editable checkout (and this machine's
    # PYTHONDONTWRITEBYTECODE) would otherwise recompile every module in every timed process.
    compileall.compile_dir(str(REPO / "compiler"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="mlops-bench-") as tmp:
        work = Path(tmp)
        specs = write_specs(work, sorted({50, 1000, large}))
        floor_lint = work / "floor_lint.py"
        floor_lint.write_text(FLOOR_LINT)
        floor_models = work / "floor_models.py"
        floor_models.write_text(FLOOR_MODELS)
        floor_models_nx = work / "floor_models_nx.py"
        floor_models_nx.write_text(FLOOR_MODELS_NX)
        floor_build = work / "floor_build.py"
        floor_build.write_text(FLOOR_BUILD)
        # Compiled templates (compiler/render/template_cache.py) in a cache of this run's own,
        # warmed by one build: what every run after a machine's first sees. The row "no
        # template cache" shows a run that compiles them.
        os.environ["MLOPS_CACHE_DIR"] = str(work / "template-cache")
        subprocess.run([*MLOPS, "build", specs[50], "--out", work / "warm", "-q"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        if "lint" in groups:
            progress("lint, 50 stages")
            s50 = specs[50]
            models_env = {**os.environ, "PYTHONPATH": str(REPO), "PYDANTIC_DISABLE_PLUGINS": "__all__"}
            m = timed_together({
                "floor": Job([PY, floor_lint, s50], repeat),
                "lint": Job([*MLOPS, "lint", s50], repeat),
                "cold": Job([*MLOPS, "lint", s50], repeat, env={**os.environ, "MLOPS_CACHE_DIR": ""}),
                "models": Job([PY, floor_models, s50], repeat, env=models_env),
                "models_nx": Job([PY, floor_models_nx, s50], repeat, env=models_env),
                "yamllint": Job([tools.bin_of("yamllint", "yamllint"), "-f", "parsable", s50], repeat,
                                ok=(0, 1)),
                "cjs": Job([tools.bin_of("check-jsonschema", "check-jsonschema"), "--schemafile",
                            REPO / "schemas" / "mlops.schema.json", s50], repeat, ok=(0, 1)),
            })
            floor, lint50, models, models_nx = m["floor"], m["lint"], m["models"], m["models_nx"]
            yamllint, cjs = m["yamllint"], m["cjs"]
            rows += [
                Row("mlops lint, 50 stages", lint50, "lint floor", floor, "<= 2.0x", lambda r: r <= 2.0),
                Row("mlops lint, 50 stages", lint50, "yamllint", yamllint, "< 1.0x", lambda r: r < 1.0),
                Row("mlops lint, 50 stages", lint50, "check-jsonschema", cjs, "(info)", None),
                Row("mlops lint, 50 stages, no template cache", m["cold"], "lint floor", floor,
                    "(info: compiles the templates)", None),
                Row("floor + defining the spec models", models, "lint floor", floor, "(info)", None),
                Row("floor + defining the spec models", models, "yamllint", yamllint, "(info)", None),
                Row("floor + spec models + networkx", models_nx, "lint floor", floor,
                    "(info: least lint)", None),
                Row("mlops lint, 50 stages", lint50, "floor + models + networkx", models_nx, "(info)", None),
            ]
        if "dvc" in groups:
            progress("lint and graph vs dvc dag, 1,000 stages")
            s1000 = specs[1000]
            # dvc dag takes ~20 s at 1,000 stages: fewer runs of it (one in --quick)
            dvc = timed([tools.bin_of("dvc", "dvc"), "dag"], 1 if args.quick else 3, cwd=dvc_project(work, 1000))
            # lint exits 1 here: GitHub holds 550 benchmark stages, so at 1,000 it reports
            # MLP410 for the workflow files (after rendering them), a finding, not a failure.
            m = timed_together({"lint": Job([*MLOPS, "lint", s1000], repeat, ok=(0, 1)),
                                "graph": Job([*MLOPS, "graph", s1000], repeat)})
            lint1k, graph1k = m["lint"], m["graph"]
            rows += [
                Row("mlops lint, 1,000 stages", lint1k, "dvc dag", dvc, "<= 0.10x", lambda r: r <= 0.1),
                Row("mlops graph, 1,000 stages", graph1k, "dvc dag", dvc, "<= 0.10x", lambda r: r <= 0.1),
            ]
        if "build" in groups:
            progress(f"build, 1,000 and {large:,} stages")
            out = work / "out"
            big_repeat = 1 if args.quick else repeat
            # At 1,000 stages and more, GitHub's workflow files are over GitHub's size limit
            # (MLP410; Kubernetes holds 10,000 in parts): the build is refused (exit 1) after
            # rendering and measuring every file, writing nothing. The time is still the whole
            # front end and render.
            m = timed_together({
                "build1k": Job([*MLOPS, "build", specs[1000], "--out", out / "1k", "-q"], repeat,
                               ok=(0, 1)),
                "floor": Job([PY, floor_build, specs[large]], repeat),
                "build": Job([*MLOPS, "build", specs[large], "--out", out / "big", "-q"], big_repeat,
                             ok=(0, 1)),
                # A build must first do all a lint does (a spec with errors is never built);
                # `mlops lint` also renders the files whose size it checks (MLP410).
                "front": Job([PY, "-c", FRONT_END, specs[large]], big_repeat),
                "lint": Job([*MLOPS, "lint", specs[large]], big_repeat, ok=(0, 1)),
            })
            build1k, floorb, buildbig, lintbig = m["build1k"], m["floor"], m["build"], m["lint"]
            shutil.rmtree(out, ignore_errors=True)
            mem = Measure(buildbig.peak_mib, 0, buildbig.runs, buildbig.timed_out)
            rows += [
                Row(f"mlops build, {large:,} stages", buildbig, "build floor", floorb, "<= 6.0x", lambda r: r <= 6.0),
                Row(f"mlops build, {large:,} stages", buildbig, "build, 1,000 stages", build1k,
                    f"<= {large / 1000 * 1.1:.1f}x", lambda r, k=large / 1000 * 1.1: r <= k),
                Row(f"build front end, {large:,} stages", m["front"], "build floor", floorb,
                    "(info: before any render)", None),
                Row(f"mlops lint, {large:,} stages", lintbig, "build floor", floorb,
                    "(info: renders what MLP410 measures)", None),
            ]
            rows.append(Row(f"peak memory (RSS), build {large:,}", mem, "", None, "< 1024 MiB",
                            lambda v: v < 1024, unit="MiB"))
        if "fanin" in groups:
            progress(f"build of a fan-in pipeline, 1,000 and {large:,} stages")
            fan = {}
            for n in (1000, large):
                fan[n] = work / f"fanin{n}" / "mlops.yaml"
                fan[n].parent.mkdir()
                fan[n].write_text(generate.fanin_spec_text(n))
            out = work / "out-fanin"
            # Over the engines' size limits a build is refused (exit 1) after rendering and
            # measuring every file: the time is still the whole render, which is what grows.
            m = timed_together({
                "small": Job([*MLOPS, "build", fan[1000], "--out", out / "1k", "-q"], repeat,
                             ok=(0, 1)),
                "big": Job([*MLOPS, "build", fan[large], "--out", out / "big", "-q"],
                           1 if args.quick else repeat, ok=(0, 1)),
            })
            shutil.rmtree(out, ignore_errors=True)
            limit = large / 1000 * 1.1
            rows.append(Row(f"build, fan-in, {large:,} stages", m["big"], "fan-in, 1,000 stages",
                            m["small"], f"<= {limit:.1f}x", lambda r, k=limit: r <= k))
        if "airflow" in groups:
            progress("Airflow import of the generated DAG vs dag-factory, 1,000 stages")
            from tests.tooling import airflow_python

            out = work / "af"
            # The Airflow target alone: at 1,000 stages the other targets' files are over their
            # engines' size limits (MLP410), and a spec with errors builds nothing at all.
            only_airflow = generate.spec(1000)
            only_airflow["targets"] = {"airflow": only_airflow["targets"]["airflow"]}
            for overlay in only_airflow["environments"].values():
                overlay.pop("kubernetes", None)
            af_spec = work / "af-spec" / "mlops.yaml"
            af_spec.parent.mkdir()
            af_spec.write_text(generate.dump(only_airflow))
            subprocess.run([*MLOPS, "build", str(af_spec), "--env", "production",
                            "--out", str(out), "-q"], check=True)
            ours = out / "airflow" / "dags" / "mlops_bench_production.py"
            df_dir = work / "dagfactory"
            df_dir.mkdir()
            (df_dir / "bench.yaml").write_text(generate.dagfactory_text(1000))
            df_file = df_dir / "bench_dagfactory.py"
            df_file.write_text("from pathlib import Path\nfrom dagfactory import load_yaml_dags\n"
                               "load_yaml_dags(globals_dict=globals(), "
                               "config_filepath=str(Path(__file__).with_name('bench.yaml')))\n")
            homes = work / "home-ours", work / "home-df"
            for h in homes:
                h.mkdir()
            py_ours = airflow_python(3)
            floor_file = work / "af" / "bench_floor.py"
            floor_file.write_text(generate.airflow_floor_text(1000))
            # Three rounds of `repeat` imports per file, the files side by side in each round (as
            # timed_together does): imports are cheap to repeat, and the machine drifts.
            runs: dict[str, list[float]] = {"ours": [], "theirs": [], "floor": []}
            for _ in range(3):
                runs["ours"] += airflow_runs(py_ours, ours, repeat, homes[0])
                runs["theirs"] += airflow_runs(tools.bin_of("dagfactory", "python"), df_file, repeat,
                                               homes[1], "dagfactory")
                runs["floor"] += airflow_runs(py_ours, floor_file, repeat, homes[0])
            mine, theirs, floor_af = (Measure(statistics.median(runs[k]), 0.0, len(runs[k]))
                                      for k in ("ours", "theirs", "floor"))
            rows.append(Row("Airflow import, generated DAG, 1,000", mine, "dag-factory from YAML", theirs,
                            "<= 0.20x", lambda r: r <= 0.2))
            rows.append(Row("Airflow floor: 1,000 bare BashOperators", floor_af, "dag-factory from YAML",
                            theirs, "(info)", None))
            rows.append(Row("Airflow import, generated DAG, 1,000", mine, "Airflow floor", floor_af,
                            "(info)", None))
        if "sizes" in groups:
            progress("bytes per stage and the largest spec each target holds")
            rows += size_rows(quick=args.quick)
        if "diff" in groups:
            progress("diff on a repository of 1,000 commits")
            repo = diff_repo(work, 50, 1000)
            a, b = work / "a.yaml", work / "b.yaml"
            a.write_bytes(subprocess.run(["git", "show", "HEAD~500:mlops.yaml"], cwd=repo, capture_output=True, check=True).stdout)
            b.write_bytes(subprocess.run(["git", "show", "HEAD:mlops.yaml"], cwd=repo, capture_output=True, check=True).stdout)
            m = timed_together({
                "diff": Job([*MLOPS, "diff", "HEAD~500", "HEAD"], repeat, cwd=repo),
                "a": Job([*MLOPS, "lint", a], repeat),
                "b": Job([*MLOPS, "lint", b], repeat),
                "log": Job(["git", "log", "--oneline", "HEAD~500..HEAD", "--", "mlops.yaml"], repeat,
                           cwd=repo),
            })
            diff, la, lb, log = m["diff"], m["a"], m["b"], m["log"]
            floor = Measure(la.median + lb.median + log.median, 0, repeat)
            rows.append(Row("mlops diff HEAD~500 HEAD, 1,000 commits", diff, "2 lints + git log", floor,
                            "<= 2.0x", lambda r: r <= 2.0))

    info = {"machine": machine(), "command": "python benchmarks/run.py" + (" --quick" if args.quick else ""),
            "runs per median": str(repeat)}
    ok = print_table(rows, info)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
