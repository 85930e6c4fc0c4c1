"""Stock: the adjustment endpoint, the ledger, reservations for orders and concurrency."""

import threading
from decimal import Decimal

import pytest

from catalog import services
from catalog.errors import (
    InsufficientStock,
    ProductNotFound,
    ProductUnavailable,
    ReleaseExceedsReservation,
)
from catalog.models import InventoryMovement, Product
from catalog.tests.committed import committed_in as _committed
from catalog.tests.committed import in_thread as _in_thread
from catalog.tests.factories import ProductFactory

URL = "/api/v1/catalog/products/"

pytestmark = pytest.mark.django_db


class TestAdjustEndpoint:
    def test_add_and_subtract_write_the_ledger(self, api, in_a, manager):
        product = ProductFactory(stock_quantity=0)
        response = api.post(
            f"{URL}{product.id}/stock/",
            {"action": "add", "quantity": 7, "reason": "restock", "reference": "PO-1"},
            format="json",
        )
        assert response.status_code == 200, response.json()
        assert response.json()["stock_after"] == 7
        response = api.post(
            f"{URL}{product.id}/stock/",
            {"action": "subtract", "quantity": 3, "reason": "damage", "note": "dropped"},
            format="json",
        )
        assert response.json()["quantity"] == -3
        product.refresh_from_db()
        assert product.stock_quantity == 4
        ledger = list(
            InventoryMovement.objects.filter(product=product)
            .order_by("id")
            .values_list("reason", "quantity", "stock_before", "stock_after", "created_by")
        )
        assert ledger == [("restock", 7, 0, 7, manager.id), ("damage", -3, 7, 4, manager.id)]
        movements = api.get(f"{URL}{product.id}/movements/").json()["results"]
        assert [m["quantity"] for m in movements] == [-3, 7]

    def test_subtracting_below_zero_is_409_and_writes_nothing(self, api, in_a):
        product = ProductFactory(stock_quantity=2)
        response = api.post(
            f"{URL}{product.id}/stock/", {"action": "subtract", "quantity": 3}, format="json"
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "insufficient_stock"
        assert error["items"] == [{"product_id": product.id, "requested": 3, "available": 2}]
        product.refresh_from_db()
        assert product.stock_quantity == 2
        assert not InventoryMovement.objects.filter(product=product).exists()

    @pytest.mark.parametrize(
        "payload, field",
        [
            ({"action": "steal", "quantity": 1}, "action"),
            ({"action": "add", "quantity": 0}, "quantity"),
            ({"action": "add", "quantity": -5}, "quantity"),
            ({"action": "add", "quantity": 1, "reason": "reservation"}, "reason"),
        ],
    )
    def test_bad_input(self, api, in_a, payload, field):
        product = ProductFactory()
        response = api.post(f"{URL}{product.id}/stock/", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        assert not InventoryMovement.objects.exists()
        product.refresh_from_db()
        assert product.stock_quantity == 10

    def test_unknown_product_is_404(self, api, in_a):
        response = api.post(f"{URL}999999/stock/", {"action": "add", "quantity": 1}, format="json")
        assert response.status_code == 404
        assert not InventoryMovement.objects.exists()

    def test_members_cannot_adjust(self, member_api, in_a):
        product = ProductFactory()
        response = member_api.post(
            f"{URL}{product.id}/stock/", {"action": "add", "quantity": 1}, format="json"
        )
        assert response.status_code == 403
        product.refresh_from_db()
        assert product.stock_quantity == 10
        assert not InventoryMovement.objects.exists()


class TestReserveAndRelease:
    def test_reserve_several_products_all_or_nothing(self, in_a):
        a = ProductFactory(stock_quantity=5, price=Decimal("2.00"))
        b = ProductFactory(stock_quantity=1)
        with pytest.raises(InsufficientStock) as exc:
            services.stock_reserve(items={a.id: 2, b.id: 3}, reference="order-1")
        assert exc.value.extra["items"] == [{"product_id": b.id, "requested": 3, "available": 1}]
        a.refresh_from_db()
        b.refresh_from_db()
        assert (a.stock_quantity, a.purchase_count, b.stock_quantity) == (5, 0, 1)
        assert not InventoryMovement.objects.exists()
        movements = services.stock_reserve(items=[(b.id, 1), (a.id, 1), (a.id, 1)], reference="o2")
        assert [(m.product_id, m.quantity, m.unit_price) for m in movements] == [
            (a.id, -2, Decimal("2.00")),
            (b.id, -1, Decimal("10.00")),
        ]
        a.refresh_from_db()
        assert (a.stock_quantity, a.purchase_count) == (3, 2)

    def test_reserve_refuses_inactive_unknown_and_deleted_products(self, in_a):
        draft = ProductFactory(status="draft")
        with pytest.raises(ProductUnavailable):
            services.stock_reserve(items={draft.id: 1}, reference="o")
        with pytest.raises(ProductNotFound):
            services.stock_reserve(items={999999: 1}, reference="o")
        gone = ProductFactory()
        services.product_delete(product_id=gone.id)
        with pytest.raises(ProductNotFound):
            services.stock_reserve(items={gone.id: 1}, reference="o")
        assert sorted(Product.objects.values_list("stock_quantity", "purchase_count")) == [
            (10, 0),
            (10, 0),
        ]
        assert not InventoryMovement.objects.exists()

    def test_release_gives_back_at_most_what_was_reserved(self, in_a):
        product = ProductFactory(stock_quantity=5)
        services.stock_reserve(items={product.id: 3}, reference="order-9")
        services.stock_release(items={product.id: 2}, reference="order-9")
        with pytest.raises(ReleaseExceedsReservation):
            services.stock_release(items={product.id: 2}, reference="order-9")
        with pytest.raises(ReleaseExceedsReservation):
            services.stock_release(items={product.id: 1}, reference="other-order")
        product.refresh_from_db()
        assert (product.stock_quantity, product.purchase_count) == (4, 1)
        assert InventoryMovement.objects.filter(product=product).count() == 2
        # still allowed after the product was soft deleted
        services.product_delete(product_id=product.id)
        services.stock_release(items={product.id: 1}, reference="order-9")
        product = Product.objects.get(id=product.id)
        assert (product.stock_quantity, product.purchase_count) == (5, 0)


@pytest.fixture
def committed_products(tenant_a):
    """Products committed for real (threads cannot see the test's transaction); removed after."""
    created: list[int] = []

    def make(**fields):
        product = _committed(
            tenant_a.schema_name, lambda: services.product_create(name="Shared", price=1, **fields)
        )
        created.append(product.id)
        return product

    yield make

    def cleanup():
        InventoryMovement.objects.filter(product_id__in=created).delete()
        Product.objects.filter(id__in=created).delete()

    _committed(tenant_a.schema_name, cleanup)


def test_concurrent_subtractions_never_go_below_zero(tenant_a, committed_products):
    product = committed_products(stock_quantity=10, status="active")
    threads, results = [], []
    barrier = threading.Barrier(8)
    for _ in range(8):
        threads.append(
            _in_thread(
                tenant_a.schema_name,
                lambda: services.stock_adjust(product_id=product.id, quantity=-2),
                results,
                barrier,
            )
        )
    for thread in threads:
        thread.join()
    outcomes = sorted(type(value).__name__ for _, value in results)
    assert outcomes == ["InsufficientStock"] * 3 + ["InventoryMovement"] * 5

    def check():
        stock = Product.objects.get(id=product.id).stock_quantity
        chain = list(
            InventoryMovement.objects.filter(product_id=product.id, quantity=-2)
            .order_by("id")
            .values_list("stock_before", "stock_after")
        )
        return stock, chain

    stock, chain = _committed(tenant_a.schema_name, check)
    assert stock == 0
    assert chain == [(10, 8), (8, 6), (6, 4), (4, 2), (2, 0)]


def test_concurrent_reservations_in_opposite_orders_do_not_deadlock(tenant_a, committed_products):
    a = committed_products(stock_quantity=50, status="active")
    b = committed_products(stock_quantity=50, status="active")
    results: list = []
    barrier = threading.Barrier(6)
    threads = [
        _in_thread(
            tenant_a.schema_name,
            lambda items=items: services.stock_reserve(items=items, reference="race"),
            results,
            barrier,
        )
        for items in ([(a.id, 1), (b.id, 1)], [(b.id, 1), (a.id, 1)]) * 3
    ]
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == ["ok"] * 6

    def stocks():
        return sorted(Product.objects.filter(id__in=[a.id, b.id]).values_list("stock_quantity"))

    assert _committed(tenant_a.schema_name, stocks) == [(44,), (44,)]
