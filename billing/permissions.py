"""Who may see and act on order payments (RBAC resource "billing.payment").

Customers see and pay their own orders' payments. billing.payment:read shows everyone's,
billing.payment:create lets staff pay, confirm and cancel for anyone, and refunds always need
billing.payment:refund (even of one's own payment).
"""

from rest_framework.permissions import IsAuthenticated

from rbac import access

RESOURCE = "billing.payment"

# View action -> (the permission it needs, whether the payer needs none for their own payment).
PAYMENT_ACTIONS = {
    "confirm": ("create", True),
    "cancel": ("create", True),
    "refund": ("refund", False),
}


def has_payment_permission(user, action: str) -> bool:
    return access.has_permission(user, RESOURCE, action, {})


def can_read_all_payments(user) -> bool:
    return has_payment_permission(user, "read")


def may_pay_for(*, user, order) -> bool:
    """Whether the user may start a payment of the order: their own, or any with
    billing.payment:create."""
    return order.customer_id == user.pk or has_payment_permission(user, "create")


def may_act_on_payment(*, user, payment, view_action: str) -> bool:
    """Whether the user may perform the view action on a payment they can see."""
    if view_action not in PAYMENT_ACTIONS:
        return True  # reading: the queryset already holds only what the user may see
    needed, own_suffices = PAYMENT_ACTIONS[view_action]
    if own_suffices and payment.order.customer_id == user.pk:
        return True
    return has_payment_permission(user, needed)


class PaymentPermission(IsAuthenticated):
    """Signed-in users; per payment, `may_act_on_payment` decides the actions on it."""

    def has_object_permission(self, request, view, obj) -> bool:
        return may_act_on_payment(user=request.user, payment=obj, view_action=view.action)
