"""Every write of orders: checkout, the status state machine, payment status, expiry.

Lock order, everywhere: an idempotency key row, then the order row, then product rows (in
ascending id order, inside catalog.services). Stock only moves through catalog.services
(stock_reserve / stock_release), so the inventory ledger explains every unit.
"""

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog import services as catalog_services
from catalog.errors import ProductNotFound
from catalog.models import Product
from core.errors import DomainError
from orders.errors import (
    IdempotencyKeyReused,
    InvalidOrderData,
    InvalidPaymentTransition,
    InvalidTransition,
    OrderNotFound,
)
from orders.models import IdempotencyKey, Order
from orders.pricing import compute_totals, discount_for, money

S = Order.Status
P = Order.PaymentStatus

MAX_LINES = 100
MAX_QUANTITY = 10_000
BULK_LIMIT = 500

# The state machine. Cancelling is allowed until the order ships.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.PENDING: (S.CONFIRMED, S.CANCELLED),
    S.CONFIRMED: (S.PROCESSING, S.CANCELLED),
    S.PROCESSING: (S.SHIPPED, S.CANCELLED),
    S.SHIPPED: (S.DELIVERED,),
    S.DELIVERED: (S.REFUNDED,),
    S.CANCELLED: (),
    S.REFUNDED: (),
}
TIMESTAMP_FIELDS = {
    S.CONFIRMED: "confirmed_at",
    S.PROCESSING: "processing_at",
    S.SHIPPED: "shipped_at",
    S.DELIVERED: "delivered_at",
    S.CANCELLED: "cancelled_at",
    S.REFUNDED: "refunded_at",
}
PAYMENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    P.PENDING: (P.PAID, P.FAILED),
    P.FAILED: (P.PAID, P.PENDING),
    P.PAID: (P.REFUNDED,),
    P.REFUNDED: (),
}
# Payment states in which a pending order still waits for its money (and may expire).
UNPAID = (P.PENDING, P.FAILED)


def allowed_transitions(status: str) -> list[str]:
    return [str(s) for s in TRANSITIONS.get(status, ())]


# --- checkout -------------------------------------------------------------------------------


def _merge_items(items: Iterable[Mapping[str, Any]]) -> list[tuple[int, int]]:
    """[(product_id, quantity)] in first-seen order, repeated products summed."""
    merged: dict[int, int] = {}
    for item in items:
        product_id, quantity = int(item["product_id"]), int(item["quantity"])
        if quantity <= 0:
            raise InvalidOrderData(fields={"items": ["Quantities must be positive."]})
        merged[product_id] = merged.get(product_id, 0) + quantity
    if not merged:
        raise InvalidOrderData(fields={"items": ["At least one item is required."]})
    if len(merged) > MAX_LINES:
        raise InvalidOrderData(fields={"items": [f"At most {MAX_LINES} different products."]})
    if any(q > MAX_QUANTITY for q in merged.values()):
        raise InvalidOrderData(fields={"items": [f"At most {MAX_QUANTITY} of one product."]})
    return list(merged.items())


def request_fingerprint(payload: Mapping[str, Any]) -> str:
    """A stable hash of a checkout request (key order and whitespace do not matter)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim_idempotency_key(*, customer_id, key: str, fingerprint: str) -> IdempotencyKey | None:
    """Inserts the key row, or returns the row another request already committed.

    INSERT .. ON CONFLICT DO NOTHING waits for a concurrent transaction holding the same key:
    when that one commits, this finds its row (and its order); when it rolls back, this one
    claims the key and goes on.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_idempotencykey (customer_id, key, fingerprint, created_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (customer_id, key) DO NOTHING RETURNING id",
            [customer_id, key, fingerprint, timezone.now()],
        )
        if cursor.fetchone() is not None:
            return None
    existing = IdempotencyKey.objects.select_related("order").get(customer_id=customer_id, key=key)
    if existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused(fields={"Idempotency-Key": ["Used with a different request."]})
    return existing


