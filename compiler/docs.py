"""Generated parts of the README: the rule table and the capability table."""

from __future__ import annotations

import re

from compiler.capabilities import table_markdown


def rules_markdown() -> str:
    from compiler.lint import RULES

    lines = ["| code | name | severity | finds |", "|---|---|---|---|"]
    lines += [f"| `{r.code}` | {r.name} | {r.severity.value} | {r.summary} |"
              for r in sorted(RULES.values(), key=lambda r: r.code)]
    return "\n".join(lines) + "\n"


SECTIONS = {"rules": rules_markdown, "targets": table_markdown}


def refresh(readme: str) -> str:
    """The README with every generated section replaced by its current text."""
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        readme = pattern.sub(lambda m, make=make: m.group(1) + make() + m.group(2), readme)
    return readme
