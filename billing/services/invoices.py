"""Subscription invoices: the mirror of Stripe's invoices and the dunning policy that follows an
unpaid one (the owner is emailed on every failed attempt, the platform retries on a schedule and,
after the grace period, downgrades or suspends the workspace until the invoice is paid)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import gateway
from billing.errors import EventNotReady, PaymentDeclined
from billing.models import Customer, Invoice, Subscription
from billing.services._common import _schema, _ts
from billing.services.payments import from_minor
from core.errors import DomainError

logger = logging.getLogger(__name__)

SUSPENSION_REASON = "Billing: subscription invoice unpaid"


def _subscription_id(data: dict) -> str:
    parent = (data.get("parent") or {}).get("subscription_details") or {}
    return parent.get("subscription") or data.get("subscription") or ""


def _tenant():
    from tenants.models import Tenant

    return Tenant.objects.get(schema_name=_schema())


def _owner(tenant):
    from tenants.models import Membership

    membership = (
        Membership.objects.select_related("user")
        .filter(tenant=tenant, role=Membership.Role.OWNER)
        .order_by("joined_at", "id")
        .first()
    )
    return membership.user if membership else None


def _retry_at(invoice: Invoice) -> timezone.datetime | None:
    schedule = settings.BILLING_DUNNING_RETRY_DAYS
    if invoice.first_failed_at is None or invoice.retries >= len(schedule):
        return None
    return invoice.first_failed_at + timedelta(days=schedule[invoice.retries])


def _notify_owner(invoice: Invoice) -> None:
    from notifications.services import notify

    tenant = _tenant()
    owner = _owner(tenant)
    if owner is None:
        logger.warning("Invoice %s failed; the workspace has no owner to tell", invoice.stripe_id)
        return
    grace_ends = invoice.first_failed_at + timedelta(days=settings.BILLING_DUNNING_GRACE_DAYS)
    notify(
        user=owner,
        template="billing_payment_failed",
        context={
            "workspace": tenant.name,
            "amount": str(from_minor(invoice.amount_remaining, invoice.currency)),
            "currency": invoice.currency.upper(),
            "invoice_number": invoice.number or invoice.stripe_id,
            "attempt": invoice.attempt_count,
            "next_retry": invoice.next_retry_at.date().isoformat() if invoice.next_retry_at else "",
            "grace_ends": grace_ends.date().isoformat(),
            "consequence": (
                "suspended"
                if settings.BILLING_DUNNING_ACTION == "suspend"
                else "moved to the free plan"
            ),
            "pay_url": invoice.hosted_invoice_url,
        },
    )


@transaction.atomic
def invoice_apply(*, data: dict) -> Invoice:
    """Writes Stripe's state of an invoice into the mirror; a newly failed attempt starts or
    continues dunning (the owner is emailed once per attempt), payment ends it."""
    customer = Customer.objects.filter(stripe_id=data.get("customer") or "").first()
    if customer is None:
        raise EventNotReady(f"customer {data.get('customer')} is not known here yet")
    subscription = Subscription.objects.filter(stripe_id=_subscription_id(data)).first()
    invoice = Invoice.objects.select_for_update().filter(stripe_id=data["id"]).first()
    invoice = invoice or Invoice(stripe_id=data["id"], customer=customer)
    attempts = int(data.get("attempt_count") or 0)
    # A late event never rolls an invoice back: paid and void are final on Stripe too.
    final = (Invoice.Status.PAID, Invoice.Status.VOID)
    if invoice.pk and invoice.status in final and data["status"] != invoice.status:
        return invoice
    invoice.subscription = subscription or invoice.subscription
    invoice.number = data.get("number") or ""
    invoice.status = data["status"]
    invoice.billing_reason = data.get("billing_reason") or ""
    invoice.currency = data.get("currency") or settings.BILLING_CURRENCY
    invoice.amount_due = int(data.get("amount_due") or 0)
    invoice.amount_paid = int(data.get("amount_paid") or 0)
    invoice.amount_remaining = int(data.get("amount_remaining") or 0)
    invoice.attempt_count = max(attempts, invoice.attempt_count)
    invoice.hosted_invoice_url = data.get("hosted_invoice_url") or ""
    invoice.period_start = _ts(data.get("period_start"))
    invoice.period_end = _ts(data.get("period_end"))
    invoice.paid_at = _ts((data.get("status_transitions") or {}).get("paid_at"))
    invoice.stripe_created = _ts(data.get("created")) or timezone.now()
    failed_now = (
        invoice.status == Invoice.Status.OPEN
        and invoice.amount_remaining > 0
        and invoice.attempt_count > invoice.notified_attempts
    )
    if failed_now:
        if invoice.first_failed_at is None:
            invoice.first_failed_at = timezone.now()
        invoice.next_retry_at = _retry_at(invoice)
    if invoice.status != Invoice.Status.OPEN:
        invoice.next_retry_at = None
    invoice.save()
    if failed_now:
        _notify_owner(invoice)
        invoice.notified_attempts = invoice.attempt_count
        invoice.save(update_fields=["notified_attempts"])
    if invoice.status == Invoice.Status.PAID and invoice.subscription_id:
        dunning_restore(subscription=invoice.subscription)
    return invoice


def invoice_sync(*, stripe_id: str) -> Invoice:
    data = gateway.as_dict(gateway.call(gateway.client().invoices.retrieve, stripe_id))
    return invoice_apply(data=data)


def _pay(invoice: Invoice, key: str) -> Invoice:
    try:
        data = gateway.call(
            gateway.client().invoices.pay,
            invoice.stripe_id,
            options={"idempotency_key": f"{_schema()}:invoice:{invoice.stripe_id}:{key}"},
        )
        return invoice_apply(data=gateway.as_dict(data))
    except PaymentDeclined:
        return invoice_sync(stripe_id=invoice.stripe_id)


def invoices_retry_with_method(*, payment_method: str) -> list[Invoice]:
    """A new default card is tried at once on the unpaid invoices (outside the schedule)."""
    unpaid = Invoice.objects.filter(status=Invoice.Status.OPEN, first_failed_at__isnull=False)
    tried = []
    for invoice in list(unpaid[:10]):
        try:
            tried.append(_pay(invoice, f"card:{payment_method}"))
        except DomainError as exc:  # e.g. voided on Stripe meanwhile: the schedule goes on
            logger.info("Invoice %s not retried: %s", invoice.stripe_id, exc.code)
    return tried


def invoice_retry(*, invoice: Invoice) -> Invoice:
    """One of the platform's scheduled retries: Stripe charges the default card again."""
    number = invoice.retries + 1
    result = _pay(invoice, f"retry:{number}")
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=result.pk)
        locked.retries = max(locked.retries, number)
        locked.next_retry_at = _retry_at(locked) if locked.status == Invoice.Status.OPEN else None
        locked.save(update_fields=["retries", "next_retry_at", "updated_at"])
    return locked


