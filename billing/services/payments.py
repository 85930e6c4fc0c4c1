"""Order payments: PaymentIntents for an order's server-side total, confirm and cancel, the
mirror of Stripe's state, and the order's payment status that follows it."""

import logging
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from billing import gateway
from billing.errors import EventNotReady, OrderNotPayable, PaymentDeclined, PaymentNotCancelable
from billing.models import Payment
from billing.services._common import _schema
from billing.services.customers import customer_for_user

logger = logging.getLogger(__name__)

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
