"""Which declared paths overlap, as DVC judges outputs: one is the other or lies inside it.

An index answers for one path in time proportional to its depth, so that checking every
output of a 10,000-stage spec against all the others stays linear.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def _key(path: str) -> str:
    return path.rstrip("/")


def ancestors(path: str) -> Iterator[str]:
    """`a/b/c` -> `a`, `a/b` (the directories that hold it)."""
    parts = _key(path).split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end])


class PathIndex:
    """Declared paths by owner (a stage name), in the order given."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self._exact: dict[str, list[tuple[str, str]]] = {}
        self._below: dict[str, list[tuple[str, str]]] = {}
        for owner, path in entries:
            self._exact.setdefault(_key(path), []).append((owner, path))
            for directory in ancestors(path):
                self._below.setdefault(directory, []).append((owner, path))

    def containing(self, path: str) -> Iterator[tuple[str, str]]:
        """(owner, path) of the declared paths that hold `path`, outermost first."""
        for directory in ancestors(path):
            yield from self._exact.get(directory, ())

    def overlapping(self, path: str) -> Iterator[tuple[str, str]]:
        """(owner, path) of the declared paths that are `path`, hold it, or lie inside it."""
        yield from self.containing(path)
        yield from self._exact.get(_key(path), ())
        yield from self._below.get(_key(path), ())