def _dunning_apply(*, subscription: Subscription) -> None:
    from billing.services.subscriptions import _tenant_plan_sync
    from tenants.services import tenant_suspend

    action = settings.BILLING_DUNNING_ACTION
    if action == "suspend":
        tenant_suspend(tenant=_tenant(), reason=SUSPENSION_REASON)
        subscription.dunning_action = "suspended"
    else:
        subscription.dunning_action = "downgraded"
    subscription.save(update_fields=["dunning_action", "updated_at"])
    _tenant_plan_sync()
    logger.info("Dunning: workspace %s %s", _schema(), subscription.dunning_action)


@transaction.atomic
def dunning_restore(*, subscription: Subscription) -> Subscription:
    """The invoice was paid: what the dunning policy did is undone."""
    from billing.services.subscriptions import _tenant_plan_sync
    from tenants.services import tenant_reactivate

    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if not subscription.dunning_action:
        return subscription
    if subscription.dunning_action == "suspended":
        tenant = _tenant()
        # Only a suspension billing made is lifted (not one by platform staff).
        if not tenant.is_active and tenant.suspension_reason == SUSPENSION_REASON:
            tenant_reactivate(tenant=tenant)
    subscription.dunning_action = ""
    subscription.save(update_fields=["dunning_action", "updated_at"])
    _tenant_plan_sync()
    return subscription


def dunning_run(*, now=None) -> dict:
    """Periodic, per workspace: retries unpaid invoices whose retry is due, then applies the
    policy to subscriptions with an invoice unpaid past the grace period."""
    now = now or timezone.now()
    retried = 0
    due = Invoice.objects.filter(status=Invoice.Status.OPEN, next_retry_at__lte=now)
    for invoice in list(due.order_by("next_retry_at")[:100]):
        invoice_retry(invoice=invoice)
        retried += 1
    cutoff = now - timedelta(days=settings.BILLING_DUNNING_GRACE_DAYS)
    overdue = (
        Invoice.objects.filter(
            status=Invoice.Status.OPEN,
            first_failed_at__lte=cutoff,
            amount_remaining__gt=0,
            subscription__isnull=False,
        )
        .filter(subscription__dunning_action="")
        .values_list("subscription_id", flat=True)
        .distinct()
    )
    applied = 0
    for subscription_id in list(overdue):
        with transaction.atomic():
            subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
            if subscription.dunning_action or subscription.status == Subscription.Status.CANCELED:
                continue
            _dunning_apply(subscription=subscription)
            applied += 1
    return {"retried": retried, "applied": applied}
