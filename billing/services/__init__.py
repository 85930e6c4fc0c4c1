"""Every write of the billing app, one module per sub-domain: customers, the workspace's
subscription with its payment methods, invoices and dunning, order payments, refunds,
disputes and the webhook ledger with its processing.

Stripe is the source of truth. Local rows are mirrors written from the object Stripe returns (or
re-reads), never from the order events arrive in, so applying the same state twice is harmless.
Calls that create something on Stripe carry an idempotency key derived from what they are for,
so a retried or doubled request never creates a second object.
"""

from billing.services.customers import customer_for_tenant, customer_for_user
from billing.services.disputes import dispute_apply, dispute_sync
from billing.services.invoices import (
    dunning_restore,
    dunning_run,
    invoice_apply,
    invoice_retry,
    invoice_sync,
)
from billing.services.payment_methods import (
    customer_default_apply,
    customer_sync,
    payment_method_apply,
    payment_method_detach,
    payment_method_set_default,
    payment_method_sync,
    setup_intent_apply,
    setup_intent_create,
    setup_intent_sync,
)
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
    refunds_sync_for_charge,
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
    event_tenant_resolve,
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
    "customer_default_apply",
    "customer_for_tenant",
    "customer_for_user",
    "customer_sync",
    "dispute_apply",
    "dispute_sync",
    "dunning_restore",
    "dunning_run",
    "event_tenant",
    "event_tenant_resolve",
    "from_minor",
    "invoice_apply",
    "invoice_retry",
    "invoice_sync",
    "payment_apply",
    "payment_cancel",
    "payment_confirm",
    "payment_for_order",
    "payment_method_apply",
    "payment_method_detach",
    "payment_method_set_default",
    "payment_method_sync",
    "payment_sync",
    "refund_apply",
    "refund_create",
    "refund_if_order_cancelled",
    "refund_sync",
    "refunds_sync_for_charge",
    "setup_intent_apply",
    "setup_intent_create",
    "setup_intent_sync",
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
