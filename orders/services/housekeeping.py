"""Housekeeping of orders: expiry of unpaid pending orders, purge of old idempotency keys."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.models import IdempotencyKey, Order
from orders.selectors import orders_due_for_expiry
from orders.services._common import lock_order
from orders.services.payments import UNPAID
from orders.services.transitions import order_transition

S = Order.Status


@transaction.atomic
def order_expire(*, order_id: int, now=None) -> bool:
    """Cancels one unpaid pending order whose time is up, releasing its stock.

    Checked again under the row lock (it may have been paid meanwhile); returns whether it
    expired.
    """
    now = now or timezone.now()
    order = lock_order(order_id)
    if not (
        order.status == S.PENDING
        and order.payment_status in UNPAID
        and order.expires_at is not None
        and order.expires_at <= now
    ):
        return False
    order_transition(
        order_id=order.id, status=S.CANCELLED, reason="expired", note="Unpaid order expired"
    )
    return True


def orders_expire_due(*, now=None, limit: int = 1000) -> int:
    """Expires up to `limit` due orders of the current tenant, each in its own transaction."""
    now = now or timezone.now()
    expired = 0
    for order_id in orders_due_for_expiry(now=now, limit=limit):
        try:
            expired += order_expire(order_id=order_id, now=now)
        except IntegrityError:  # pragma: no cover - left for the next run
            continue
    return expired


@transaction.atomic
def idempotency_keys_purge(*, older_than_hours: int | None = None) -> int:
    hours = older_than_hours or settings.ORDERS_IDEMPOTENCY_KEY_HOURS
    cutoff = timezone.now() - timedelta(hours=hours)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
