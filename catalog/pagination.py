"""Keyset (seek) pagination for product lists: every page costs the same, however deep.

The cursor holds the last row's (sort value, id); the next page is
WHERE (sort_col, id) < (value, id) ORDER BY sort_col DESC, id DESC LIMIT n+1, a range scan of
one of the partial (sort_col, id) indexes on live products. Unlike DRF's CursorPagination, ties
on the sort value (many products at one price) never fall back to an OFFSET.
"""

import base64
import binascii
import json
from collections import OrderedDict
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

# public sort name -> (model field, SQL cast of the cursor value)
SORTS = {
    "created": ("created_at", "timestamptz"),
    "price": ("price", "numeric"),
    "name": ("name", "text"),
    "rating": ("average_rating", "numeric"),
}
DEFAULT_SORT = "-created"


def _parse_value(field: str, raw: str):
    if field == "created_at":
        return datetime.fromisoformat(raw)
    if field in ("price", "average_rating"):
        return Decimal(raw)
    return str(raw)


def encode_cursor(*, sort: str, value, row_id: int, reverse: bool = False) -> str:
    value = value.isoformat() if isinstance(value, datetime) else str(value)
    payload = json.dumps({"s": sort, "v": value, "i": row_id, "r": int(reverse)})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> dict:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return {"s": str(data["s"]), "v": str(data["v"]), "i": int(data["i"]), "r": bool(data["r"])}
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc


class KeysetPagination(BasePagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    ordering_query_param = "ordering"

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError as exc:
            raise ValidationError({"page_size": ["Enter a whole number."]}) from exc
        if size < 1:
            raise ValidationError({"page_size": ["Must be at least 1."]})
        return min(size, self.max_page_size)

    def get_sort(self, request) -> str:
        sort = request.query_params.get(self.ordering_query_param) or DEFAULT_SORT
        if sort.lstrip("-") not in SORTS:
            choices = ", ".join(f"{name}, -{name}" for name in SORTS)
            raise ValidationError({"ordering": [f"Choose one of: {choices}."]})
        return sort

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.sort = sort = self.get_sort(request)
        size = self.get_page_size(request)
        field, cast = SORTS[sort.lstrip("-")]
        descending = sort.startswith("-")

        raw_cursor = request.query_params.get(self.cursor_query_param)
        cursor = decode_cursor(raw_cursor) if raw_cursor else None
        if cursor and cursor["s"] != sort:
            raise ValidationError({"cursor": ["This cursor belongs to another ordering."]})
        backwards = bool(cursor and cursor["r"])
        scan_descending = descending != backwards

        if cursor:
            try:
                value = _parse_value(field, cursor["v"])
            except (ValueError, InvalidOperation) as exc:
                raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
            table = queryset.model._meta.db_table
            column = queryset.model._meta.get_field(field).column
            op = "<" if scan_descending else ">"
            # Names come from the model and SORTS, never from the request.
            seek = RawSQL(  # noqa: S611
                f'("{table}"."{column}", "{table}"."id") {op} (%s::{cast}, %s::bigint)',
                [value, cursor["i"]],
                output_field=BooleanField(),
            )
            queryset = queryset.filter(seek)
        order = [f"-{field}", "-id"] if scan_descending else [field, "id"]
        rows = list(queryset.order_by(*order)[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
            self.has_next, self.has_previous = True, more
        else:
            self.has_next, self.has_previous = more, cursor is not None
        self.field = field
        self.rows = rows
        return rows

    def _link(self, row, *, reverse: bool) -> str:
        url = self.request.build_absolute_uri()
        token = encode_cursor(
            sort=self.sort, value=getattr(row, self.field), row_id=row.id, reverse=reverse
        )
        return replace_query_param(url, self.cursor_query_param, token)

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.rows:
            return None
        return self._link(self.rows[-1], reverse=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if not self.rows:
            return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        return self._link(self.rows[0], reverse=True)

    def get_paginated_response(self, data) -> Response:
        return Response(
            OrderedDict(
                [
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "string"},
                "description": "Opaque cursor from next/previous.",
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "maximum": self.max_page_size},
            },
            {
                "name": self.ordering_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "string", "enum": [p + n for n in SORTS for p in ("", "-")]},
                "description": f"Sort order (default {DEFAULT_SORT}).",
            },
        ]
