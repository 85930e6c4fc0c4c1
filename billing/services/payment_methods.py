"""The workspace's cards: a SetupIntent to collect one (its default for subscription invoices),
the mirror of Stripe's payment methods, choosing the default and removing a card."""

from django.db import transaction
from django.utils import timezone

from billing import gateway
from billing.errors import PaymentMethodNotFound
from billing.models import Customer, PaymentMethod
from billing.services._common import _schema
from billing.services.customers import customer_for_tenant
from billing.services.invoices import invoices_retry_with_method

DEFAULT_PURPOSE = "default_payment_method"


def setup_intent_create(*, tenant, email: str = "", payment_method: str = "") -> dict:
    """A SetupIntent for the workspace's customer: Stripe.js confirms it with the card typed in
    (its client secret is returned), or, given a payment method id, it is confirmed here. Once it
    succeeds (its webhook) the card becomes the workspace's default payment method."""
    customer = customer_for_tenant(tenant=tenant, email=email)
    params: dict = {
        "customer": customer.stripe_id,
        "usage": "off_session",
        "payment_method_types": ["card"],
        "metadata": {"tenant": _schema(), "purpose": DEFAULT_PURPOSE},
    }
    if payment_method:
        params.update(payment_method=payment_method, confirm=True)
    intent = gateway.as_dict(gateway.call(gateway.client().setup_intents.create, params=params))
    if intent["status"] == "succeeded":
        setup_intent_apply(data=intent)
    return {
        "id": intent["id"],
        "status": intent["status"],
        "client_secret": intent["client_secret"],
        "payment_method": intent.get("payment_method"),
    }


@transaction.atomic
def payment_method_apply(*, data: dict) -> PaymentMethod | None:
    """Mirrors a payment method of one of this schema's customers; one detached from its
    customer (now or earlier: events may arrive in any order) is marked detached."""
    customer = Customer.objects.filter(stripe_id=data.get("customer") or "").first()
    existing = PaymentMethod.objects.select_for_update().filter(stripe_id=data["id"]).first()
    if customer is None and existing is None:
        return None  # another platform's, or a customer this schema does not have
    card = data.get("card") or {}
    fields = {
        "type": data.get("type") or "card",
        "brand": card.get("brand") or "",
        "last4": card.get("last4") or "",
        "exp_month": card.get("exp_month"),
        "exp_year": card.get("exp_year"),
    }
    if customer is None:
        fields.update(detached_at=existing.detached_at or timezone.now(), is_default=False)
    else:
        fields.update(customer=customer, detached_at=None)
    method, _ = PaymentMethod.objects.update_or_create(stripe_id=data["id"], defaults=fields)
    return method


def payment_method_sync(*, stripe_id: str) -> PaymentMethod | None:
    data = gateway.as_dict(gateway.call(gateway.client().payment_methods.retrieve, stripe_id))
    return payment_method_apply(data=data)


@transaction.atomic
def customer_default_apply(*, data: dict) -> None:
    """Marks the customer's default payment method (invoice_settings) as Stripe has it."""
    customer = Customer.objects.filter(stripe_id=data["id"]).first()
    if customer is None:
        return
    default = (data.get("invoice_settings") or {}).get("default_payment_method") or ""
    if isinstance(default, dict):
        default = default.get("id", "")
    methods = PaymentMethod.objects.filter(customer=customer)
    methods.exclude(stripe_id=default).filter(is_default=True).update(is_default=False)
    if default:
        methods.filter(stripe_id=default, detached_at__isnull=True).update(is_default=True)


def customer_sync(*, stripe_id: str) -> None:
    data = gateway.as_dict(gateway.call(gateway.client().customers.retrieve, stripe_id))
    customer_default_apply(data=data)


def setup_intent_apply(*, data: dict) -> PaymentMethod | None:
    """A succeeded SetupIntent made for the workspace's default: its card becomes the default."""
    method_id = data.get("payment_method")
    if isinstance(method_id, dict):
        method_id = method_id.get("id")
    if data.get("status") != "succeeded" or not method_id:
        return None
    method = payment_method_sync(stripe_id=method_id)
    if method is not None and (data.get("metadata") or {}).get("purpose") == DEFAULT_PURPOSE:
        return payment_method_set_default(stripe_id=method_id, key=f"setup:{data['id']}")
    return method


def setup_intent_sync(*, stripe_id: str) -> PaymentMethod | None:
    data = gateway.as_dict(gateway.call(gateway.client().setup_intents.retrieve, stripe_id))
    return setup_intent_apply(data=data)


def _tenant_method(stripe_id: str) -> PaymentMethod:
    method = (
        PaymentMethod.objects.select_related("customer")
        .filter(stripe_id=stripe_id, customer__kind=Customer.Kind.TENANT, detached_at__isnull=True)
        .first()
    )
    if method is None:
        raise PaymentMethodNotFound()
    return method


def payment_method_set_default(*, stripe_id: str, key: str = "") -> PaymentMethod:
    """Makes one of the workspace's cards the default for its subscription invoices; unpaid
    invoices are tried on it right away."""
    method = _tenant_method(stripe_id)
    options = {"idempotency_key": f"{_schema()}:default-pm:{key}"} if key else {}
    data = gateway.call(
        gateway.client().customers.update,
        method.customer.stripe_id,
        params={"invoice_settings": {"default_payment_method": stripe_id}},
        options=options or None,
    )
    customer_default_apply(data=gateway.as_dict(data))
    invoices_retry_with_method(payment_method=stripe_id)
    method.refresh_from_db()
    return method


def payment_method_detach(*, stripe_id: str) -> PaymentMethod:
    """Removes a card from the workspace (Stripe forgets it for this customer)."""
    method = _tenant_method(stripe_id)
    data = gateway.call(gateway.client().payment_methods.detach, stripe_id)
    payment_method_apply(data=gateway.as_dict(data))
    customer_sync(stripe_id=method.customer.stripe_id)
    method.refresh_from_db()
    return method


def default_payment_method_id(*, customer: Customer) -> str:
    """The default card Stripe will charge for the customer's invoices (read from Stripe, the
    source of truth, not the mirror that a late webhook may not have updated yet)."""
    data = gateway.as_dict(gateway.call(gateway.client().customers.retrieve, customer.stripe_id))
    default = (data.get("invoice_settings") or {}).get("default_payment_method") or ""
    return default.get("id", "") if isinstance(default, dict) else default
