"""Checkout input an attacker sends: NUL inside metadata stored as jsonb, totals past the
numeric(12, 2) columns, deep JSON, ids that are not ids. A 400 in the one error shape; no order,
no reservation, no notification."""

import json

import pytest

from catalog.models import InventoryMovement, Product
from orders.models import Order
from orders.tests.conftest import notices

URL = "/api/v1/orders/"

pytestmark = pytest.mark.django_db


def _nothing_written(product, stock: int) -> None:
    assert not Order.objects.exists()
    assert Product.objects.get(id=product.id).stock_quantity == stock
    assert not InventoryMovement.objects.filter(reason="reservation").exists()
    assert notices() == (0, 0)


def test_nul_characters_in_metadata_are_refused(customer_api, make_product, checkout_body):
    product = make_product(stock=5)
    for metadata in ({"ref": "a\u0000b"}, {"\u0000": 1}, {"deep": [{"x": "\u0000"}]}):
        body = json.dumps(checkout_body((product, 1), metadata=metadata))
        response = customer_api.generic("POST", URL, body, content_type="application/json")
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "parse_error"
    _nothing_written(product, 5)


def test_deeply_nested_metadata_is_refused(customer_api, make_product, checkout_body):
    product = make_product(stock=5)
    body = json.dumps(checkout_body((product, 1)))[:-1] + ', "metadata": '
    body += '{"a": ' * 40 + "1" + "}" * 40 + "}"
    response = customer_api.generic("POST", URL, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "parse_error"
    _nothing_written(product, 5)


def test_a_total_past_the_amount_columns_is_a_field_error(
    customer_api, make_product, checkout_body
):
    expensive = make_product(price="9999999999.99", stock=10)
    response = customer_api.post(URL, checkout_body((expensive, 2)), format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and "items" in error["fields"]
    _nothing_written(expensive, 10)


@pytest.mark.parametrize("path", ["abc/", "1e3/", "-1/", "99999999999999999999999/"])
def test_order_ids_that_are_not_integers_are_a_json_404(customer_api, path):
    response = customer_api.get(f"{URL}{path}")
    assert response.status_code == 404, response.content
    assert "error" in response.json()
    assert customer_api.post(f"{URL}{path}cancel/", {}, format="json").status_code == 404
