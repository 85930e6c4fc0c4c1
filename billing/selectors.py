"""Reads of the billing app: the tenant's current subscription, its plan and the plan's limits."""

from django.db import connection
from django.db.models import QuerySet
from django_tenants.utils import schema_context

from billing import permissions
from billing.models import Customer, Invoice, Payment, PaymentMethod, Subscription, WebhookEvent
from tenants.plans import FREE, plan_table


def current_subscription() -> Subscription | None:
    """The tenant's subscription that matters now (in the current schema): the newest live one,
    else the newest one of any status."""
    subs = Subscription.objects.select_related("customer").order_by("-created_at", "-id")
    return subs.filter(status__in=Subscription.LIVE_STATUSES).first() or subs.first()


def plan_code_for(*, subscription: Subscription | None, assigned: str) -> str:
    """A live subscription decides the plan; an ended one means the free plan; without any
    subscription the plan assigned to the tenant (at creation, by platform staff) applies."""
    if subscription is None:
        return assigned or FREE
    if subscription.dunning_action == "downgraded":
        return FREE  # an invoice unpaid past the grace period (see billing.services.invoices)
    return subscription.plan if subscription.is_live else FREE


def tenant_plan(tenant) -> str:
    with schema_context(tenant.schema_name):
        subscription = current_subscription()
    return plan_code_for(subscription=subscription, assigned=tenant.plan)


def plan_usage(tenant, name: str) -> int:
    if name == "members":
        from tenants.models import Membership

        return Membership.objects.filter(tenant=tenant).count()
    if name == "storage_bytes":
        from uploads.selectors import tenant_usage

        with schema_context(tenant.schema_name):
            return tenant_usage()["bytes"]
    raise ValueError(f"Unknown plan limit {name!r}")


def plans() -> list[dict]:
    return [
        {
            "code": code,
            "price_id": spec["price"] or None,
            "limits": dict(spec["limits"]),
            "subscribable": bool(spec["price"]),
        }
        for code, spec in plan_table().items()
    ]


def plan_for_price(price_id: str) -> str | None:
    for code, spec in plan_table().items():
        if spec["price"] and spec["price"] == price_id:
            return code
    return None


def customer_for_stripe_id(stripe_id: str) -> Customer | None:
    return Customer.objects.filter(stripe_id=stripe_id).first()


def webhook_events(*, status: str | None = None):
    events = WebhookEvent.objects.all()
    return events.filter(status=status) if status else events


def is_workspace_schema(schema: str) -> bool:
    """Whether a workspace (not the public schema) has this schema name."""
    from tenants.models import Tenant

    return Tenant.objects.filter(schema_name=schema).exclude(schema_name="public").exists()


def current_schema() -> str:
    return connection.schema_name


def payments_visible_to(user) -> QuerySet[Payment]:
    """Every payment for users granted billing.payment:read, otherwise those of the user's own
    orders."""
    payments = Payment.objects.select_related("order").prefetch_related("refunds")
    if not permissions.can_read_all_payments(user):
        payments = payments.filter(order__customer=user)
    return payments


def order_payable_by(*, user, order_id: int):
    """The order if it exists and the user may pay for it (see permissions.may_pay_for)."""
    from orders.models import Order

    order = Order.objects.filter(pk=order_id).first()
    if order is None or not permissions.may_pay_for(user=user, order=order):
        return None
    return order


def invoices() -> QuerySet[Invoice]:
    """The workspace's subscription invoices, newest first."""
    return Invoice.objects.select_related("subscription").order_by("-stripe_created", "-id")


def payment_methods() -> QuerySet[PaymentMethod]:
    """The workspace's cards (those of its own customer, still attached)."""
    return PaymentMethod.objects.filter(
        customer__kind=Customer.Kind.TENANT, detached_at__isnull=True
    ).order_by("-created_at", "-id")
