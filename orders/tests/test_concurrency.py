"""Checkout under real concurrency: threads with their own connections, rows really committed.

These tests do not use the test transaction (threads could not see its rows); what they commit
is removed afterwards.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from accounts.tokens import tokens_for_user
from catalog import services as catalog_services
from catalog.models import InventoryMovement, Product
from orders.models import IdempotencyKey, Order
from orders.tests.conftest import ADDRESS

URL = "/api/v1/orders/"
# Connections are limited (PostgreSQL's default max_connections is 100 and other processes
# share it), so the checkouts run on a pool of this many threads, all started together.
WORKERS = 24


def _on_own_connection(func):
    """Runs func in a thread with its own (autocommit) connection and returns its result."""
    box = {}

    def run():
        try:
            box["value"] = func()
        except Exception as exc:  # re-raised below
            box["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.fixture
def shop(django_db_setup, django_db_blocker):
    """A committed customer of tenant A with a token, and committed products; cleaned up after."""
    from accounts.models import Session, User
    from accounts.services import membership_set
    from tenants.models import Membership, Tenant

    state = {"products": [], "users": []}

    def setup():
        tenant = Tenant.objects.get(slug="alpha")
        user = User.objects.create_user(email="racer@alpha.test", password="x-Long-pass-42")
        membership_set(user=user, tenant=tenant, role="member")
        state["users"].append(user.pk)
        return tenant, user, tokens_for_user(user=user, tenant=tenant)["access"]

    def product(stock: int):
        def create():
            with schema_context("alpha"):
                return catalog_services.product_create(
                    name="Limited sneaker", price="80.00", stock_quantity=stock, status="active"
                )

        created = _on_own_connection(create)
        state["products"].append(created.id)
        return created

    with django_db_blocker.unblock():
        tenant, user, token = _on_own_connection(setup)
        yield {"tenant": tenant, "user": user, "token": token, "product": product}

        def cleanup():
            with schema_context("alpha"):
                IdempotencyKey.objects.filter(customer_id__in=state["users"]).delete()
                Order.objects.filter(customer_id__in=state["users"]).delete()
                InventoryMovement.objects.filter(product_id__in=state["products"]).delete()
                Product.objects.filter(id__in=state["products"]).delete()
            pairs = ((Session, "user_id"), (Membership, "user_id"), (User, "pk"))
            for model, field in pairs:
                rows = model.objects.filter(**{f"{field}__in": state["users"]})
                rows._raw_delete(rows.db)

        _on_own_connection(cleanup)


def _client(token: str) -> APIClient:
    client = APIClient(HTTP_HOST="alpha.localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _run_concurrently(count: int, request):
    barrier = threading.Barrier(WORKERS)

    def one(i):
        if i < WORKERS:
            barrier.wait()  # the first wave starts at the same moment
        try:
            response = request(i)
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(one, range(count)))


def test_200_checkouts_of_50_in_stock_make_exactly_50_orders(shop):
    product = shop["product"](50)
    body = {
        "items": [{"product_id": product.id, "quantity": 1}],
        "shipping_address": ADDRESS,
        "payment_method": "credit_card",
    }
    results = _run_concurrently(
        200, lambda i: _client(shop["token"]).post(URL, body, format="json")
    )
    codes = sorted(code for code, _ in results)
    assert codes == [201] * 50 + [409] * 150
    refusals = [body for code, body in results if code == 409]
    assert {b["error"]["code"] for b in refusals} == {"insufficient_stock"}

    def check():
        with schema_context("alpha"):
            return (
                Product.objects.get(id=product.id).stock_quantity,
                Order.objects.filter(items__contains=[{"product_id": product.id}]).count(),
                InventoryMovement.objects.filter(product_id=product.id, reason="reservation")
                .values_list("stock_after", flat=True)
                .order_by("id")
                .count(),
            )

    assert _on_own_connection(check) == (0, 50, 50)


def test_concurrent_retries_with_one_key_make_one_order(shop):
    product = shop["product"](100)
    body = {
        "items": [{"product_id": product.id, "quantity": 2}],
        "shipping_address": ADDRESS,
        "payment_method": "paypal",
    }
    results = _run_concurrently(
        WORKERS,
        lambda i: _client(shop["token"]).post(
            URL, body, format="json", HTTP_IDEMPOTENCY_KEY="same-cart"
        ),
    )
    assert {code for code, _ in results} == {201}
    assert len({b["id"] for _, b in results}) == 1

    def check():
        with schema_context("alpha"):
            return Product.objects.get(id=product.id).stock_quantity, Order.objects.filter(
                customer_id=shop["user"].pk
            ).count()

    assert _on_own_connection(check) == (98, 1)
