"""Refunds of order payments: made on Stripe (API, admin, a cancelled order's late money) or
mirrored from Stripe's events; the payment's refunded total and the order follow."""

import logging

from django.db import transaction

from billing import gateway
from billing.errors import EventNotReady, InvalidRefund, RefundNotAllowed
from billing.models import Payment, Refund
from billing.services._common import _schema
from billing.services.payments import _order_payment_status, from_minor, payment_sync

logger = logging.getLogger(__name__)


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


def refunds_sync_for_charge(*, charge: dict) -> list[Refund]:
    """charge.refunded: every refund of the charge's payment as Stripe has it (refunds made on
    the dashboard too), then the payment itself."""
    intent = charge.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if not intent:
        return []  # an invoice's charge: the invoice events carry what matters
    if not Payment.objects.filter(stripe_id=intent).exists():
        raise EventNotReady(f"payment {intent} is not known here yet")
    listed = gateway.call(
        gateway.client().refunds.list, params={"payment_intent": intent, "limit": 100}
    )
    refunds = [refund_apply(data=gateway.as_dict(r)) for r in listed.data]
    payment_sync(stripe_id=intent)
    return refunds
