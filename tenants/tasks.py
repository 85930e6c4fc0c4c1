"""Background tasks of the tenants app."""

from celery import shared_task
from django.db import connection


@shared_task(name="tenants.health")
def health(payload: str = "ping") -> dict:
    """Proves a worker is alive and runs in the schema of the tenant that sent the task."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        db_schema = cursor.fetchone()[0]
    return {"payload": payload, "schema": connection.schema_name, "db_schema": db_schema}


@shared_task(name="tenants.purge_due", acks_late=True)
def purge_due() -> list[str]:
    """Drops tenants whose deletion grace period has passed (idempotent; runs from beat)."""
    from tenants.services import tenants_purge_due

    return tenants_purge_due()
