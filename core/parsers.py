"""The one way untrusted JSON is read (API bodies and websocket frames): bounded depth, no NUL."""

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# PostgreSQL refuses U+0000 in text and jsonb; deep nesting exhausts the recursion limit of the
# decoder and of every walk over the value afterwards. Both are refused before anything runs.
MAX_DEPTH_DEFAULT = 32


class JSONRefused(ValueError):
    """JSON that parses but is not accepted; `code` and `message` go into the error shape."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


def max_depth() -> int:
    return getattr(settings, "JSON_MAX_DEPTH", MAX_DEPTH_DEFAULT)


def check_value(value: Any, *, limit: int | None = None) -> Any:
    """Refuses (JSONRefused) containers nested deeper than the limit and strings or keys
    holding U+0000; returns the value unchanged. Iterative, so any input is safe to walk."""
    limit = max_depth() if limit is None else limit
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise JSONRefused("invalid_json", "Strings may not contain the NUL character.")
        elif isinstance(item, (dict, list)):
            if depth > limit:
                raise JSONRefused("invalid_json", f"JSON may be nested at most {limit} levels.")
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
    return value


def loads(text: str | bytes) -> Any:
    """json.loads for untrusted input: malformed, too deep or NUL-bearing JSON raises ValueError
    (JSONRefused for the last two), never RecursionError."""
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise JSONRefused(
            "invalid_json", f"JSON may be nested at most {max_depth()} levels."
        ) from exc
    return check_value(value)


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with the checks of `loads`: a 400 parse_error in the error shape."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON may be nested at most {max_depth()} levels.") from exc
        try:
            return check_value(data)
        except JSONRefused as exc:
            raise ParseError(exc.message) from exc
