"""Mailgun tracking webhooks (their real JSON payloads, signed, behind basic auth) update the
message, its event log, the suppression list and preferences."""

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from django.core import mail
from django.db import connection

from notifications import services
from notifications.models import Message, MessageEvent, Suppression
from notifications.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/webhooks/mailgun/tracking/"
SIGNING_KEY = "key-test-signing-0123456789"
BASIC = "mailgun-hook:s3cret-Pa55"


@pytest.fixture(autouse=True)
def _anymail(settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "WEBHOOK_SECRET": BASIC,
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
    }


def mailgun_payload(message: Message, event: str, *, key=SIGNING_KEY, **event_data) -> dict:
    """The body Mailgun posts (https://documentation.mailgun.com, "Webhooks" event structure)."""
    timestamp, token = str(int(time.time())), uuid.uuid4().hex + uuid.uuid4().hex[:18]
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {
        "event": event,
        "timestamp": time.time(),
        "id": "CPgfbmQMTCKtHW6uIWtuVe",
        "log-level": "info",
        "envelope": {
            "transport": "smtp",
            "sender": "no-reply@mg.example.com",
            "sending-ip": "209.61.154.250",
            "targets": message.to_email,
        },
        "flags": {
            "is-routed": False,
            "is-authenticated": True,
            "is-system-test": False,
            "is-test-mode": False,
        },
        "delivery-status": {
            "tls": True,
            "mx-host": "smtp-in.example.com",
            "code": 250,
            "description": "",
            "session-seconds": 0.43,
            "utf8": True,
            "attempt-no": 1,
            "message": "OK",
            "certificate-verified": True,
        },
        "message": {
            "headers": {
                "to": message.to_email,
                "message-id": message.provider_message_id.strip("<>"),
                "from": "Alpha Corp <no-reply@mg.example.com>",
                "subject": message.subject,
            },
            "attachments": [],
            "size": 2111,
        },
        "recipient": message.to_email,
        "recipient-domain": message.to_email.split("@")[1],
        "storage": {"url": "https://se.api.mailgun.net/v3/domains/x/messages/k", "key": "k"},
        "campaigns": [],
        "tags": [message.template],
        "user-variables": {"schema": connection.schema_name, "message": str(message.pk)},
    }
    data.update(event_data)
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": data,
    }


def post(client, payload, auth=BASIC):
    headers = {}
    if auth:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(URL, json.dumps(payload), content_type="application/json", **headers)


def reload(message, tenant):
    connection.set_tenant(tenant)
    message.refresh_from_db()
    return message


def test_delivered_updates_the_message_and_logs_the_event(in_a, public_client):
    message = MessageFactory()
    payload = mailgun_payload(message, "delivered")
    assert post(public_client, payload).status_code == 200
    message = reload(message, in_a)
    assert message.status == "delivered" and message.delivered_at
    event = MessageEvent.objects.get(message=message)
    assert event.event_type == "delivered" and event.event_id == payload["signature"]["token"]
    assert event.payload["esp"] == "Mailgun"

    # The same webhook delivered twice changes nothing.
    assert post(public_client, payload).status_code == 200
    assert reload(message, in_a).events.count() == 1


def test_a_permanent_failure_bounces_and_suppresses_the_address(in_a, public_client):
    message = MessageFactory(to_email="nobody@example.com")
    payload = mailgun_payload(
        message,
        "failed",
        severity="permanent",
        reason="bounce",
        **{
            "delivery-status": {
                "code": 550,
                "message": "5.1.1 The email account that you tried to reach does not exist.",
                "description": "",
                "attempt-no": 1,
            }
        },
    )
    assert post(public_client, payload).status_code == 200
    message = reload(message, in_a)
    assert message.status == "bounced" and "does not exist" in message.error
    connection.set_schema_to_public()
    suppression = Suppression.objects.get(email="nobody@example.com")
    assert suppression.reason == "bounce"

    # Later sends to the address, from any tenant, are suppressed.
    connection.set_tenant(in_a)
    later = services.email_send(
        to="nobody@example.com", template="password_changed", context={"name": "N"}
    )
    assert later.status == "suppressed" and mail.outbox == []


def test_a_temporary_failure_is_only_logged(in_a, public_client):
    message = MessageFactory(to_email="busy@example.com")
    payload = mailgun_payload(message, "failed", severity="temporary", reason="generic")
    assert post(public_client, payload).status_code == 200
    message = reload(message, in_a)
    assert message.status == "sent"
    assert message.events.get().event_type == "deferred"
    connection.set_schema_to_public()
    assert not Suppression.objects.exists()


def test_a_complaint_after_delivery_suppresses_the_address(in_a, public_client):
    message = MessageFactory(to_email="angry@example.com", status="delivered")
    assert post(public_client, mailgun_payload(message, "complained")).status_code == 200
    message = reload(message, in_a)
    assert message.status == "complained"
    connection.set_schema_to_public()
    assert Suppression.objects.get(email="angry@example.com").reason == "complaint"


def test_a_late_delivered_event_does_not_undo_a_bounce(in_a, public_client):
    message = MessageFactory(status="bounced")
    assert post(public_client, mailgun_payload(message, "delivered")).status_code == 200
    assert reload(message, in_a).status == "bounced"


def test_a_provider_unsubscribe_turns_the_category_off(in_a, public_client):
    message = MessageFactory(to_email="ann@example.com")
    assert post(public_client, mailgun_payload(message, "unsubscribed")).status_code == 200
    connection.set_tenant(in_a)
    assert not services.email_wanted(email="ann@example.com", category="orders")


@pytest.mark.parametrize(
    ("auth", "key"),
    [
        (None, SIGNING_KEY),  # no basic auth
        ("mailgun-hook:wrong", SIGNING_KEY),  # wrong basic auth
        (BASIC, "key-not-the-one"),  # forged signature
    ],
)
def test_unauthenticated_or_forged_webhooks_are_refused(
    in_a, public_client, auth, key, notifications_state
):
    message = MessageFactory(to_email="victim@example.com")
    before = notifications_state()
    response = post(public_client, mailgun_payload(message, "failed", key=key), auth=auth)
    assert response.status_code in (400, 401, 403)
    assert reload(message, in_a).status == "sent"
    connection.set_schema_to_public()
    assert not Suppression.objects.exists()
    assert notifications_state() == before


def test_events_for_unknown_schemas_or_messages_are_ignored(
    in_a, public_client, notifications_state
):
    message = MessageFactory(to_email="x@example.com")
    before = notifications_state()
    payload = mailgun_payload(message, "delivered")
    payload["event-data"]["user-variables"] = {"schema": "no_such_schema", "message": "1"}
    assert post(public_client, payload).status_code == 200
    wrong_id = mailgun_payload(message, "delivered")
    wrong_id["event-data"]["message"]["headers"]["message-id"] = "other@mg.example.com"
    assert post(public_client, wrong_id).status_code == 200
    assert reload(message, in_a).status == "sent"
    assert notifications_state() == before


def test_metadata_of_another_tenant_cannot_reach_this_tenants_messages(
    in_a, tenant_b, public_client, notifications_state
):
    """Tracking finds the message in the schema named by the metadata sent with it; a message id
    of tenant A presented with tenant B's schema finds nothing."""
    message = MessageFactory()
    payload = mailgun_payload(message, "delivered")
    payload["event-data"]["user-variables"]["schema"] = tenant_b.schema_name
    before = notifications_state()
    assert post(public_client, payload).status_code == 200
    assert reload(message, in_a).status == "sent"
    assert notifications_state() == before
