"""Bulk update, reviews and ratings, categories and tags, sales analytics."""

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from catalog import services
from catalog.models import Category, InventoryMovement, Product, Review, Tag
from catalog.tests.factories import CategoryFactory, ProductFactory, TagFactory

API = "/api/v1/catalog/"

pytestmark = pytest.mark.django_db


class TestBulkUpdate:
    def test_per_row_results_in_one_transaction(self, api, in_a):
        ok = ProductFactory(price=Decimal("10"))
        stale = ProductFactory()
        services.product_update(product_id=stale.id, expected_version=1, data={"name": "moved"})
        bad = ProductFactory(price=Decimal("10"), compare_at_price=Decimal("12"))
        category = CategoryFactory()
        response = api.post(
            f"{API}products/bulk-update/",
            {
                "items": [
                    {"id": ok.id, "version": 1, "price": "8.00", "category_id": category.id},
                    {"id": stale.id, "version": 1, "price": "1.00"},
                    {"id": 999999, "version": 1, "price": "1.00"},
                    {"id": bad.id, "version": 1, "price": "20.00"},
                ]
            },
            format="json",
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["summary"] == {"updated": 1, "conflict": 1, "not_found": 1, "invalid": 1}
        assert body["results"][0] == {"id": ok.id, "status": "updated", "version": 2}
        assert body["results"][1] == {"id": stale.id, "status": "conflict", "current_version": 2}
        assert body["results"][2] == {"id": 999999, "status": "not_found"}
        assert body["results"][3]["fields"] == {
            "compare_at_price": ["Must be greater than or equal to the price."]
        }
        ok.refresh_from_db()
        bad.refresh_from_db()
        stale.refresh_from_db()
        assert (ok.price, ok.category_id, ok.version) == (Decimal("8.00"), category.id, 2)
        assert (bad.price, bad.compare_at_price, bad.version) == (
            Decimal("10.00"),
            Decimal("12.00"),
            1,
        )
        assert (stale.price, stale.name, stale.version) == (Decimal("10.00"), "moved", 2)

    def test_a_thousand_rows_in_a_few_queries(self, api, in_a, django_assert_max_num_queries):
        products = Product.objects.bulk_create(
            [Product(name=f"B{i}", sku=f"BULK-{i}", price=1) for i in range(1000)]
        )
        items = [{"id": p.id, "version": 1, "status": "archived"} for p in products]
        with django_assert_max_num_queries(20):
            response = api.post(f"{API}products/bulk-update/", {"items": items}, format="json")
        assert response.json()["summary"] == {"updated": 1000}
        assert Product.objects.filter(status="archived").count() == 1000

    @pytest.mark.parametrize(
        "payload",
        [
            {"items": []},
            {"items": [{"id": 1, "version": 1, "price": "-1"}]},
            {"items": [{"id": 1}]},
            {"items": [{"id": 1, "version": 1}, {"id": 1, "version": 1}]},
            {"items": [{"id": 1, "version": 1, "category_id": 999999}]},
            {"items": [{"id": i, "version": 1} for i in range(1, 1002)]},
        ],
    )
    def test_bad_input_is_400_and_nothing_written(self, api, in_a, payload):
        product = ProductFactory()
        response = api.post(f"{API}products/bulk-update/", payload, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid"
        product.refresh_from_db()
        assert product.version == 1
        assert (product.price, product.category_id) == (Decimal("10.00"), None)
        assert Product.objects.count() == 1


class TestReviews:
    def test_average_rating_follows_create_update_delete(
        self, api, member_api, in_a, make_user, auth_client, tenant_a
    ):
        product = ProductFactory()
        assert (
            api.post(
                f"{API}reviews/", {"product": product.id, "rating": 5}, format="json"
            ).status_code
            == 201
        )
        response = member_api.post(
            f"{API}reviews/", {"product": product.id, "rating": 2, "title": "meh"}, format="json"
        )
        assert response.status_code == 201
        review_id = response.json()["id"]
        product.refresh_from_db()
        assert (product.average_rating, product.review_count) == (Decimal("3.50"), 2)
        member_api.patch(f"{API}reviews/{review_id}/", {"rating": 4}, format="json")
        product.refresh_from_db()
        assert product.average_rating == Decimal("4.50")
        assert member_api.delete(f"{API}reviews/{review_id}/").status_code == 204
        product.refresh_from_db()
        assert (product.average_rating, product.review_count) == (Decimal("5.00"), 1)

    def test_one_review_per_user_per_product(self, member_api, in_a):
        product = ProductFactory()
        member_api.post(f"{API}reviews/", {"product": product.id, "rating": 5}, format="json")
        response = member_api.post(
            f"{API}reviews/", {"product": product.id, "rating": 1}, format="json"
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "already_reviewed"
        assert list(Review.objects.values_list("rating", flat=True)) == [5]
        product.refresh_from_db()
        assert (product.average_rating, product.review_count) == (Decimal("5.00"), 1)

    @pytest.mark.parametrize(
        "payload, field",
        [({"rating": 6}, "rating"), ({"rating": 0}, "rating"), ({"product": 999999}, "product")],
    )
    def test_bad_input(self, member_api, in_a, payload, field):
        product = ProductFactory()
        data = {"product": product.id, "rating": 3, **payload}
        response = member_api.post(f"{API}reviews/", data, format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        assert not Review.objects.exists()
        product.refresh_from_db()
        assert product.review_count == 0

    def test_only_the_author_or_a_manager_edits(
        self, member_api, api, in_a, make_user, auth_client, tenant_a
    ):
        product = ProductFactory()
        review_id = member_api.post(
            f"{API}reviews/", {"product": product.id, "rating": 3}, format="json"
        ).json()["id"]
        other = auth_client(make_user(tenant=tenant_a, role="member"), tenant_a)
        assert other.patch(f"{API}reviews/{review_id}/", {"rating": 1}).status_code == 403
        assert other.delete(f"{API}reviews/{review_id}/").status_code == 403
        assert list(Review.objects.values_list("id", "rating")) == [(review_id, 3)]
        product.refresh_from_db()
        assert (product.average_rating, product.review_count) == (Decimal("3.00"), 1)
        assert api.delete(f"{API}reviews/{review_id}/").status_code == 204

    def test_list_filters_by_product_with_constant_queries(
        self, member_api, in_a, make_user, django_assert_num_queries
    ):
        product = ProductFactory()
        member_api.get(f"{API}reviews/")  # warms the caller's cached RBAC rules
        for count in (2, 6):
            while Review.objects.filter(product=product).count() < count:
                services.review_create(product_id=product.id, user=make_user(), rating=4)
            # the product filter's lookup, reviews joined to users, after one SET search_path
            # (host, user and the permission check are served from caches)
            with django_assert_num_queries(3):
                response = member_api.get(f"{API}reviews/", {"product": product.id})
            assert len(response.json()["results"]) == count


class TestCategoriesAndTags:
    def test_tree_paths_and_moves(self, api, in_a):
        root = api.post(f"{API}categories/", {"name": "Clothing"}, format="json").json()
        child = api.post(
            f"{API}categories/", {"name": "Shirts", "parent": root["id"]}, format="json"
        ).json()
        leaf = api.post(
            f"{API}categories/", {"name": "Polo", "parent": child["id"]}, format="json"
        ).json()
        assert root["slug"] == "clothing"
        assert leaf["path"] == f"/{root['id']}/{child['id']}/{leaf['id']}/"
        assert leaf["depth"] == 2
        other = api.post(f"{API}categories/", {"name": "Sale"}, format="json").json()
        response = api.patch(f"{API}categories/{child['id']}/", {"parent": other["id"]})
        assert response.status_code == 200
        assert Category.objects.get(id=leaf["id"]).path == (
            f"/{other['id']}/{child['id']}/{leaf['id']}/"
        )
        # a cycle is refused
        tree = sorted(Category.objects.values_list("id", "parent_id", "path", "depth"))
        response = api.patch(f"{API}categories/{other['id']}/", {"parent": leaf["id"]})
        assert response.status_code == 400
        assert "parent" in response.json()["error"]["fields"]
        assert sorted(Category.objects.values_list("id", "parent_id", "path", "depth")) == tree
        # a category with children cannot be deleted; a product's category becomes empty
        assert api.delete(f"{API}categories/{child['id']}/").status_code == 409
        assert sorted(Category.objects.values_list("id", "parent_id", "path", "depth")) == tree
        product = ProductFactory(category_id=leaf["id"])
        assert api.delete(f"{API}categories/{leaf['id']}/").status_code == 204
        product.refresh_from_db()
        assert product.category_id is None

    def test_category_bad_input_and_permissions(self, api, member_api, in_a):
        assert api.post(f"{API}categories/", {}, format="json").status_code == 400
        response = api.post(f"{API}categories/", {"name": "X", "parent": 999999}, format="json")
        assert "parent" in response.json()["error"]["fields"]
        assert member_api.post(f"{API}categories/", {"name": "X"}).status_code == 403
        assert member_api.get(f"{API}categories/").status_code == 200
        assert not Category.objects.exists()

    def test_tags_crud(self, api, member_api, in_a):
        response = api.post(f"{API}tags/", {"name": "Summer Sale"}, format="json")
        assert response.status_code == 201
        tag = response.json()
        assert tag["slug"] == "summer-sale"
        assert api.post(f"{API}tags/", {"name": "summer sale"}).status_code == 409
        assert api.post(f"{API}tags/", {"name": ""}).status_code == 400
        assert member_api.post(f"{API}tags/", {"name": "x"}).status_code == 403
        assert list(Tag.objects.values_list("name", "slug")) == [("Summer Sale", "summer-sale")]
        assert [t["name"] for t in member_api.get(f"{API}tags/").json()["results"]] == [
            "Summer Sale"
        ]
        assert api.patch(f"{API}tags/{tag['id']}/", {"name": "Winter"}).json()["name"] == "Winter"
        assert api.delete(f"{API}tags/{tag['id']}/").status_code == 204
        assert not Tag.objects.exists()

    def test_taxonomy_is_per_tenant(self, api, tenant_b, make_user, auth_client):
        with schema_context(tenant_b.schema_name):
            TagFactory(name="beta-only")
            CategoryFactory(name="Beta cat")
        assert api.get(f"{API}tags/").json()["results"] == []
        assert api.get(f"{API}categories/").json()["results"] == []


def _sell(customer, items: dict, status: str = "pending"):
    """An order placed through checkout (best sellers are the orders' sales), then moved on."""
    from orders.services import order_checkout, order_transition

    order, _ = order_checkout(
        customer=customer,
        items=[{"product_id": p.id, "quantity": q} for p, q in items.items()],
        shipping_address={
            "name": "Ada Lovelace",
            "line1": "12 Market Street",
            "city": "Porto",
            "postal_code": "4000-001",
            "country": "pt",
        },
        payment_method="credit_card",
    )
    if status == "cancelled":
        order_transition(order_id=order.id, status="cancelled")
    return order


class TestAnalytics:
    def test_top_products_by_units_and_revenue(self, api, in_a, make_user, tenant_a):
        customer = make_user(email="buyer@alpha.test", tenant=tenant_a, role="member")
        cheap = ProductFactory(price=Decimal("1.00"), stock_quantity=100, status="active")
        dear = ProductFactory(price=Decimal("50.00"), stock_quantity=100, status="active")
        _sell(customer, {cheap: 10, dear: 2})
        _sell(customer, {cheap: 5}, status="cancelled")
        body = api.get(f"{API}analytics/top-products/", {"period": "day", "by": "units"}).json()
        assert [(r["product_id"], r["units_sold"]) for r in body["results"]] == [
            (cheap.id, 10),
            (dear.id, 2),
        ]
        body = api.get(f"{API}analytics/top-products/", {"period": "year"}).json()
        assert [(r["product_id"], r["revenue"]) for r in body["results"]] == [
            (dear.id, "100.00"),
            (cheap.id, "10.00"),
        ]

    def test_bad_period_and_member_access(self, api, member_api, in_a):
        response = api.get(f"{API}analytics/top-products/", {"period": "decade"})
        assert response.status_code == 400
        assert "period" in response.json()["error"]["fields"]
        assert member_api.get(f"{API}analytics/top-products/").status_code == 403


def test_reviews_stock_and_analytics_are_per_tenant(
    api, member_api, tenant_a, tenant_b, make_user, auth_client
):
    with schema_context(tenant_a.schema_name):
        product = ProductFactory(stock_quantity=5)
        services.review_create(product_id=product.id, user=make_user(), rating=5)
        product.status = "active"
        product.save()
        _sell(make_user(email="buyer@alpha.test", tenant=tenant_a, role="member"), {product: 1})
    b_api = auth_client(make_user(email="owner@beta.test", tenant=tenant_b, role="owner"), tenant_b)
    assert b_api.get(f"{API}reviews/").json()["results"] == []
    assert b_api.get(f"{API}analytics/top-products/").json()["results"] == []
    response = b_api.post(
        f"{API}products/{product.id}/stock/", {"action": "add", "quantity": 1}, format="json"
    )
    assert response.status_code == 404
    assert b_api.get(f"{API}products/{product.id}/movements/").status_code == 404
    with schema_context(tenant_a.schema_name):
        product.refresh_from_db()
        assert product.stock_quantity == 4
        assert InventoryMovement.objects.filter(product_id=product.id).count() == 1
    with schema_context(tenant_b.schema_name):
        assert not InventoryMovement.objects.exists()
    assert len(api.get(f"{API}reviews/").json()["results"]) == 1
