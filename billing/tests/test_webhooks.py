"""The Stripe webhook endpoint and its ledger: signatures, storing once, processing, replay."""

import json
import threading
import time
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core.management import call_command
from django.test import Client
from django_tenants.utils import schema_context

from billing import services
from billing.models import Customer, Subscription, WebhookEvent
from billing.tasks import webhook_process
from billing.tests.conftest import SECRET_KEY, WEBHOOK_SECRET, WEBHOOK_URL
from billing.tests.factories import CustomerFactory, WebhookEventFactory
from core.tasks import BACKOFF_FACTOR


def _subscription_on_stripe(stub, *, tenant="alpha", plan="pro", status=None):
    customer = stub.customer_create({"metadata": {"tenant": tenant}})
    stub.card_on_file(customer["id"])
    sub = stub.subscription_create(
        {
            "customer": customer["id"],
            "items": [{"price": stub.prices[plan]}],
            "metadata": {"tenant": tenant, "plan": plan},
        }
    )
    if status:
        stub.update(sub["id"], status=status)
    return customer, sub


# --- Signatures ------------------------------------------------------------------------------
def test_a_signed_event_is_stored_once_and_processed(
    stripe_api, client_a, deliver, in_a, eager_tasks, django_capture_on_commit_callbacks
):
    customer, sub = _subscription_on_stripe(stripe_api)
    CustomerFactory(stripe_id=customer["id"])
    event = stripe_api.event("customer.subscription.created", sub["id"])

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client_a, event)

    assert response.status_code == 200
    assert response.json() == {"received": True, "stored": True, "duplicate": False}
    stored = WebhookEvent.objects.get(event_id=event["id"])
    assert (stored.status, stored.attempts, stored.type) == (
        "processed",
        1,
        "customer.subscription.created",
    )
    assert stored.object_id == sub["id"]
    assert Subscription.objects.get(stripe_id=sub["id"]).status == "active"


@pytest.mark.parametrize(
    "case",
    ["forged", "unsigned", "stale", "tampered", "garbage_header", "no_v1"],
)
def test_unverifiable_deliveries_get_400_and_change_nothing(
    case, stripe_api, client_a, deliver, in_a, django_capture_on_commit_callbacks
):
    event = stripe_api.event("customer.subscription.created", "sub_x")
    payload = json.dumps(event)
    kwargs = {
        "forged": {"secret": "whsec_someone_else"},
        "unsigned": {"header": ""},
        "stale": {"timestamp": int(time.time()) - 3600},
        "garbage_header": {"header": "not-a-signature"},
        "no_v1": {"header": f"t={int(time.time())},v0=abc"},
        "tampered": {},
    }[case]
    body = payload
    if case == "tampered":
        from config.standins.stripe import sign_payload

        kwargs = {"header": sign_payload(payload, WEBHOOK_SECRET)}
        body = payload.replace("sub_x", "sub_y")

    with django_capture_on_commit_callbacks() as callbacks:
        response = deliver(client_a, body, **kwargs)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    assert callbacks == []


