"""Periodic work of the billing app (created by `manage.py setup_schedules`)."""

from tenants.schedules import Periodic, register

register(
    Periodic(
        "Stripe webhook events: retry stuck ones",
        "billing.webhook_retry_stuck",
        900,
        per_tenant=True,
    )
)
register(
    Periodic(
        "Unpaid subscription invoices: retries and the dunning policy",
        "billing.dunning_run",
        3600,
        per_tenant=True,
    )
)
