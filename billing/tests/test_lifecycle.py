"""The billing lifecycle driven through stripe-python against the stand-in, with the events the
stand-in emits (in the pinned API version's shapes) fed to the ledger: charge.refunded, disputes,
payment methods, subscriptions and invoices, each delivered twice and out of order."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from billing import services
from billing.models import (
    Customer,
    Dispute,
    Invoice,
    Payment,
    PaymentMethod,
    Refund,
    Subscription,
    WebhookEvent,
)
from notifications.models import Message
from orders.models import Order
from orders.tests.factories import OrderFactory, line
from tenants.models import Tenant

SETUP_URL = "/api/v1/billing/payment-methods/setup/"
METHODS_URL = "/api/v1/billing/payment-methods/"
INVOICES_URL = "/api/v1/billing/invoices/"
SUBSCRIPTION_URL = "/api/v1/billing/subscription/"


def feed(events: list[dict]) -> list[str]:
    """Records and processes events in the given order, as the worker would; a duplicate is
    acknowledged by the ledger and not processed again. Returns each event's final status."""
    statuses = []
    for event in events:
        stored, created = services.webhook_event_record(event=event)
        if created:
            stored = services.webhook_event_process(event_pk=stored.pk)
        statuses.append(WebhookEvent.objects.get(event_id=event["id"]).status)
    return statuses


def twice_reversed(events: list[dict]) -> list[dict]:
    """The worst delivery: newest first, every event twice."""
    return [e for event in reversed(events) for e in (event, event)]


@pytest.fixture
def buyer(make_user, tenant_a):
    return make_user(email="buyer@alpha.test", tenant=tenant_a)


@pytest.fixture
def paid(stripe_api, in_a, buyer):
    order = OrderFactory(customer=buyer, items=[line(1, "Mug", 3, "12.50")], total=Decimal("40"))
    payment, _ = services.payment_for_order(order=order)
    return services.payment_confirm(payment=payment, payment_method="pm_card_visa")


# --- charge.refunded -------------------------------------------------------------------------
def test_charge_refunded_mirrors_every_refund_in_any_order(stripe_api, paid):
    stripe_api.refund_create({"payment_intent": paid.stripe_id, "amount": "1000"})
    stripe_api.refund_create({"payment_intent": paid.stripe_id})  # the rest, from the dashboard
    events = stripe_api.events_of("charge.refunded")
    assert len(events) == 2
    assert events[0]["data"]["previous_attributes"] == {"amount_refunded": 0, "refunded": False}

    assert feed(twice_reversed(events)) == ["processed"] * 4
    assert sorted(Refund.objects.values_list("amount", flat=True)) == [1000, 3000]
    paid.refresh_from_db()
    assert paid.amount_refunded == 4000
    order = Order.objects.get(pk=paid.order_id)
    assert order.payment_status == "refunded"
    assert len([h for h in order.history if h.get("payment") == "refunded"]) == 1


def test_charge_refunded_before_the_payment_is_known_waits(stripe_api, paid):
    stripe_api.refund_create({"payment_intent": paid.stripe_id})
    [event] = stripe_api.events_of("charge.refunded")
    Payment.objects.filter(pk=paid.pk).update(stripe_id="pi_elsewhere")
    assert feed([event]) == ["failed"]
    assert WebhookEvent.objects.get(event_id=event["id"]).last_error.startswith("Not ready")
    assert not Refund.objects.exists()
    Payment.objects.filter(pk=paid.pk).update(
        stripe_id=stripe_api.events[0]["data"]["object"]["id"]
    )


# --- disputes --------------------------------------------------------------------------------
def test_a_dispute_is_mirrored_whatever_the_order_of_its_events(stripe_api, paid):
    dispute = stripe_api.dispute_create(paid.stripe_id)
    stripe_api.dispute_close(dispute["id"], status="lost")
    events = stripe_api.events_of("charge.dispute.created") + stripe_api.events_of(
        "charge.dispute.closed"
    )
    assert feed(twice_reversed(events)) == ["processed"] * 4
    stored = Dispute.objects.get()
    assert (stored.stripe_id, stored.status, stored.amount, stored.reason) == (
        dispute["id"],
        "lost",
        4000,
        "fraudulent",
    )
    assert stored.payment == paid and stored.evidence_due_by is not None


