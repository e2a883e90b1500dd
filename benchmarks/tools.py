"""Peer tools for the benchmarks, each in its own cached uv venv under `.cache/bench-tools/`.

Peers never enter the main environment (dvc alone pulls in hundreds of packages). Versions are
resolved as PyPI stood on the test suite's date (EXCLUDE_NEWER), so a table is reproducible.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.tooling import AIRFLOW_REQUIREMENTS, EXCLUDE_NEWER, _file_lock, _uv  # noqa: E402

CACHE = REPO / ".cache" / "bench-tools"
PEERS: dict[str, tuple[str, ...]] = {
    "dvc": ("dvc",),
    "yamllint": ("yamllint",),
    "check-jsonschema": ("check-jsonschema",),
    # The same Airflow as the test venv, plus dag-factory: a copy, so the test venv's contents
    # (and its hash) never change.
    "dagfactory": (*AIRFLOW_REQUIREMENTS[3], "dag-factory"),
}


def venv(name: str) -> Path:
    """The venv of one peer, built once (under a lock) and marked complete last."""
    requirements = PEERS[name]
    key = hashlib.sha256("\n".join([sys.version, EXCLUDE_NEWER, *requirements]).encode()).hexdigest()[:12]
    path = CACHE / f"{name}-{key}"
    marker = path / ".complete"
    if marker.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    with _file_lock(CACHE / f"{name}-{key}.lock"):
        if marker.exists():
            return path
        uv = _uv()
        subprocess.run([*uv, "venv", "-q", "--clear", "--python", sys.executable, str(path)], check=True)
        subprocess.run([*uv, "pip", "install", "-q", "--compile-bytecode", "--python",
                        str(path / "bin" / "python"), "--exclude-newer", EXCLUDE_NEWER,
                        *requirements], check=True, timeout=1800)
        marker.write_text("\n".join(requirements) + "\n")
    return path


def bin_of(name: str, executable: str) -> Path:
    return venv(name) / "bin" / executable


if __name__ == "__main__":
    for peer in sys.argv[1:] or PEERS:
        print(peer, venv(peer), flush=True)
