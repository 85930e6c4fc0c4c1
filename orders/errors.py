"""Domain errors of orders, rendered by core.errors.api_exception_handler."""

from rest_framework import status

from core.errors import Conflict, DomainError, NotFound


class InvalidOrderData(DomainError):
    code = "invalid"
    default_message = "The request contains invalid data."


class OrderNotFound(NotFound):
    code = "order_not_found"
    default_message = "Order not found."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = "The order cannot move to this status from its current one."


class InvalidPaymentTransition(Conflict):
    code = "invalid_payment_transition"
    default_message = "The payment status cannot change this way."


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_message = "This Idempotency-Key was already used with a different request."


class OrderNotPaid(Conflict):
    code = "order_not_paid"
    default_message = "Nothing was paid for this order, so it cannot be refunded."
