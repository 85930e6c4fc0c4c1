"""Every write of orders: checkout, the status state machine, payment status, expiry, and the
outbox that carries each change to the order documents in MongoDB.

Lock order, everywhere: an idempotency key row, then the order row, then product rows (in
ascending id order, inside catalog.services). Stock only moves through catalog.services
(stock_reserve / stock_release), so the inventory ledger explains every unit.

One module per sub-domain (checkout, transitions, payments, housekeeping); the public names are
re-exported here, so callers import them from orders.services.
"""

from orders.services.checkout import (
    MAX_LINES,
    MAX_QUANTITY,
    order_checkout,
    request_fingerprint,
)
from orders.services.documents_sync import documents_sync
from orders.services.housekeeping import idempotency_keys_purge, order_expire, orders_expire_due
from orders.services.outbox import (
    outbox_drain,
    outbox_publish,
    publish_after_commit,
    record_order_change,
)
from orders.services.payments import PAYMENT_TRANSITIONS, UNPAID, order_payment_status_set
from orders.services.transitions import (
    BULK_LIMIT,
    TIMESTAMP_FIELDS,
    TRANSITIONS,
    allowed_transitions,
    order_transition,
    orders_bulk_transition,
)

__all__ = [
    "BULK_LIMIT",
    "MAX_LINES",
    "MAX_QUANTITY",
    "PAYMENT_TRANSITIONS",
    "TIMESTAMP_FIELDS",
    "TRANSITIONS",
    "UNPAID",
    "allowed_transitions",
    "documents_sync",
    "idempotency_keys_purge",
    "order_checkout",
    "order_expire",
    "order_payment_status_set",
    "orders_bulk_transition",
    "orders_expire_due",
    "order_transition",
    "outbox_drain",
    "outbox_publish",
    "publish_after_commit",
    "record_order_change",
    "request_fingerprint",
]
