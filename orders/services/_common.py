"""Helpers several order services share: the order row lock, history entries, customer notices."""

from django.utils import timezone

from notifications.services import notify
from orders.errors import OrderNotFound
from orders.models import Order


def lock_order(order_id: int) -> Order:
    order = Order.objects.select_for_update().filter(id=order_id).first()
    if order is None:
        raise OrderNotFound()
    return order


def history_entry(status: str, previous: str | None, actor, note: str = "", **extra) -> dict:
    entry = {
        "status": status,
        "from": previous,
        "at": timezone.now().isoformat(),
        "by": str(actor.pk) if actor is not None else None,
    }
    if note:
        entry["note"] = note
    entry.update(extra)
    return entry


def customer_notify(*, order: Order, template: str) -> None:
    """Emails the customer (and notifies them in the app) once the transaction commits."""
    if order.customer_id is None:
        return
    notify(
        user=order.customer,
        template=template,
        context={
            "order_number": order.number,
            "status": order.status,
            "items": [
                {"name": i["name"], "quantity": i["quantity"], "total": i["subtotal"]}
                for i in order.items
            ],
            "total": str(order.total),
            "currency": order.currency,
            "url": f"/orders/{order.number}",
        },
    )
