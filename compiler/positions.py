"""Positions: from a data path, or a character offset, back to the line and column a person sees.

Lines are counted as editors count them: LF, CRLF or a lone CR ends a line (a file saved with
old Mac line endings has lines too). YAML 1.1 also breaks lines at U+0085, U+2028 and U+2029,
which editors show inside a line; `source` refuses those characters (MLP132), so the marks
libyaml gives and the lines people see always agree.

An alias is reported where it is used, not at its anchor: the composed tree holds the anchored
node itself in the alias's place, so the places where aliases were written come from the event
stream, read only when a position is asked for in a file that has an anchor at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import yaml

try:  # libyaml is about 7 times faster than the pure-Python parser.
    from yaml import CSafeLoader as YAMLLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as YAMLLoader  # type: ignore[assignment]

__all__ = ["Locator", "Position", "YAMLLoader", "alias_over_budget", "alias_uses",
           "byte_line_column", "line_column", "lines", "mark"]

Position = tuple[int, int]
Slot = tuple[int, int]  # (id of a collection node, index of an item: 2i / 2i+1 for key / value)

_BREAK = re.compile(r"\r\n|\r|\n")
_DEEPEST = 100  # well past source.MAX_DEPTH, far below Python's recursion limit


def line_column(text: str, index: int) -> Position:
    """The 1-based line and column of the character at `index`."""
    head = text[:index]
    line = head.count("\n") + head.count("\r") - head.count("\r\n") + 1
    start = max(head.rfind("\n"), head.rfind("\r")) + 1
    return line, index - start + 1


def byte_line_column(raw: bytes, index: int) -> Position:
    """`line_column` for bytes that are not text yet (an invalid UTF-8 byte); columns count
    bytes."""
    head = raw[:index]
    line = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
    start = max(head.rfind(b"\n"), head.rfind(b"\r")) + 1
    return line, index - start + 1


def lines(text: str) -> list[str]:
    """The lines of `text` as `line_column` numbers them."""
    return _BREAK.split(text)


def mark(node: Any) -> Position:
    """The 1-based position of a node, or of a mark (libyaml's and PyYAML's differ in type)."""
    if node is None:
        return (1, 1)
    where = node.start_mark if isinstance(node, yaml.Node) else node
    return (where.line + 1, where.column + 1)


class Locator:
    """Finds the line and column of a data path in the composed node tree.

    A path that does not exist (a default, a missing field) falls back to its nearest ancestor,
    so every diagnostic has a position. A path through an alias ends at the alias.
    """

    def __init__(self, root: yaml.Node | None, text: str = "") -> None:
        self._root = root
        self._text = text
        self._index: dict[int, dict[str, tuple[yaml.Node, yaml.Node, int]]] = {}
        # No '&' anywhere: no anchor, so no alias (an alias to no anchor does not compose).
        self._aliases: dict[Slot, Position] | None = None if "&" in text else {}

    def _children(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node, int]]:
        index = self._index.get(id(node))
        if index is None:
            index = {k.value: (k, v, i) for i, (k, v) in enumerate(node.value)
                     if isinstance(k, yaml.ScalarNode)}
            self._index[id(node)] = index
        return index

    def _alias_at(self, parent: yaml.Node | None, slot: int) -> Position | None:
        if self._aliases is None:
            self._aliases = {use[0]: use[2] for use in alias_uses(self._text, self._root)}
        return self._aliases.get((id(parent), slot)) if self._aliases else None

    def _walk(self, path: Sequence[str | int]) -> tuple[yaml.Node | None, yaml.Node | None,
                                                       Position | None, Position | None]:
        """The deepest (key, value) found along `path`, with the first alias on the way to
        each (None when the way holds none)."""
        key: yaml.Node | None = None
        node = self._root
        via: Position | None = None       # the first alias on the way to `node`
        key_via: Position | None = None   # the same for `key`
        for part in path:
            parent = node
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                found = self._children(node).get(part)
                if found is None:
                    break
                key, node, i = found
                key_via = via or self._alias_at(parent, 2 * i)
                via = via or self._alias_at(parent, 2 * i + 1)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    break
                key, node = None, node.value[part]
                key_via = via
                via = via or self._alias_at(parent, part)
            else:
                break
        return key, node, key_via, via

    def node(self, path: Sequence[str | int]) -> tuple[yaml.Node | None, yaml.Node | None]:
        """The deepest (key node, value node) found along `path`."""
        key, node, _, _ = self._walk(path)
        return key, node

    def position(self, path: Sequence[str | int]) -> Position:
        """Where the value at `path` starts (1-based), or the alias that stands for it."""
        _, node, _, via = self._walk(path)
        return via or mark(node)

    def key_position(self, path: Sequence[str | int]) -> Position:
        """Where the key of the mapping entry at `path` starts; the value's position otherwise."""
        key, node, key_via, via = self._walk(path)
        if key is None:
            return via or mark(node)
        return key_via or mark(key)

    def plain_text(self, path: Sequence[str | int]) -> str | None:
        """The text of an unquoted scalar at `path`, for "quote it" hints."""
        _, node = self.node(path)
        if isinstance(node, yaml.ScalarNode) and not node.style:  # '' (libyaml) or None: plain
            return str(node.value)
        return None


def alias_uses(text: str, root: yaml.Node | None) -> Iterator[tuple[Slot, int, Position]]:
    """Every alias written in the document, in order: the slot it fills in the composed tree,
    the id of the node it stands for, and where it was written.

    The events and the composed tree are walked side by side: each event that is not an alias
    made the node now in its slot, and an alias event put an existing node there."""
    if root is None:
        return
    stack: list[list[Any]] = []  # [collection node, next slot]
    for event in yaml.parse(text, Loader=YAMLLoader):
        if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent,
                              yaml.DocumentStartEvent, yaml.DocumentEndEvent)):
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
            continue
        if not stack:
            child = root
        else:
            frame = stack[-1]
            parent, slot = frame
            frame[1] += 1
            child = _item(parent, slot)
            if isinstance(event, yaml.AliasEvent):
                yield (id(parent), slot), id(child), mark(event.start_mark)
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([child, 0])


def _item(collection: yaml.Node, slot: int) -> yaml.Node:
    if isinstance(collection, yaml.MappingNode):
        return collection.value[slot // 2][slot % 2]  # type: ignore[no-any-return]
    return collection.value[slot]  # type: ignore[no-any-return]


def expansion_sizes(root: yaml.Node) -> dict[int, int]:
    """Per collection node: how many nodes converting it visits (itself, its values and all
    below, aliases expanded; keys are not counted), as `source`'s alias budget counts them."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if isinstance(node, yaml.ScalarNode) or depth > _DEEPEST:
            return 1  # deeper than that is refused (MLP110) before it is counted
        known = sizes.get(id(node))
        if known is None:
            items = node.value if isinstance(node, yaml.SequenceNode) else [v for _, v in node.value]
            known = sizes[id(node)] = 1 + sum(size(item, depth + 1) for item in items)
        return known

    size(root, 0)
    return sizes


def alias_over_budget(text: str, root: yaml.Node, budget: int) -> Position | None:
    """The alias, in document order, whose expansion takes the total past `budget` nodes."""
    sizes = expansion_sizes(root)
    spent = 0
    for _, target, where in alias_uses(text, root):
        spent += sizes.get(target, 0)  # a scalar alias is not counted
        if spent > budget:
            return where
    return None
