"""Disputes (chargebacks) of order payments, mirrored from Stripe's events."""

from django.db import transaction

from billing import gateway
from billing.errors import EventNotReady
from billing.models import Dispute, Payment
from billing.services._common import _ts


@transaction.atomic
def dispute_apply(*, data: dict) -> Dispute:
    """Writes Stripe's state of a dispute; the payment it is about must be known here."""
    intent = data.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    payment = Payment.objects.filter(stripe_id=intent or "").first()
    if payment is None:
        raise EventNotReady(f"payment {intent} of dispute {data['id']} is not known here yet")
    evidence = data.get("evidence_details") or {}
    dispute, _ = Dispute.objects.update_or_create(
        stripe_id=data["id"],
        defaults={
            "payment": payment,
            "amount": int(data.get("amount") or 0),
            "currency": data.get("currency") or payment.currency,
            "reason": data.get("reason") or "",
            "status": data["status"],
            "evidence_due_by": _ts(evidence.get("due_by")),
        },
    )
    return dispute


def dispute_sync(*, stripe_id: str) -> Dispute:
    data = gateway.as_dict(gateway.call(gateway.client().disputes.retrieve, stripe_id))
    return dispute_apply(data=data)
