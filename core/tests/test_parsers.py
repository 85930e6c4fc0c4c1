"""The JSON reader every body and frame goes through: depth and NUL refused, the rest as is."""

import io
import json

import pytest
from rest_framework.exceptions import ParseError

from core.parsers import JSONRefused, SafeJSONParser, loads


@pytest.mark.parametrize(
    "text",
    [
        "[" * 1000 + "]" * 1000,
        '{"a": ' * 33 + "1" + "}" * 33,
        "[" * 100_000,  # not even balanced: still no RecursionError
        '{"a": "\\\\", "b": ' + "[" * 40 + "]" * 40 + "}",  # an escaped backslash before
        '{"a": "\\u0000"}',
        '{"\\u0000": 1}',
        '[[[[{"deep": ["x\\u0000"]}]]]]',
    ],
)
def test_deep_or_nul_json_is_refused(text):
    with pytest.raises(JSONRefused):
        loads(text)
    with pytest.raises(ParseError):
        SafeJSONParser().parse(io.BytesIO(text.encode()), "application/json", {})


@pytest.mark.parametrize(
    "value",
    [
        json.loads("[" * 32 + "]" * 32),
        {"brackets in strings": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{"},
        {"an escaped backslash and u0000 text": "\\u0000"},
        {"quote": 'say "[[[["', "n": [1, 2.5, None, True]},
        [{"id": i, "tags": ["a", "b"]} for i in range(500)],
    ],
)
def test_everything_else_is_read_as_json_reads_it(value):
    text = json.dumps(value)
    assert loads(text) == value
    assert SafeJSONParser().parse(io.BytesIO(text.encode()), "application/json", {}) == value


def test_malformed_json_is_a_value_error_and_a_parse_error():
    for text in ("{", '{"a": NaN}', "[1,]"):
        with pytest.raises(ValueError):
            loads(text.replace("NaN", "x"))
        with pytest.raises(ParseError):
            SafeJSONParser().parse(io.BytesIO(text.encode()), "application/json", {})