def test_a_dispute_for_an_unknown_payment_waits(stripe_api, paid):
    dispute = stripe_api.dispute_create(paid.stripe_id)
    Payment.objects.filter(pk=paid.pk).update(stripe_id="pi_elsewhere")
    assert feed(stripe_api.events_of("charge.dispute.created")) == ["failed"]
    assert not Dispute.objects.exists()
    assert dispute["status"] == "needs_response"


def test_dispute_events_reach_the_workspace_through_the_public_endpoint(
    stripe_api, paid, public_client, deliver
):
    """A dispute carries no metadata: the platform endpoint finds the workspace through the
    payment it is about."""
    stripe_api.dispute_create(paid.stripe_id)
    [event] = stripe_api.events_of("charge.dispute.created")
    assert deliver(public_client, event).json() == {
        "received": True,
        "stored": True,
        "duplicate": False,
    }
    assert deliver(public_client, event).json()["duplicate"] is True
    with schema_context("alpha"):
        assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1


# --- payment methods -------------------------------------------------------------------------
def test_adding_a_card_makes_it_the_default(stripe_api, api, in_a):
    response = api.post(SETUP_URL, {}, format="json")
    assert response.status_code == 201
    intent = response.json()
    assert intent["status"] == "requires_payment_method"
    assert intent["client_secret"].startswith(intent["id"] + "_secret_")
    [create] = stripe_api.calls("POST", "/v1/setup_intents")
    assert create.params["usage"] == "off_session"
    assert create.params["metadata"] == {"tenant": "alpha", "purpose": "default_payment_method"}
    assert create.version == django_settings.STRIPE_API_VERSION

    # The browser confirms with Stripe.js; the platform learns it from the webhooks.
    stripe_api.setup_intent_confirm({"payment_method": "pm_card_mastercard"}, intent["id"])
    events = [
        e
        for e in stripe_api.events
        if e["type"].split(".")[0] in ("setup_intent", "payment_method", "customer")
    ]
    outcome = dict(zip([e["type"] for e in events], feed(events), strict=True))
    assert outcome == {
        "customer.created": "ignored",
        "setup_intent.created": "ignored",
        "payment_method.attached": "processed",
        "setup_intent.succeeded": "processed",
    }
    method = PaymentMethod.objects.get()
    assert (method.brand, method.last4, method.is_default) == ("mastercard", "4444", True)
    customer = stripe_api.objects[Customer.objects.get().stripe_id]
    assert customer["invoice_settings"]["default_payment_method"] == method.stripe_id

    listed = api.get(METHODS_URL).json()["results"]
    assert [(m["stripe_id"], m["is_default"]) for m in listed] == [(method.stripe_id, True)]


def test_payment_method_events_converge_in_any_order(stripe_api, api, in_a, card):
    customer = Customer.objects.get(kind="tenant")
    second = stripe_api.card_on_file(customer.stripe_id, "pm_card_mastercard")
    stripe_api.payment_method_detach({}, card)
    events = stripe_api.events_of("payment_method.attached") + stripe_api.events_of(
        "payment_method.detached"
    )
    assert events[-1]["data"]["previous_attributes"] == {"customer": customer.stripe_id}
    PaymentMethod.objects.filter(stripe_id=second["id"]).delete()  # not mirrored yet

    assert set(feed(twice_reversed(events))) == {"processed"}
    by_id = {m.stripe_id: m for m in PaymentMethod.objects.all()}
    assert by_id[card].detached_at is not None and not by_id[card].is_default
    assert by_id[second["id"]].detached_at is None
    feed(stripe_api.events_of("customer.updated"))
    by_id[second["id"]].refresh_from_db()
    assert by_id[second["id"]].is_default
    assert [m["stripe_id"] for m in api.get(METHODS_URL).json()["results"]] == [second["id"]]


