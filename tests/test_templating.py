"""The template environment: strict, and no raw value can reach an output."""

from __future__ import annotations

import jinja2
import pytest

from compiler.render import encode, templating


def render(source: str, **context: object) -> str:
    return templating.environment().from_string(source).render(**context)


def test_a_raw_string_cannot_reach_an_output() -> None:
    with pytest.raises(templating.RawValueError, match="unencoded value"):
        render("run: {{ command }}", command="echo hi")


@pytest.mark.parametrize("value", [1.5, True, None, ["a"], {"a": 1}])
def test_other_raw_values_are_refused_too(value: object) -> None:
    with pytest.raises(templating.RawValueError):
        render("{{ value }}", value=value)


def test_a_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render("{{ missing | yaml }}")


def test_encoded_values_pass() -> None:
    assert render("run: {{ c | yaml }}", c="echo 'a: b'") == 'run: "echo \'a: b\'"'
    assert render("x = {{ c | py }}", c="a'\"\\") == "x = 'a\\'\"\\\\'"
    assert render("{{ n }}", n=3) == "3"


@pytest.mark.parametrize("text", ["on", "yes", "null", "1.5", "0755", "- x", "a: b", "#", "",
                                  "{{ x }}", "'", '"', "\n", "\u2028", "\U0001F600", "---"])
def test_yaml_scalars_read_back_as_the_same_string(text: str) -> None:
    import yaml

    assert yaml.safe_load(f"k: {encode.yaml_scalar(text)}") == {"k": text}
    assert yaml.safe_load(f"k: {encode.yaml_string(text)}") == {"k": text}
