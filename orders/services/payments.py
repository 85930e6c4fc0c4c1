"""The payment status of orders: the one place it changes (billing and payment webhooks)."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from orders.errors import InvalidOrderData, InvalidPaymentTransition
from orders.models import Order
from orders.services._common import history_entry, lock_order
from orders.services.outbox import record_order_change

P = Order.PaymentStatus

PAYMENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    P.PENDING: (P.PAID, P.FAILED),
    P.FAILED: (P.PAID, P.PENDING),
    P.PAID: (P.REFUNDED,),
    P.REFUNDED: (),
}
# Payment states in which a pending order still waits for its money (and may expire).
UNPAID = (P.PENDING, P.FAILED)


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
    order = lock_order(order_id)
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
    entry = history_entry(order.status, order.status, actor, note, payment=status)
    entry["payment_from"] = previous
    order.history = [*order.history, entry]
    order.save()
    record_order_change(order=order)
    return order