def test_a_declined_card_is_refused_and_nothing_is_stored(stripe_api, api, in_a):
    response = api.post(SETUP_URL, {"payment_method": "pm_card_chargeDeclined"}, format="json")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "payment_declined"
    assert not PaymentMethod.objects.exists()


def test_default_and_detach_over_the_api(stripe_api, api, in_a, card):
    second = api.post(SETUP_URL, {"payment_method": "pm_card_mastercard"}, format="json").json()
    assert PaymentMethod.objects.get(stripe_id=second["payment_method"]).is_default
    response = api.post(f"{METHODS_URL}{card}/default/", format="json")
    assert response.status_code == 200 and response.json()["is_default"] is True
    assert not PaymentMethod.objects.get(stripe_id=second["payment_method"]).is_default

    assert api.delete(f"{METHODS_URL}{card}/").status_code == 204
    assert PaymentMethod.objects.get(stripe_id=card).detached_at is not None
    assert stripe_api.objects[card]["customer"] is None
    assert api.delete(f"{METHODS_URL}{card}/").status_code == 404
    assert api.post(f"{METHODS_URL}pm_nope/default/").json()["error"]["code"] == "not_found"
    bad = api.post(SETUP_URL, {"payment_method": "4242 4242 4242 4242"}, format="json")
    assert bad.status_code == 400 and "payment_method" in bad.json()["error"]["fields"]


def test_cards_and_invoices_are_the_workspace_own(
    stripe_api, api, card, auth_client, make_user, tenant_b
):
    other = auth_client(make_user(email="owner@beta.test", tenant=tenant_b, role="owner"), tenant_b)
    assert other.get(METHODS_URL).json()["results"] == []
    assert other.get(INVOICES_URL).json()["results"] == []
    assert other.post(f"{METHODS_URL}{card}/default/").status_code == 404
    assert other.delete(f"{METHODS_URL}{card}/").status_code == 404
    assert stripe_api.objects[card]["customer"] is not None
    member = auth_client(
        make_user(email="m@alpha.test", tenant=Tenant.objects.get(slug="alpha")),
        Tenant.objects.get(slug="alpha"),
    )
    assert member.post(SETUP_URL, {}, format="json").status_code == 403


