"""`mlops init`: a commented starter spec that lints clean."""

from __future__ import annotations

import argparse
from pathlib import Path

from compiler.errors import EXIT_OK, UsageError

HELP = "write a commented starter mlops.yaml"
DESCRIPTION = """\
Write a starter mlops.yaml into DIR (default: here), with a comment on every
field. It lints clean; edit the commands, then run 'mlops lint' and 'mlops build'.
An existing mlops.yaml is never overwritten.
"""

STARTER = """\
# mlops.yaml: your pipeline, described once. 'mlops build' compiles it to GitHub Actions,
# Airflow and Kubernetes files; 'mlops lint' checks it; 'mlops explain CODE' explains a finding.
# Editor completion: run 'mlops schema > mlops.schema.json' and add this first line:
#   # yaml-language-server: $schema=./mlops.schema.json
version: 1
name: {name}                      # lowercase letters, digits, '-' and '_'
description: What this pipeline trains, and why.
owner: your-team

params:                           # run-time parameters, overridable when a run starts
  learning_rate: {{default: 0.05, type: number, minimum: 0, maximum: 1}}

defaults:                         # every stage inherits these; a stage's own value wins
  image: python:3.12-slim         # pin a version: never 'latest'
  retries: 1
  retry_delay: 30s
  timeout: 30m
  resources: {{cpu: "1", memory: 2Gi}}

triggers:
  push: {{branches: [main], paths: [mlops.yaml]}}
  manual: true

stages:
  prepare:
    type: data
    run: python -c "print('load and check your data here')"
    outputs: [data/]              # what a stage writes...
  train:
    type: train
    run: python -c "print('train with lr', '${{params.learning_rate}}')"
    inputs: [data/]               # ...and what another reads makes the order
    outputs: [model/]
  evaluate:
    type: evaluate
    run: |
      mkdir -p reports
      python -c "import json; json.dump({{'auc': 0.9}}, open('reports/metrics.json', 'w'))"
    inputs: [model/]
    metrics: reports/metrics.json
    gate: ["auc >= 0.8"]          # a failed gate stops the pipeline before deploy
  deploy:
    type: deploy
    needs: [evaluate]
    run: echo "register the model here"

targets:                          # remove a target to stop building it
  github: {{}}
  airflow: {{operator: bash}}
  kubernetes: {{namespace: default}}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default=".", help="where to write mlops.yaml")
    parser.add_argument("--name", help="pipeline name (default: from the directory name)")


def run(args: argparse.Namespace) -> int:
    import re

    directory = Path(args.dir)
    target = directory / "mlops.yaml"
    if target.exists() or (directory / "mlops.yml").exists():
        raise UsageError(f"{target} already exists; not overwriting it")
    name = args.name or re.sub(r"[^a-z0-9_-]", "-", directory.resolve().name.lower()).strip("-_")
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", name or ""):
        name = "pipeline"
    directory.mkdir(parents=True, exist_ok=True)
    target.write_text(STARTER.format(name=name), encoding="utf-8")
    print(f"wrote {target}: edit the commands, then run 'mlops lint' and 'mlops build'")
    return EXIT_OK
