"""Catalog input an attacker sends: deep and NUL-bearing JSON, integers past the columns, ids
that are not ids; and who reads cost prices. Every refusal is a 4xx in the one error shape with
nothing written."""

import json
from decimal import Decimal

import pytest

from catalog.models import STOCK_MAX, InventoryMovement, Product, Review
from catalog.tests.factories import ProductFactory

URL = "/api/v1/catalog/products/"

pytestmark = pytest.mark.django_db


def _state():
    return (
        list(Product.objects.order_by("id").values_list("id", "stock_quantity", "version")),
        InventoryMovement.objects.count(),
        Review.objects.count(),
    )


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert {"code", "message"} <= set(error)
    if code:
        assert error["code"] == code
    return error


def _product_body(**extra) -> dict:
    return {"name": "Lamp", "price": "10.00", **extra}


def test_json_nested_a_thousand_levels_is_a_400(api, in_a):
    before = _state()
    body = '{"name": "Lamp", "price": "1.00", "attributes": ' + "[" * 1000 + "]" * 1000 + "}"
    response = api.generic("POST", URL, body, content_type="application/json")
    assert "32 levels" in _error(response, 400, "parse_error")["message"]
    assert _state() == before


def test_nul_characters_in_product_attributes_are_refused(api, in_a):
    before = _state()
    for attributes in ({"origin": "E\u0000U"}, {"ori\u0000gin": "EU"}, {"a": ["\u0000"]}):
        body = json.dumps(_product_body(attributes=attributes))
        response = api.generic("POST", URL, body, content_type="application/json")
        _error(response, 400, "parse_error")
    assert _state() == before


def test_stock_fields_past_a_postgres_integer_are_field_errors(api, in_a):
    product = ProductFactory(stock_quantity=5)
    before = _state()
    for field in ("stock_quantity", "low_stock_threshold"):
        response = api.post(URL, _product_body(**{field: 2**31}), format="json")
        assert field in _error(response, 400, "invalid")["fields"]
    response = api.post(
        f"{URL}bulk-update/",
        {"items": [{"id": product.id, "version": product.version, "low_stock_threshold": 2**40}]},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert _state() == before


def test_adding_stock_past_the_integer_maximum_is_refused(api, in_a):
    product = ProductFactory(stock_quantity=STOCK_MAX - 10)
    before = _state()
    response = api.post(
        f"{URL}{product.id}/stock/", {"action": "add", "quantity": 11}, format="json"
    )
    assert "quantity" in _error(response, 400, "invalid")["fields"]
    assert _state() == before
    response = api.post(
        f"{URL}{product.id}/stock/", {"action": "add", "quantity": 10}, format="json"
    )
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert product.stock_quantity == STOCK_MAX


@pytest.mark.parametrize(
    "path",
    [
        "reviews/abc/",
        "reviews/1.5/",
        "reviews/99999999999999999999999/",
        "products/abc/",
        "products/-1/",
        "categories/x/",
        "tags/%00/",
    ],
)
def test_ids_that_are_not_integers_are_a_json_404(api, in_a, path):
    for method in ("get", "patch", "delete"):
        response = getattr(api, method)(f"/api/v1/catalog/{path}", {}, format="json")
        _error(response, 404)


class TestCostPrice:
    def test_members_never_see_it_in_lists_search_or_detail(self, member_api, in_a):
        product = ProductFactory(cost_price=Decimal("3.21"))
        listed = member_api.get(URL).json()["results"]
        assert listed and all("cost_price" not in p for p in listed)
        detail = member_api.get(f"{URL}{product.id}/")
        assert detail.status_code == 200
        assert "cost_price" not in detail.json()
        assert "3.21" not in detail.content.decode()
        found = member_api.get(f"{URL}search/", {"q": product.name}).json()["results"]
        assert found and all("cost_price" not in p for p in found)

    def test_managers_see_it(self, api, in_a):
        product = ProductFactory(cost_price=Decimal("3.21"))
        listed = api.get(URL).json()["results"]
        assert [p["cost_price"] for p in listed if p["id"] == product.id] == ["3.21"]
        assert api.get(f"{URL}{product.id}/").json()["cost_price"] == "3.21"
        created = api.post(URL, _product_body(cost_price="1.50"), format="json")
        assert created.status_code == 201
        assert created.json()["cost_price"] == "1.50"

    def test_deciding_costs_no_query(self, api, member_api, in_a, django_assert_max_num_queries):
        ProductFactory.create_batch(3)
        counts = []
        for client in (api, member_api):
            client.get(URL)  # warms the cached RBAC rules
            # As for any list: domain, user, products, tags (with a search_path switch before
            # each unless the connection is already on the schema).
            with django_assert_max_num_queries(8) as captured:
                response = client.get(URL)
            assert len(response.json()["results"]) == 3
            counts.append(len(captured))
        assert counts[0] == counts[1]
