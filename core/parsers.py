"""The one way untrusted JSON is read (API bodies and websocket frames): bounded depth, no NUL."""

import codecs
import json
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

# PostgreSQL refuses U+0000 in text and jsonb; deep nesting exhausts the recursion limit of the
# decoder and of every walk over the value afterwards. Both are refused before anything runs.
MAX_DEPTH_DEFAULT = 32

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(r"\[\]|\{\}")


class JSONRefused(ValueError):
    """JSON that parses but is not accepted; `code` and `message` go into the error shape."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


def max_depth() -> int:
    return getattr(settings, "JSON_MAX_DEPTH", MAX_DEPTH_DEFAULT)


def _too_deep(text: str, limit: int) -> bool:
    """Whether the brackets outside strings nest deeper than `limit`, from the raw text and
    before decoding: each pass (in C) removes the innermost pairs, so depth d takes d passes."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(limit):
        if not brackets:
            return False
        brackets, removed = _EMPTY_PAIR.subn("", brackets)
        if not removed:
            return False  # unbalanced: not JSON, the decoder says so
    return bool(brackets)


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """json.loads for untrusted input: malformed, too deep or NUL-bearing JSON raises ValueError
    (JSONRefused for the last two), never RecursionError."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    limit = max_depth()
    refused = JSONRefused("invalid_json", f"JSON may be nested at most {limit} levels.")
    if _too_deep(text, limit):
        raise refused
    try:
        value = json.loads(text, **kwargs)
    except RecursionError as exc:
        raise refused from exc
    # U+0000 can only come from an escape (raw control characters are not JSON).
    if "\\u0000" in text and _has_nul(value):
        raise JSONRefused("invalid_json", "Strings may not contain the NUL character.")
    return value


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with the checks of `loads`: a 400 parse_error in the error shape."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return loads(text, parse_constant=strict_constant if self.strict else None)
        except JSONRefused as exc:
            raise ParseError(exc.message) from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
