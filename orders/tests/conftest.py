"""Orders fixtures: customers and staff of tenant A, their API clients, products in stock."""

import pytest

from catalog import services as catalog_services
from notifications.models import Message, Notification

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Market Street",
    "city": "Porto",
    "postal_code": "4000-001",
    "country": "pt",
}


def notices() -> tuple[int, int]:
    """(emails, in-app notifications) written in the current schema: a refusal adds none."""
    return Message.objects.count(), Notification.objects.count()


@pytest.fixture
def customer(make_user, tenant_a):
    return make_user(email="customer@alpha.test", tenant=tenant_a, role="member")


@pytest.fixture
def other_customer(make_user, tenant_a):
    return make_user(email="other@alpha.test", tenant=tenant_a, role="member")


@pytest.fixture
def manager(make_user, tenant_a):
    return make_user(email="manager@alpha.test", tenant=tenant_a, role="manager")


@pytest.fixture
def admin_user(make_user, tenant_a):
    return make_user(email="admin@alpha.test", tenant=tenant_a, role="admin")


@pytest.fixture
def customer_api(auth_client, customer, tenant_a):
    return auth_client(customer, tenant_a)


@pytest.fixture
def other_api(auth_client, other_customer, tenant_a):
    return auth_client(other_customer, tenant_a)


@pytest.fixture
def staff_api(auth_client, manager, tenant_a):
    return auth_client(manager, tenant_a)


@pytest.fixture
def admin_api(auth_client, admin_user, tenant_a):
    return auth_client(admin_user, tenant_a)


@pytest.fixture
def make_product(in_a):
    """make_product(price=..., stock=...) -> an active product whose stock is on the ledger."""
    counter = {"n": 0}

    def make(*, price="10.00", stock=10, **fields):
        counter["n"] += 1
        fields.setdefault("name", f"Thing {counter['n']}")
        fields.setdefault("status", "active")
        return catalog_services.product_create(
            price=price, stock_quantity=stock, sku=f"ORD-T-{counter['n']:04d}", **fields
        )

    return make


@pytest.fixture
def checkout_body():
    def body(*lines, **extra):
        data = {
            "items": [{"product_id": p.id, "quantity": q} for p, q in lines],
            "shipping_address": ADDRESS,
            "payment_method": "credit_card",
        }
        data.update(extra)
        return data

    return body


@pytest.fixture
def place_order(in_a):
    """place_order(customer, (product, qty), ...) -> an order placed through the service."""
    from orders.services import order_checkout

    def place(customer, *lines, **extra):
        order, _ = order_checkout(
            customer=customer,
            items=[{"product_id": p.id, "quantity": q} for p, q in lines],
            shipping_address=extra.pop("shipping_address", ADDRESS),
            payment_method=extra.pop("payment_method", "credit_card"),
            **extra,
        )
        return order

    return place


@pytest.fixture
def documents(in_a):
    """Tenant A's order documents collection, emptied before and after the test (documents are
    not rolled back with the test's transaction)."""
    from orders import documents as order_documents

    order_documents.collection("alpha").delete_many({})
    yield order_documents.collection("alpha")
    order_documents.collection("alpha").delete_many({})  # a client made after any reset


@pytest.fixture
def mongodb_down(settings):
    """MongoDB unreachable for this test (nothing listens on the address), then back."""
    from core import mongo

    settings.MONGODB_URL = "mongodb://127.0.0.1:9"
    settings.MONGODB_TIMEOUT_MS = 200
    mongo.reset()
    yield
    mongo.reset()
