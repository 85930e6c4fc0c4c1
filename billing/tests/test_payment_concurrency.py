"""The same payment_intent.succeeded delivered 10 times at once pays the order exactly once."""

import json
import threading
from decimal import Decimal

from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from billing import services
from billing.models import Customer, Payment, WebhookEvent
from billing.tests.conftest import WEBHOOK_SECRET, WEBHOOK_URL
from config.standins.stripe import sign_payload
from orders.models import Order
from orders.tests.factories import OrderFactory


def test_ten_concurrent_deliveries_pay_the_order_exactly_once(
    stripe_api, django_db_setup, django_db_blocker, eager_tasks
):
    from accounts.models import User

    with django_db_blocker.unblock():
        buyer = User.objects.create_user(email="concurrent-buyer@alpha.test", password=None)
        try:
            with schema_context("alpha"):
                order = OrderFactory(customer=buyer, total=Decimal("25.00"))
                payment, _ = services.payment_for_order(order=order)
            stripe_api.payment_intent_confirm({"payment_method": "pm_card_visa"}, payment.stripe_id)
            payload = json.dumps(stripe_api.event("payment_intent.succeeded", payment.stripe_id))
            header = sign_payload(payload, WEBHOOK_SECRET)
            barrier = threading.Barrier(10)
            answers, errors = [], []

            def deliver_once():
                try:
                    client = Client(HTTP_HOST="alpha.localhost")
                    barrier.wait(timeout=10)
                    response = client.post(
                        WEBHOOK_URL,
                        payload,
                        content_type="application/json",
                        HTTP_STRIPE_SIGNATURE=header,
                    )
                    answers.append((response.status_code, response.json()["duplicate"]))
                except Exception as exc:  # reported below
                    errors.append(exc)
                finally:
                    connection.close()

            threads = [threading.Thread(target=deliver_once) for _ in range(10)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)

            assert errors == []
            assert sorted(answers) == [(200, False)] + [(200, True)] * 9
            with schema_context("alpha"):
                order.refresh_from_db()
                assert order.payment_status == Order.PaymentStatus.PAID
                assert [h.get("payment") for h in order.history].count("paid") == 1
                assert WebhookEvent.objects.get().attempts == 1
                assert Payment.objects.get().status == "succeeded"
            assert len(stripe_api.calls("GET", f"/v1/payment_intents/{payment.stripe_id}")) == 1
        finally:
            with schema_context("alpha"):
                WebhookEvent.objects.all().delete()
                Payment.objects.all().delete()
                Customer.objects.all().delete()
                Order.objects.all().delete()
            users = User.objects.filter(pk=buyer.pk)
            users._raw_delete(users.db)
