from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications.registry import register_template

        register_template(
            "billing_payment_failed",
            category="billing",
            in_app=True,
            example={
                "name": "Ann",
                "workspace": "Acme",
                "amount": "29.00",
                "currency": "USD",
                "invoice_number": "INV-0001",
                "attempt": 1,
                "next_retry": "2026-12-03",
                "grace_ends": "2026-12-09",
                "consequence": "moved to the free plan",
                "pay_url": "https://invoice.stripe.com/i/acct_x/test_x",
            },
        )
