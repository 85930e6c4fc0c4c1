"""The order status state machine: one transition (under the order's row lock) or many."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog import services as catalog_services
from core.errors import DomainError
from orders.errors import InvalidOrderData, InvalidTransition, OrderNotFound, OrderNotPaid
from orders.models import Order
from orders.services._common import customer_notify, history_entry, lock_order
from orders.services.outbox import record_order_change

S = Order.Status

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


def allowed_transitions(status: str) -> list[str]:
    return [str(s) for s in TRANSITIONS.get(status, ())]


def _release_stock(order: Order, actor, note: str) -> None:
    catalog_services.stock_release(
        items=[(line["product_id"], line["quantity"]) for line in order.items],
        reference=order.number,
        user=actor,
        note=note,
    )


def _cash_on_delivery_payment(order: Order, status: str, now) -> dict[str, Any]:
    """Cash on delivery is paid when the delivery is confirmed and handed back when the order is
    refunded; card payments follow the payment provider (order_payment_status_set)."""
    if order.payment_method != Order.PaymentMethod.CASH_ON_DELIVERY:
        return {}
    target = {S.DELIVERED: Order.PaymentStatus.PAID, S.REFUNDED: Order.PaymentStatus.REFUNDED}
    payment = target.get(status)
    if payment is None or order.payment_status == payment:
        return {}
    previous = order.payment_status
    order.payment_status = payment
    if payment == Order.PaymentStatus.PAID:
        order.paid_at = now
    return {"payment": str(payment), "payment_from": str(previous)}


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
    stock through the catalog's ledger (reference = the order number) and stores `reason`;
    refunding lowers the products' purchase counts (it is no longer a sale).
    Shipping may record a tracking number. A transition not allowed from the current status
    raises InvalidTransition (409) carrying the current status and the allowed ones; refunding
    an order whose payment is not paid raises OrderNotPaid (409). A cash-on-delivery order
    becomes paid on delivery and its payment refunded with it.
    """
    order = lock_order(order_id)
    allowed = allowed_transitions(order.status)
    if status not in allowed:
        raise InvalidTransition(
            f"An order that is {order.status} cannot become {status}.",
            current_status=order.status,
            allowed=allowed,
        )
    if status == S.REFUNDED and order.payment_status != Order.PaymentStatus.PAID:
        raise OrderNotPaid(
            f"The order's payment is {order.payment_status}: nothing to refund.",
            payment_status=order.payment_status,
        )
    previous = order.status
    now = timezone.now()
    order.status = status
    setattr(order, TIMESTAMP_FIELDS[status], now)
    extra = _cash_on_delivery_payment(order, status, now)
    if status == S.CANCELLED:
        order.cancel_reason = reason[:255]
        extra["reason"] = reason
        _release_stock(order, actor, note=f"Order cancelled: {reason}" if reason else "")
    if status == S.REFUNDED:
        # No longer a sale: the purchase counts follow (the stock moves only if goods return).
        catalog_services.sale_reverse(
            items=[(line["product_id"], line["quantity"]) for line in order.items]
        )
    if status == S.SHIPPED and tracking_number:
        order.tracking_number = tracking_number
        extra["tracking_number"] = tracking_number
    order.history = [*order.history, history_entry(status, previous, actor, note, **extra)]
    order.save()
    record_order_change(order=order)
    customer_notify(order=order, template="order_status_changed")
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
