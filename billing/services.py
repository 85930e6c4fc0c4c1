"""Every write of the billing app: Stripe customers, the tenant's subscription, plan limits, and
the webhook ledger with its processing.

Stripe is the source of truth. Local rows are mirrors written from the object Stripe returns (or
re-reads), never from the order events arrive in, so applying the same state twice is harmless.
Calls that create something on Stripe carry an idempotency key derived from what they are for,
so a retried or doubled request never creates a second object.
"""

import json
import logging
import traceback
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from billing import gateway, selectors
from billing.errors import (
    EventNotReady,
    InvalidPlan,
    InvalidRefund,
    NoSubscription,
    OrderNotPayable,
    PaymentDeclined,
    PaymentNotCancelable,
    RefundNotAllowed,
    SubscriptionExists,
)
from billing.models import Customer, Payment, Refund, Subscription, WebhookEvent
from tenants.plans import plan_table

logger = logging.getLogger(__name__)

PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")


def _schema() -> str:
    return connection.schema_name


def _ts(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


# --- Customers ------------------------------------------------------------------------------
def _customer_ensure(*, kind: str, user, email: str, key: str) -> Customer:
    existing = Customer.objects.filter(kind=kind, user=user).first()
    if existing is not None:
        return existing
    metadata = {"tenant": _schema(), "kind": kind}
    if user is not None:
        metadata["user_id"] = str(user.pk)
    # Outside any lock: the idempotency key makes concurrent first calls return one customer.
    created = gateway.call(
        gateway.client().customers.create,
        params={"email": email or None, "metadata": metadata},
        options={"idempotency_key": key},
    )
    with transaction.atomic():
        Customer.objects.bulk_create(
            [Customer(kind=kind, user=user, stripe_id=created.id, email=email or "")],
            ignore_conflicts=True,
        )
    return Customer.objects.get(kind=kind, user=user)


def customer_for_user(*, user) -> Customer:
    """The user's Stripe customer in this workspace, created on first need."""
    return _customer_ensure(
        kind=Customer.Kind.USER,
        user=user,
        email=user.email,
        key=f"{_schema()}:customer:user:{user.pk}",
    )


def customer_for_tenant(*, tenant, email: str = "") -> Customer:
    """The workspace's own Stripe customer (billed for its plan), created on first need."""
    return _customer_ensure(
        kind=Customer.Kind.TENANT, user=None, email=email, key=f"{_schema()}:customer:tenant"
    )


# --- Subscriptions --------------------------------------------------------------------------
def _price_for(plan: str) -> str:
    spec = plan_table().get(plan)
    if not spec or not spec["price"]:
        subscribable = [code for code, s in plan_table().items() if s["price"]]
        raise InvalidPlan(
            fields={"plan": [f"Choose one of {', '.join(subscribable) or '(none configured)'}."]}
        )
    return spec["price"]


def _tenant_plan_sync() -> None:
    """Keeps tenants.Tenant.plan (read by other apps and reports) equal to the plan the current
    subscription grants."""
    from tenants.models import Tenant
    from tenants.resolution import hosts_changed

    subscription = selectors.current_subscription()
    if subscription is None:
        return
    plan = selectors.plan_code_for(subscription=subscription, assigned="")
    if plan not in Tenant.Plan.values:
        plan = Tenant.Plan.FREE
    if Tenant.objects.filter(schema_name=_schema()).exclude(plan=plan).update(plan=plan):
        hosts_changed()  # requests carry the tenant (and its plan) from the host memo
    tenant = getattr(connection, "tenant", None)
    if tenant is not None and hasattr(tenant, "plan"):
        tenant.plan = plan


@transaction.atomic
def subscription_apply(*, data: dict) -> Subscription:
    """Writes Stripe's current state of a subscription into the mirror (idempotent)."""
    customer = selectors.customer_for_stripe_id(data["customer"])
    if customer is None:
        raise EventNotReady(f"customer {data['customer']} of {data['id']} is not known here yet")
    items = data.get("items", {}).get("data", [])
    item = items[0] if items else {}
    price_id = (item.get("price") or {}).get("id", "")
    plan = selectors.plan_for_price(price_id) or data.get("metadata", {}).get("plan") or "unknown"
    subscription, _ = Subscription.objects.update_or_create(
        stripe_id=data["id"],
        defaults={
            "customer": customer,
            "stripe_item_id": item.get("id", ""),
            "plan": plan,
            "price_id": price_id,
            "status": data["status"],
            "cancel_at_period_end": bool(data.get("cancel_at_period_end")),
            "current_period_end": _ts(
                item.get("current_period_end") or data.get("current_period_end")
            ),
            "trial_end": _ts(data.get("trial_end")),
            "canceled_at": _ts(data.get("canceled_at")),
        },
    )
    _tenant_plan_sync()
    return subscription


def subscription_sync(*, stripe_id: str) -> Subscription:
    """Re-reads the subscription from Stripe and mirrors it."""
    data = gateway.as_dict(gateway.call(gateway.client().subscriptions.retrieve, stripe_id))
    return subscription_apply(data=data)


def _live_subscription() -> Subscription:
    subscription = selectors.current_subscription()
    if subscription is None or not subscription.is_live:
        raise NoSubscription()
    return subscription


def subscription_start(
    *, tenant, plan: str, trial: bool = False, payment_method: str | None = None, email: str = ""
) -> Subscription:
    """Subscribes the workspace to a plan. A trial is offered only to a workspace that never
    had a subscription."""
    price = _price_for(plan)
    current = selectors.current_subscription()
    if current is not None and current.is_live:
        raise SubscriptionExists()
    customer = customer_for_tenant(tenant=tenant, email=email)
    previous = Subscription.objects.count()
    params: dict = {
        "customer": customer.stripe_id,
        "items": [{"price": price}],
        "metadata": {"tenant": _schema(), "plan": plan},
    }
    if trial and previous == 0 and settings.BILLING_TRIAL_DAYS:
        params["trial_period_days"] = settings.BILLING_TRIAL_DAYS
    if payment_method:
        params["default_payment_method"] = payment_method
    created = gateway.call(
        gateway.client().subscriptions.create,
        params=params,
        # Two clicks on "subscribe" share the key and get one subscription.
        options={"idempotency_key": f"{_schema()}:subscription:{previous + 1}:{plan}"},
    )
    return subscription_apply(data=gateway.as_dict(created))


def subscription_change_plan(
    *, plan: str, proration_behavior: str = "create_prorations"
) -> Subscription:
    """Moves the live subscription to another plan; Stripe prorates the difference."""
    price = _price_for(plan)
    if proration_behavior not in PRORATION_BEHAVIORS:
        raise InvalidPlan(fields={"proration_behavior": [f"One of {PRORATION_BEHAVIORS}."]})
    subscription = _live_subscription()
    if subscription.plan == plan:
        return subscription
    updated = gateway.call(
        gateway.client().subscriptions.update,
        subscription.stripe_id,
        params={
            "items": [{"id": subscription.stripe_item_id, "price": price}],
            "proration_behavior": proration_behavior,
            "metadata": {"plan": plan},
        },
        options={
            "idempotency_key": (
                f"{_schema()}:subscription:{subscription.stripe_id}:plan:{plan}:"
                f"{subscription.updated_at.timestamp():.6f}"
            )
        },
    )
    return subscription_apply(data=gateway.as_dict(updated))


def subscription_cancel(*, at_period_end: bool = True) -> Subscription:
    """Cancels at the end of the paid period (resumable until then), or right away."""
    subscription = _live_subscription()
    client = gateway.client()
    if at_period_end:
        result = gateway.call(
            client.subscriptions.update,
            subscription.stripe_id,
            params={"cancel_at_period_end": True},
        )
    else:
        result = gateway.call(client.subscriptions.cancel, subscription.stripe_id)
    return subscription_apply(data=gateway.as_dict(result))


def subscription_resume() -> Subscription:
    """Takes back a cancellation scheduled for the period's end."""
    subscription = _live_subscription()
    if not subscription.cancel_at_period_end:
        raise NoSubscription("The subscription is not scheduled to end.")
    result = gateway.call(
        gateway.client().subscriptions.update,
        subscription.stripe_id,
        params={"cancel_at_period_end": False},
    )
    return subscription_apply(data=gateway.as_dict(result))


# --- Order payments -------------------------------------------------------------------------
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd"}
CARD_METHODS = ("credit_card", "debit_card")


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal amount -> Stripe's integer in the currency's smallest unit (cents)."""
    exponent = 0 if currency.lower() in ZERO_DECIMAL else 2
    return int((Decimal(amount) * 10**exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(amount: int, currency: str) -> Decimal:
    exponent = 0 if currency.lower() in ZERO_DECIMAL else 2
    return (Decimal(amount) / 10**exponent).quantize(Decimal(1) / 10**exponent)


def _order_payment_status(*, payment: Payment) -> None:
    """The order's payment status follows Stripe's state of the payment, through the orders
    service (which makes a repeated status a no-op and refuses backward moves)."""
    from orders.errors import InvalidPaymentTransition
    from orders.models import Order
    from orders.services import order_payment_status_set

    if payment.amount_received and payment.amount_refunded >= payment.amount_received:
        target = Order.PaymentStatus.REFUNDED
    elif payment.status == Payment.Status.SUCCEEDED:
        target = Order.PaymentStatus.PAID
    elif payment.status == Payment.Status.REQUIRES_PAYMENT_METHOD and payment.last_error:
        target = Order.PaymentStatus.FAILED
    else:
        return
    details = {
        "stripe_payment_intent": payment.stripe_id,
        "amount_refunded": str(from_minor(payment.amount_refunded, payment.currency)),
    }
    try:
        order_payment_status_set(
            order_id=payment.order_id,
            status=target,
            reference=payment.stripe_id,
            details=details,
            note="Stripe",
        )
    except InvalidPaymentTransition as exc:
        # e.g. a failed attempt reported after another one paid: the order keeps its state.
        logger.info("Order %s payment stays: %s", payment.order_id, exc.message)


@transaction.atomic
def payment_apply(*, data: dict) -> Payment:
    """Writes Stripe's current state of a PaymentIntent into the mirror and the order."""
    payment = Payment.objects.select_for_update().filter(stripe_id=data["id"]).first()
    if payment is None:
        raise EventNotReady(f"payment {data['id']} is not known here yet")
    error = data.get("last_payment_error") or {}
    payment.status = data["status"]
    payment.amount_received = int(data.get("amount_received") or 0)
    payment.last_error = (error.get("message") or "")[:500] if error else ""
    payment.save(update_fields=["status", "amount_received", "last_error", "updated_at"])
    _order_payment_status(payment=payment)
    return payment


def payment_sync(*, stripe_id: str) -> Payment:
    data = gateway.as_dict(gateway.call(gateway.client().payment_intents.retrieve, stripe_id))
    return payment_apply(data=data)


def payment_for_order(*, order) -> tuple[Payment, str]:
    """A PaymentIntent for the order's server-side total (client amounts are never used);
    returns the payment and the client secret for Stripe.js. Asking again returns the open
    payment; an open payment whose amount no longer matches is canceled and replaced."""
    from orders.models import Order

    if order.status != Order.Status.PENDING or order.payment_status not in (
        Order.PaymentStatus.PENDING,
        Order.PaymentStatus.FAILED,
    ):
        raise OrderNotPayable(
            f"Order {order.number} is {order.status} and {order.payment_status}.",
        )
    if order.payment_method not in CARD_METHODS:
        raise OrderNotPayable(f"Order {order.number} is paid by {order.payment_method}.")
    currency = order.currency.lower()
    amount = to_minor(order.total, currency)
    if amount <= 0:
        raise OrderNotPayable(f"Order {order.number} has nothing to pay.")
    client = gateway.client()
    open_payment = Payment.objects.filter(order=order).exclude(status="canceled").first()
    if open_payment is not None:
        if open_payment.amount == amount and open_payment.currency == currency:
            intent = gateway.call(client.payment_intents.retrieve, open_payment.stripe_id)
            return payment_apply(data=gateway.as_dict(intent)), intent.client_secret
        payment_cancel(payment=open_payment)
    customer = customer_for_user(user=order.customer)
    attempt = Payment.objects.filter(order=order).count() + 1
    # Derived from the order: a doubled request (two tabs, a retry) gets the same intent.
    key = f"{_schema()}:order:{order.pk}:payment:{attempt}:{amount}{currency}"
    intent = gateway.call(
        client.payment_intents.create,
        params={
            "amount": amount,
            "currency": currency,
            "customer": customer.stripe_id,
            "metadata": {
                "tenant": _schema(),
                "order_id": str(order.pk),
                "order_number": order.number,
            },
            "automatic_payment_methods": {"enabled": True},
        },
        options={"idempotency_key": key},
    )
    with transaction.atomic():
        Payment.objects.bulk_create(
            [
                Payment(
                    order=order,
                    customer=customer,
                    stripe_id=intent.id,
                    amount=amount,
                    currency=currency,
                    status=intent.status,
                    idempotency_key=key,
                )
            ],
            ignore_conflicts=True,
        )
    return Payment.objects.get(stripe_id=intent.id), intent.client_secret


def payment_confirm(*, payment: Payment, payment_method: str) -> Payment:
    """Server-side confirmation with a payment method (clients usually confirm with Stripe.js)."""
    client = gateway.client()
    try:
        intent = gateway.call(
            client.payment_intents.confirm,
            payment.stripe_id,
            params={"payment_method": payment_method},
        )
    except PaymentDeclined:
        payment_sync(stripe_id=payment.stripe_id)  # records the failure on the order
        raise
    return payment_apply(data=gateway.as_dict(intent))


def payment_cancel(*, payment: Payment) -> Payment:
    if payment.status in (Payment.Status.CANCELED, Payment.Status.SUCCEEDED):
        raise PaymentNotCancelable(f"The payment is {payment.status}.")
    intent = gateway.call(gateway.client().payment_intents.cancel, payment.stripe_id)
    return payment_apply(data=gateway.as_dict(intent))


@transaction.atomic
def refund_apply(*, data: dict, created_by=None) -> Refund:
    """Writes Stripe's state of a refund; the payment's refunded total and the order follow."""
    payment = (
        Payment.objects.select_for_update().filter(stripe_id=data.get("payment_intent")).first()
    )
    if payment is None:
        raise EventNotReady(f"payment {data.get('payment_intent')} is not known here yet")
    refund, created = Refund.objects.get_or_create(
        stripe_id=data["id"],
        defaults={
            "payment": payment,
            "amount": int(data["amount"]),
            "status": data["status"],
            "reason": data.get("reason") or "",
            "created_by": created_by,
        },
    )
    if not created and refund.status != data["status"]:
        refund.status = data["status"]
        refund.save(update_fields=["status", "updated_at"])
    refunded = sum(r.amount for r in payment.refunds.all() if r.status in ("succeeded", "pending"))
    payment.amount_refunded = min(refunded, payment.amount_received)
    payment.save(update_fields=["amount_refunded", "updated_at"])
    _order_payment_status(payment=payment)
    return refund


def refund_sync(*, stripe_id: str) -> Refund:
    data = gateway.as_dict(gateway.call(gateway.client().refunds.retrieve, stripe_id))
    return refund_apply(data=data)


def refund_create(
    *, payment: Payment, amount: int | None = None, reason: str = "", actor=None
) -> Refund:
    """Refunds all that is left of the payment, or `amount` (minor units) of it."""
    payment = payment_sync(stripe_id=payment.stripe_id)
    if payment.status != Payment.Status.SUCCEEDED or payment.refundable <= 0:
        raise RefundNotAllowed("Nothing of this payment can be refunded.")
    amount = payment.refundable if amount is None else amount
    if amount <= 0 or amount > payment.refundable:
        raise InvalidRefund(
            f"At most {from_minor(payment.refundable, payment.currency)} can be refunded.",
            fields={"amount": ["Greater than what is left to refund."]},
        )
    number = payment.refunds.count() + 1
    params: dict = {
        "payment_intent": payment.stripe_id,
        "amount": amount,
        "metadata": {"tenant": _schema(), "order_id": str(payment.order_id)},
    }
    if reason:
        params["reason"] = reason
    refund = gateway.call(
        gateway.client().refunds.create,
        params=params,
        options={"idempotency_key": f"{_schema()}:refund:{payment.stripe_id}:{number}:{amount}"},
    )
    return refund_apply(data=gateway.as_dict(refund), created_by=actor)


def _handle_payment_intent(obj: dict) -> None:
    payment = payment_sync(stripe_id=obj["id"])
    refund_if_order_cancelled(payment=payment)


def refund_if_order_cancelled(*, payment: Payment) -> Refund | None:
    """Money that arrives for an order already cancelled (by the customer, or expired while the
    customer was paying) goes back: the order stays cancelled and the payment is refunded."""
    from orders.models import Order

    order = Order.objects.only("status").get(pk=payment.order_id)
    if (
        order.status != Order.Status.CANCELLED
        or payment.status != Payment.Status.SUCCEEDED
        or payment.refundable <= 0
    ):
        return None
    logger.info("Refunding %s: order %s is cancelled", payment.stripe_id, payment.order_id)
    return refund_create(payment=payment, reason=Refund.Reason.REQUESTED_BY_CUSTOMER)


def _handle_refund(obj: dict) -> None:
    refund_sync(stripe_id=obj["id"])


# --- Webhook ledger -------------------------------------------------------------------------
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


def _handle_subscription(obj: dict) -> None:
    subscription_sync(stripe_id=obj["id"])


def _handle_invoice(obj: dict) -> None:
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    stripe_id = parent.get("subscription") or obj.get("subscription")
    if stripe_id:
        subscription_sync(stripe_id=stripe_id)


# Handlers get the event's object but act on Stripe's current state of it (re-read), so late,
# doubled or reordered events all converge on the same rows.
HANDLERS = {
    "customer.subscription.created": _handle_subscription,
    "customer.subscription.updated": _handle_subscription,
    "customer.subscription.deleted": _handle_subscription,
    "customer.subscription.paused": _handle_subscription,
    "customer.subscription.resumed": _handle_subscription,
    "customer.subscription.trial_will_end": _handle_subscription,
    "invoice.paid": _handle_invoice,
    "invoice.payment_failed": _handle_invoice,
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
