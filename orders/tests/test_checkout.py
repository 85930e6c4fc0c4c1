"""Checkout: stock reservation, server-side totals, idempotency, bad input, isolation."""

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from catalog.models import InventoryMovement, Product
from orders.models import IdempotencyKey, Order
from orders.tests.conftest import notices

URL = "/api/v1/orders/"

pytestmark = pytest.mark.django_db


def _stock(product) -> int:
    return Product.objects.get(id=product.id).stock_quantity


def _reservations() -> int:
    return InventoryMovement.objects.filter(reason="reservation").count()


def test_checkout_reserves_stock_and_snapshots_the_items(
    customer_api, customer, make_product, checkout_body, django_capture_on_commit_callbacks
):
    mug = make_product(name="Blue mug", price="12.50", stock=5, attributes={"color": "blue"})
    pen = make_product(name="Pen", price="1.99", stock=100)
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_api.post(URL, checkout_body((mug, 2), (pen, 3)), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["payment_status"] == "pending"
    assert body["customer"] == str(customer.id)
    assert body["subtotal"] == "30.97"
    assert body["total"] == "30.97"
    assert body["item_count"] == 5
    assert body["items"][0] == {
        "product_id": mug.id,
        "name": "Blue mug",
        "sku": mug.sku,
        "unit_price": "12.50",
        "quantity": 2,
        "subtotal": "25.00",
        "attributes": {"color": "blue"},
    }
    assert body["shipping_address"]["country"] == "PT"
    assert body["billing_address"] == body["shipping_address"]
    assert body["allowed_transitions"] == ["confirmed", "cancelled"]
    assert [h["status"] for h in body["history"]] == ["pending"]
    assert body["expires_at"] is not None
    assert (_stock(mug), _stock(pen)) == (3, 97)
    ledger = InventoryMovement.objects.filter(reference=body["number"]).order_by("product_id")
    assert [(m.product_id, m.reason, m.quantity) for m in ledger] == [
        (mug.id, "reservation", -2),
        (pen.id, "reservation", -3),
    ]
    assert notices() == (1, 1)  # the confirmation, by email and in the app


def test_the_confirmation_is_sent_after_the_commit_outside_the_row_locks(
    customer_api, make_product, checkout_body, django_capture_on_commit_callbacks, monkeypatch
):
    from orders.services import _common

    sent = []
    real_notify = _common.notify
    monkeypatch.setattr(
        _common, "notify", lambda **kw: sent.append(kw["template"]) or real_notify(**kw)
    )
    mug = make_product(price="12.50", stock=5)
    with django_capture_on_commit_callbacks() as callbacks:
        response = customer_api.post(URL, checkout_body((mug, 1)), format="json")
        assert response.status_code == 201
        # The order and its reservation are written; the notice waits for the commit.
        assert (sent, notices()) == ([], (0, 0))
    assert (sent, notices()) == ([], (0, 0))
    for callback in callbacks:
        callback()
    assert (sent, notices()) == (["order_confirmation"], (1, 1))


def test_client_prices_are_ignored(customer_api, make_product, checkout_body):
    product = make_product(price="99.00")
    body = checkout_body((product, 1))
    body["items"][0].update(unit_price="0.01", price="0.01", subtotal="0.01")
    body.update(total="0.01", subtotal="0.01", tax_amount="0", discount_amount="99")
    response = customer_api.post(URL, body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert (data["items"][0]["unit_price"], data["total"], data["discount_amount"]) == (
        "99.00",
        "99.00",
        "0.00",
    )


def test_repeated_products_are_merged(customer_api, make_product, checkout_body):
    product = make_product(stock=5)
    response = customer_api.post(URL, checkout_body((product, 1), (product, 2)), format="json")
    assert response.status_code == 201
    assert [(i["product_id"], i["quantity"]) for i in response.json()["items"]] == [(product.id, 3)]
    assert _stock(product) == 2


def test_tax_shipping_and_discount(customer_api, make_product, checkout_body, settings):
    settings.ORDERS_TAX_RATE = "0.20"
    settings.ORDERS_SHIPPING_FEE = "4.90"
    settings.ORDERS_FREE_SHIPPING_FROM = "100"
    settings.ORDERS_DISCOUNT_CODES = "WELCOME10=10%,FLAT5=5.00"
    product = make_product(price="20.00", stock=50)

    data = customer_api.post(URL, checkout_body((product, 2)), format="json").json()
    assert (data["subtotal"], data["tax_amount"], data["shipping_amount"], data["total"]) == (
        "40.00",
        "8.00",
        "4.90",
        "52.90",
    )
    data = customer_api.post(
        URL, checkout_body((product, 2), discount_code="welcome10"), format="json"
    ).json()
    assert (data["discount_code"], data["discount_amount"], data["tax_amount"]) == (
        "WELCOME10",
        "4.00",
        "7.20",
    )
    assert data["total"] == "48.10"  # 36.00 + 7.20 tax + 4.90 shipping
    data = customer_api.post(URL, checkout_body((product, 6)), format="json").json()
    assert (data["shipping_amount"], data["total"]) == ("0.00", "144.00")

    before = (Order.objects.count(), _stock(product), _reservations(), notices())
    response = customer_api.post(
        URL, checkout_body((product, 1), discount_code="NOPE"), format="json"
    )
    assert response.status_code == 400
    assert "discount_code" in response.json()["error"]["fields"]
    assert (Order.objects.count(), _stock(product), _reservations(), notices()) == before


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda b: b.update(items=[]), "items"),
        (lambda b: b["items"][0].update(quantity=0), "items"),
        (lambda b: b["items"][0].update(quantity="many"), "items"),
        (lambda b: b["items"][0].pop("product_id"), "items"),
        (lambda b: b.update(payment_method="iou"), "payment_method"),
        (lambda b: b.pop("shipping_address"), "shipping_address"),
        (lambda b: b["shipping_address"].pop("city"), "shipping_address"),
        (lambda b: b["shipping_address"].update(country="Portugal"), "shipping_address"),
    ],
)
def test_bad_input_is_400_and_writes_nothing(
    customer_api, make_product, checkout_body, change, field
):
    product = make_product(stock=5)
    body = checkout_body((product, 1))
    body["shipping_address"] = dict(body["shipping_address"])
    change(body)
    response = customer_api.post(URL, body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not Order.objects.exists()
    assert _stock(product) == 5
    assert _reservations() == 0
    assert notices() == (0, 0)


def test_unknown_product_is_400(customer_api, make_product, checkout_body):
    product = make_product(stock=5)
    body = checkout_body((product, 1))
    body["items"].append({"product_id": 987654, "quantity": 1})
    response = customer_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["product_ids"] == [987654]
    assert not Order.objects.exists()
    assert _stock(product) == 5
    assert _reservations() == 0
    assert notices() == (0, 0)


def test_insufficient_stock_is_409_and_all_or_nothing(customer_api, make_product, checkout_body):
    plenty = make_product(stock=50)
    scarce = make_product(stock=1)
    response = customer_api.post(URL, checkout_body((plenty, 5), (scarce, 2)), format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["items"] == [{"product_id": scarce.id, "requested": 2, "available": 1}]
    assert not Order.objects.exists()
    assert (_stock(plenty), _stock(scarce)) == (50, 1)
    assert _reservations() == 0
    assert notices() == (0, 0)


def test_inactive_product_is_409(customer_api, make_product, checkout_body):
    draft = make_product(status="draft")
    response = customer_api.post(URL, checkout_body((draft, 1)), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "product_unavailable"
    assert not Order.objects.exists()
    assert _stock(draft) == 10
    assert _reservations() == 0
    assert notices() == (0, 0)


class TestIdempotency:
    def test_retry_returns_the_same_order_and_reserves_once(
        self, customer_api, make_product, checkout_body
    ):
        product = make_product(stock=10)
        body = checkout_body((product, 3))
        first = customer_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        second = customer_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert Order.objects.count() == 1
        assert _stock(product) == 7

    def test_key_order_of_the_body_does_not_matter(self, customer_api, make_product, checkout_body):
        product = make_product(stock=10)
        body = checkout_body((product, 1))
        reordered = dict(reversed(list(body.items())))
        customer_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
        again = customer_api.post(URL, reordered, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
        assert again.status_code == 201
        assert Order.objects.count() == 1

    def test_same_key_with_another_body_is_422(self, customer_api, make_product, checkout_body):
        product = make_product(stock=10)
        customer_api.post(URL, checkout_body((product, 1)), format="json", HTTP_IDEMPOTENCY_KEY="k")
        sent = notices()
        response = customer_api.post(
            URL, checkout_body((product, 2)), format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
        assert Order.objects.count() == 1
        assert _stock(product) == 9
        assert _reservations() == 1
        assert IdempotencyKey.objects.count() == 1
        assert notices() == sent

    def test_keys_belong_to_one_customer(
        self, customer_api, other_api, make_product, checkout_body
    ):
        product = make_product(stock=10)
        a = customer_api.post(
            URL, checkout_body((product, 1)), format="json", HTTP_IDEMPOTENCY_KEY="x"
        )
        b = other_api.post(
            URL, checkout_body((product, 1)), format="json", HTTP_IDEMPOTENCY_KEY="x"
        )
        assert a.status_code == b.status_code == 201
        assert a.json()["id"] != b.json()["id"]

    def test_a_failed_attempt_does_not_burn_the_key(
        self, customer_api, make_product, checkout_body
    ):
        product = make_product(stock=1)
        body = checkout_body((product, 2))
        failed = customer_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
        assert failed.status_code == 409
        assert not IdempotencyKey.objects.exists()
        assert not Order.objects.exists()
        assert _stock(product) == 1
        from catalog.services import stock_adjust

        stock_adjust(product_id=product.id, quantity=5)
        retried = customer_api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
        assert retried.status_code == 201

    def test_overlong_key_is_400(self, customer_api, make_product, checkout_body):
        product = make_product()
        response = customer_api.post(
            URL, checkout_body((product, 1)), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256
        )
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()["error"]["fields"]
        assert not Order.objects.exists()
        assert not IdempotencyKey.objects.exists()
        assert _stock(product) == 10


def test_anonymous_is_401(client_a, make_product, checkout_body):
    product = make_product()
    response = client_a.post(URL, checkout_body((product, 1)), format="json")
    assert response.status_code == 401
    assert _stock(product) == 10
    assert not Order.objects.exists()
    assert notices() == (0, 0)


def test_token_of_tenant_a_is_refused_on_tenant_b(
    customer, tenant_a, tenant_b, auth_client, make_product, checkout_body
):
    product = make_product()
    client = auth_client(customer, tenant_a)
    client.defaults["HTTP_HOST"] = "beta.localhost"
    response = client.post(URL, checkout_body((product, 1)), format="json")
    assert response.status_code == 401
    assert not Order.objects.exists()
    with schema_context(tenant_a.schema_name):
        assert not Order.objects.exists()
        assert _stock(product) == 10
        assert _reservations() == 0


def test_totals_are_decimal_exact(place_order, customer, make_product):
    product = make_product(price="0.10", stock=1000)
    order = place_order(customer, (product, 3))
    assert order.total == Decimal("0.30")
