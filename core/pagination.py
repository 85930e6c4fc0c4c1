"""Pagination every list shares: cursor based, so deep pages stay as fast as the first.

- :class:`DefaultCursorPagination`: DRF's cursor over an ordering of unique-ending columns.
  :func:`cursor_pagination` makes one for another ordering or page size.
- :class:`KeysetPagination`: a seek over (sort value, id) for lists sorted by a choice of
  columns (`?ordering=`), where ties on the sort value must not fall back to an OFFSET.
- :func:`paginated_response`: paginates a queryset in an APIView (no generic view needed).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.parsers import loads

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class DefaultCursorPagination(CursorPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "-created_at"


def cursor_pagination(
    ordering: str | tuple[str, ...],
    *,
    page_size: int = PAGE_SIZE,
    max_page_size: int = MAX_PAGE_SIZE,
    name: str = "CursorPagination",
) -> type[DefaultCursorPagination]:
    """A DefaultCursorPagination over `ordering` (end it with a unique column, e.g. "-id")."""
    attrs = {"ordering": ordering, "page_size": page_size, "max_page_size": max_page_size}
    return type(name, (DefaultCursorPagination,), attrs)


def paginated_response(
    *,
    pagination_class: type[BasePagination],
    serializer_class,
    queryset,
    request,
    view,
    context: dict | None = None,
) -> Response:
    """One page of queryset, serialized, with the paginator's next/previous links."""
    paginator = pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    context = {"request": request, "view": view, **(context or {})}
    data = serializer_class(page, many=True, context=context).data
    return paginator.get_paginated_response(data)


# --- Keyset ------------------------------------------------------------------------------------
_PARSERS = {
    "timestamptz": datetime.fromisoformat,
    "numeric": Decimal,
    "text": str,
    "bigint": int,
}


def encode_cursor(*, sort: str, value, row_id: int, reverse: bool = False) -> str:
    value = value.isoformat() if isinstance(value, datetime) else str(value)
    payload = json.dumps({"s": sort, "v": value, "i": row_id, "r": int(reverse)})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> dict:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        data = loads(base64.urlsafe_b64decode(padded.encode()))
        return {"s": str(data["s"]), "v": str(data["v"]), "i": int(data["i"]), "r": bool(data["r"])}
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc


class KeysetPagination(BasePagination):
    """Keyset (seek) pagination: every page costs the same, however deep.

    The cursor holds the last row's (sort value, id); the next page is
    WHERE (sort_col, id) < (value, id) ORDER BY sort_col DESC, id DESC LIMIT n+1, a range scan
    of a (sort_col, id) index. Subclasses set `sorts` (public name -> (model field, SQL type of
    the cursor value: timestamptz, numeric, text or bigint)) and `default_sort`.
    """

    sorts: dict[str, tuple[str, str]] = {"created": ("created_at", "timestamptz")}
    default_sort = "-created"
    page_size = PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
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
        sort = request.query_params.get(self.ordering_query_param) or self.default_sort
        if sort.lstrip("-") not in self.sorts:
            choices = ", ".join(f"{name}, -{name}" for name in self.sorts)
            raise ValidationError({"ordering": [f"Choose one of: {choices}."]})
        return sort

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.sort = sort = self.get_sort(request)
        size = self.get_page_size(request)
        field, cast = self.sorts[sort.lstrip("-")]
        descending = sort.startswith("-")

        raw_cursor = request.query_params.get(self.cursor_query_param)
        cursor = decode_cursor(raw_cursor) if raw_cursor else None
        if cursor and cursor["s"] != sort:
            raise ValidationError({"cursor": ["This cursor belongs to another ordering."]})
        backwards = bool(cursor and cursor["r"])
        scan_descending = descending != backwards

        if cursor:
            try:
                value = _PARSERS[cast](cursor["v"])
            except (ValueError, InvalidOperation) as exc:
                raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
            table = queryset.model._meta.db_table
            column = queryset.model._meta.get_field(field).column
            op = "<" if scan_descending else ">"
            # Names come from the model and `sorts`, never from the request.
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
        # A page holds model instances or plain rows (QuerySet.values()).
        value, row_id = (
            (row[self.field], row["id"])
            if isinstance(row, dict)
            else (getattr(row, self.field), row.id)
        )
        token = encode_cursor(sort=self.sort, value=value, row_id=row_id, reverse=reverse)
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
                "schema": {
                    "type": "string",
                    "enum": [p + n for n in self.sorts for p in ("", "-")],
                },
                "description": f"Sort order (default {self.default_sort}).",
            },
        ]
