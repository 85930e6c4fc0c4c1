"""The outbox of order changes and its relay to the order documents in MongoDB.

Every service that changes an order calls record_order_change(order=...) inside its transaction:
the order's version goes up and an outbox row is written with the change, atomically. After the
commit the relay publishes the row (outbox_publish): it reads the committed order, replaces its
document guarded by the version, then deletes the row. What is not published then (MongoDB down,
a process killed) is published by the periodic sweep (orders.publish_documents). A row is only
deleted in the transaction that saw its document written, so nothing is lost.
"""

import logging

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import schema_context

from core import mongo
from orders import documents
from orders.models import Order, OrderOutbox

logger = logging.getLogger(__name__)


def record_order_change(*, order: Order) -> None:
    """Records that `order` changed; call it inside the transaction that changed it, after saving.

    Raises the order's version (order.version is updated) and writes the outbox row; the
    document is published once the transaction commits.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("record_order_change must run inside the change's transaction")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET version = version + 1 WHERE id = %s RETURNING version",
            [order.pk],
        )
        (order.version,) = cursor.fetchone()
    OrderOutbox.objects.create(order_id=order.pk, version=order.version)
    schema, order_id = connection.schema_name, order.pk
    transaction.on_commit(lambda: publish_after_commit(schema=schema, order_id=order_id))


def publish_after_commit(*, schema: str, order_id: int) -> None:
    """The quick publish right after a commit: never raises, and is skipped for a while after
    MongoDB failed (the sweep publishes the row later)."""
    if mongo.recently_failed():
        return
    try:
        with schema_context(schema):
            outbox_publish(order_ids=[order_id])
    except mongo.MongoError as exc:
        mongo.mark_failed()
        logger.warning(
            "order %s left in the outbox of %s: %s", order_id, schema, type(exc).__name__
        )
    except Exception:  # the change is committed; the sweep retries
        logger.exception("publishing order %s of %s failed", order_id, schema)


@transaction.atomic
def outbox_publish(*, limit: int | None = None, order_ids: list[int] | None = None) -> int:
    """Publishes up to `limit` outbox rows of the current workspace (oldest first); returns how
    many rows it published.

    Rows are locked with SKIP LOCKED, so relays running side by side take different rows. The
    documents are written before the rows are deleted, in this transaction: a failure or a kill
    in between leaves the rows for the next run, and writing again is harmless.
    """
    limit = limit or settings.ORDERS_OUTBOX_BATCH
    rows = OrderOutbox.objects.select_for_update(skip_locked=True).order_by("id")
    if order_ids is not None:
        rows = rows.filter(order_id__in=order_ids)
    picked = list(rows.values_list("id", "order_id")[:limit])
    if not picked:
        return 0
    order_ids_picked = {order_id for _, order_id in picked}
    orders = Order.objects.filter(id__in=order_ids_picked).order_by("id")
    documents.documents_write(documents.order_document(order) for order in orders)
    OrderOutbox.objects.filter(id__in=[row_id for row_id, _ in picked]).delete()
    mongo.mark_ok()
    return len(picked)


def outbox_drain(*, batch: int | None = None, max_batches: int = 1000) -> int:
    """Publishes batches until the current workspace's outbox is empty (or max_batches)."""
    published = 0
    for _ in range(max_batches):
        count = outbox_publish(limit=batch)
        published += count
        if not count:
            break
    return published
