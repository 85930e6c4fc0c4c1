"""Demo orders: a handful of orders by the demo owner from the demo catalog, in several states.

Idempotent: each demo order carries {"demo": n} in its metadata and is placed only once.
"""

from catalog.models import Product
from orders import services
from orders.models import Order

S = Order.Status
ADDRESS = {
    "name": "Demo Customer",
    "line1": "1 Example Street",
    "city": "Lisbon",
    "postal_code": "1100-001",
    "country": "PT",
}
# (number of distinct products, quantity each, path through the state machine)
PLAN = [
    (1, 1, []),
    (2, 1, [S.CONFIRMED]),
    (3, 2, [S.CONFIRMED, S.PROCESSING]),
    (1, 2, [S.CONFIRMED, S.PROCESSING, S.SHIPPED]),
    (2, 1, [S.CONFIRMED, S.PROCESSING, S.SHIPPED, S.DELIVERED]),
    (1, 1, [S.CANCELLED]),
]


def seed(*, tenant, owner) -> str:
    products = list(
        Product.objects.live()
        .filter(status=Product.Status.ACTIVE, stock_quantity__gte=10)
        .order_by("id")
        .values_list("id", flat=True)[:12]
    )
    if not products:
        return "no orders (no products in stock)"
    created = 0
    for n, (lines, quantity, path) in enumerate(PLAN, start=1):
        if Order.objects.filter(metadata__demo=n).exists():
            continue
        chosen = [products[(n + i) % len(products)] for i in range(lines)]
        order, _ = services.order_checkout(
            customer=owner,
            items=[{"product_id": pid, "quantity": quantity} for pid in chosen],
            shipping_address=ADDRESS,
            payment_method=Order.PaymentMethod.CREDIT_CARD,
            metadata={"demo": n},
        )
        created += 1
        if path and path[0] == S.CONFIRMED:
            services.order_payment_status_set(order_id=order.id, status="paid", actor=owner)
        for status in path:
            services.order_transition(order_id=order.id, status=status, actor=owner)
    return f"{Order.objects.count()} orders ({created} new)"
