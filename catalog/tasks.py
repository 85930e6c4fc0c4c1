"""Background tasks of the catalog. Each runs in the schema of the tenant that sent it (beat sends
them into every tenant through tenants.fan_out, see catalog/schedules.py)."""

from celery import shared_task

from catalog import services


@shared_task(name="catalog.flush_product_views", acks_late=True)
def flush_product_views() -> int:
    """Writes this tenant's product views counted in Redis to the products, in one UPDATE."""
    return services.product_views_flush()
