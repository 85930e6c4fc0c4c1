"""Who may do what with orders: RBAC decides (resource orders.order, defaults in
rbac/registry.py). Each target status needs its own action, whether one order moves (the
viewset's transition routes) or many (bulk status). Who sees which orders: selectors.
"""

from rest_framework.exceptions import PermissionDenied

from orders.models import Order
from rbac import access

RESOURCE = "orders.order"
S = Order.Status

# The action each target status needs (besides seeing the order).
STATUS_ACTIONS = {
    S.CONFIRMED: "update",
    S.PROCESSING: "update",
    S.SHIPPED: "fulfil",
    S.DELIVERED: "fulfil",
    S.CANCELLED: "cancel",
    S.REFUNDED: "refund",
}
# The order viewset's transition routes and the status each one sets.
TRANSITION_ROUTES = {
    "confirm": S.CONFIRMED,
    "process": S.PROCESSING,
    "ship": S.SHIPPED,
    "deliver": S.DELIVERED,
    "cancel": S.CANCELLED,
    "refund": S.REFUNDED,
}
# Actions of the order viewset beyond list, retrieve and create (checkout).
ORDER_ACTIONS = {
    **{route: STATUS_ACTIONS[status] for route, status in TRANSITION_ROUTES.items()},
    "bulk_status": "read_all",
    "sales_report": "report",
    "stats": "report",
    "stats_report": "report",
}


def check_status_change(user, status: str) -> None:
    """Refuses (403) a user whose roles do not grant the action that moving to `status` needs."""
    action = STATUS_ACTIONS[status]
    if not access.has_permission(user, RESOURCE, action):
        raise PermissionDenied(f"You may not {action} {RESOURCE}.")
