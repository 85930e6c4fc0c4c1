"""factory-boy factories of orders (run them inside the tenant's schema).

OrderFactory writes a finished document directly, without reserving stock: for list, filter and
report tests. Tests of checkout and transitions go through orders.services.
"""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import Order


def line(product_id: int, name: str, quantity: int = 1, price: str = "10.00") -> dict:
    subtotal = Decimal(price) * quantity
    return {
        "product_id": product_id,
        "name": name,
        "sku": f"SKU-{product_id}",
        "unit_price": price,
        "quantity": quantity,
        "subtotal": str(subtotal),
        "attributes": {},
    }


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"ORD-TEST-{n:06d}")
    customer = None
    customer_email = factory.LazyAttribute(lambda o: o.customer.email if o.customer else "")
    payment_method = Order.PaymentMethod.CREDIT_CARD
    items = factory.LazyFunction(lambda: [line(1, "Blue mug", 2)])
    subtotal = factory.LazyAttribute(lambda o: sum(Decimal(i["subtotal"]) for i in o.items))
    total = factory.LazyAttribute(lambda o: o.subtotal)
    item_count = factory.LazyAttribute(lambda o: sum(i["quantity"] for i in o.items))
    shipping_address = factory.LazyFunction(
        lambda: {"line1": "1 Road", "city": "Porto", "postal_code": "1", "country": "PT"}
    )
    billing_address = factory.SelfAttribute("shipping_address")
    history = factory.LazyFunction(list)
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(hours=1))