def test_a_signed_payload_that_is_not_an_event_is_refused(client_a, deliver, stripe_api, in_a):
    for body in ["{not json", json.dumps({"no": "id"}), json.dumps([1, 2])]:
        response = deliver(client_a, body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_payload"
    assert not WebhookEvent.objects.exists()


def test_the_endpoint_needs_a_configured_secret_and_post(client_a, settings, in_a):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = client_a.post(WEBHOOK_URL, "{}", content_type="application/json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "billing_not_configured"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    assert client_a.get(WEBHOOK_URL).status_code == 405
    assert not WebhookEvent.objects.exists()


# --- Storing once ----------------------------------------------------------------------------
def test_a_redelivered_event_is_acknowledged_and_ignored(
    stripe_api, client_a, deliver, in_a, django_capture_on_commit_callbacks
):
    event = stripe_api.event("invoice.created", "in_1")
    with django_capture_on_commit_callbacks() as first:
        assert deliver(client_a, event).json()["duplicate"] is False
    with django_capture_on_commit_callbacks() as second:
        response = deliver(client_a, event)
    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1
    assert (len(first), len(second)) == (1, 0)  # processing queued once


def test_events_without_a_handler_are_kept_as_ignored(
    stripe_api, client_a, deliver, in_a, eager_tasks, django_capture_on_commit_callbacks
):
    event = stripe_api.event("customer.created", "cus_1")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client_a, event)
    assert WebhookEvent.objects.get(event_id=event["id"]).status == "ignored"


@pytest.fixture
def committed_alpha(django_db_setup, django_db_blocker):
    """Writes outside the test transaction in alpha's schema (seen by other threads); rows of
    the billing tables are removed afterwards."""
    with django_db_blocker.unblock():
        yield
        with schema_context("alpha"):
            Subscription.objects.all().delete()
            Customer.objects.all().delete()
            WebhookEvent.objects.all().delete()


def test_ten_concurrent_deliveries_of_one_event_have_exactly_one_effect(
    stripe_api, committed_alpha, eager_tasks
):
    customer, sub = _subscription_on_stripe(stripe_api)
    with schema_context("alpha"):
        CustomerFactory(stripe_id=customer["id"])
    event = stripe_api.event("customer.subscription.updated", sub["id"])
    payload = json.dumps(event)
    from config.standins.stripe import sign_payload

    header = sign_payload(payload, WEBHOOK_SECRET)
    barrier = threading.Barrier(10)
    answers, errors = [], []
    real_process = services.webhook_event_process
    processed = []

    def counting_process(**kwargs):
        processed.append(kwargs)
        return real_process(**kwargs)

    def deliver_once():
        try:
            client = Client(HTTP_HOST="alpha.localhost")
            barrier.wait(timeout=10)
            response = client.post(
                WEBHOOK_URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
            answers.append((response.status_code, response.json()["duplicate"]))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            from django.db import connection

            connection.close()

    with mock.patch.object(services, "webhook_event_process", counting_process):
        threads = [threading.Thread(target=deliver_once) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    assert sorted(answers) == [(200, False)] + [(200, True)] * 9
    assert len(processed) == 1
    assert len(stripe_api.calls("GET", f"/v1/subscriptions/{sub['id']}")) == 1
    with schema_context("alpha"):
        stored = WebhookEvent.objects.get(event_id=event["id"])
        assert (stored.status, stored.attempts) == ("processed", 1)
        assert Subscription.objects.filter(stripe_id=sub["id"]).count() == 1


def test_processing_the_same_event_again_does_nothing(stripe_api, in_a):
    customer, sub = _subscription_on_stripe(stripe_api)
    CustomerFactory(stripe_id=customer["id"])
    stored, _ = services.webhook_event_record(
        event=stripe_api.event("customer.subscription.created", sub["id"])
    )
    assert services.webhook_event_process(event_pk=stored.pk).status == "processed"
    reads = len(stripe_api.calls("GET"))
    again = services.webhook_event_process(event_pk=stored.pk)
    assert (again.status, again.attempts) == ("processed", 1)
    assert len(stripe_api.calls("GET")) == reads


# --- Order of events -------------------------------------------------------------------------
def test_an_event_before_its_object_is_known_is_retried_then_applied(stripe_api, in_a):
    # The subscription exists on Stripe but the customer row that ties it to this workspace is
    # not committed yet (the request that created it is still running).
    customer, sub = _subscription_on_stripe(stripe_api)
    stored, _ = services.webhook_event_record(
        event=stripe_api.event("customer.subscription.created", sub["id"])
    )

    with mock.patch.object(webhook_process, "retry", side_effect=Retry()) as retry:
        result = webhook_process.apply(args=[stored.pk])
    assert result.state == "RETRY"
    # The first retry waits up to the policy's base delay (full jitter).
    assert 0 <= retry.call_args.kwargs["countdown"] <= BACKOFF_FACTOR
    stored.refresh_from_db()
    assert stored.status == "failed"
    assert stored.last_error.startswith("Not ready: customer")
    assert not Subscription.objects.exists()

    CustomerFactory(stripe_id=customer["id"])  # the request commits
    assert webhook_process.apply(args=[stored.pk]).get() == "processed"  # the retry
    stored.refresh_from_db()
    assert (stored.status, stored.attempts, stored.last_error) == ("processed", 2, "")
    assert Subscription.objects.get(stripe_id=sub["id"]).plan == "pro"


def test_a_late_event_does_not_roll_the_state_back(stripe_api, in_a):
    customer, sub = _subscription_on_stripe(stripe_api)
    CustomerFactory(stripe_id=customer["id"])
    created = stripe_api.event("customer.subscription.created", sub["id"])  # snapshot: active
    stripe_api.subscription_cancel({}, sub["id"])
    deleted = stripe_api.event("customer.subscription.deleted", sub["id"])

    for event in (deleted, created):  # delivered in the wrong order
        stored, _ = services.webhook_event_record(event=event)
        services.webhook_event_process(event_pk=stored.pk)

    assert Subscription.objects.get(stripe_id=sub["id"]).status == "canceled"


def test_the_task_gives_up_after_its_retries_and_the_event_stays_failed(stripe_api, in_a):
    _, sub = _subscription_on_stripe(stripe_api)
    stored, _ = services.webhook_event_record(
        event=stripe_api.event("customer.subscription.created", sub["id"])
    )
    result = webhook_process.apply(args=[stored.pk], retries=webhook_process.max_retries)
    assert result.get() == "failed"
    assert WebhookEvent.objects.get(pk=stored.pk).status == "failed"


def test_stripe_outage_during_processing_is_recorded_and_retried(stripe_api, in_a, settings):
    customer, sub = _subscription_on_stripe(stripe_api)
    CustomerFactory(stripe_id=customer["id"])
    stored, _ = services.webhook_event_record(
        event=stripe_api.event("customer.subscription.updated", sub["id"])
    )
    from billing.tests.test_subscriptions import closed_port_url

    settings.STRIPE_API_BASE = closed_port_url()
    event = services.webhook_event_process(event_pk=stored.pk)
    assert event.status == "failed"
    assert "GatewayUnavailable" in event.last_error
    assert SECRET_KEY not in event.last_error


# --- Replay ----------------------------------------------------------------------------------
def _failed_event(stub):
    customer, sub = _subscription_on_stripe(stub)
    stored, _ = services.webhook_event_record(
        event=stub.event("customer.subscription.created", sub["id"])
    )
    services.webhook_event_process(event_pk=stored.pk)
    CustomerFactory(stripe_id=customer["id"])
    return WebhookEvent.objects.get(pk=stored.pk)


def test_failed_events_are_replayed_by_the_command(stripe_api, in_a, capsys):
    event = _failed_event(stripe_api)
    assert event.status == "failed"
    call_command("billing_replay_events")
    assert "1 processed" in capsys.readouterr().out
    event.refresh_from_db()
    assert event.status == "processed"
    call_command("billing_replay_events", event.event_id)
    assert "nothing" in capsys.readouterr().out


def test_failed_events_are_replayed_from_the_admin(
    stripe_api,
    in_a,
    make_user,
    tenant_a,
    eager_tasks,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
    admin_login,
):
    event = _failed_event(stripe_api)
    admin_user = make_user(email="root@alpha.test", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="alpha.localhost")
    admin_login(client, admin_user)
    for n in range(5):
        services.webhook_event_record(event=stripe_api.event("invoice.created", f"in_{n}"))
    # Whatever the number of events: host, session, user, count, the page, the type filter, and
    # the branding singleton check of the admin sidebar; each after a SET search_path.
    with django_assert_max_num_queries(14):
        page = client.get("/admin/billing/webhookevent/")
    assert page.status_code == 200
    assert event.event_id in page.content.decode()
    assert client.get(f"/admin/billing/webhookevent/{event.pk}/change/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/billing/webhookevent/",
            {"action": "replay", "_selected_action": [event.pk]},
        )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == "processed"
    for url in ("/admin/billing/customer/", "/admin/billing/subscription/"):
        assert client.get(url).status_code == 200


# --- Where events arrive ---------------------------------------------------------------------
def test_the_public_endpoint_routes_events_to_the_workspace_in_their_metadata(
    stripe_api, public_client, client_b, deliver, tenant_a
):
    _, sub = _subscription_on_stripe(stripe_api, tenant="alpha")
    event = stripe_api.event("customer.subscription.created", sub["id"])

    response = deliver(public_client, event)
    assert response.json() == {"received": True, "stored": True, "duplicate": False}
    with schema_context("alpha"):
        assert WebhookEvent.objects.filter(event_id=event["id"]).exists()
    with schema_context("beta"):
        assert not WebhookEvent.objects.exists()

    # Another workspace's host does not take alpha's events; nor does anyone take strangers'.
    other = stripe_api.event("customer.subscription.updated", sub["id"])
    assert deliver(client_b, other).json() == {"received": True, "stored": False}
    stranger = stripe_api.event("customer.subscription.updated", "sub_zzz", metadata={})
    assert deliver(public_client, stranger).json() == {"received": True, "stored": False}
    unknown = stripe_api.event("payment_intent.succeeded", "pi_1", metadata={"tenant": "nope"})
    assert deliver(public_client, unknown).json()["stored"] is False
    with schema_context("beta"):
        assert not WebhookEvent.objects.exists()
    assert deliver(public_client, event, secret="whsec_forged").status_code == 400
    with schema_context("alpha"):
        assert WebhookEvent.objects.count() == 1


def test_secrets_never_reach_responses_or_logs(stripe_api, client_a, deliver, in_a, caplog):
    event = stripe_api.event("customer.created", "cus_1")
    response = deliver(client_a, event, secret="whsec_forged")
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    forged_ok = deliver(client_a, event)
    for r in (response, forged_ok):
        assert WEBHOOK_SECRET not in r.content.decode()
        assert SECRET_KEY not in r.content.decode()
    assert WEBHOOK_SECRET not in caplog.text
    assert SECRET_KEY not in caplog.text


def test_processing_runs_on_the_high_priority_queue():
    from config.celery import app

    route = app.amqp.router.route({}, webhook_process.name)
    assert route["queue"].name == "high"


def test_stuck_events_are_queued_again_by_the_periodic_retry(
    in_a, django_capture_on_commit_callbacks, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from billing.tasks import webhook_retry_stuck

    queued = []
    monkeypatch.setattr(
        "billing.tasks.webhook_process.apply_async", lambda **kw: queued.append(kw["args"][0])
    )
    old = WebhookEventFactory()
    WebhookEventFactory()  # arrived just now: its task may still be on the way
    done = WebhookEventFactory(status=WebhookEvent.Status.PROCESSED)
    worn_out = WebhookEventFactory(status=WebhookEvent.Status.FAILED, attempts=20)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    WebhookEvent.objects.filter(pk__in=[old.pk, done.pk, worn_out.pk]).update(
        received_at=an_hour_ago
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_retry_stuck.apply().get() == 1
    assert queued == [old.pk]
    assert WebhookEvent.objects.get(pk=done.pk).status == WebhookEvent.Status.PROCESSED
    assert WebhookEvent.objects.get(pk=worn_out.pk).status == WebhookEvent.Status.FAILED