# --- subscriptions and invoices --------------------------------------------------------------
def test_a_paid_plan_without_a_trial_needs_a_card(stripe_api, api, in_a, tenant_a):
    response = api.post(SUBSCRIPTION_URL, {"plan": "pro"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payment_method_required"
    assert not Subscription.objects.exists()
    assert stripe_api.calls("POST", "/v1/subscriptions") == []
    tenant_a.refresh_from_db()
    assert tenant_a.plan == "free"


def test_subscription_and_invoice_events_converge_in_any_order(stripe_api, api, in_a, card):
    body = api.post(SUBSCRIPTION_URL, {"plan": "pro"}, format="json").json()
    sub_id = body["subscription"]["stripe_id"]
    assert body["subscription"]["status"] == "active"
    api.post(
        "/api/v1/billing/subscription/change/",
        {"plan": "enterprise", "proration_behavior": "always_invoice"},
        format="json",
    )
    stripe_api.renew(sub_id)
    types = ("customer.subscription.", "invoice.")
    events = [e for e in stripe_api.events if e["type"].startswith(types)]
    Invoice.objects.all().delete()

    assert set(feed(twice_reversed(events))) == {"processed"}
    sub = Subscription.objects.get(stripe_id=sub_id)
    assert (sub.plan, sub.status) == ("enterprise", "active")
    invoices = list(Invoice.objects.order_by("stripe_created", "id"))
    on_stripe = [o for o in stripe_api.objects.values() if o["object"] == "invoice"]
    assert len(invoices) == len(on_stripe) == 3
    assert {i.status for i in invoices} == {"paid"}
    reasons = sorted(i.billing_reason for i in invoices)
    assert reasons == ["subscription_create", "subscription_cycle", "subscription_update"]
    proration = next(i for i in invoices if i.billing_reason == "subscription_update")
    # The unused part of pro is credited and the rest of the month charged at enterprise.
    assert 0 < proration.amount_due <= 29900 - 2900

    response = api.get(INVOICES_URL, {"page_size": 2})
    assert response.status_code == 200
    page = response.json()
    assert len(page["results"]) == 2 and page["next"]
    assert page["results"][0]["status"] == "paid"
    assert Decimal(page["results"][-1]["amount_due"]) >= 0
    rest = api.get(page["next"]).json()["results"]
    assert len(rest) == 1


def test_the_invoice_list_does_not_grow_queries(stripe_api, api, in_a, card):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api.post(SUBSCRIPTION_URL, {"plan": "pro"}, format="json")
    sub_id = Subscription.objects.get().stripe_id

    def listed() -> tuple[int, int]:
        feed([e for e in stripe_api.events if e["type"].startswith("invoice.")])
        api.get(INVOICES_URL)  # warm: the host and token lookups are memoised after one request
        with CaptureQueriesContext(connection) as queries:
            count = len(api.get(INVOICES_URL).json()["results"])
        return count, len(queries)

    one, queries_for_one = listed()
    for _ in range(3):
        stripe_api.renew(sub_id)
    four, queries_for_four = listed()
    assert (one, four) == (1, 4)
    assert queries_for_four == queries_for_one


def test_a_trial_ends_with_a_charged_invoice(stripe_api, api, in_a, card, tenant_a):
    body = api.post(SUBSCRIPTION_URL, {"plan": "pro", "trial": True}, format="json").json()
    sub_id = body["subscription"]["stripe_id"]
    assert body["subscription"]["status"] == "trialing"
    invoice = stripe_api.renew(sub_id)
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", 2900)
    feed(
        [
            e
            for e in stripe_api.events
            if e["type"].startswith(("invoice.", "customer.subscription."))
        ]
    )
    assert Subscription.objects.get().status == "active"
    tenant_a.refresh_from_db()
    assert tenant_a.plan == "pro"


# --- dunning ---------------------------------------------------------------------------------
@pytest.fixture
def failing_subscription(stripe_api, api, in_a, card):
    """A pro subscription whose card is then replaced by one that declines, renewed once."""
    api.post(SUBSCRIPTION_URL, {"plan": "pro"}, format="json")
    bad = api.post(SETUP_URL, {"payment_method": "pm_card_chargeCustomerFail"}, format="json")
    assert bad.status_code == 201
    sub = Subscription.objects.get()
    invoice = stripe_api.renew(sub.stripe_id)
    assert invoice["status"] == "open"
    feed(
        [
            e
            for e in stripe_api.events
            if e["type"].startswith(("invoice.", "customer.subscription."))
        ]
    )
    return Invoice.objects.get(stripe_id=invoice["id"])


def _failure_emails():
    return list(Message.objects.filter(template="billing_payment_failed").order_by("id"))


def test_a_failed_renewal_emails_the_owner_once_per_attempt(
    failing_subscription, owner, tenant_a, stripe_api
):
    invoice = failing_subscription
    assert (invoice.status, invoice.attempt_count, invoice.retries) == ("open", 1, 0)
    assert invoice.next_retry_at == invoice.first_failed_at + timedelta(days=1)
    [email] = _failure_emails()
    assert email.to_email == owner.email
    assert email.context["attempt"] == 1 and email.context["amount"] == "29.00"
    assert email.context["pay_url"] == invoice.hosted_invoice_url
    sub = Subscription.objects.get()
    assert sub.status == "past_due"
    tenant_a.refresh_from_db()
    assert tenant_a.plan == "pro"  # within the grace period the plan stays
    # The same failure delivered again tells nobody twice.
    feed(stripe_api.events_of("invoice.payment_failed"))
    assert len(_failure_emails()) == 1


def test_retries_follow_the_schedule_then_the_workspace_is_downgraded(
    failing_subscription, stripe_api, tenant_a, settings, api
):
    settings.BILLING_DUNNING_ACTION = "downgrade"
    invoice = failing_subscription
    start = invoice.first_failed_at
    assert services.dunning_run(now=start + timedelta(hours=23)) == {"retried": 0, "applied": 0}
    assert services.dunning_run(now=start + timedelta(days=1, minutes=1))["retried"] == 1
    [pay] = stripe_api.calls("POST", f"/v1/invoices/{invoice.stripe_id}/pay")
    assert pay.idempotency_key == f"alpha:invoice:{invoice.stripe_id}:retry:1"
    invoice.refresh_from_db()
    assert (invoice.attempt_count, invoice.retries) == (2, 1)
    assert invoice.next_retry_at == start + timedelta(days=3)
    assert len(_failure_emails()) == 2

    result = services.dunning_run(now=start + timedelta(days=7, minutes=1))
    assert result == {"retried": 1, "applied": 1}  # the day-3 retry, then the policy
    tenant_a.refresh_from_db()
    assert tenant_a.plan == "free" and tenant_a.is_active
    assert Subscription.objects.get().dunning_action == "downgraded"
    assert api.get(SUBSCRIPTION_URL).json()["plan"] == "free"
    # Applied once.

    assert services.dunning_run(now=start + timedelta(days=8))["retried"] == 1  # day 5, the last
    invoice.refresh_from_db()
    assert (invoice.retries, invoice.next_retry_at, invoice.status) == (3, None, "open")
    assert services.dunning_run(now=start + timedelta(days=30)) == {"retried": 0, "applied": 0}

    # The owner adds a working card: it is tried at once and the plan comes back.
    api.post(SETUP_URL, {"payment_method": "pm_card_visa"}, format="json")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.next_retry_at) == ("paid", None)
    tenant_a.refresh_from_db()
    assert tenant_a.plan == "pro"
    assert Subscription.objects.get().dunning_action == ""


def test_the_suspend_policy_suspends_and_payment_restores(
    failing_subscription, stripe_api, tenant_a, settings, api
):
    settings.BILLING_DUNNING_ACTION = "suspend"
    invoice = failing_subscription
    services.dunning_run(now=invoice.first_failed_at + timedelta(days=7, minutes=1))
    tenant_a.refresh_from_db()
    assert not tenant_a.is_active
    assert tenant_a.suspension_reason == "Billing: subscription invoice unpaid"
    assert Subscription.objects.get().dunning_action == "suspended"

    # Paid on Stripe's hosted page: the invoice.paid webhook lifts the suspension.
    method = stripe_api.card_on_file(Customer.objects.get(kind="tenant").stripe_id)
    stripe_api.invoice_pay({"payment_method": method["id"]}, invoice.stripe_id)
    feed(stripe_api.events_of("invoice.paid"))
    tenant_a.refresh_from_db()
    assert tenant_a.is_active and tenant_a.suspension_reason == ""
    assert Subscription.objects.get().dunning_action == ""


def test_a_suspension_by_staff_is_not_lifted_by_a_payment(
    failing_subscription, stripe_api, tenant_a, settings
):
    from tenants.services import tenant_suspend

    settings.BILLING_DUNNING_ACTION = "suspend"
    invoice = failing_subscription
    services.dunning_run(now=invoice.first_failed_at + timedelta(days=7, minutes=1))
    tenant_a.refresh_from_db()
    tenant_suspend(tenant=tenant_a, reason="Terms of service")
    method = stripe_api.card_on_file(Customer.objects.get(kind="tenant").stripe_id)
    stripe_api.invoice_pay({"payment_method": method["id"]}, invoice.stripe_id)
    feed(stripe_api.events_of("invoice.paid"))
    tenant_a.refresh_from_db()
    assert not tenant_a.is_active and tenant_a.suspension_reason == "Terms of service"
    assert timezone.now() > invoice.first_failed_at


# --- the admin -------------------------------------------------------------------------------
def test_the_admin_shows_the_workspace_billing(
    failing_subscription, stripe_api, paid, make_user, admin_login
):
    from django.test import Client

    dispute = stripe_api.dispute_create(paid.stripe_id)
    feed(stripe_api.events_of("charge.dispute.created"))
    root = make_user(email="root@alpha.test", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="alpha.localhost")
    admin_login(client, root)
    sub = Subscription.objects.get()
    pages = {
        "/admin/billing/subscription/": sub.stripe_id,
        f"/admin/billing/subscription/{sub.pk}/change/": failing_subscription.stripe_id,
        "/admin/billing/invoice/": failing_subscription.stripe_id,
        f"/admin/billing/invoice/{failing_subscription.pk}/change/": "open",
        "/admin/billing/paymentmethod/": "0341",
        "/admin/billing/customer/": Customer.objects.get(kind="tenant").stripe_id,
        "/admin/billing/dispute/": dispute["id"],
        f"/admin/billing/payment/{paid.pk}/change/": dispute["id"],
        "/admin/": "Disputes needing a response",
    }
    for url, text in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
    # Mirrors of Stripe: nothing is added or edited by hand.
    assert client.get("/admin/billing/invoice/add/").status_code == 403
    assert client.get("/admin/billing/dispute/add/").status_code == 403


def test_the_public_endpoint_skips_events_whose_customer_is_not_the_platform(
    stripe_api, public_client, deliver, tenant_a
):
    foreign = stripe_api.customer_create({"metadata": {}})
    method = stripe_api.card_on_file(foreign["id"])
    [attached] = stripe_api.events_of("payment_method.attached", method["id"])
    assert deliver(public_client, attached).json() == {"received": True, "stored": False}
    gone = stripe_api.event("payment_method.attached", "pm_gone", customer="cus_gone")
    assert deliver(public_client, gone).json() == {"received": True, "stored": False}
    with schema_context("alpha"):
        assert not WebhookEvent.objects.exists()


def test_a_subscription_that_ends_is_mirrored_whatever_the_order(
    stripe_api, api, in_a, card, tenant_a
):
    body = api.post(SUBSCRIPTION_URL, {"plan": "pro"}, format="json").json()
    sub_id = body["subscription"]["stripe_id"]
    api.post("/api/v1/billing/subscription/cancel/", {}, format="json")  # at period end
    assert stripe_api.renew(sub_id) is None  # the period ends: no invoice, the end
    events = [e for e in stripe_api.events if e["type"].startswith("customer.subscription.")]
    assert [e["type"] for e in events][-1] == "customer.subscription.deleted"
    Subscription.objects.all().delete()
    Tenant.objects.filter(pk=tenant_a.pk).update(plan="pro")

    assert set(feed(twice_reversed(events))) == {"processed"}
    sub = Subscription.objects.get(stripe_id=sub_id)
    assert (sub.status, sub.cancel_at_period_end) == ("canceled", True)
    tenant_a.refresh_from_db()
    assert tenant_a.plan == "free"
    assert api.get(SUBSCRIPTION_URL).json()["plan"] == "free"


def test_the_card_list_does_not_grow_queries(stripe_api, api, in_a, card):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def listed() -> tuple[int, int]:
        api.get(METHODS_URL)  # warm: the host and token lookups are memoised after one request
        with CaptureQueriesContext(connection) as queries:
            count = len(api.get(METHODS_URL).json()["results"])
        return count, len(queries)

    one, queries_for_one = listed()
    for token in ("pm_card_mastercard", "pm_card_visa"):
        response = api.post(SETUP_URL, {"payment_method": token}, format="json")
        assert response.status_code == 201, response.content
    three, queries_for_three = listed()
    assert (one, three) == (1, 3)
    assert queries_for_three == queries_for_one
