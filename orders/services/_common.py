"""Helpers several order services share: the order row lock, history entries, customer notices."""

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

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
    """Emails the customer (and notifies them in the app) once the transaction commits.

    Rendering and writing the notice happen after the commit, so they never hold the row
    locks of the order or its products (a checkout spent most of its locked time here). The
    notice is written in its own transaction; if that fails, the committed order stands and
    the error is logged.
    """
    if order.customer_id is None:
        return
    order_id, schema = order.pk, connection.schema_name
    context = {
        "order_number": order.number,
        "status": order.status,
        "items": [
            {"name": i["name"], "quantity": i["quantity"], "total": i["subtotal"]}
            for i in order.items
        ],
        "total": str(order.total),
        "currency": order.currency,
        "url": f"/orders/{order.number}",
    }

    def send() -> None:
        with schema_context(schema), transaction.atomic():
            customer = Order.objects.select_related("customer").get(pk=order_id).customer
            notify(user=customer, template=template, context=context)

    transaction.on_commit(send, robust=True)
