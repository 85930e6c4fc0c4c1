"""The Stripe webhook ledger: store each verified event once, process it (handlers re-read
Stripe's current state), replay failed events and queue stuck ones again."""

import json
import logging
import traceback
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from billing.errors import EventNotReady
from billing.models import WebhookEvent
from billing.services._common import _schema
from billing.services.disputes import dispute_sync
from billing.services.invoices import invoice_sync
from billing.services.payment_methods import (
    customer_sync,
    payment_method_sync,
    setup_intent_sync,
)
from billing.services.payments import payment_sync
from billing.services.refunds import refund_if_order_cancelled, refund_sync, refunds_sync_for_charge
from billing.services.subscriptions import subscription_sync

logger = logging.getLogger(__name__)


def event_tenant(event: dict) -> str | None:
    """The schema named in the metadata of the event's object (set on everything billing creates;
    invoices carry their subscription's)."""
    obj = event.get("data", {}).get("object", {}) or {}
    candidates = [
        obj.get("metadata"),
        (obj.get("subscription_details") or {}).get("metadata"),
        ((obj.get("parent") or {}).get("subscription_details") or {}).get("metadata"),
    ]
    for metadata in candidates:
        if isinstance(metadata, dict) and metadata.get("tenant"):
            return str(metadata["tenant"])
    return None


def event_tenant_resolve(event: dict) -> str | None:
    """The workspace an event belongs to: named in its object's metadata, else in the metadata
    of the customer or the payment it refers to (payment methods and disputes carry none of
    their own; a detached payment method names its former customer in previous_attributes)."""
    from billing import gateway

    named = event_tenant(event)
    if named:
        return named
    data = event.get("data", {}) or {}
    obj = data.get("object", {}) or {}
    previous = data.get("previous_attributes") or {}
    lookups = [
        ("customer", obj.get("customer") or previous.get("customer")),
        ("payment_intent", obj.get("payment_intent")),
    ]
    if obj.get("object") == "customer":
        lookups.insert(0, ("customer", obj.get("id")))
    for kind, ref in lookups:
        if isinstance(ref, dict):
            ref = ref.get("id")
        if not ref:
            continue
        client = gateway.client()
        service = client.customers if kind == "customer" else client.payment_intents
        found = gateway.as_dict(gateway.call(service.retrieve, ref))
        tenant = (found.get("metadata") or {}).get("tenant")
        if tenant:
            return str(tenant)
    return None


