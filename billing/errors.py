"""Domain errors of the billing app (rendered by core.errors)."""

from rest_framework import status

from core.errors import Conflict, DomainError


class BillingNotConfigured(DomainError):
    code = "billing_not_configured"
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_message = "Payments are not configured on this platform."


class GatewayUnavailable(DomainError):
    code = "payment_gateway_unavailable"
    status_code = status.HTTP_502_BAD_GATEWAY
    default_message = "The payment provider could not be reached; try again."


class GatewayRejected(DomainError):
    code = "payment_gateway_rejected"
    default_message = "The payment provider refused the request."


class PaymentDeclined(DomainError):
    code = "payment_declined"
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_message = "The payment was declined."


class InvalidPlan(DomainError):
    code = "invalid_plan"
    default_message = "This plan cannot be subscribed to."


class SubscriptionExists(Conflict):
    code = "subscription_exists"
    default_message = "The workspace already has a subscription; change its plan instead."


class NoSubscription(Conflict):
    code = "no_subscription"
    default_message = "The workspace has no active subscription."


class EventNotReady(Exception):
    """The event refers to an object this schema does not know yet (it may still be committing):
    processing is retried later."""


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    default_message = "This order cannot be paid now."


class PaymentNotCancelable(Conflict):
    code = "payment_not_cancelable"
    default_message = "This payment cannot be canceled."


class RefundNotAllowed(Conflict):
    code = "refund_not_allowed"
    default_message = "Nothing of this payment can be refunded."


class InvalidRefund(DomainError):
    code = "invalid"
    default_message = "The refund amount is not valid."


class PaymentMethodNotFound(DomainError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "No such payment method in this workspace."


class PaymentMethodRequired(Conflict):
    code = "payment_method_required"
    default_message = (
        "Add a card (a SetupIntent) before subscribing to a paid plan without a trial."
    )
