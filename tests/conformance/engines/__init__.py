"""The engine adapters, by name: one module each, registered here (a plain dict).

To add an engine, write `engines/<engine>.py` with a class that satisfies
`tests.conformance.engine.Engine` and add one entry below; every case then runs on it,
except those the capability table says its target cannot express.
"""

from __future__ import annotations

from tests.conformance.engine import Engine
from tests.conformance.engines.airflow import AirflowEngine
from tests.conformance.engines.dvc import DvcEngine
from tests.conformance.engines.github import ActEngine
from tests.conformance.engines.kfp import KfpEngine

ENGINES: dict[str, Engine] = {
    # Airflow 3 spends about a second of CPU per dag.test(): two processes halve its wall time
    "airflow3": AirflowEngine(3, processes=2),
    "airflow2": AirflowEngine(2),
    "github": ActEngine(),
    "dvc": DvcEngine(),
    "kfp": KfpEngine(),
}
