"""Products over HTTP: create, read, list, update with versions, soft delete and restore."""

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from catalog import services
from catalog.models import Category, InventoryMovement, Product
from catalog.tests.factories import CategoryFactory, ProductFactory, TagFactory

URL = "/api/v1/catalog/products/"

pytestmark = pytest.mark.django_db


def test_create_generates_sku_and_records_initial_stock(api, in_a):
    category = CategoryFactory()
    tag = TagFactory()
    response = api.post(
        URL,
        {
            "name": "Blue Jacket",
            "price": "80.00",
            "compare_at_price": "100.00",
            "stock_quantity": 5,
            "low_stock_threshold": 5,
            "category": category.id,
            "tags": [tag.id],
            "attributes": {"color": "blue"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sku"].startswith("SKU-")
    assert body["is_on_sale"] is True
    assert body["is_low_stock"] is True
    assert body["discount_percentage"] == "20.00"
    assert body["version"] == 1
    assert body["category"]["id"] == category.id
    assert [t["id"] for t in body["tags"]] == [tag.id]
    assert response["ETag"] == '"1"'
    movement = InventoryMovement.objects.get(product_id=body["id"])
    assert (movement.stock_before, movement.stock_after, movement.reason) == (0, 5, "restock")


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "X", "price": "-1.00"}, "price"),
        ({"name": "X", "price": "10.00", "compare_at_price": "5.00"}, "compare_at_price"),
        ({"name": "X", "price": "10.00", "category": 999999}, "category"),
        ({"name": "X", "price": "10.00", "tags": [999999]}, "tags"),
        ({"name": "X", "price": "10.00", "stock_quantity": -3}, "stock_quantity"),
        ({"name": "X", "price": "10.00", "status": "sold"}, "status"),
        ({"price": "10.00"}, "name"),
        ({"name": "X", "price": "abc"}, "price"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_writes_nothing(api, in_a, payload, field):
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not Product.objects.exists()
    assert not InventoryMovement.objects.exists()


def test_duplicate_live_sku_is_409_but_a_deleted_one_is_reusable(api, in_a):
    product = ProductFactory(sku="ABC-1")
    response = api.post(URL, {"name": "Y", "price": "1.00", "sku": "ABC-1"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sku_taken"
    assert Product.objects.count() == 1
    assert api.delete(f"{URL}{product.id}/").status_code == 204
    response = api.post(URL, {"name": "Y", "price": "1.00", "sku": "ABC-1"}, format="json")
    assert response.status_code == 201
    # Restoring the first one would now give two live products with one SKU.
    response = api.post(f"{URL}{product.id}/restore/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sku_taken"
    product.refresh_from_db()
    assert (product.deleted_at is not None, product.version) == (True, 2)
    assert Product.objects.live().count() == 1


def test_soft_delete_hides_and_restore_brings_back(api, in_a):
    product = ProductFactory()
    assert api.delete(f"{URL}{product.id}/").status_code == 204
    product.refresh_from_db()
    assert product.deleted_at is not None
    assert api.get(f"{URL}{product.id}/").status_code == 404
    assert api.get(URL).json()["results"] == []
    response = api.post(f"{URL}{product.id}/restore/")
    assert response.status_code == 200
    assert api.get(f"{URL}{product.id}/").status_code == 200
    assert api.post(f"{URL}{product.id}/restore/").status_code == 404
    product.refresh_from_db()
    assert (product.deleted_at, product.version) == (None, 3)


def test_retrieve_counts_views_and_sends_etag(api, in_a):
    product = ProductFactory()
    api.get(f"{URL}{product.id}/")
    response = api.get(f"{URL}{product.id}/")
    assert response["ETag"] == '"1"'
    assert services.product_views_pending() == {product.id: 2}
    services.product_views_flush()
    product.refresh_from_db()
    assert product.view_count == 2


class TestOptimisticLocking:
    def test_update_with_if_match(self, api, in_a):
        product = ProductFactory()
        response = api.patch(
            f"{URL}{product.id}/", {"price": "12.50"}, format="json", HTTP_IF_MATCH='"1"'
        )
        assert response.status_code == 200
        assert response.json()["version"] == 2
        assert response["ETag"] == '"2"'

    def test_update_with_version_field(self, api, in_a):
        product = ProductFactory()
        response = api.patch(f"{URL}{product.id}/", {"name": "New", "version": 1}, format="json")
        assert response.status_code == 200
        assert response.json()["name"] == "New"

    def test_stale_version_is_409_with_current_version_and_nothing_written(self, api, in_a):
        product = ProductFactory()
        api.patch(f"{URL}{product.id}/", {"name": "First", "version": 1}, format="json")
        response = api.patch(f"{URL}{product.id}/", {"name": "Second", "version": 1}, format="json")
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "version_conflict"
        assert error["current_version"] == 2
        product.refresh_from_db()
        assert (product.name, product.version) == ("First", 2)

    def test_update_without_version_is_refused(self, api, in_a):
        product = ProductFactory()
        response = api.patch(f"{URL}{product.id}/", {"name": "Blind"}, format="json")
        assert response.status_code == 428
        assert response.json()["error"]["code"] == "version_required"
        product.refresh_from_db()
        assert product.name != "Blind"
        assert product.version == 1

    def test_put_replaces_and_needs_required_fields(self, api, in_a):
        product = ProductFactory()
        response = api.put(
            f"{URL}{product.id}/", {"name": "Only name", "version": 1}, format="json"
        )
        assert response.status_code == 400
        assert "price" in response.json()["error"]["fields"]
        product.refresh_from_db()
        assert product.name != "Only name"
        assert product.version == 1
        response = api.put(
            f"{URL}{product.id}/", {"name": "Whole", "price": "3.00", "version": 1}, format="json"
        )
        assert response.status_code == 200

    def test_compare_at_below_existing_price_is_400(self, api, in_a):
        product = ProductFactory(price=Decimal("50.00"))
        response = api.patch(
            f"{URL}{product.id}/", {"compare_at_price": "40.00", "version": 1}, format="json"
        )
        assert response.status_code == 400
        assert "compare_at_price" in response.json()["error"]["fields"]
        product.refresh_from_db()
        assert product.version == 1
        assert product.compare_at_price is None

    def test_update_moves_the_product_between_categories(self, api, in_a):
        first, second = CategoryFactory(), CategoryFactory()
        product = ProductFactory(category=first)
        response = api.patch(
            f"{URL}{product.id}/", {"category": second.id, "version": 1}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["category"]["id"] == second.id
        response = api.patch(f"{URL}{product.id}/", {"category": None, "version": 2}, format="json")
        assert response.json()["category"] is None
        product.refresh_from_db()
        assert (product.category_id, product.version) == (None, 3)

    def test_stock_is_not_writable_through_update(self, api, in_a):
        product = ProductFactory()
        response = api.patch(
            f"{URL}{product.id}/", {"stock_quantity": 99, "version": 1}, format="json"
        )
        assert response.status_code == 400
        product.refresh_from_db()
        assert (product.stock_quantity, product.version) == (10, 1)
        assert not InventoryMovement.objects.exists()


class TestPermissions:
    def test_member_reads_but_cannot_write(self, member_api, in_a):
        product = ProductFactory()
        assert member_api.get(URL).status_code == 200
        assert member_api.get(f"{URL}{product.id}/").status_code == 200
        response = member_api.post(URL, {"name": "X", "price": "1.00"}, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert member_api.delete(f"{URL}{product.id}/").status_code == 403
        assert list(Product.objects.values_list("id", "deleted_at", "version")) == [
            (product.id, None, 1)
        ]

    def test_anonymous_is_401(self, client_a, in_a):
        assert client_a.get(URL).status_code == 401

    def test_user_without_membership_is_403(self, make_user, auth_client, tenant_a, in_a):
        outsider = make_user(email="out@example.com")
        assert auth_client(outsider, tenant_a).get(URL).status_code == 403


class TestTenantIsolation:
    def test_tenant_b_never_sees_tenant_a_products(
        self, api, make_user, auth_client, tenant_a, tenant_b
    ):
        with schema_context(tenant_a.schema_name):
            product = ProductFactory(name="Alpha secret")
        b_user = make_user(email="b@beta.test", tenant=tenant_b, role="owner")
        b_api = auth_client(b_user, tenant_b)
        assert b_api.get(URL).json()["results"] == []
        assert b_api.get(f"{URL}{product.id}/").status_code == 404
        assert b_api.get(f"{URL}search/", {"q": "alpha"}).json()["results"] == []
        assert api.get(URL).json()["results"][0]["name"] == "Alpha secret"

    def test_token_of_tenant_a_is_refused_on_b(self, manager, tenant_a, tenant_b):
        from rest_framework.test import APIClient

        from accounts.tokens import tokens_for_user

        token = tokens_for_user(user=manager, tenant=tenant_a)["access"]
        client = APIClient(HTTP_HOST="beta.localhost")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.get(URL).status_code == 401


def test_categories_of_other_schema_are_unknown(api, tenant_a, tenant_b):
    with schema_context(tenant_b.schema_name):
        foreign = CategoryFactory()
    with schema_context(tenant_a.schema_name):
        Category.objects.filter(id=foreign.id).delete()
    response = api.post(URL, {"name": "X", "price": "1.00", "category": foreign.id}, format="json")
    assert response.status_code == 400
    with schema_context(tenant_a.schema_name):
        assert not Product.objects.exists()
