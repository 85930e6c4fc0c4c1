"""Stripe customers: one per paying user and one for the workspace, created on first need."""

from django.db import transaction

from billing import gateway
from billing.models import Customer
from billing.services._common import _schema


def _customer_ensure(*, kind: str, user, email: str, key: str) -> Customer:
    existing = Customer.objects.filter(kind=kind, user=user).first()
    if existing is not None:
        return existing
    metadata = {"tenant": _schema(), "kind": kind}
    if user is not None:
        metadata["user_id"] = str(user.pk)
    # Outside any lock: the idempotency key makes concurrent first calls return one customer.
    created = gateway.call(
        gateway.client().customers.create,
        params={"email": email or None, "metadata": metadata},
        options={"idempotency_key": key},
    )
    with transaction.atomic():
        Customer.objects.bulk_create(
            [Customer(kind=kind, user=user, stripe_id=created.id, email=email or "")],
            ignore_conflicts=True,
        )
    return Customer.objects.get(kind=kind, user=user)


def customer_for_user(*, user) -> Customer:
    """The user's Stripe customer in this workspace, created on first need."""
    return _customer_ensure(
        kind=Customer.Kind.USER,
        user=user,
        email=user.email,
        key=f"{_schema()}:customer:user:{user.pk}",
    )


def customer_for_tenant(*, tenant, email: str = "") -> Customer:
    """The workspace's own Stripe customer (billed for its plan), created on first need."""
    return _customer_ensure(
        kind=Customer.Kind.TENANT, user=None, email=email, key=f"{_schema()}:customer:tenant"
    )
