from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from catalog.selectors import register_sales_source
        from orders.selectors import product_sales

        # The catalog's best sellers are the orders' sales (refunds and cancellations excluded).
        register_sales_source(product_sales)
