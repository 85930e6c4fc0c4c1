"""Stock: adjustments, reservations for orders and their release, all on the inventory ledger.

Every change locks the product rows in ascending id order and writes one ledger line per
product, so the ledger explains every unit and concurrent changes never deadlock.
"""

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from catalog.errors import (
    InsufficientStock,
    InvalidCatalogData,
    ProductNotFound,
    ProductUnavailable,
    ReleaseExceedsReservation,
)
from catalog.models import STOCK_MAX, InventoryMovement, Product


def _normalise_items(items: Mapping[int, int] | Iterable[tuple[int, int]]) -> dict[int, int]:
    pairs = items.items() if isinstance(items, Mapping) else items
    merged: dict[int, int] = {}
    for product_id, quantity in pairs:
        if int(quantity) <= 0:
            raise InvalidCatalogData(fields={"quantity": ["Quantities must be positive."]})
        merged[int(product_id)] = merged.get(int(product_id), 0) + int(quantity)
    if not merged:
        raise InvalidCatalogData(fields={"items": ["At least one item is required."]})
    return merged


def _apply_stock_changes(
    *,
    deltas: dict[int, int],
    reason: str,
    reference: str = "",
    note: str = "",
    user=None,
    include_deleted: bool = False,
    require_active: bool = False,
) -> list[InventoryMovement]:
    # Locks every row in ascending id order: two transactions touching overlapping products
    # always lock in the same order, so they queue instead of deadlocking.
    queryset = Product.objects.select_for_update().filter(id__in=sorted(deltas)).order_by("id")
    if not include_deleted:
        queryset = queryset.live()
    products = list(
        queryset.only("id", "price", "stock_quantity", "purchase_count", "status", "deleted_at")
    )
    found = {p.id for p in products}
    missing = sorted(set(deltas) - found)
    if missing:
        raise ProductNotFound(f"Unknown product ids: {missing}.", product_ids=missing)
    if require_active:
        unavailable = [p.id for p in products if p.status != Product.Status.ACTIVE]
        if unavailable:
            raise ProductUnavailable(
                "Only active products can be reserved.", product_ids=unavailable
            )
    short = [
        {"product_id": p.id, "requested": -deltas[p.id], "available": p.stock_quantity}
        for p in products
        if p.stock_quantity + deltas[p.id] < 0
    ]
    if short:
        raise InsufficientStock(items=short)
    over = [p.id for p in products if p.stock_quantity + deltas[p.id] > STOCK_MAX]
    if over:
        raise InvalidCatalogData(
            fields={"quantity": [f"Stock may not exceed {STOCK_MAX:,}."]}, product_ids=over
        )

    now = timezone.now()
    priced = reason in (InventoryMovement.Reason.RESERVATION, InventoryMovement.Reason.RELEASE)
    movements = []
    for product in products:
        delta = deltas[product.id]
        before = product.stock_quantity
        product.stock_quantity = before + delta
        if reason == InventoryMovement.Reason.RESERVATION:
            product.purchase_count += -delta
        elif reason == InventoryMovement.Reason.RELEASE:
            product.purchase_count = max(0, product.purchase_count - delta)
        movements.append(
            InventoryMovement(
                product_id=product.id,
                reason=reason,
                quantity=delta,
                stock_before=before,
                stock_after=product.stock_quantity,
                unit_price=product.price if priced else None,
                reference=reference,
                note=note,
                created_by=user,
                created_at=now,
            )
        )
    Product.objects.bulk_update(products, ["stock_quantity", "purchase_count"])
    return InventoryMovement.objects.bulk_create(movements)


@transaction.atomic
def stock_adjust(
    *,
    product_id: int,
    quantity: int,
    reason: str = InventoryMovement.Reason.ADJUSTMENT,
    reference: str = "",
    note: str = "",
    user=None,
) -> InventoryMovement:
    """Adds (quantity > 0) or removes (quantity < 0) stock of one product, under a row lock.

    Refuses (InsufficientStock, 409) a removal below zero; writes one ledger line.
    """
    if quantity == 0:
        raise InvalidCatalogData(fields={"quantity": ["Must not be zero."]})
    if reason in (InventoryMovement.Reason.RESERVATION, InventoryMovement.Reason.RELEASE):
        raise InvalidCatalogData(fields={"reason": ["Use stock_reserve / stock_release."]})
    (movement,) = _apply_stock_changes(
        deltas={product_id: quantity}, reason=reason, reference=reference, note=note, user=user
    )
    return movement


