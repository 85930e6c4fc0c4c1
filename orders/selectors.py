"""Reads of orders: who sees which orders, list filters, expiry candidates and the reports
(SQL aggregations over the JSONB line items)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from orders.models import Order
from orders.permissions import RESOURCE
from rbac import access

S = Order.Status
# Orders whose money counts as sales: placed and not cancelled or refunded.
SALES_STATUSES = (S.PENDING, S.CONFIRMED, S.PROCESSING, S.SHIPPED, S.DELIVERED)


def can_read_all(user) -> bool:
    return access.has_permission(user, RESOURCE, "read_all")


def orders_visible_to(user) -> QuerySet[Order]:
    """Every order for users granted orders.order:read_all, otherwise the user's own."""
    queryset = Order.objects.all()
    if not can_read_all(user):
        queryset = queryset.filter(customer_id=user.pk)
    return queryset


def order_search_q(text: str) -> Q:
    """Order number, the name of any line item, or the shipping city (case-insensitive)."""
    text = text.strip()
    item_names = RawSQL(
        "EXISTS (SELECT 1 FROM jsonb_array_elements(orders_order.items) AS line "
        "WHERE line->>'name' ILIKE %s)",
        [f"%{_escape_like(text)}%"],
        output_field=BooleanField(),
    )
    return Q(number__icontains=text) | Q(shipping_address__city__icontains=text) | Q(item_names)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def orders_due_for_expiry(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    now = now or timezone.now()
    return list(
        Order.objects.filter(
            status=S.PENDING, payment_status__in=["pending", "failed"], expires_at__lte=now
        )
        .order_by("expires_at", "id")
        .values_list("id", flat=True)[:limit]
    )


# --- reports --------------------------------------------------------------------------------


def _period(date_from: date | None, date_to: date | None) -> tuple[datetime, datetime]:
    """[start, end) in UTC; defaults to the last 30 days including today."""
    today = timezone.now().date()
    date_to = date_to or today
    date_from = date_from or (date_to - timedelta(days=29))
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(date_from, time.min), tz)
    end = timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min), tz)
    return start, end


