"""The one Jinja environment that serves every template: strict, and encoding-only.

`StrictUndefined` turns a missing variable into an error (our bug), and `finalize` refuses any
value that did not pass through an encoder of `encode.py`: a raw string cannot reach an output.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import jinja2

from compiler.render import encode, template_cache
from compiler.resources import templates_dir


class RawValueError(TypeError):
    """A template wrote a value without encoding it: a bug in the template."""


def _finalize(value: Any) -> Any:
    if isinstance(value, encode.Encoded):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # integers are their own literal in every output language
    raise RawValueError(f"unencoded value {value!r} reached a template output; pass it "
                        "through an encoder filter (yaml, py, sh, json or trusted)")


# How the templates are read and compiled (the loader aside).
_OPTIONS: dict[str, Any] = {
    "undefined": jinja2.StrictUndefined,
    "autoescape": False,
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "finalize": _finalize,
}


def fingerprint(options: dict[str, Any]) -> str:
    """A short name for the options: the compiled code depends on them, not only on the
    templates' text, so each set keeps its own compiled templates (`template_cache`)."""
    text = ";".join(f"{key}={getattr(value, '__qualname__', value)}"
                    for key, value in sorted(options.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        bytecode_cache=template_cache.bytecode_cache(fingerprint(_OPTIONS)),
        **_OPTIONS,
    )
    env.filters.update({
        "yaml": encode.yaml_scalar,
        "yaml_str": encode.yaml_string,
        "py": encode.python_literal,
        "sh": encode.shell_word,
        "json": encode.json_text,
        "trusted": encode.trusted,
    })
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
