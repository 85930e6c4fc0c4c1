from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orders import documents
        from tenants import hooks

        hooks.on_workspace_created(documents.workspace_provision)
        hooks.on_workspace_purged(documents.workspace_drop)
        hooks.on_workspace_export(documents.workspace_export)
