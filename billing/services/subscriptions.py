"""The workspace's plan subscription: subscribe, change plan, cancel and resume, and the mirror
of Stripe's state that keeps tenants.Tenant.plan equal to what the subscription grants."""

from django.conf import settings
from django.db import connection, transaction

from billing import gateway, selectors
from billing.errors import (
    EventNotReady,
    InvalidPlan,
    NoSubscription,
    PaymentMethodRequired,
    SubscriptionExists,
)
from billing.models import Subscription
from billing.services._common import _schema, _ts
from billing.services.customers import customer_for_tenant
from billing.services.payment_methods import default_payment_method_id
from tenants.plans import plan_table

PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")


def _price_for(plan: str) -> str:
    spec = plan_table().get(plan)
    if not spec or not spec["price"]:
        subscribable = [code for code, s in plan_table().items() if s["price"]]
        raise InvalidPlan(
            fields={"plan": [f"Choose one of {', '.join(subscribable) or '(none configured)'}."]}
        )
    return spec["price"]


def _tenant_plan_sync() -> None:
    """Keeps tenants.Tenant.plan (read by other apps and reports) equal to the plan the current
    subscription grants."""
    from tenants.models import Tenant
    from tenants.resolution import hosts_changed

    subscription = selectors.current_subscription()
    if subscription is None:
        return
    plan = selectors.plan_code_for(subscription=subscription, assigned="")
    if plan not in Tenant.Plan.values:
        plan = Tenant.Plan.FREE
    if Tenant.objects.filter(schema_name=_schema()).exclude(plan=plan).update(plan=plan):
        hosts_changed()  # requests carry the tenant (and its plan) from the host memo
    tenant = getattr(connection, "tenant", None)
    if tenant is not None and hasattr(tenant, "plan"):
        tenant.plan = plan


@transaction.atomic
def subscription_apply(*, data: dict) -> Subscription:
    """Writes Stripe's current state of a subscription into the mirror (idempotent)."""
    customer = selectors.customer_for_stripe_id(data["customer"])
    if customer is None:
        raise EventNotReady(f"customer {data['customer']} of {data['id']} is not known here yet")
    items = data.get("items", {}).get("data", [])
    item = items[0] if items else {}
    price_id = (item.get("price") or {}).get("id", "")
    plan = selectors.plan_for_price(price_id) or data.get("metadata", {}).get("plan") or "unknown"
    subscription, _ = Subscription.objects.update_or_create(
        stripe_id=data["id"],
        defaults={
            "customer": customer,
            "stripe_item_id": item.get("id", ""),
            "plan": plan,
            "price_id": price_id,
            "status": data["status"],
            "cancel_at_period_end": bool(data.get("cancel_at_period_end")),
            "current_period_end": _ts(
                item.get("current_period_end") or data.get("current_period_end")
            ),
            "trial_end": _ts(data.get("trial_end")),
            "canceled_at": _ts(data.get("canceled_at")),
        },
    )
    _tenant_plan_sync()
    return subscription


def subscription_sync(*, stripe_id: str) -> Subscription:
    """Re-reads the subscription from Stripe and mirrors it."""
    data = gateway.as_dict(gateway.call(gateway.client().subscriptions.retrieve, stripe_id))
    return subscription_apply(data=data)


def _live_subscription() -> Subscription:
    subscription = selectors.current_subscription()
    if subscription is None or not subscription.is_live:
        raise NoSubscription()
    return subscription


def subscription_start(
    *, tenant, plan: str, trial: bool = False, payment_method: str | None = None, email: str = ""
) -> Subscription:
    """Subscribes the workspace to a plan. A trial is offered only to a workspace that never
    had a subscription."""
    price = _price_for(plan)
    current = selectors.current_subscription()
    if current is not None and current.is_live:
        raise SubscriptionExists()
    customer = customer_for_tenant(tenant=tenant, email=email)
    previous = Subscription.objects.count()
    with_trial = bool(trial and previous == 0 and settings.BILLING_TRIAL_DAYS)
    if not with_trial and not payment_method and not default_payment_method_id(customer=customer):
        # Without a card the first invoice cannot be paid (Stripe would leave the subscription
        # incomplete): the client adds one first (POST payment-methods/setup/).
        raise PaymentMethodRequired()
    params: dict = {
        "customer": customer.stripe_id,
        "items": [{"price": price}],
        "metadata": {"tenant": _schema(), "plan": plan},
    }
    if with_trial:
        params["trial_period_days"] = settings.BILLING_TRIAL_DAYS
    if payment_method:
        params["default_payment_method"] = payment_method
    created = gateway.call(
        gateway.client().subscriptions.create,
        params=params,
        # Two clicks on "subscribe" share the key and get one subscription.
        options={"idempotency_key": f"{_schema()}:subscription:{previous + 1}:{plan}"},
    )
    return subscription_apply(data=gateway.as_dict(created))


def subscription_change_plan(
    *, plan: str, proration_behavior: str = "create_prorations"
) -> Subscription:
    """Moves the live subscription to another plan; Stripe prorates the difference."""
    price = _price_for(plan)
    if proration_behavior not in PRORATION_BEHAVIORS:
        raise InvalidPlan(fields={"proration_behavior": [f"One of {PRORATION_BEHAVIORS}."]})
    subscription = _live_subscription()
    if subscription.plan == plan:
        return subscription
    updated = gateway.call(
        gateway.client().subscriptions.update,
        subscription.stripe_id,
        params={
            "items": [{"id": subscription.stripe_item_id, "price": price}],
            "proration_behavior": proration_behavior,
            "metadata": {"plan": plan},
        },
        options={
            "idempotency_key": (
                f"{_schema()}:subscription:{subscription.stripe_id}:plan:{plan}:"
                f"{subscription.updated_at.timestamp():.6f}"
            )
        },
    )
    return subscription_apply(data=gateway.as_dict(updated))


def subscription_cancel(*, at_period_end: bool = True) -> Subscription:
    """Cancels at the end of the paid period (resumable until then), or right away."""
    subscription = _live_subscription()
    client = gateway.client()
    if at_period_end:
        result = gateway.call(
            client.subscriptions.update,
            subscription.stripe_id,
            params={"cancel_at_period_end": True},
        )
    else:
        result = gateway.call(client.subscriptions.cancel, subscription.stripe_id)
    return subscription_apply(data=gateway.as_dict(result))


def subscription_resume() -> Subscription:
    """Takes back a cancellation scheduled for the period's end."""
    subscription = _live_subscription()
    if not subscription.cancel_at_period_end:
        raise NoSubscription("The subscription is not scheduled to end.")
    result = gateway.call(
        gateway.client().subscriptions.update,
        subscription.stripe_id,
        params={"cancel_at_period_end": False},
    )
    return subscription_apply(data=gateway.as_dict(result))
