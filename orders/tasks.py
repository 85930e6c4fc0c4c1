"""Background tasks of orders. Each runs in the schema of the tenant that sent it (beat sends
them into every tenant through tenants.fan_out)."""

from celery import shared_task


@shared_task(name="orders.expire_unpaid", acks_late=True)
def expire_unpaid() -> int:
    """Cancels this tenant's unpaid pending orders past expires_at and releases their stock.

    Idempotent: each order is re-checked under its row lock, so a redelivered message or two
    overlapping runs never cancel an order twice.
    """
    from orders.services import orders_expire_due

    return orders_expire_due()


@shared_task(name="orders.purge_idempotency_keys", acks_late=True)
def purge_idempotency_keys() -> int:
    """Forgets checkout idempotency keys older than ORDERS_IDEMPOTENCY_KEY_HOURS."""
    from orders.services import idempotency_keys_purge

    return idempotency_keys_purge()


@shared_task(name="orders.publish_documents", acks_late=True)
def publish_documents() -> int:
    """The relay's sweep: publishes this tenant's outbox rows left after their commit (MongoDB
    was down, a process died) to the order documents. Rows of a failed run stay for the next."""
    import logging

    from core import mongo
    from orders.services import outbox_drain

    try:
        return outbox_drain(max_batches=20)
    except mongo.MongoError as exc:
        mongo.mark_failed()
        logging.getLogger(__name__).warning("order outbox kept: %s", type(exc).__name__)
        return 0
