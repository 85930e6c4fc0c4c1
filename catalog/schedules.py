"""Periodic work of the catalog, run in every tenant (rows made by `setup_schedules`)."""

from tenants.schedules import Periodic, register

# The lag of `Product.view_count` behind the views counted in Redis (catalog/services/view_counts).
register(
    Periodic(
        "Flush product view counts",
        "catalog.flush_product_views",
        every_seconds=60,
        per_tenant=True,
    )
)
