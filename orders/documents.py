"""The order documents in MongoDB: their shape, indexes and version-guarded writes.

One database per workspace (core.mongo.database_name), one `orders` collection in it; a document
is the whole order as PostgreSQL has it (amounts as Decimal128, times as UTC dates) with the
order's `version`. Writes replace the whole document and only ever move it to a higher version,
so a late or repeated delivery is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from bson.decimal128 import Decimal128
from pymongo import ASCENDING, DESCENDING, IndexModel, ReplaceOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from core import mongo
from orders.models import MONEY_FIELDS, TIME_FIELDS, Order

logger = logging.getLogger(__name__)

COLLECTION = "orders"
DUPLICATE_KEY = 11000
WRITE_CHUNK = 500
INDEXES = [
    IndexModel([("number", ASCENDING)], name="number", unique=True),
    IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="created"),
    IndexModel([("status", ASCENDING), ("created_at", DESCENDING)], name="status_created"),
    IndexModel([("payment_status", ASCENDING), ("created_at", DESCENDING)], name="payment_created"),
    IndexModel([("customer_id", ASCENDING), ("created_at", DESCENDING)], name="customer_created"),
    IndexModel(
        [("items.product_id", ASCENDING), ("created_at", ASCENDING)], name="product_created"
    ),
]
TEXT_FIELDS = (
    "number",
    "customer_email",
    "status",
    "payment_status",
    "payment_method",
    "payment_reference",
    "currency",
    "discount_code",
    "notes",
    "tracking_number",
    "cancel_reason",
)

_indexed: set[str] = set()


def collection(schema_name: str | None = None) -> Collection:
    return mongo.tenant_database(schema_name)[COLLECTION]


def indexes_ensure(schema_name: str | None = None) -> None:
    """Creates the collection's indexes (idempotent; once per process and database)."""
    coll = collection(schema_name)
    if coll.database.name in _indexed:
        return
    coll.create_indexes(INDEXES)
    _indexed.add(coll.database.name)


def database_drop(schema_name: str) -> None:
    coll = collection(schema_name)
    coll.database.client.drop_database(coll.database.name)
    _indexed.discard(coll.database.name)


def as_decimal128(value: Any) -> Decimal128:
    return Decimal128(Decimal(str(value)).quantize(Decimal("0.01")))


def order_document(order: Order) -> dict[str, Any]:
    """The document of an order (payment_details, the provider's raw data, stays in PostgreSQL)."""
    doc: dict[str, Any] = {"_id": order.pk, "version": order.version}
    for field in TEXT_FIELDS:
        doc[field] = getattr(order, field)
    doc["customer_id"] = str(order.customer_id) if order.customer_id else None
    for field in MONEY_FIELDS:
        doc[field] = as_decimal128(getattr(order, field))
    for field in TIME_FIELDS:
        doc[field] = getattr(order, field)
    doc["item_count"] = order.item_count
    doc["items"] = [
        {
            **line,
            "product_id": int(line["product_id"]),
            "quantity": int(line["quantity"]),
            "unit_price": as_decimal128(line["unit_price"]),
            "subtotal": as_decimal128(line["subtotal"]),
        }
        for line in order.items
    ]
    doc["shipping_address"] = order.shipping_address
    doc["billing_address"] = order.billing_address
    doc["metadata"] = order.metadata
    doc["history"] = order.history
    return doc


def documents_write(documents: Iterable[dict[str, Any]], schema_name: str | None = None) -> int:
    """Replaces (or inserts) each document unless MongoDB already has its version or a later one.

    The filter matches only an older version; when the document is newer, the upsert's insert
    collides on _id (duplicate key) and that is the refusal, not an error. Returns how many
    documents were written.
    """
    ops = [
        ReplaceOne({"_id": doc["_id"], "version": {"$lt": doc["version"]}}, doc, upsert=True)
        for doc in documents
    ]
    if not ops:
        return 0
    indexes_ensure(schema_name)
    coll = collection(schema_name)
    written = 0
    # Bounded requests: each one is answered well within the socket timeout.
    for first in range(0, len(ops), WRITE_CHUNK):
        try:
            result = coll.bulk_write(ops[first : first + WRITE_CHUNK], ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            written += exc.details.get("nModified", 0) + exc.details.get("nUpserted", 0)
        else:
            written += result.modified_count + result.upserted_count
    return written


def documents_export(schema_name: str) -> Iterator[dict[str, Any]]:
    """Every document of a workspace, by id."""
    yield from collection(schema_name).find({}, sort=[("_id", ASCENDING)])


def plain(value: Any) -> Any:
    """A document value as JSON-friendly Python (Decimal128 -> Decimal, nested too)."""
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# --- workspace lifecycle (registered with tenants.hooks by OrdersConfig.ready) ---------------


def workspace_provision(schema_name: str) -> None:
    """Creates the workspace's database with its indexes. With MongoDB down the workspace is
    still created: the first published document creates them."""
    try:
        indexes_ensure(schema_name)
    except mongo.MongoError as exc:
        logger.warning("order documents of %s not provisioned: %s", schema_name, type(exc).__name__)


def workspace_drop(schema_name: str) -> None:
    """Drops the purged workspace's database (logged, not raised: the schema is already gone)."""
    try:
        database_drop(schema_name)
    except mongo.MongoError as exc:
        logger.error("order documents of %s not dropped: %s", schema_name, type(exc).__name__)


def workspace_export(schema_name: str) -> Iterator[dict[str, Any]]:
    for doc in documents_export(schema_name):
        yield {"model": "orders.document", "document": plain(doc)}
