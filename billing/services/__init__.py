"""Every write of the billing app, one module per sub-domain: customers, the workspace's
subscription, order payments, refunds and the webhook ledger with its processing.

Stripe is the source of truth. Local rows are mirrors written from the object Stripe returns (or
re-reads), never from the order events arrive in, so applying the same state twice is harmless.
Calls that create something on Stripe carry an idempotency key derived from what they are for,
so a retried or doubled request never creates a second object.
"""

from billing.services.customers import customer_for_tenant, customer_for_user
from billing.services.payments import (
    CARD_METHODS,
    ZERO_DECIMAL,
    from_minor,
    payment_apply,
    payment_cancel,
    payment_confirm,
    payment_for_order,
    payment_sync,
    to_minor,
)
from billing.services.refunds import (
    refund_apply,
    refund_create,
    refund_if_order_cancelled,
    refund_sync,
)
from billing.services.subscriptions import (
    PRORATION_BEHAVIORS,
    subscription_apply,
    subscription_cancel,
    subscription_change_plan,
    subscription_resume,
    subscription_start,
    subscription_sync,
)
from billing.services.webhooks import (
    HANDLERS,
    event_tenant,
    webhook_event_process,
    webhook_event_record,
    webhook_event_replay,
    webhook_events_retry_stuck,
)

__all__ = [
    "CARD_METHODS",
    "HANDLERS",
    "PRORATION_BEHAVIORS",
    "ZERO_DECIMAL",
    "customer_for_tenant",
    "customer_for_user",
    "event_tenant",
    "from_minor",
    "payment_apply",
    "payment_cancel",
    "payment_confirm",
    "payment_for_order",
    "payment_sync",
    "refund_apply",
    "refund_create",
    "refund_if_order_cancelled",
    "refund_sync",
    "subscription_apply",
    "subscription_cancel",
    "subscription_change_plan",
    "subscription_resume",
    "subscription_start",
    "subscription_sync",
    "to_minor",
    "webhook_event_process",
    "webhook_event_record",
    "webhook_event_replay",
    "webhook_events_retry_stuck",
]
