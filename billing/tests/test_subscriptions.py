"""The workspace's subscription: subscribe, trials, plan changes, cancel/resume, plan limits."""

import socket

import pytest
from django_tenants.utils import schema_context

from accounts.services import membership_set
from billing import selectors, services
from billing.models import Customer, Subscription
from tenants.errors import PlanLimitReached
from tenants.models import Membership, Tenant
from tenants.plans import members_limit_check, plan_limit

URL = "/api/v1/billing/subscription/"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _plan_of(tenant) -> str:
    return Tenant.objects.get(pk=tenant.pk).plan


def test_subscribing_creates_one_customer_and_a_trialing_subscription(
    stripe_api, api, tenant_a, settings
):
    settings.BILLING_TRIAL_DAYS = 14
    response = api.post(URL, {"plan": "pro", "trial": True}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["plan"] == "pro"
    assert body["subscription"]["status"] == "trialing"
    assert body["subscription"]["trial_end"] is not None
    assert body["limits"]["members"] == {"limit": 10, "used": 1}
    [customer_call] = stripe_api.calls("POST", "/v1/customers")
    assert customer_call.idempotency_key == "alpha:customer:tenant"
    assert customer_call.params["metadata"] == {"tenant": "alpha", "kind": "tenant"}
    [create] = stripe_api.calls("POST", "/v1/subscriptions")
    assert create.params["items"] == [{"price": stripe_api.prices["pro"]}]
    assert create.params["trial_period_days"] == "14"
    assert create.params["metadata"] == {"tenant": "alpha", "plan": "pro"}
    assert create.idempotency_key == "alpha:subscription:1:pro"
    assert _plan_of(tenant_a) == "pro"
    with schema_context("alpha"):
        assert Customer.objects.get().kind == "tenant"
        assert Subscription.objects.get().status == "trialing"

    again = api.post(URL, {"plan": "enterprise"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "subscription_exists"
    assert len(stripe_api.calls("POST", "/v1/customers")) == 1
    assert len(stripe_api.calls("POST", "/v1/subscriptions")) == 1
    with schema_context("alpha"):
        assert Subscription.objects.get().plan == "pro"
    assert _plan_of(tenant_a) == "pro"
    assert api.get(URL).json()["subscription"]["plan"] == "pro"


def test_customers_are_created_lazily_once_per_user(stripe_api, in_a, owner, make_user):
    other = make_user(email="other@alpha.test", tenant=in_a)
    first = services.customer_for_user(user=owner)
    assert services.customer_for_user(user=owner) == first
    services.customer_for_user(user=other)
    calls = stripe_api.calls("POST", "/v1/customers")
    assert [c.idempotency_key for c in calls] == [
        f"alpha:customer:user:{owner.pk}",
        f"alpha:customer:user:{other.pk}",
    ]
    assert calls[0].params["email"] == "owner@alpha.test"


def test_a_trial_is_only_for_a_first_subscription(stripe_api, card, api, in_a):
    api.post(URL, {"plan": "pro"}, format="json")
    api.post("/api/v1/billing/subscription/cancel/", {"at_period_end": False}, format="json")
    response = api.post(URL, {"plan": "pro", "trial": True}, format="json")
    assert response.status_code == 201
    assert response.json()["subscription"]["status"] == "active"
    assert "trial_period_days" not in stripe_api.calls("POST", "/v1/subscriptions")[-1].params


def test_changing_plan_prorates_on_the_same_item(stripe_api, card, api, tenant_a):
    api.post(URL, {"plan": "pro"}, format="json")
    response = api.post(
        "/api/v1/billing/subscription/change/",
        {"plan": "enterprise", "proration_behavior": "always_invoice"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["plan"] == "enterprise"
    assert response.json()["limits"]["members"]["limit"] is None
    update = stripe_api.calls("POST", r"/v1/subscriptions/sub_\w+")[-1]
    with schema_context("alpha"):
        sub = Subscription.objects.get()
    assert update.params["items"] == [
        {"id": sub.stripe_item_id, "price": stripe_api.prices["enterprise"]}
    ]
    assert update.params["proration_behavior"] == "always_invoice"
    assert update.idempotency_key.startswith(f"alpha:subscription:{sub.stripe_id}:plan:enterprise")
    assert _plan_of(tenant_a) == "enterprise"

    same = api.post("/api/v1/billing/subscription/change/", {"plan": "enterprise"}, format="json")
    assert same.status_code == 200
    assert len(stripe_api.calls("POST", r"/v1/subscriptions/sub_\w+")) == 1


def test_cancel_at_period_end_then_resume(stripe_api, card, api, tenant_a):
    api.post(URL, {"plan": "pro"}, format="json")
    response = api.post("/api/v1/billing/subscription/cancel/", {}, format="json")
    assert response.status_code == 200
    sub = response.json()["subscription"]
    assert (sub["status"], sub["cancel_at_period_end"]) == ("active", True)
    assert response.json()["plan"] == "pro"  # paid until the period ends
    assert stripe_api.calls("POST", r"/v1/subscriptions/sub_\w+")[-1].params == {
        "cancel_at_period_end": "true"
    }

    resumed = api.post("/api/v1/billing/subscription/resume/", {}, format="json")
    assert resumed.json()["subscription"]["cancel_at_period_end"] is False
    updates = len(stripe_api.calls("POST", r"/v1/subscriptions/sub_\w+"))
    again = api.post("/api/v1/billing/subscription/resume/", {}, format="json")
    assert again.status_code == 409
    assert len(stripe_api.calls("POST", r"/v1/subscriptions/sub_\w+")) == updates
    with schema_context("alpha"):
        sub = Subscription.objects.get()
    assert (sub.status, sub.cancel_at_period_end) == ("active", False)


def test_cancel_now_returns_the_workspace_to_the_free_plan(stripe_api, card, api, tenant_a):
    api.post(URL, {"plan": "pro"}, format="json")
    response = api.post(
        "/api/v1/billing/subscription/cancel/", {"at_period_end": False}, format="json"
    )
    assert response.json()["subscription"]["status"] == "canceled"
    assert response.json()["plan"] == "free"
    assert _plan_of(tenant_a) == "free"
    assert len(stripe_api.calls("DELETE")) == 1
    nothing = api.post("/api/v1/billing/subscription/cancel/", {}, format="json")
    assert nothing.status_code == 409
    assert nothing.json()["error"]["code"] == "no_subscription"
    assert len(stripe_api.calls("DELETE")) == 1
    assert stripe_api.calls("POST", r"/v1/subscriptions/sub_\w+") == []
    with schema_context("alpha"):
        assert Subscription.objects.get().status == "canceled"
    assert _plan_of(tenant_a) == "free"


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "plan"),
        ({"plan": "free"}, "plan"),
        ({"plan": "platinum"}, "plan"),
        ({"plan": "pro", "trial": "maybe"}, "trial"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(stripe_api, api, in_a, tenant_a, body, field):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    assert stripe_api.requests == []
    assert not Subscription.objects.exists()
    bad_change = api.post(
        "/api/v1/billing/subscription/change/",
        {"plan": "pro", "proration_behavior": "sometimes"},
        format="json",
    )
    assert bad_change.status_code == 400
    assert stripe_api.requests == []
    assert not Subscription.objects.exists()
    assert not Customer.objects.exists()
    assert _plan_of(tenant_a) == "free"


def test_stripe_unreachable_gives_502_and_writes_nothing(stripe_api, api, settings, in_a, tenant_a):
    settings.STRIPE_API_BASE = closed_port_url()
    response = api.post(URL, {"plan": "pro"}, format="json")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "payment_gateway_unavailable"
    assert not Customer.objects.exists()
    assert not Subscription.objects.exists()
    settings.STRIPE_SECRET_KEY = ""
    response = api.post(URL, {"plan": "pro"}, format="json")
    assert response.status_code == 503
    assert not Customer.objects.exists()
    assert not Subscription.objects.exists()
    assert _plan_of(tenant_a) == "free"


def test_only_owners_and_admins_manage_the_subscription(
    stripe_api, auth_client, make_user, tenant_a
):
    member = auth_client(make_user(email="m@alpha.test", tenant=tenant_a), tenant_a)
    manager = auth_client(
        make_user(email="g@alpha.test", tenant=tenant_a, role="manager"), tenant_a
    )
    assert member.get(URL).status_code == 403
    assert manager.get(URL).status_code == 200
    assert manager.post(URL, {"plan": "pro"}, format="json").status_code == 403
    assert manager.post("/api/v1/billing/subscription/cancel/", {}).status_code == 403
    assert stripe_api.requests == []
    with schema_context("alpha"):
        assert not Customer.objects.exists()
        assert not Subscription.objects.exists()
    assert _plan_of(tenant_a) == "free"


def test_tenant_isolation(stripe_api, api, auth_client, make_user, tenant_a, tenant_b, owner):
    api.post(URL, {"plan": "pro"}, format="json")
    b_owner = make_user(email="owner@beta.test", tenant=tenant_b, role="owner")
    body = auth_client(b_owner, tenant_b).get(URL).json()
    assert body["subscription"] is None
    assert body["plan"] == "free"
    assert _plan_of(tenant_b) == "free"
    # A token of tenant A is refused on B's host.
    token = api._credentials["HTTP_AUTHORIZATION"]
    from rest_framework.test import APIClient

    assert (
        APIClient(HTTP_HOST="beta.localhost", HTTP_AUTHORIZATION=token).get(URL).status_code == 401
    )


def test_plans_are_listed_with_their_limits(stripe_api, api):
    plans = {p["code"]: p for p in api.get("/api/v1/billing/plans/").json()["results"]}
    assert plans["free"]["subscribable"] is False
    assert plans["pro"]["price_id"] == stripe_api.prices["pro"]
    assert plans["pro"]["limits"]["members"] == 10


def _fresh(tenant):
    """The tenant as stored now (billing keeps its plan equal to what the subscription grants)."""
    return Tenant.objects.get(pk=tenant.pk)


# --- Plan limits -----------------------------------------------------------------------------
def test_the_members_limit_follows_the_subscription_status(
    stripe_api, card, make_user, tenant_a, api
):
    # Free plan: 3 members (the owner is one).
    make_user(email="two@alpha.test", tenant=tenant_a)
    make_user(email="three@alpha.test", tenant=tenant_a)
    with pytest.raises(PlanLimitReached) as refused:
        make_user(email="four@alpha.test", tenant=tenant_a)
    assert refused.value.extra == {"limit": "members", "allowed": 3, "used": 3}
    assert Membership.objects.filter(tenant=tenant_a).count() == 3
    assert plan_limit(_fresh(tenant_a), "members") == 3

    api.post(URL, {"plan": "pro"}, format="json")
    assert plan_limit(_fresh(tenant_a), "members") == 10
    four = make_user(email="four-again@alpha.test", tenant=tenant_a)
    membership_set(user=four, tenant=tenant_a, role="manager")  # a role change is not an add

    with schema_context("alpha"):
        stripe_id = Subscription.objects.get().stripe_id
        stripe_api.update(stripe_id, status="past_due")  # a renewal failed: still pro for now
        services.subscription_sync(stripe_id=stripe_id)
        assert plan_limit(_fresh(tenant_a), "members") == 10
        stripe_api.update(stripe_id, status="unpaid")  # retries exhausted
        services.subscription_sync(stripe_id=stripe_id)
    assert plan_limit(_fresh(tenant_a), "members") == 3
    assert _plan_of(tenant_a) == "free"
    members = Membership.objects.filter(tenant=tenant_a).count()
    with pytest.raises(PlanLimitReached):
        make_user(email="five@alpha.test", tenant=tenant_a)
    assert Membership.objects.filter(tenant=tenant_a).count() == members


def test_the_storage_quota_follows_the_plan(stripe_api, card, api, tenant_a, plan_limits):
    plan_limits("free", storage_bytes=100)
    plan_limits("pro", storage_bytes=1000)
    assert plan_limit(_fresh(tenant_a), "storage_bytes") == 100
    api.post(URL, {"plan": "pro"}, format="json")
    assert plan_limit(_fresh(tenant_a), "storage_bytes") == 1000
    body = api.get(URL).json()
    assert body["limits"]["storage_bytes"] == {"limit": 1000, "used": 0}
    from uploads.selectors import tenant_quota_bytes

    with schema_context("alpha"):
        from django.db import connection

        connection.tenant = Tenant.objects.get(pk=tenant_a.pk)
        assert tenant_quota_bytes() == 1000


def test_a_plan_assigned_without_subscription_applies(stripe_api, tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(plan="enterprise")
    tenant_a.refresh_from_db()
    assert selectors.tenant_plan(tenant_a) == "enterprise"
    assert plan_limit(_fresh(tenant_a), "members") is None
    members_limit_check(tenant=_fresh(tenant_a), adding=1000)
