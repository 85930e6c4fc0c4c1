"""Periodic work of orders (created by `manage.py setup_schedules`)."""

from tenants.schedules import Periodic, register

register(
    Periodic(
        "Expire unpaid pending orders", "orders.expire_unpaid", every_seconds=300, per_tenant=True
    )
)
register(
    Periodic(
        "Purge old checkout idempotency keys",
        "orders.purge_idempotency_keys",
        every_seconds=3600,
        per_tenant=True,
        queue="low",
    )
)
register(
    Periodic(
        "Publish order changes left in the outbox to MongoDB",
        "orders.publish_documents",
        every_seconds=15,
        per_tenant=True,
    )
)
