from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog.selectors import register_sales_source
        from orders import documents
        from orders.selectors import product_sales
        from tenants import hooks

        # The catalog's best sellers are the orders' sales (refunds and cancellations excluded).
        register_sales_source(product_sales)
        # The order documents in MongoDB follow their workspace.
        hooks.on_workspace_created(documents.workspace_provision)
        hooks.on_workspace_purged(documents.workspace_drop)
        hooks.on_workspace_export(documents.workspace_export)
