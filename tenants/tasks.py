"""Background tasks of the tenants app."""

import os
import time

from celery import shared_task
from django.db import connection


@shared_task(name="tenants.health")
def health(payload: str = "ping") -> dict:
    """Proves a worker is alive and runs in the schema of the tenant that sent the task.

    HEALTH_TASK_SLEEP (seconds, for crash-recovery tests) makes it run that long.
    """
    delay = float(os.environ.get("HEALTH_TASK_SLEEP", "0"))
    if delay:
        time.sleep(delay)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        db_schema = cursor.fetchone()[0]
    return {"payload": payload, "schema": connection.schema_name, "db_schema": db_schema}


@shared_task(name="tenants.purge_due", acks_late=True)
def purge_due() -> list[str]:
    """Drops tenants whose deletion grace period has passed (idempotent; runs from beat)."""
    from tenants.services import tenants_purge_due

    return tenants_purge_due()


@shared_task(name="tenants.fan_out", acks_late=True)
def fan_out(task_name: str, *args, queue: str | None = None) -> int:
    """Sends `task_name` once per active tenant, each message carrying that tenant's schema.

    Periodic work scheduled from beat (which runs in the public schema) goes through this, so
    per-tenant tasks such as order expiry run in every tenant's schema.
    """
    from celery import current_app
    from django_tenants.utils import schema_context

    from tenants.selectors import tenants_for_operations

    sent = 0
    for tenant in tenants_for_operations().only("schema_name"):
        with schema_context(tenant.schema_name):
            current_app.send_task(task_name, args=list(args), queue=queue)
        sent += 1
    return sent
