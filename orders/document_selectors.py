"""Reads of the order documents in MongoDB: the order statistics and sales reports (aggregation
pipelines) and the staff order list. Same answers as the PostgreSQL selectors on the same orders;
callers fall back to those when MongoDB does not answer (see `from_documents`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings

from core import mongo
from orders import documents
from orders.models import Order
from orders.selectors import SALES_STATUSES, _period

logger = logging.getLogger(__name__)
T = TypeVar("T")
CENT = Decimal("0.01")


def from_documents(read: Callable[[], T], fallback: Callable[[], T]) -> tuple[T, str]:
    """(answer, source): `read` from MongoDB, or `fallback` (PostgreSQL) when document reads are
    off, MongoDB failed moments ago, or it fails now."""
    if not settings.ORDERS_READ_DOCUMENTS or mongo.recently_failed():
        return fallback(), "postgresql"
    try:
        return read(), "mongodb"
    except mongo.MongoError as exc:
        mongo.mark_failed()
        logger.warning("order documents unavailable, reading PostgreSQL: %s", type(exc).__name__)
        return fallback(), "postgresql"


def _money(value: Any) -> Decimal:
    value = documents.plain(value)
    return Decimal(value or 0).quantize(CENT)


def _match(
    start: datetime, end: datetime, payment_method: str | None, product_id: int | None
) -> dict[str, Any]:
    match: dict[str, Any] = {"created_at": {"$gte": start, "$lt": end}}
    if payment_method:
        match["payment_method"] = payment_method
    if product_id is not None:
        match["items.product_id"] = product_id
    return match


def order_stats(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    top: int = 10,
    payment_method: str | None = None,
    product_id: int | None = None,
) -> dict[str, Any]:
    """orders.selectors.order_stats from the documents: one $facet pipeline."""
    start, end = _period(date_from, date_to)
    sales = {"$match": {"status": {"$in": [str(s) for s in SALES_STATUSES]}}}
    pipeline = [
        {"$match": _match(start, end, payment_method, product_id)},
        {
            "$facet": {
                "totals": [
                    sales,
                    {
                        "$group": {
                            "_id": None,
                            "orders": {"$sum": 1},
                            "revenue": {"$sum": "$total"},
                            "units": {"$sum": "$item_count"},
                        }
                    },
                ],
                "customers": [
                    sales,
                    {"$match": {"customer_id": {"$ne": None}}},
                    {"$group": {"_id": "$customer_id"}},
                    {"$count": "n"},
                ],
                "by_status": [{"$group": {"_id": "$status", "n": {"$sum": 1}}}],
                "by_month": [
                    sales,
                    {
                        "$group": {
                            "_id": {"$dateToString": {"format": "%Y-%m", "date": "$created_at"}},
                            "orders": {"$sum": 1},
                            "revenue": {"$sum": "$total"},
                        }
                    },
                    {"$sort": {"_id": 1}},
                ],
                "top_products": [
                    sales,
                    {"$unwind": "$items"},
                    {
                        "$group": {
                            "_id": "$items.product_id",
                            "name": {"$max": "$items.name"},
                            "units": {"$sum": "$items.quantity"},
                            "revenue": {"$sum": "$items.subtotal"},
                            "orders": {"$sum": 1},
                        }
                    },
                    {"$sort": {"revenue": -1, "_id": 1}},
                    {"$limit": top},
                ],
            }
        },
    ]
    (result,) = documents.collection().aggregate(pipeline, allowDiskUse=True)
    group = result["totals"][0] if result["totals"] else {}
    orders = group.get("orders", 0)
    revenue = _money(group.get("revenue"))
    by_status = {s: 0 for s in Order.Status.values}
    for row in result["by_status"]:
        by_status[row["_id"]] = row["n"]
    return {
        "period": {"from": start.date(), "to": (end - timedelta(days=1)).date()},
        "totals": {
            "orders": orders,
            "revenue": revenue,
            "average_order_value": (revenue / orders).quantize(CENT) if orders else Decimal("0.00"),
            "units": group.get("units", 0),
            "customers": result["customers"][0]["n"] if result["customers"] else 0,
        },
        "by_status": by_status,
        "revenue_by_month": [
            {"month": row["_id"], "orders": row["orders"], "revenue": _money(row["revenue"])}
            for row in result["by_month"]
        ],
        "top_products": [
            {
                "product_id": row["_id"],
                "name": row["name"],
                "units": row["units"],
                "revenue": _money(row["revenue"]),
                "orders": row["orders"],
            }
            for row in result["top_products"]
        ],
    }


def sales_by_product_day(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    product_id: int | None = None,
) -> list[dict[str, Any]]:
    """orders.selectors.sales_by_product_day from the documents."""
    start, end = _period(date_from, date_to)
    match = _match(start, end, None, product_id)
    match["status"] = {"$in": [str(s) for s in SALES_STATUSES]}
    pipeline: list[dict[str, Any]] = [{"$match": match}, {"$unwind": "$items"}]
    if product_id is not None:
        pipeline.append({"$match": {"items.product_id": product_id}})
    pipeline += [
        {
            "$group": {
                "_id": {
                    "day": {"$dateToString": {"format": "%Y-%m-%d", "date": "$created_at"}},
                    "product_id": "$items.product_id",
                },
                "name": {"$max": "$items.name"},
                "sku": {"$max": "$items.sku"},
                "units": {"$sum": "$items.quantity"},
                "revenue": {"$sum": "$items.subtotal"},
                "orders": {"$sum": 1},
            }
        },
        {"$sort": {"_id.day": 1, "revenue": -1, "_id.product_id": 1}},
    ]
    return [
        {
            "day": date.fromisoformat(row["_id"]["day"]),
            "product_id": row["_id"]["product_id"],
            "name": row["name"],
            "sku": row["sku"],
            "units": row["units"],
            "revenue": _money(row["revenue"]),
            "orders": row["orders"],
        }
        for row in documents.collection().aggregate(pipeline, allowDiskUse=True)
    ]


def documents_drift(*, chunk: int = 5000) -> dict[str, Any]:
    """Compares the current workspace's orders in PostgreSQL with their documents.

    Walks both sides by id (merge join, `chunk` rows at a time) and returns the counts, the sums
    of versions and totals on each side, how many documents are missing, stale (another version
    than the order) or orphaned (no such order), the outbox rows waiting, and `drift`: the
    number of orders whose document is not what PostgreSQL has (0 when in step).
    """
    from django.db.models import Count, Sum

    from orders.models import OrderOutbox

    pg = Order.objects.aggregate(n=Count("id"), versions=Sum("version"), total=Sum("total"))
    coll = documents.collection()
    (mg,) = list(
        coll.aggregate(
            [
                {
                    "$group": {
                        "_id": None,
                        "n": {"$sum": 1},
                        "versions": {"$sum": "$version"},
                        "total": {"$sum": "$total"},
                    }
                }
            ]
        )
    ) or [{}]
    missing = stale = orphans = 0
    pg_rows = Order.objects.order_by("id").values_list("id", "version").iterator(chunk_size=chunk)
    doc_rows = coll.find({}, {"version": 1}, sort=[("_id", 1)], batch_size=chunk)
    doc = next(doc_rows, None)
    for order_id, version in pg_rows:
        while doc is not None and doc["_id"] < order_id:
            orphans += 1
            doc = next(doc_rows, None)
        if doc is None or doc["_id"] != order_id:
            missing += 1
            continue
        if doc["version"] != version:
            stale += 1
        doc = next(doc_rows, None)
    while doc is not None:
        orphans += 1
        doc = next(doc_rows, None)
    return {
        "postgresql": {
            "orders": pg["n"],
            "versions": pg["versions"] or 0,
            "total": (pg["total"] or Decimal(0)).quantize(CENT),
        },
        "mongodb": {
            "orders": mg.get("n", 0),
            "versions": mg.get("versions", 0),
            "total": _money(mg.get("total")),
        },
        "missing": missing,
        "stale": stale,
        "orphans": orphans,
        "outbox": OrderOutbox.objects.count(),
        "drift": missing + stale + orphans,
    }


def staff_orders_page(
    *, filters: dict[str, Any], after: tuple[datetime, int] | None, size: int
) -> tuple[list[int], tuple[datetime, int] | None]:
    """One page of the staff order list from the documents: (order ids, newest first; the
    position after the page, or None on the last page).

    `filters` are the cleaned values of orders.filters.OrderFilter, search excepted (the
    embedded server has no text index: searches stay on PostgreSQL). Keyset over
    (created_at, _id) descending, the "created" index.
    """
    clauses: list[dict[str, Any]] = []
    if filters.get("status"):
        clauses.append({"status": {"$in": list(filters["status"])}})
    if filters.get("payment_status"):
        clauses.append({"payment_status": {"$in": list(filters["payment_status"])}})
    if filters.get("payment_method"):
        clauses.append({"payment_method": filters["payment_method"]})
    if filters.get("customer"):
        clauses.append({"customer_id": str(filters["customer"])})
    if filters.get("created_after"):
        clauses.append({"created_at": {"$gte": filters["created_after"]}})
    if filters.get("created_before"):
        clauses.append({"created_at": {"$lt": filters["created_before"]}})
    if filters.get("min_total") is not None:
        clauses.append({"total": {"$gte": documents.as_decimal128(filters["min_total"])}})
    if filters.get("max_total") is not None:
        clauses.append({"total": {"$lte": documents.as_decimal128(filters["max_total"])}})
    if filters.get("product") is not None:
        clauses.append({"items.product_id": int(filters["product"])})
    if after is not None:
        at, last_id = after
        clauses.append(
            {"$or": [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": last_id}}]}
        )
    query = {"$and": clauses} if clauses else {}
    found = list(
        documents.collection().find(
            query,
            {"_id": 1, "created_at": 1},
            sort=[("created_at", -1), ("_id", -1)],
            limit=size + 1,
        )
    )
    page = found[:size]
    following = (page[-1]["created_at"], page[-1]["_id"]) if len(found) > size else None
    return [doc["_id"] for doc in page], following
