"""Billing fixtures: the Stripe stand-in, plans priced on it, signed webhook deliveries."""

import json

import pytest
import stripe

from config.standins.stripe import sign_payload, stripe_stub

WEBHOOK_SECRET = "whsec_test_platform_secret"
SECRET_KEY = "sk_test_platform_secret_key_0123456789"
WEBHOOK_URL = "/api/v1/billing/webhooks/stripe/"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def stripe_api(settings, monkeypatch):
    """The real stripe library talking to the local stand-in; plans priced on it."""
    with stripe_stub() as stub:
        monkeypatch.setattr(stripe, "api_base", stub.url)
        settings.STRIPE_API_BASE = ""
        settings.STRIPE_SECRET_KEY = SECRET_KEY
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        pro = stub.create_price(amount=2900)
        enterprise = stub.create_price(amount=29900)
        settings.PLANS = {
            "free": {"price": "", "limits": {"members": 3, "storage_bytes": 1024**3}},
            "pro": {"price": pro["id"], "limits": {"members": 10, "storage_bytes": 50 * 1024**3}},
            "enterprise": {
                "price": enterprise["id"],
                "limits": {"members": None, "storage_bytes": 500 * 1024**3},
            },
        }
        stub.prices = {"pro": pro["id"], "enterprise": enterprise["id"]}
        yield stub


@pytest.fixture
def deliver():
    """deliver(client, event, secret=..., timestamp=..., header=...) -> the webhook response."""

    def post(client, event, *, secret=WEBHOOK_SECRET, timestamp=None, header=None):
        payload = event if isinstance(event, str) else json.dumps(event)
        if header is None:
            header = sign_payload(payload, secret, timestamp)
        extra = {"HTTP_STRIPE_SIGNATURE": header} if header else {}
        return client.generic(
            "POST", WEBHOOK_URL, payload, content_type="application/json", **extra
        )

    return post


@pytest.fixture
def eager_tasks():
    """Celery tasks run in-process (on commit, like a worker would after it)."""
    from config.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def owner(make_user, tenant_a):
    return make_user(email="owner@alpha.test", tenant=tenant_a, role="owner")


@pytest.fixture
def api(auth_client, owner, tenant_a):
    return auth_client(owner, tenant_a)


@pytest.fixture
def card(stripe_api, api):
    """The workspace has a default card, added as a client does: a SetupIntent confirmed with a
    payment method (server-side here; Stripe.js in a browser)."""
    response = api.post(
        "/api/v1/billing/payment-methods/setup/", {"payment_method": "pm_card_visa"}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["payment_method"]
