"""YAML syntax errors phrased for a person: where the fix goes, and what it probably is.

libyaml reports where it stopped reading. For most mistakes that is the place; for a flow
collection that is never closed it may be thousands of lines past the bracket, so that error
is reported at the bracket (the one still open at the end of the text).
"""

from __future__ import annotations

import yaml

from compiler.diagnostics import Diagnostic, diag
from compiler.positions import Position, YAMLLoader, lines, mark


def first_too_deep(text: str, limit: int) -> Position | None:
    """Where a collection first opens more than `limit` levels deep, from the event stream:
    slow, only for pathological files. None when it never does (or the YAML breaks first:
    compose then reports the syntax error with its position)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=YAMLLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limit:
                    return mark(event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass
    return None


def too_deep(position: Position, limit: int) -> Diagnostic:
    return diag("MLP110", f"the YAML is nested more than {limit} levels deep", position,
                hint="a spec needs a few levels; a bracket that is never closed nests "
                     "everything after it one level deeper")


def _open_flows(text: str) -> list[yaml.Event]:
    """The flow collections still open where the YAML breaks, outermost first."""
    opened: list[yaml.Event] = []
    try:
        for event in yaml.parse(text, Loader=YAMLLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                opened.append(event)
            elif isinstance(event, yaml.CollectionEndEvent):
                opened.pop()
    except yaml.YAMLError:
        return [e for e in opened if getattr(e, "flow_style", False)]
    return []  # pragma: no cover - only called for text that does not parse


def yaml_error(error: yaml.MarkedYAMLError, text: str, depth_limit: int) -> Diagnostic:
    """libyaml's error, phrased for a person, with a hint where the usual cause is known."""
    where = error.problem_mark or error.context_mark
    position = mark(where) if where else (1, 1)
    problem = error.problem or "invalid YAML"
    if "maximum nesting depth" in problem:  # libyaml's own limit, far past ours
        return too_deep(first_too_deep(text, depth_limit) or position, depth_limit)
    text_lines = lines(text)
    found = text_lines[position[0] - 1][position[1] - 1:position[1]] \
        if position[0] <= len(text_lines) else ""
    if "expected a single document" in (error.context or ""):
        return diag("MLP104", "the file holds more than one YAML document", position,
                    hint="a spec is one document: remove the '---' line and what follows, "
                         "or move it to its own file")
    hint = None
    opened = error.context_mark
    if found == "\t" or "'\\t'" in problem:
        hint = "YAML indentation must use spaces, not tabs"
    # libyaml does not name the character; the pure-Python parser does.
    elif found in ("@", "`") or "found character '@'" in problem \
            or "found character '`'" in problem:
        hint = "quote the value: it starts with a character YAML reserves"
    elif "mapping values are not allowed" in problem:
        hint = _quote_hint(text_lines[position[0] - 1] if position[0] <= len(text_lines) else "")
    elif "did not find expected key" in problem:
        hint = "check the indentation: the keys of one mapping start in the same column"
    elif "flow" in (error.context or "") or (
            problem.startswith("did not find expected ','") and opened is not None):
        unclosed = _unclosed_flow(text, position)
        if unclosed is not None:
            return unclosed
        if opened is not None and "flow" in (error.context or ""):
            hint = (f"in the flow collection opened at line {opened.line + 1}, column "
                    f"{opened.column + 1}: quote a value that holds ': ', ',', '[' or '{{'")
    if hint is None and error.context:
        hint = error.context
    return diag("MLP101", f"invalid YAML: {problem}", position, hint=hint)


def _unclosed_flow(text: str, stopped: Position) -> Diagnostic | None:
    """A flow collection (`[...`, `{...`) that is never closed, reported where it opens: in a
    long one, where YAML gave up may be thousands of lines further down. None when every open
    collection does close: then a value inside is at fault, where YAML stopped."""
    starts = [(e, int(getattr(e.start_mark, "index", 0))) for e in _open_flows(text)]
    closed = _closed_brackets(text, starts[0][1]) if starts else set()
    opened = [e for e, start in starts if start not in closed]
    if not opened:
        return None
    first = opened[0]
    bracket, closer = ("[", "]") if isinstance(first, yaml.SequenceStartEvent) else ("{", "}")
    return diag(
        "MLP101", f"invalid YAML: the flow collection '{bracket}' opened here is never closed",
        mark(first.start_mark),
        hint=f"YAML read on to line {stopped[0]}, column {stopped[1]} looking for its "
             f"'{closer}': close it where it ends")


def _closed_brackets(text: str, start: int) -> set[int]:
    """The indices, from `start` on, of the brackets that some later bracket closes, skipping
    quoted text and comments: a lexer just good enough for brackets, in one pass."""
    closed: set[int] = set()
    stack: list[int] = []
    i, end = start, len(text)
    while i < end:
        char = text[i]
        before = text[i - 1] if i else "\n"
        if char in "[{":
            stack.append(i)
        elif char in "]}":
            if stack:
                closed.add(stack.pop())
        elif char in "\"'" and before in " \t\r\n[{,:":
            i = _string_end(text, i)
        elif char == "#" and before in " \t\r\n":
            ends = [j for j in (text.find("\n", i), text.find("\r", i)) if j >= 0]
            i = min(ends, default=end)
        i += 1
    return closed


def _string_end(text: str, start: int) -> int:
    """The index of the quote that ends the YAML string opening at `start` (or the end)."""
    quote, i = text[start], start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            if quote == "'" and text[i + 1:i + 2] == "'":  # '' is a quote inside '...'
                i += 2
                continue
            return i
        i += 1
    return len(text)


def _quote_hint(line: str) -> str:
    """For `key: text: more`, show the line with its value quoted, as the fix to type."""
    key, sep, value = line.strip().partition(": ")
    if not sep or not value or value[0] in "\"'[{" or key.startswith("- "):
        return "a value containing ': ' must be quoted"
    value = value.split(" #", 1)[0].rstrip()
    if len(value) > 50:
        value = value[:47] + "..."
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"a value containing ': ' must be quoted: {key}: {quoted}"
