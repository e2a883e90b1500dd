"""Matrix combinations: every target fans a stage out over the same combinations, in the same
order, under the same keys."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass

from compiler.spec.params import env_text
from compiler.spec.values import Ref

Scalar = bool | int | float | str

# Keys use only characters every engine accepts in an identifier or artifact name.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_KEY_MAX = 200  # Airflow task ids allow 250: room for the suffixes below


@dataclass(frozen=True)
class Combination:
    """One combination of a matrix stage's axis values."""

    index: int                                 # position, the last axis varying fastest
    values: tuple[tuple[str, Scalar], ...]     # (axis, value as written), axes in written order
    key: str                                   # unique in its stage: `<stage>__<axis>-<value>...`

    @property
    def texts(self) -> tuple[tuple[str, str], ...]:
        """(axis, value as the environment sees it)."""
        return tuple((axis, env_text(value)) for axis, value in self.values)

    @property
    def variables(self) -> tuple[tuple[str, str], ...]:
        """(MLOPS_MATRIX_<AXIS>, value text)."""
        return tuple((Ref("matrix", axis).var, text) for axis, text in self.texts)


def combinations(stage: str, matrix: tuple[tuple[str, tuple[Scalar, ...]], ...]
                 ) -> tuple[Combination, ...]:
    """Every combination of the axes (like GitHub's matrix: the last axis varies fastest).

    Keys are readable (`train__lr-0.1__depth-6`); when a value needs characters outside
    `[A-Za-z0-9_.-]`, or two combinations would share a key, a short hash of the combination is
    added, and a value listed twice gets its index: deterministic and unique."""
    if not matrix:
        return ()
    combos = [tuple(combo) for combo in itertools.product(
        *[[(axis, value) for value in values] for axis, values in matrix])]
    raw = [stage + "".join(f"__{axis}-{env_text(value)}" for axis, value in combo)
           for combo in combos]
    safe = [_UNSAFE.sub("_", r)[:_KEY_MAX] for r in raw]
    safe_counts = Counter(safe)
    keys = []
    for r, s, combo in zip(raw, safe, combos):
        if s != r or safe_counts[s] > 1:
            digest = hashlib.sha256(json.dumps([[a, v] for a, v in combo]).encode()).hexdigest()
            s = f"{s}__{digest[:8]}"
        keys.append(s)
    counts = Counter(keys)
    keys = [k if counts[k] == 1 else f"{k}__{i}" for i, k in enumerate(keys)]
    return tuple(Combination(i, combo, key) for i, (combo, key) in enumerate(zip(combos, keys)))
