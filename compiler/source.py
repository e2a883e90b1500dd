"""Phase 1, source: bytes to plain data, with a way back from any data path to its line and column.

The YAML is composed (not constructed) with libyaml when available, so every node keeps its
marks; we then convert nodes to plain data ourselves, which lets us refuse what a spec never
needs (tags, merge keys, duplicate keys) and keep positions without a second parse.
Positions are looked up lazily through `Locator` (`compiler.positions`), so a clean file pays
nothing for them; YAML syntax errors are phrased in `compiler.syntax`.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from compiler import syntax
from compiler.diagnostics import Diagnostic, diag, quote
from compiler.positions import YAMLLoader as _Loader
from compiler.positions import Locator, Position, alias_over_budget, byte_line_column, \
    line_column
from compiler.positions import mark as _mark

__all__ = ["Locator", "Position", "Source", "load"]

DEFAULT_MAX_SIZE = 10 * 1024 * 1024
UNKNOWN_SIZE = -1  # `load(size=...)`: more bytes than were read, how many unknown (a pipe)
MAX_DEPTH = 64
ALIAS_BUDGET = 10_000  # nodes that aliases may expand to, in all
MAX_STRING = 1024 * 1024  # characters in one scalar: a command, not a data set
# libyaml's composer recurses in C and crashes past ~30,000 levels: never hand it more than this.
_SAFE_COMPOSE_DEPTH = 15_000

Path = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP = (
    _TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")
)
_MAP, _SEQ, _MERGE = _TAG + "map", _TAG + "seq", _TAG + "merge"
_CONFLICT = re.compile(r"^(<{7}|={7}|>{7})(?: |$)", re.MULTILINE)
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Line breaks to YAML 1.1, not to editors: text after one is YAML that reads as the same line.
_UNSEEN_BREAK = re.compile("[\x85\u2028\u2029]")
_BREAK_NAMES = {"\x85": "NEXT LINE", "\u2028": "LINE SEPARATOR", "\u2029": "PARAGRAPH SEPARATOR"}
_BREAK_ESCAPES = {"\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P"}
# Characters YAML does not allow anywhere (outside its printable set); NUL has its own message.
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_constructor = yaml.constructor.SafeConstructor()
# YAML 1.1 resolves these as numbers that YAML 1.2 (and the editors' schema tools) read
# otherwise: `010` is 8 here and 10 there, `1:30` is 90 here and text there.
_OCTAL = re.compile(r"[-+]?0[0-7_]+$")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")


def _shown_tag(tag: str) -> str:
    """A tag as the user wrote it: `!!python/object`, not `tag:yaml.org,2002:python/object`."""
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


@dataclass
class Source:
    """A loaded spec file: its data (None when it could not be read) and how to locate paths."""

    path: str
    text: str
    sha256: str
    data: Any
    locator: Locator
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Numbers YAML 1.1 reads in octal or base 60 (`010` is 8): errors unless validation already
    # refused the same value as text (MLP122 asks to quote it there).
    yaml11_numbers: list[Diagnostic] = field(default_factory=list)


def load(raw: bytes, path: str, *, max_size: int = DEFAULT_MAX_SIZE,
         size: int | None = None) -> Source:
    """Read a spec from bytes. Problems become diagnostics; `data` is None when any is fatal.

    `size` is the file's size when `raw` is not all of it (an oversized file is not read
    whole), or `UNKNOWN_SIZE`."""
    total = len(raw) if size is None else size
    if total > max_size or total == UNKNOWN_SIZE:
        shown = "larger than" if total == UNKNOWN_SIZE else f"{total:,} bytes,"
        return Source(path, "", "", None, Locator(None), [diag(
            "MLP109", f"the file is {shown} over the limit of {max_size:,} bytes",
            hint="split the spec, or raise the limit with --max-size BYTES",
        )])
    sha256 = hashlib.sha256(raw).hexdigest()

    def failed(*diagnostics: Diagnostic, text: str = "") -> Source:
        return Source(path, text, sha256, None, Locator(None), list(diagnostics))

    text, problem = _decode(raw)
    if problem is not None:
        return failed(problem)
    problems = _scan_text(text)
    if problems:
        return failed(*problems, text=text)
    if not text.strip() or all(not line.strip() or line.lstrip().startswith("#")
                               for line in text.splitlines()):
        return failed(diag("MLP112", "the file is empty",
                           hint="run 'mlops init' for a commented starter spec"), text=text)
    if _nesting_upper_bound(text) > _SAFE_COMPOSE_DEPTH:
        too_deep = syntax.first_too_deep(text, MAX_DEPTH)
        if too_deep is not None:
            return failed(syntax.too_deep(too_deep, MAX_DEPTH), text=text)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        return failed(syntax.yaml_error(error, text, MAX_DEPTH), text=text)
    except yaml.YAMLError as error:  # pragma: no cover - _scan_text finds reader errors first
        reason = getattr(error, "reason", None) or "the text cannot be read"
        return failed(diag("MLP101", f"invalid YAML: {reason}"), text=text)
    converter = _Converter()
    data = None if root is None else converter.convert(root)
    locator = Locator(root, text)
    if converter.diagnostics:
        return Source(path, text, sha256, None, locator,
                      _alias_budget_where_used(converter.diagnostics, text, root))
    if data is None:  # `~`, `null` or a bare `---`: valid YAML that holds nothing
        return failed(diag("MLP112", "the file holds no spec: its only document is empty (null)",
                           hint="run 'mlops init' for a commented starter spec"),
                      text=text)
    return Source(path, text, sha256, data, locator, yaml11_numbers=converter.yaml11_numbers)


def _alias_budget_where_used(found: list[Diagnostic], text: str,
                             root: yaml.Node | None) -> list[Diagnostic]:
    """MLP105 at the alias whose expansion spent the budget, not at the anchor it names."""
    if root is None or not any(d.code == "MLP105" for d in found):
        return found
    where = alias_over_budget(text, root, ALIAS_BUDGET)
    if where is None:  # pragma: no cover - the converter and this count the same nodes
        return found
    return [replace(d, line=where[0], column=where[1]) if d.code == "MLP105" else d
            for d in found]


def _decode(raw: bytes) -> tuple[str, Diagnostic | None]:
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        start = error.start
        return "", diag("MLP106", f"the file is not valid UTF-8 (byte 0x{raw[start]:02x})",
                        byte_line_column(raw, start), hint="save the file as UTF-8")


_position_of = line_column


def _scan_text(text: str) -> list[Diagnostic]:
    """Defects best found in the raw text, before YAML hides or misreads them."""
    problems = []
    nul = text.find("\x00")
    if nul >= 0:
        problems.append(diag("MLP107", "the file contains a NUL byte", _position_of(text, nul),
                             hint="the file may be binary, or saved as UTF-16; save it as UTF-8"))
    control = _CONTROL.search(text)
    if control is not None:  # the first is enough: a binary file would have thousands
        problems.append(diag(
            "MLP107", f"the file contains control character U+{ord(control.group()):04X}, "
            "which YAML does not allow", _position_of(text, control.start()),
            hint="delete it; if the file is binary or in another encoding, save it as UTF-8 text"))
    unseen = _UNSEEN_BREAK.search(text)
    if unseen is not None:  # the first is enough: the hint says how to fix them all
        char = unseen.group()
        problems.append(diag(
            "MLP132", f"U+{ord(char):04X} ({_BREAK_NAMES[char]}) is a line break to YAML but "
            "not to editors: what follows it reads as a new line of YAML",
            _position_of(text, unseen.start()),
            hint="replace it with a real line break or a space; inside a double-quoted value, "
                 f"write it as the escape {_BREAK_ESCAPES[char]}"))
    for match in _BIDI.finditer(text):
        problems.append(diag(
            "MLP108", f"bidirectional control character U+{ord(match.group()):04X} "
            "can make the text read differently from what runs", _position_of(text, match.start()),
            hint="delete the invisible character",
        ))
    for match in _CONFLICT.finditer(text):
        problems.append(diag(
            "MLP111", "git merge-conflict marker", _position_of(text, match.start()),
            hint="resolve the merge conflict and remove the <<<<<<<, ======= and >>>>>>> lines",
        ))
    return problems


def _nesting_upper_bound(text: str) -> int:
    """A cheap bound on YAML nesting: block nesting needs a column per level, flow a bracket."""
    widest = max((len(line) for line in text.splitlines()), default=0)
    brackets = text.count("[") + text.count("{")
    if brackets + widest <= _SAFE_COMPOSE_DEPTH:
        return brackets + widest
    depth = deepest = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest + widest


class _Converter:
    """Composed nodes to plain Python data, refusing what a spec has no use for."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.yaml11_numbers: list[Diagnostic] = []
        self._seen: set[int] = set()
        self._alias_nodes = 0
        self._alias_depth = 0
        self._alias_entry: yaml.Node | None = None  # the outermost aliased node being expanded

    def convert(self, node: yaml.Node) -> Any:
        return self._node(node, 0)

    def _node(self, node: yaml.Node, depth: int) -> Any:
        if depth > MAX_DEPTH:
            if depth == MAX_DEPTH + 1:
                self.diagnostics.append(syntax.too_deep(_mark(node), MAX_DEPTH))
            return None
        if isinstance(node, yaml.ScalarNode):
            if self._alias_depth and not self._count_alias_node(node):
                return None
            return self._scalar(node)
        # An alias composes to the very same node object: the second visit is an alias.
        aliased = id(node) in self._seen
        self._seen.add(id(node))
        if aliased:
            if not self._alias_depth:
                self._alias_entry = node
            self._alias_depth += 1
        try:
            if self._alias_depth and not self._count_alias_node(node):
                return None
            if node.tag not in (_MAP, _SEQ):
                self._error("MLP103", f"YAML tag {quote(_shown_tag(node.tag))} is not allowed", node,
                            hint="remove the tag: a spec holds plain mappings, lists and scalars")
                return None
            if isinstance(node, yaml.SequenceNode):
                return [self._node(item, depth + 1) for item in node.value]
            return self._mapping(node, depth) if isinstance(node, yaml.MappingNode) else None
        finally:
            if aliased:
                self._alias_depth -= 1

    def _count_alias_node(self, node: yaml.Node) -> bool:
        """Count a node reached through an alias; False once the budget is spent."""
        self._alias_nodes += 1
        if self._alias_nodes <= ALIAS_BUDGET:
            return True
        # Scalars and collections both spend the budget, so report when it is first exceeded,
        # whichever kind of node that is.
        if self._alias_nodes == ALIAS_BUDGET + 1:
            self._error("MLP105", f"anchors and aliases expand to more than "
                        f"{ALIAS_BUDGET:,} nodes", self._alias_entry or node,
                        hint="write the values out, or share them with 'defaults'")
        return False

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self._error("MLP113", "YAML merge keys ('<<') are not supported", key_node,
                            hint="share common stage settings with 'defaults' instead")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._error("MLP114", "a mapping key must be a plain name, not a list or mapping",
                            key_node)
                continue
            # Keys are names: take their text as written, so `on:` or `1:` never turn into
            # a boolean or a number.
            key = str(key_node.value)
            if len(key) > MAX_STRING:
                self._scalar(key_node)  # reports MLP116, as for a value
                continue
            if key in first_seen:
                earlier = first_seen[key].start_mark
                self._error("MLP102", f"duplicate key {quote(key)}", key_node,
                            hint=f"the first {quote(key)} is at line {earlier.line + 1}; "
                                 "YAML would silently keep only the last one")
                continue
            first_seen[key] = key_node
            result[key] = self._node(value_node, depth + 1)
        return result

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if len(node.value) > MAX_STRING:
            self._error("MLP116", f"a value of {len(node.value):,} characters is over the limit "
                        f"of {MAX_STRING:,} (1 MiB)", node,
                        hint="keep large data out of the spec: read it from a file in the "
                             "repository")
            return None
        tag = node.tag
        if tag == _STR or tag == _TIMESTAMP:  # dates stay text: no spec field wants a datetime
            return node.value
        if tag == _INT or tag == _FLOAT:
            return self._number(node)
        if tag == _BOOL:
            return _constructor.construct_yaml_bool(node)
        if tag == _NULL:
            return None
        self._error("MLP103", f"YAML tag {quote(_shown_tag(tag))} is not allowed", node,
                    hint="remove the tag, and quote the value if it should be text")
        return None

    def _number(self, node: yaml.ScalarNode) -> Any:
        text = node.value
        try:
            value = (_constructor.construct_yaml_int(node) if node.tag == _INT
                     else _constructor.construct_yaml_float(node))
        except ValueError:  # Python refuses to read integers of more than 4,300 digits
            self._error("MLP116", f"a number of {len(text):,} digits is over the limit of "
                        f"{getattr(sys, 'get_int_max_str_digits', lambda: 4300)():,} digits", node,
                        hint="no spec field takes a number that large; quote it if it is text")
            return None
        base = "octal" if _OCTAL.match(text) else "base-60" if _SEXAGESIMAL.match(text) else None
        sign = "-" if text.startswith("-") else ""
        decimal = sign + (text.lstrip("+-0").replace("_", "") or "0")
        if base == "octal" and str(value) == decimal:
            base = None  # 07 is 7 either way
        if base is not None:
            other = f"the number {decimal}" if base == "octal" else "text"
            self.yaml11_numbers.append(diag(
                "MLP131", f"{text} is the {base} number {value} in YAML 1.1, which this tool "
                f"reads; YAML 1.2 and editors read {other}", _mark(node),
                hint=f"write {value} if that is what you mean"
                     + (f" (or {decimal})" if base == "octal" else "")
                     + f", or quote it if it is text: \"{text}\""))
        return value

    def _error(self, code: str, message: str, node: yaml.Node, hint: str | None = None) -> None:
        self.diagnostics.append(diag(code, message, _mark(node), hint=hint))