def _new_number() -> str:
    return f"ORD-{timezone.now():%y%m%d}-{secrets.token_hex(4).upper()}"


def _history_entry(status: str, previous: str | None, actor, note: str = "", **extra) -> dict:
    entry = {
        "status": status,
        "from": previous,
        "at": timezone.now().isoformat(),
        "by": str(actor.pk) if actor is not None else None,
    }
    if note:
        entry["note"] = note
    entry.update(extra)
    return entry


@transaction.atomic
def order_checkout(
    *,
    customer,
    items: Iterable[Mapping[str, Any]],
    shipping_address: Mapping[str, Any],
    payment_method: str,
    billing_address: Mapping[str, Any] | None = None,
    discount_code: str = "",
    notes: str = "",
    metadata: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> tuple[Order, bool]:
    """Places an order: reserves the stock and writes the order in one transaction.

    items: [{"product_id", "quantity"}, ...] (anything else a client sends, prices included, is
    ignored: unit prices are the catalog's, read under the row locks). Returns (order, created);
    with an idempotency_key already used by this customer for the same request, returns
    (that order, False) and changes nothing; for a different request raises
    IdempotencyKeyReused (422). Stock errors come from the catalog: InsufficientStock and
    ProductUnavailable (409); unknown products are InvalidOrderData (400).
    """
    lines = _merge_items(items)
    discount_code = (discount_code or "").strip().upper()
    if idempotency_key:
        fingerprint = request_fingerprint(
            {
                "items": lines,
                "shipping_address": shipping_address,
                "billing_address": billing_address,
                "payment_method": payment_method,
                "discount_code": discount_code,
                "notes": notes,
                "metadata": metadata or {},
            }
        )
        existing = _claim_idempotency_key(
            customer_id=customer.pk, key=idempotency_key, fingerprint=fingerprint
        )
        if existing is not None:
            return existing.order, False
    if discount_code and discount_for(discount_code, money(0)) is None:
        raise InvalidOrderData(fields={"discount_code": ["Unknown discount code."]})

    number = _new_number()
    # Names and SKUs are read before the row locks are taken, which keeps the locks (and so
    # the queue of checkouts of a popular product) short.
    products = {
        p.id: p
        for p in Product.objects.filter(id__in=[pid for pid, _ in lines]).only(
            "id", "name", "sku", "attributes"
        )
    }
    try:
        movements = catalog_services.stock_reserve(
            items=lines, reference=number, user=customer, note="Checkout"
        )
    except ProductNotFound as exc:
        ids = exc.extra.get("product_ids", [])
        raise InvalidOrderData(
            fields={"items": [f"Unknown products: {ids}."]}, product_ids=ids
        ) from exc
    # The reservation read the prices under the row locks: these are the prices charged.
    unit_prices = {m.product_id: m.unit_price for m in movements}
    snapshot = []
    subtotal = money(0)
    missing = [pid for pid, _ in lines if pid not in products]
    if missing:  # committed between the read above and the reservation
        products.update(
            (p.id, p)
            for p in Product.objects.filter(id__in=missing).only("id", "name", "sku", "attributes")
        )
    for product_id, quantity in lines:
        product, price = products[product_id], unit_prices[product_id]
        line_total = money(price * quantity)
        subtotal += line_total
        snapshot.append(
            {
                "product_id": product_id,
                "name": product.name,
                "sku": product.sku,
                "unit_price": str(money(price)),
                "quantity": quantity,
                "subtotal": str(line_total),
                "attributes": product.attributes or {},
            }
        )
    totals = compute_totals(subtotal=subtotal, discount_code=discount_code)
    now = timezone.now()
    order = Order.objects.create(
        number=number,
        customer=customer,
        customer_email=getattr(customer, "email", "") or "",
        payment_method=payment_method,
        currency=settings.ORDERS_CURRENCY,
        subtotal=totals.subtotal,
        discount_amount=totals.discount_amount,
        discount_code=discount_code,
        tax_amount=totals.tax_amount,
        shipping_amount=totals.shipping_amount,
        total=totals.total,
        item_count=sum(q for _, q in lines),
        items=snapshot,
        shipping_address=dict(shipping_address),
        billing_address=dict(billing_address or shipping_address),
        metadata=dict(metadata or {}),
        notes=notes,
        history=[_history_entry(S.PENDING, None, customer)],
        created_at=now,
        expires_at=now + timedelta(minutes=settings.ORDERS_PENDING_TTL_MINUTES),
    )
    if idempotency_key:
        IdempotencyKey.objects.filter(customer_id=customer.pk, key=idempotency_key).update(
            order=order
        )
    _customer_notify(order=order, template="order_confirmation")
    return order, True


# --- the state machine ----------------------------------------------------------------------


def _customer_notify(*, order: Order, template: str) -> None:
    """Emails the customer (and notifies them in the app) once the transaction commits."""
    from notifications.services import notify

    if order.customer_id is None:
        return
    notify(
        user=order.customer,
        template=template,
        context={
            "order_number": order.number,
            "status": order.status,
            "items": [
                {"name": i["name"], "quantity": i["quantity"], "total": i["subtotal"]}
                for i in order.items
            ],
            "total": str(order.total),
            "currency": order.currency,
            "url": f"/orders/{order.number}",
        },
    )


def _lock_order(order_id: int) -> Order:
    order = Order.objects.select_for_update().filter(id=order_id).first()
    if order is None:
        raise OrderNotFound()
    return order


def _release_stock(order: Order, actor, note: str) -> None:
    catalog_services.stock_release(
        items=[(line["product_id"], line["quantity"]) for line in order.items],
        reference=order.number,
        user=actor,
        note=note,
    )


@transaction.atomic
def order_transition(
    *,
    order_id: int,
    status: str,
    actor=None,
    note: str = "",
    reason: str = "",
    tracking_number: str = "",
) -> Order:
    """Moves an order along the state machine (TRANSITIONS), under the order's row lock.

    Sets the status's timestamp and appends to the history. Cancelling releases the reserved
    stock through the catalog's ledger (reference = the order number) and stores `reason`.
    Shipping may record a tracking number. A transition not allowed from the current status
    raises InvalidTransition (409) carrying the current status and the allowed ones.
    """
    order = _lock_order(order_id)
    allowed = allowed_transitions(order.status)
    if status not in allowed:
        raise InvalidTransition(
            f"An order that is {order.status} cannot become {status}.",
            current_status=order.status,
            allowed=allowed,
        )
    previous = order.status
    now = timezone.now()
    order.status = status
    setattr(order, TIMESTAMP_FIELDS[status], now)
    extra = {}
    if status == S.CANCELLED:
        order.cancel_reason = reason[:255]
        extra["reason"] = reason
        _release_stock(order, actor, note=f"Order cancelled: {reason}" if reason else "")
    if status == S.SHIPPED and tracking_number:
        order.tracking_number = tracking_number
        extra["tracking_number"] = tracking_number
    order.history = [*order.history, _history_entry(status, previous, actor, note, **extra)]
    order.save()
    _customer_notify(order=order, template="order_status_changed")
    return order


def orders_bulk_transition(
    *, order_ids: list[int], status: str, actor=None, note: str = "", reason: str = ""
) -> list[dict[str, Any]]:
    """Applies one transition to up to BULK_LIMIT orders, each in its own transaction.

    Returns one result per id, in the order given: {"id", "result": "ok", "status"} or
    {"id", "result": "not_found"} or {"id", "result": "invalid_transition", "status",
    "allowed"} or {"id", "result": "error", "code", "message"} (another domain error, e.g.
    from the catalog). One order's failure never undoes another's change.
    """
    if len(order_ids) > BULK_LIMIT:
        raise InvalidOrderData(fields={"ids": [f"At most {BULK_LIMIT} orders."]})
    outcome: dict[int, dict[str, Any]] = {}
    for order_id in sorted(set(order_ids)):
        try:
            order = order_transition(
                order_id=order_id, status=status, actor=actor, note=note, reason=reason
            )
        except OrderNotFound:
            outcome[order_id] = {"id": order_id, "result": "not_found"}
        except InvalidTransition as exc:
            outcome[order_id] = {
                "id": order_id,
                "result": "invalid_transition",
                "status": exc.extra["current_status"],
                "allowed": exc.extra["allowed"],
            }
        except DomainError as exc:  # e.g. the catalog refusing a release
            outcome[order_id] = {
                "id": order_id,
                "result": "error",
                "code": exc.code,
                "message": exc.message,
            }
        else:
            outcome[order_id] = {"id": order_id, "result": "ok", "status": order.status}
    return [outcome[order_id] for order_id in order_ids]


# --- payment --------------------------------------------------------------------------------


@transaction.atomic
def order_payment_status_set(
    *,
    order_id: int,
    status: str,
    reference: str = "",
    details: Mapping[str, Any] | None = None,
    method: str | None = None,
    actor=None,
    note: str = "",
) -> Order:
    """The one way the payment status of an order changes (for billing and payment webhooks).

    Allowed: pending -> paid | failed, failed -> paid | pending (a new attempt), paid ->
    refunded. Setting the status the order already has is a no-op that returns the order, so
    a webhook delivered twice is harmless. Anything else raises InvalidPaymentTransition (409).
    `reference` is the provider's payment id (e.g. a Stripe PaymentIntent id), `details` is
    merged into payment_details, `method` may correct the payment method. Paying sets paid_at
    and stops the order from expiring. The order status is not changed here: confirm a paid
    order with order_transition(status="confirmed"); an order cancelled (or expired) before the
    money arrived stays cancelled and its payment has to be refunded by the caller.
    """
    order = _lock_order(order_id)
    if status == order.payment_status:
        return order
    allowed = list(PAYMENT_TRANSITIONS.get(order.payment_status, ()))
    if status not in allowed:
        raise InvalidPaymentTransition(
            f"A payment that is {order.payment_status} cannot become {status}.",
            current_status=order.payment_status,
            allowed=[str(s) for s in allowed],
        )
    previous = order.payment_status
    order.payment_status = status
    if status == P.PAID:
        order.paid_at = timezone.now()
    if reference:
        order.payment_reference = reference
    if details:
        order.payment_details = {**order.payment_details, **details}
    if method:
        if method not in Order.PaymentMethod.values:
            raise InvalidOrderData(fields={"method": ["Unknown payment method."]})
        order.payment_method = method
    entry = _history_entry(order.status, order.status, actor, note, payment=status)
    entry["payment_from"] = previous
    order.history = [*order.history, entry]
    order.save()
    return order


# --- expiry and housekeeping ----------------------------------------------------------------


@transaction.atomic
def order_expire(*, order_id: int, now=None) -> bool:
    """Cancels one unpaid pending order whose time is up, releasing its stock.

    Checked again under the row lock (it may have been paid meanwhile); returns whether it
    expired.
    """
    now = now or timezone.now()
    order = _lock_order(order_id)
    if not (
        order.status == S.PENDING
        and order.payment_status in UNPAID
        and order.expires_at is not None
        and order.expires_at <= now
    ):
        return False
    order_transition(
        order_id=order.id, status=S.CANCELLED, reason="expired", note="Unpaid order expired"
    )
    return True


def orders_expire_due(*, now=None, limit: int = 1000) -> int:
    """Expires up to `limit` due orders of the current tenant, each in its own transaction."""
    from orders.selectors import orders_due_for_expiry

    now = now or timezone.now()
    expired = 0
    for order_id in orders_due_for_expiry(now=now, limit=limit):
        try:
            expired += order_expire(order_id=order_id, now=now)
        except IntegrityError:  # pragma: no cover - left for the next run
            continue
    return expired


@transaction.atomic
def idempotency_keys_purge(*, older_than_hours: int | None = None) -> int:
    hours = older_than_hours or settings.ORDERS_IDEMPOTENCY_KEY_HOURS
    cutoff = timezone.now() - timedelta(hours=hours)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
