"""The admin pages and actions of orders, and the demo seed."""

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from catalog import demo as catalog_demo
from catalog.models import Product
from orders import demo
from orders.models import Order
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_a(make_user, tenant_a, admin_login):
    user = make_user(tenant=tenant_a, role="owner", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="alpha.localhost")
    admin_login(client, user)
    return client


def test_admin_pages_render(admin_client_a, place_order, customer, make_product):
    order = place_order(customer, (make_product(name="Brass <lamp>"), 2))
    OrderFactory.create_batch(3, customer=customer)
    for url in [
        "/admin/orders/order/",
        "/admin/orders/order/?q=porto",
        "/admin/orders/order/?status__exact=pending",
        f"/admin/orders/order/{order.id}/change/",
        "/admin/orders/idempotencykey/",
        "/admin/orders/orderoutbox/",
        f"/admin/orders/orderoutbox/?q={order.id}",
    ]:
        response = admin_client_a.get(url)
        assert response.status_code == 200, url
    page = admin_client_a.get(f"/admin/orders/order/{order.id}/change/").content.decode()
    assert "Brass &lt;lamp&gt;" in page  # item names are escaped
    assert admin_client_a.get("/admin/orders/order/add/").status_code == 403
    outbox = admin_client_a.get("/admin/orders/orderoutbox/").content.decode()
    assert f">{order.id}<" in outbox  # the checkout's change, not yet published
    assert admin_client_a.get("/admin/orders/orderoutbox/add/").status_code == 403


def test_admin_action_goes_through_the_state_machine(
    admin_client_a, place_order, customer, make_product
):
    product = make_product(stock=10)
    pending = place_order(customer, (product, 2))
    shipped = place_order(customer, (product, 1))
    for step in ("confirmed", "processing", "shipped"):
        from orders.services import order_transition

        order_transition(order_id=shipped.id, status=step)
    response = admin_client_a.post(
        "/admin/orders/order/",
        {"action": "mark_cancelled", "_selected_action": [pending.id, shipped.id]},
        follow=True,
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "1 of 2 orders are now cancelled" in content
    assert Order.objects.get(id=pending.id).status == "cancelled"
    assert Order.objects.get(id=shipped.id).status == "shipped"
    assert Product.objects.get(id=product.id).stock_quantity == 9


def test_demo_seed_is_idempotent(tenant_a, make_user):
    owner = make_user(tenant=tenant_a, role="owner")
    with schema_context(tenant_a.schema_name):
        catalog_demo.seed(tenant=tenant_a, owner=owner)
        first = demo.seed(tenant=tenant_a, owner=owner)
        stock = list(Product.objects.order_by("id").values_list("stock_quantity", flat=True))
        second = demo.seed(tenant=tenant_a, owner=owner)
        assert list(Product.objects.order_by("id").values_list("stock_quantity", flat=True)) == (
            stock
        )
        statuses = sorted(Order.objects.values_list("status", flat=True))
    assert first == "6 orders (6 new)"
    assert second == "6 orders (0 new)"
    assert statuses == sorted(
        ["pending", "confirmed", "processing", "shipped", "delivered", "cancelled"]
    )