def _fetch(sql: str, params: list) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [col.name for col in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def sales_by_product_day(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    product_id: int | None = None,
) -> list[dict[str, Any]]:
    """Per product per day (UTC): units sold, revenue (line subtotals) and number of orders.

    One aggregation over jsonb_array_elements(items) of the orders in SALES_STATUSES created in
    the period; rows ordered by day, then revenue descending. Checkout merges repeated products,
    so an order has at most one line per product and counting lines counts orders. With a
    product, the GIN index on items narrows the orders first.
    """
    start, end = _period(date_from, date_to)
    return _fetch(
        """
        SELECT (o.created_at AT TIME ZONE 'UTC')::date AS day,
               (line->>'product_id')::bigint AS product_id,
               max(line->>'name') AS name,
               max(line->>'sku') AS sku,
               sum((line->>'quantity')::int) AS units,
               sum((line->>'subtotal')::numeric) AS revenue,
               count(*) AS orders
        FROM orders_order o
        CROSS JOIN LATERAL jsonb_array_elements(o.items) AS line
        WHERE o.created_at >= %s AND o.created_at < %s AND o.status = ANY(%s)
          AND (%s::bigint IS NULL OR (o.items @> jsonb_build_array(
                jsonb_build_object('product_id', %s::bigint))
              AND (line->>'product_id')::bigint = %s))
        GROUP BY 1, 2
        ORDER BY 1, revenue DESC, 2
        """,
        [start, end, list(SALES_STATUSES), product_id, product_id, product_id],
    )


def _stats_filter(payment_method: str | None, product_id: int | None) -> tuple[str, list]:
    """The SQL condition (and its parameters) of the stats filters, on orders_order: constant
    text, the values go as parameters."""
    return (
        " AND (%s::text IS NULL OR payment_method = %s)"
        " AND (%s::bigint IS NULL OR items @> jsonb_build_array("
        "jsonb_build_object('product_id', %s::bigint)))",
        [payment_method, payment_method, product_id, product_id],
    )


def order_stats(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    top: int = 10,
    payment_method: str | None = None,
    product_id: int | None = None,
) -> dict[str, Any]:
    """Totals, average order value, orders by status, revenue by month and top products.

    Revenue and averages count orders in SALES_STATUSES; `by_status` counts every order.
    Filters: the payment method, and orders that contain a product (top_products then counts
    every line of those orders).
    """
    start, end = _period(date_from, date_to)
    statuses = list(SALES_STATUSES)
    where, where_params = _stats_filter(payment_method, product_id)
    (totals,) = _fetch(
        """
        SELECT count(*) FILTER (WHERE status = ANY(%s)) AS orders,
               coalesce(sum(total) FILTER (WHERE status = ANY(%s)), 0) AS revenue,
               coalesce(avg(total) FILTER (WHERE status = ANY(%s)), 0) AS average_order_value,
               coalesce(sum(item_count) FILTER (WHERE status = ANY(%s)), 0) AS units,
               count(DISTINCT customer_id) FILTER (WHERE status = ANY(%s)) AS customers
        FROM orders_order WHERE created_at >= %s AND created_at < %s"""  # noqa: S608
        + where,
        [statuses] * 5 + [start, end, *where_params],
    )
    totals["average_order_value"] = Decimal(totals["average_order_value"]).quantize(Decimal("0.01"))
    by_status = {s: 0 for s in S.values}
    for row in _fetch(
        "SELECT status, count(*) AS n FROM orders_order "  # noqa: S608
        "WHERE created_at >= %s AND created_at < %s" + where + " GROUP BY status",
        [start, end, *where_params],
    ):
        by_status[row["status"]] = row["n"]
    by_month = _fetch(
        """
        SELECT to_char(date_trunc('month', created_at AT TIME ZONE 'UTC'), 'YYYY-MM') AS month,
               count(*) AS orders, sum(total) AS revenue
        FROM orders_order
        WHERE created_at >= %s AND created_at < %s AND status = ANY(%s)"""  # noqa: S608
        + where
        + " GROUP BY 1 ORDER BY 1",
        [start, end, statuses, *where_params],
    )
    top_products = _fetch(
        """
        SELECT (line->>'product_id')::bigint AS product_id, max(line->>'name') AS name,
               sum((line->>'quantity')::int) AS units,
               sum((line->>'subtotal')::numeric) AS revenue,
               count(*) AS orders
        FROM orders_order o CROSS JOIN LATERAL jsonb_array_elements(o.items) AS line
        WHERE o.created_at >= %s AND o.created_at < %s AND o.status = ANY(%s)"""  # noqa: S608
        + where
        + " GROUP BY 1 ORDER BY revenue DESC, 1 LIMIT %s",
        [start, end, statuses, *where_params, top],
    )
    return {
        "period": {"from": start.date(), "to": (end - timedelta(days=1)).date()},
        "totals": totals,
        "by_status": by_status,
        "revenue_by_month": by_month,
        "top_products": top_products,
    }


def product_sales(*, since: datetime, by: str = "revenue", limit: int = 10) -> list[dict[str, Any]]:
    """Best sellers since `since`, by units or revenue: the catalog's top products.

    The same definition as the sales reports (orders in SALES_STATUSES, line quantities and
    subtotals), so a refunded or cancelled order counts in neither.
    """
    return _fetch(
        """
        SELECT (line->>'product_id')::bigint AS product_id,
               max(line->>'name') AS name,
               max(line->>'sku') AS sku,
               sum((line->>'quantity')::int) AS units_sold,
               sum((line->>'subtotal')::numeric) AS revenue
        FROM orders_order o CROSS JOIN LATERAL jsonb_array_elements(o.items) AS line
        WHERE o.created_at >= %s AND o.status = ANY(%s)
        GROUP BY 1
        ORDER BY CASE WHEN %s THEN sum((line->>'quantity')::int) END DESC,
                 revenue DESC, units_sold DESC, 1
        LIMIT %s
        """,
        [since, list(SALES_STATUSES), by == "units", limit],
    )
