"""`make run`'s Stripe wiring: the stand-in started by config.devrun delivers the events it emits
to the platform's webhook endpoint (a real uvicorn process), signed so that it accepts them."""

import sys
import time

import httpx
import stripe
from django.conf import settings
from django_tenants.utils import schema_context

from billing.models import WebhookEvent
from config.devrun import start_stripe
from config.standins.stripe import sign_payload
from tests.live import free_port, process_env, running

STRIPE_KEYS = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE")


def _wait_for_event(object_id: str, timeout: float = 20.0) -> WebhookEvent | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with schema_context("alpha"):
            found = WebhookEvent.objects.filter(object_id=object_id).first()
        if found is not None:
            return found
        time.sleep(0.2)
    return None


def test_the_stand_in_of_make_run_delivers_events_the_endpoint_accepts(
    tmp_path, django_db_setup, django_db_blocker
):
    web_port, stripe_port = free_port(), free_port()
    env = {k: v for k, v in process_env(PORT=str(web_port)).items() if k not in STRIPE_KEYS}
    standin = start_stripe(env, data=tmp_path, port=stripe_port)
    try:
        assert env["STRIPE_WEBHOOK_SECRET"].startswith("whsec_")
        assert env["STRIPE_API_BASE"] == f"http://127.0.0.1:{stripe_port}"
        assert (tmp_path / "stripe" / "state.json").exists()
        uvicorn = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host"]
        uvicorn += ["127.0.0.1", "--port", str(web_port), "--log-level", "warning"]
        with running(uvicorn, port=web_port, env=env), django_db_blocker.unblock():
            client = stripe.StripeClient(
                env["STRIPE_SECRET_KEY"],
                base_addresses={"api": env["STRIPE_API_BASE"]},
                stripe_version=settings.STRIPE_API_VERSION,
            )
            # The plans' prices exist on the stand-in under the ids make run configures.
            assert client.v1.prices.retrieve(env["STRIPE_PRICE_PRO"]).unit_amount == 2900
            customer = client.v1.customers.create(params={"metadata": {"tenant": "alpha"}})
            try:
                stored = _wait_for_event(customer.id)
                assert stored is not None, "the event never reached the ledger"
                assert stored.type == "customer.created"
                assert stored.payload["api_version"] == settings.STRIPE_API_VERSION

                # The endpoint verified the signature: a forged one is refused.
                payload = '{"id": "evt_forged", "type": "customer.created"}'
                forged = httpx.post(
                    f"http://127.0.0.1:{web_port}/api/v1/billing/webhooks/stripe/",
                    content=payload,
                    headers={
                        "Host": "localhost",
                        "Content-Type": "application/json",
                        "Stripe-Signature": sign_payload(payload, "whsec_forged"),
                    },
                )
                assert forged.status_code == 400
                assert forged.json()["error"]["code"] == "invalid_signature"
            finally:
                with schema_context("alpha"):
                    WebhookEvent.objects.all().delete()
    finally:
        standin.terminate()
        standin.wait(timeout=10)