def webhook_event_record(*, event: dict) -> tuple[WebhookEvent | None, bool]:
    """Stores a verified event once by its id in the current schema's ledger and queues its
    processing. Returns (event, created); a duplicate (even a concurrent one: the unique
    constraint decides) returns created=False and queues nothing."""
    obj = event.get("data", {}).get("object", {}) or {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {WebhookEvent._meta.db_table}
                (event_id, type, object_id, livemode, payload, status, attempts, last_error,
                 received_at)
            VALUES (%s, %s, %s, %s, %s::jsonb, %s, 0, '', %s)
            ON CONFLICT (event_id) DO NOTHING
            RETURNING id
            """,  # noqa: S608 (the table name is the model's own)
            [
                str(event["id"]),
                str(event.get("type", ""))[:100],
                str(obj.get("id", ""))[:255],
                bool(event.get("livemode")),
                json.dumps(event),
                WebhookEvent.Status.PENDING,
                timezone.now(),
            ],
        )
        row = cursor.fetchone()
        if row is None:
            return WebhookEvent.objects.filter(event_id=event["id"]).first(), False
        _process_later(row[0])
    return WebhookEvent(pk=row[0], event_id=event["id"], type=event.get("type", "")), True


def _process_later(event_pk: int) -> None:
    from billing.tasks import webhook_process

    schema = _schema()
    transaction.on_commit(
        lambda: webhook_process.apply_async(args=[event_pk], headers={"_schema_name": schema})
    )


def _handle_payment_intent(obj: dict) -> None:
    payment = payment_sync(stripe_id=obj["id"])
    refund_if_order_cancelled(payment=payment)


def _handle_refund(obj: dict) -> None:
    refund_sync(stripe_id=obj["id"])


def _handle_subscription(obj: dict) -> None:
    subscription_sync(stripe_id=obj["id"])


def _handle_invoice(obj: dict) -> None:
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    stripe_id = parent.get("subscription") or obj.get("subscription")
    if stripe_id:
        subscription_sync(stripe_id=stripe_id)
    invoice_sync(stripe_id=obj["id"])


def _handle_charge_refunded(obj: dict) -> None:
    refunds_sync_for_charge(charge=obj)


def _handle_dispute(obj: dict) -> None:
    dispute_sync(stripe_id=obj["id"])


def _handle_payment_method(obj: dict) -> None:
    payment_method_sync(stripe_id=obj["id"])


def _handle_customer(obj: dict) -> None:
    customer_sync(stripe_id=obj["id"])


def _handle_setup_intent(obj: dict) -> None:
    setup_intent_sync(stripe_id=obj["id"])


# Handlers get the event's object but act on Stripe's current state of it (re-read), so late,
# doubled or reordered events all converge on the same rows.
HANDLERS = {
    "customer.subscription.created": _handle_subscription,
    "customer.subscription.updated": _handle_subscription,
    "customer.subscription.deleted": _handle_subscription,
    "customer.subscription.paused": _handle_subscription,
    "customer.subscription.resumed": _handle_subscription,
    "customer.subscription.trial_will_end": _handle_subscription,
    **{
        f"invoice.{kind}": _handle_invoice
        for kind in (
            "created",
            "finalized",
            "updated",
            "paid",
            "payment_succeeded",
            "payment_failed",
            "payment_action_required",
            "voided",
            "marked_uncollectible",
        )
    },
    "charge.refunded": _handle_charge_refunded,
    "charge.dispute.created": _handle_dispute,
    "charge.dispute.updated": _handle_dispute,
    "charge.dispute.closed": _handle_dispute,
    "charge.dispute.funds_withdrawn": _handle_dispute,
    "charge.dispute.funds_reinstated": _handle_dispute,
    "payment_method.attached": _handle_payment_method,
    "payment_method.detached": _handle_payment_method,
    "payment_method.updated": _handle_payment_method,
    "customer.updated": _handle_customer,
    "setup_intent.succeeded": _handle_setup_intent,
    "payment_intent.succeeded": _handle_payment_intent,
    "payment_intent.payment_failed": _handle_payment_intent,
    "payment_intent.canceled": _handle_payment_intent,
    "payment_intent.processing": _handle_payment_intent,
    "payment_intent.requires_action": _handle_payment_intent,
    "payment_intent.amount_capturable_updated": _handle_payment_intent,
    "refund.created": _handle_refund,
    "refund.updated": _handle_refund,
    "refund.failed": _handle_refund,
    "charge.refund.updated": _handle_refund,
}


def webhook_event_process(*, event_pk: int) -> WebhookEvent:
    """Applies one ledger event. The row lock makes concurrent runs of the same event take
    turns; a processed event is never applied again. A failure is recorded on the row (the
    caller retries); the handler's partial writes are rolled back."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
        if event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
            return event
        event.attempts += 1
        handler = HANDLERS.get(event.type)
        try:
            if handler is None:
                event.status = WebhookEvent.Status.IGNORED
            else:
                with transaction.atomic():
                    handler(event.payload.get("data", {}).get("object", {}))
                event.status = WebhookEvent.Status.PROCESSED
            event.processed_at = timezone.now()
            event.last_error = ""
        except Exception as exc:  # recorded for the admin; the task decides on retries
            event.status = WebhookEvent.Status.FAILED
            if isinstance(exc, EventNotReady):
                event.last_error = f"Not ready: {exc}"
            else:
                event.last_error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[
                    :2000
                ]
                logger.warning("Stripe event %s failed: %s", event.event_id, type(exc).__name__)
        event.save(update_fields=["status", "attempts", "last_error", "processed_at"])
    return event


@transaction.atomic
def webhook_event_replay(*, event_pk: int) -> WebhookEvent:
    """Queues a failed (or any unprocessed) event again, from the admin or the command."""
    event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
    if event.status != WebhookEvent.Status.PROCESSED:
        event.status = WebhookEvent.Status.PENDING
        event.save(update_fields=["status"])
        _process_later(event.pk)
    return event


def webhook_events_retry_stuck(*, older_than_minutes: int = 15, max_attempts: int = 20) -> int:
    """Queues again the events whose processing never finished: still pending well after they
    arrived (their task was lost, e.g. the broker restarted) or failed with attempts left.

    Runs from beat in every tenant; processing is idempotent, so a retry of an event that is
    being processed right now does no harm. Returns how many events were queued.
    """
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    stuck = WebhookEvent.objects.filter(
        status__in=[WebhookEvent.Status.PENDING, WebhookEvent.Status.FAILED],
        received_at__lte=cutoff,
        attempts__lt=max_attempts,
    ).values_list("pk", flat=True)
    queued = 0
    for event_pk in list(stuck[:500]):
        webhook_event_replay(event_pk=event_pk)
        queued += 1
    return queued
