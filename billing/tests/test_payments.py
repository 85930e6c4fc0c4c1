"""Order payments: PaymentIntents from the server's total, confirm/cancel, refunds, webhooks."""

from decimal import Decimal
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.test import Client

from billing import services
from billing.models import Payment, Refund, WebhookEvent
from billing.tasks import webhook_process
from billing.tests.factories import PaymentFactory
from orders.models import Order
from orders.tests.factories import OrderFactory, line


@pytest.fixture
def buyer(make_user, tenant_a):
    return make_user(email="buyer@alpha.test", tenant=tenant_a)


@pytest.fixture
def buyer_api(auth_client, buyer, tenant_a):
    return auth_client(buyer, tenant_a)


@pytest.fixture
def order(in_a, buyer):
    return OrderFactory(customer=buyer, items=[line(1, "Mug", 3, "12.50")], total=Decimal("41.99"))


def pay_url(order) -> str:
    return f"/api/v1/billing/orders/{order.pk}/payment/"


def _history_payments(order, status):
    order.refresh_from_db()
    return [h for h in order.history if h.get("payment") == status]


def test_a_payment_intent_uses_the_server_total_and_a_key_from_the_order(
    stripe_api, buyer_api, order, buyer
):
    response = buyer_api.post(pay_url(order), {"amount": 1, "currency": "eur"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["client_secret"].startswith(body["stripe_id"] + "_secret_")
    assert (body["amount"], body["currency"], body["status"]) == (
        "41.99",
        "usd",
        "requires_payment_method",
    )
    [create] = stripe_api.calls("POST", "/v1/payment_intents")
    assert create.params["amount"] == "4199"  # never the client's amount
    assert create.params["currency"] == "usd"
    assert create.params["metadata"] == {
        "tenant": "alpha",
        "order_id": str(order.pk),
        "order_number": order.number,
    }
    assert create.idempotency_key == f"alpha:order:{order.pk}:payment:1:4199usd"
    [customer] = stripe_api.calls("POST", "/v1/customers")
    assert customer.params["metadata"]["user_id"] == str(buyer.pk)

    again = buyer_api.post(pay_url(order), {}, format="json")
    assert again.json()["stripe_id"] == body["stripe_id"]
    assert len(stripe_api.calls("POST", "/v1/payment_intents")) == 1
    assert Payment.objects.count() == 1


def test_a_repeated_create_after_a_lost_response_gets_the_same_intent(stripe_api, order, buyer):
    payment, _ = services.payment_for_order(order=order)
    Payment.objects.filter(pk=payment.pk).delete()  # as if our insert never committed
    again, _ = services.payment_for_order(order=order)
    assert again.stripe_id == payment.stripe_id
    assert (
        len({o["id"] for o in stripe_api.objects.values() if o["object"] == "payment_intent"}) == 1
    )


def test_a_changed_total_replaces_the_open_intent(stripe_api, order, buyer):
    first, _ = services.payment_for_order(order=order)
    Order.objects.filter(pk=order.pk).update(total=Decimal("50.00"))
    order.refresh_from_db()
    second, _ = services.payment_for_order(order=order)
    first.refresh_from_db()
    assert first.status == "canceled"
    assert (second.amount, second.idempotency_key) == (
        5000,
        f"alpha:order:{order.pk}:payment:2:5000usd",
    )


def test_confirming_pays_the_order_once(stripe_api, buyer_api, order):
    payment_id = buyer_api.post(pay_url(order), {}, format="json").json()["id"]
    response = buyer_api.post(
        f"/api/v1/billing/payments/{payment_id}/confirm/",
        {"payment_method": "pm_card_visa"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "succeeded"
    order.refresh_from_db()
    assert order.payment_status == "paid"
    assert order.payment_reference == response.json()["stripe_id"]
    assert len(_history_payments(order, "paid")) == 1


def test_payment_intent_succeeded_marks_the_order_paid_exactly_once(
    stripe_api, client_a, deliver, order, buyer, eager_tasks, django_capture_on_commit_callbacks
):
    payment, _ = services.payment_for_order(order=order)
    stripe_api.payment_intent_confirm({"payment_method": "pm_card_visa"}, payment.stripe_id)
    succeeded = stripe_api.event("payment_intent.succeeded", payment.stripe_id)
    other = stripe_api.event("payment_intent.succeeded", payment.stripe_id)  # Stripe may resend
    with django_capture_on_commit_callbacks(execute=True):
        for event in (succeeded, succeeded, other, succeeded):
            assert deliver(client_a, event).status_code == 200

    order.refresh_from_db()
    assert order.payment_status == "paid"
    assert len(_history_payments(order, "paid")) == 1
    assert WebhookEvent.objects.count() == 2
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_a_declined_card_fails_the_order_payment(stripe_api, buyer_api, order):
    payment_id = buyer_api.post(pay_url(order), {}, format="json").json()["id"]
    response = buyer_api.post(
        f"/api/v1/billing/payments/{payment_id}/confirm/",
        {"payment_method": "pm_card_chargeDeclined"},
        format="json",
    )
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "payment_declined"
    order.refresh_from_db()
    assert order.payment_status == "failed"
    assert order.status == "pending"  # the customer may try another card
    payment = Payment.objects.get()
    assert (payment.last_error, payment.amount_received) == ("Your card was declined.", 0)
    assert not Refund.objects.exists()


def test_cancel_then_a_new_attempt(stripe_api, buyer_api, order):
    payment_id = buyer_api.post(pay_url(order), {}, format="json").json()["id"]
    cancel = buyer_api.post(f"/api/v1/billing/payments/{payment_id}/cancel/", {}, format="json")
    assert cancel.json()["status"] == "canceled"
    again = buyer_api.post(f"/api/v1/billing/payments/{payment_id}/cancel/", {}, format="json")
    assert again.status_code == 409
    assert len(stripe_api.calls("POST", r"/v1/payment_intents/\w+/cancel")) == 1
    assert Payment.objects.get().status == "canceled"
    second = buyer_api.post(pay_url(order), {}, format="json")
    assert second.json()["id"] != payment_id
    assert stripe_api.calls("POST", "/v1/payment_intents")[-1].idempotency_key.endswith(
        ":2:4199usd"
    )


@pytest.fixture
def paid(stripe_api, order, buyer):
    payment, _ = services.payment_for_order(order=order)
    return services.payment_confirm(payment=payment, payment_method="pm_card_visa")


@pytest.fixture
def admin_api(auth_client, make_user, tenant_a):
    return auth_client(make_user(email="admin@alpha.test", tenant=tenant_a, role="admin"), tenant_a)


def test_partial_then_full_refund(stripe_api, admin_api, paid, order):
    url = f"/api/v1/billing/payments/{paid.pk}/refund/"
    response = admin_api.post(
        url, {"amount": "10.00", "reason": "requested_by_customer"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "10.00"
    [first] = stripe_api.calls("POST", "/v1/refunds")
    assert (first.params["amount"], first.params["payment_intent"]) == ("1000", paid.stripe_id)
    assert first.idempotency_key == f"alpha:refund:{paid.stripe_id}:1:1000"
    order.refresh_from_db()
    assert order.payment_status == "paid"  # orders has no "partially refunded" state
    paid.refresh_from_db()
    assert (paid.amount_refunded, paid.refundable) == (1000, 3199)

    too_much = admin_api.post(url, {"amount": "40.00"}, format="json")
    assert too_much.status_code == 400
    assert "amount" in too_much.json()["error"]["fields"]
    assert Refund.objects.count() == 1
    assert len(stripe_api.calls("POST", "/v1/refunds")) == 1
    paid.refresh_from_db()
    assert paid.amount_refunded == 1000

    rest = admin_api.post(url, {}, format="json")
    assert rest.json()["amount"] == "31.99"
    order.refresh_from_db()
    assert order.payment_status == "refunded"
    paid.refresh_from_db()
    assert (paid.amount_refunded, paid.refundable) == (4199, 0)
    nothing = admin_api.post(url, {}, format="json")
    assert nothing.status_code == 409
    assert Refund.objects.count() == 2
    assert len(stripe_api.calls("POST", "/v1/refunds")) == 2


@pytest.mark.parametrize("body", [{"amount": "-1"}, {"amount": "abc"}, {"reason": "bored"}])
def test_bad_refund_input_writes_nothing(stripe_api, admin_api, paid, order, body):
    response = admin_api.post(f"/api/v1/billing/payments/{paid.pk}/refund/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert stripe_api.calls("POST", "/v1/refunds") == []
    assert not Refund.objects.exists()
    paid.refresh_from_db()
    assert paid.amount_refunded == 0
    order.refresh_from_db()
    assert order.payment_status == "paid"


def test_a_customer_cannot_refund_or_touch_others_orders(
    stripe_api, buyer_api, paid, in_a, make_user, auth_client, tenant_a
):
    refused = buyer_api.post(f"/api/v1/billing/payments/{paid.pk}/refund/", {}, format="json")
    assert refused.status_code == 403
    assert stripe_api.calls("POST", "/v1/refunds") == []
    assert not Refund.objects.exists()
    other = auth_client(make_user(email="o@alpha.test", tenant=tenant_a), tenant_a)
    foreign = OrderFactory(customer=make_user(email="x@alpha.test"))
    assert other.post(pay_url(foreign), {}, format="json").status_code == 404
    for verb in ("confirm", "cancel"):
        url = f"/api/v1/billing/payments/{paid.pk}/{verb}/"
        assert other.post(url, {"payment_method": "pm_card_visa"}, format="json").status_code == 404
    assert len(stripe_api.calls("POST", "/v1/payment_intents")) == 1
    assert not Payment.objects.filter(order=foreign).exists()
    paid.refresh_from_db()
    assert paid.status == "succeeded"
    assert other.get(f"/api/v1/billing/payments/{paid.pk}/").status_code == 404
    assert other.get("/api/v1/billing/payments/").json()["results"] == []
    assert buyer_api.get("/api/v1/billing/payments/").json()["results"][0]["id"] == paid.pk


def test_readers_see_every_payment_but_act_on_it_only_with_the_permission(
    stripe_api, paid, order, buyer, admin_api, auth_client, make_user, tenant_a
):
    manager = auth_client(
        make_user(email="m@alpha.test", tenant=tenant_a, role="manager"), tenant_a
    )  # billing.payment:read only
    listed = manager.get("/api/v1/billing/payments/").json()["results"]
    assert [p["id"] for p in listed] == [paid.pk]
    assert manager.get(f"/api/v1/billing/payments/{paid.pk}/").status_code == 200
    for verb, body in [
        ("confirm", {"payment_method": "pm_card_visa"}),
        ("cancel", {}),
        ("refund", {}),
    ]:
        response = manager.post(f"/api/v1/billing/payments/{paid.pk}/{verb}/", body, format="json")
        assert response.status_code == 403, verb
        assert response.json()["error"]["code"] == "permission_denied"
    second = OrderFactory(customer=buyer, total=Decimal("5.00"))
    assert manager.post(pay_url(second), {}, format="json").status_code == 404
    assert len(stripe_api.calls("POST", r"/v1/payment_intents/\w+/confirm")) == 1
    assert stripe_api.calls("POST", r"/v1/payment_intents/\w+/cancel") == []
    assert stripe_api.calls("POST", "/v1/refunds") == []
    assert not Payment.objects.filter(order=second).exists()
    paid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == ("succeeded", 0)

    # billing.payment:create lets staff start the payment of someone else's order.
    assert admin_api.post(pay_url(second), {}, format="json").status_code == 201
    assert Payment.objects.get(order=second).customer.user == buyer


def test_payments_list_query_count_is_constant(stripe_api, admin_api, in_a, buyer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def pay_orders(n):
        for _ in range(n):
            order = OrderFactory(customer=buyer)
            payment, _ = services.payment_for_order(order=order)
            services.refund_create(
                payment=services.payment_confirm(payment=payment, payment_method="pm_card_visa"),
                amount=100,
            )

    pay_orders(2)
    admin_api.get("/api/v1/billing/payments/")  # the caller's permissions get cached
    with CaptureQueriesContext(connection) as few:
        assert len(admin_api.get("/api/v1/billing/payments/").json()["results"]) == 2
    pay_orders(6)
    with CaptureQueriesContext(connection) as many:
        response = admin_api.get("/api/v1/billing/payments/")
    assert len(response.json()["results"]) == 8
    assert response.json()["results"][0]["refunds"][0]["amount"] == "1.00"
    assert len(many.captured_queries) == len(few.captured_queries)


def test_tenant_isolation(stripe_api, paid, auth_client, make_user, tenant_b, buyer_api):
    b_admin = make_user(email="admin@beta.test", tenant=tenant_b, role="admin")
    b = auth_client(b_admin, tenant_b)
    assert b.get("/api/v1/billing/payments/").json()["results"] == []
    assert b.get(f"/api/v1/billing/payments/{paid.pk}/").status_code == 404
    from rest_framework.test import APIClient

    token = buyer_api._credentials["HTTP_AUTHORIZATION"]
    assert (
        APIClient(HTTP_HOST="beta.localhost", HTTP_AUTHORIZATION=token)
        .get("/api/v1/billing/payments/")
        .status_code
        == 401
    )


def test_a_payment_event_before_the_payment_row_is_retried_then_applied(stripe_api, order, buyer):
    customer = services.customer_for_user(user=buyer)
    intent = stripe_api.payment_intent_create(
        {
            "amount": "4199",
            "currency": "usd",
            "customer": customer.stripe_id,
            "metadata": {"tenant": "alpha", "order_id": str(order.pk)},
        }
    )
    stripe_api.payment_intent_confirm({"payment_method": "pm_card_visa"}, intent["id"])
    stored, _ = services.webhook_event_record(
        event=stripe_api.event("payment_intent.succeeded", intent["id"])
    )
    with mock.patch.object(webhook_process, "retry", side_effect=Retry()):
        assert webhook_process.apply(args=[stored.pk]).state == "RETRY"
    order.refresh_from_db()
    assert order.payment_status == "pending"

    PaymentFactory(  # the request that created the intent commits
        order=order, customer=customer, stripe_id=intent["id"], amount=4199
    )
    assert webhook_process.apply(args=[stored.pk]).get() == "processed"
    order.refresh_from_db()
    assert order.payment_status == "paid"


def test_a_refund_made_on_the_dashboard_arrives_by_webhook(stripe_api, paid, order):
    refund = stripe_api.refund_create({"payment_intent": paid.stripe_id})
    stored, _ = services.webhook_event_record(
        event=stripe_api.event("refund.created", refund["id"])
    )
    assert services.webhook_event_process(event_pk=stored.pk).status == "processed"
    order.refresh_from_db()
    assert order.payment_status == "refunded"
    assert Refund.objects.get().created_by is None


def test_refunds_from_the_admin(stripe_api, paid, order, make_user, tenant_a, admin_login):
    root = make_user(email="root@alpha.test", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="alpha.localhost")
    admin_login(client, root)
    assert client.get("/admin/billing/payment/").status_code == 200
    assert client.get(f"/admin/billing/payment/{paid.pk}/change/").status_code == 200
    response = client.post(
        "/admin/billing/refund/add/", {"payment": paid.pk, "amount": "1.99", "reason": ""}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Refund.objects.get().amount == 199
    response = client.post(
        "/admin/billing/payment/", {"action": "refund_in_full", "_selected_action": [paid.pk]}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.payment_status == "refunded"
    assert client.get("/admin/billing/refund/").status_code == 200


def test_money_for_a_cancelled_order_is_refunded(stripe_api, order, buyer):
    payment, _ = services.payment_for_order(order=order)
    Order.objects.filter(pk=order.pk).update(status="cancelled")  # expired while paying
    stripe_api.payment_intent_confirm({"payment_method": "pm_card_visa"}, payment.stripe_id)
    stored, _ = services.webhook_event_record(
        event=stripe_api.event("payment_intent.succeeded", payment.stripe_id)
    )
    assert services.webhook_event_process(event_pk=stored.pk).status == "processed"

    [refund] = stripe_api.calls("POST", "/v1/refunds")
    assert (refund.params["amount"], refund.params["reason"]) == ("4199", "requested_by_customer")
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("cancelled", "refunded")
    services.webhook_event_replay(event_pk=stored.pk)  # processed: nothing happens again
    assert len(stripe_api.calls("POST", "/v1/refunds")) == 1
