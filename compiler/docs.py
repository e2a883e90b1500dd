"""Generated parts of the README: the rule table, the capability table, the engine limits."""

from __future__ import annotations

from compiler.capabilities import limits_markdown, table_markdown


def rules_markdown() -> str:
    from compiler.lint import RULES

    lines = ["| code | name | severity | finds |", "|---|---|---|---|"]
    lines += [f"| `{r.code}` | {r.name} | {r.severity.value} | {r.summary} |"
              for r in sorted(RULES.values(), key=lambda r: r.code)]
    return "\n".join(lines) + "\n"


SECTIONS = {"rules": rules_markdown, "targets": table_markdown, "limits": limits_markdown}


def refresh(readme: str) -> str:
    """The README with every generated section replaced by its current text."""
    for name, make in SECTIONS.items():
        start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
        before, found_start, rest = readme.partition(start)
        _, found_end, after = rest.partition(end)
        if found_start and found_end:
            readme = before + start + make() + end + after
    return readme
