"""Checkout: places an order (validate, reserve the stock, price the lines, write, notify), with
idempotency keys for safe retries."""

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog import services as catalog_services
from catalog.errors import ProductNotFound
from catalog.models import Product
from orders.errors import IdempotencyKeyReused, InvalidOrderData
from orders.models import IdempotencyKey, Order
from orders.pricing import compute_totals, discount_for, money, priced_lines
from orders.services._common import customer_notify, history_entry
from orders.services.outbox import record_order_change

MAX_LINES = 100
MAX_QUANTITY = 10_000
# Order amounts are numeric(12, 2).
MAX_AMOUNT = Decimal("9999999999.99")


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


def _snapshot_products(product_ids: list[int]) -> dict[int, Product]:
    """What the line snapshot keeps of each product: name, SKU and attributes."""
    if not product_ids:
        return {}
    products = Product.objects.filter(id__in=product_ids).only("id", "name", "sku", "attributes")
    return {p.id: p for p in products}


def _stock_reserve(*, lines: list[tuple[int, int]], number: str, customer) -> dict[int, Decimal]:
    """Reserves the lines' stock under the order number; returns the unit prices charged."""
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
    return {m.product_id: m.unit_price for m in movements}


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
    products = _snapshot_products([pid for pid, _ in lines])
    unit_prices = _stock_reserve(lines=lines, number=number, customer=customer)
    # Products committed between the read above and the reservation.
    products.update(_snapshot_products([pid for pid, _ in lines if pid not in products]))

    line_items, subtotal = priced_lines(lines=lines, products=products, unit_prices=unit_prices)
    totals = compute_totals(subtotal=subtotal, discount_code=discount_code)
    if max(totals.subtotal, totals.total) > MAX_AMOUNT:
        # Raised inside the transaction: the reservation above is rolled back with it.
        raise InvalidOrderData(
            fields={"items": [f"The order total may not exceed {MAX_AMOUNT:,}."]}
        )

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
        items=line_items,
        shipping_address=dict(shipping_address),
        billing_address=dict(billing_address or shipping_address),
        metadata=dict(metadata or {}),
        notes=notes,
        history=[history_entry(Order.Status.PENDING, None, customer)],
        created_at=now,
        expires_at=now + timedelta(minutes=settings.ORDERS_PENDING_TTL_MINUTES),
    )
    if idempotency_key:
        IdempotencyKey.objects.filter(customer_id=customer.pk, key=idempotency_key).update(
            order=order
        )
    record_order_change(order=order)

    customer_notify(order=order, template="order_confirmation")
    return order, True