@transaction.atomic
def stock_reserve(
    *,
    items: Mapping[int, int] | Iterable[tuple[int, int]],
    reference: str,
    note: str = "",
    user=None,
) -> list[InventoryMovement]:
    """Takes stock for an order: all the items or none of them.

    items: {product_id: quantity} or [(product_id, quantity), ...]; repeated ids are summed.
    reference: the order's identifier; stock_release checks releases against it.

    In one transaction (joining the caller's, e.g. checkout creating the order), every product
    row is locked in ascending id order, so concurrent checkouts over overlapping products never
    deadlock and never oversell. Raises ProductNotFound (unknown or deleted ids),
    ProductUnavailable (a product not active) or InsufficientStock (409, with
    {"product_id", "requested", "available"} per short item) and then changes nothing.
    On success each product's stock goes down and its purchase count up, and one ledger line
    (reason "reservation", with the unit price at that moment) is written per product; the
    ledger lines are returned in product id order.
    """
    return _apply_stock_changes(
        deltas={pid: -qty for pid, qty in _normalise_items(items).items()},
        reason=InventoryMovement.Reason.RESERVATION,
        reference=reference,
        note=note,
        user=user,
        require_active=True,
    )


@transaction.atomic
def stock_release(
    *,
    items: Mapping[int, int] | Iterable[tuple[int, int]],
    reference: str,
    note: str = "",
    user=None,
) -> list[InventoryMovement]:
    """Puts reserved stock back (an order cancelled, or a line removed): the inverse of
    stock_reserve for the same reference.

    Same locking order and all-or-nothing behaviour. Works for products soft-deleted since the
    reservation. Refuses (ReleaseExceedsReservation, 409) to release more of a product than is
    still reserved under `reference`, so cancelling an order twice cannot create stock.
    Writes ledger lines with reason "release" and lowers the purchase count.
    """
    wanted = _normalise_items(items)
    with transaction.atomic():
        # Lock the products first so concurrent releases of one reference are serialised.
        list(
            Product.objects.select_for_update()
            .filter(id__in=sorted(wanted))
            .order_by("id")
            .values_list("id", flat=True)
        )
        outstanding = dict(
            InventoryMovement.objects.filter(
                reference=reference,
                product_id__in=wanted,
                reason__in=[
                    InventoryMovement.Reason.RESERVATION,
                    InventoryMovement.Reason.RELEASE,
                ],
            )
            .values("product_id")
            .annotate(reserved=-Sum("quantity"))
            .values_list("product_id", "reserved")
        )
        over = [
            {"product_id": pid, "requested": qty, "reserved": outstanding.get(pid, 0)}
            for pid, qty in sorted(wanted.items())
            if qty > outstanding.get(pid, 0)
        ]
        if over:
            raise ReleaseExceedsReservation(items=over)
        return _apply_stock_changes(
            deltas=wanted,
            reason=InventoryMovement.Reason.RELEASE,
            reference=reference,
            note=note,
            user=user,
            include_deleted=True,
        )


@transaction.atomic
def sale_reverse(*, items: Mapping[int, int] | Iterable[tuple[int, int]]) -> None:
    """A sale refunded: the products' purchase counts go down by the refunded quantities, so
    "most purchased" agrees with the sales figures. No stock moves (goods that come back are
    put in stock with stock_adjust(reason="return")); products soft-deleted since are included.
    """
    wanted = _normalise_items(items)
    products = list(
        Product.objects.select_for_update()
        .filter(id__in=sorted(wanted))
        .order_by("id")
        .only("id", "purchase_count")
    )
    for product in products:
        product.purchase_count = max(0, product.purchase_count - wanted[product.id])
    Product.objects.bulk_update(products, ["purchase_count"])
