"""seed_catalog, rebuild_search_vectors, the demo seed and the admin pages."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from catalog import demo
from catalog.models import Category, InventoryMovement, Product, Tag
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_seed_catalog_loads_products_with_tags_and_search(tenant_a):
    out = io.StringIO()
    call_command("seed_catalog", "--tenant", "alpha", "--products", "1200", stdout=out)
    assert "1,200/1,200" in out.getvalue()
    with schema_context(tenant_a.schema_name):
        assert Product.objects.count() == 1200
        assert Product.objects.filter(tags__isnull=True).count() == 0
        assert Product.objects.filter(search_vector="chair").exists()
        # a second load appends (SKUs stay unique)
        call_command("seed_catalog", "--tenant", "alpha", "--products", "10", stdout=out)
        assert Product.objects.count() == 1210


def test_bulk_load_drops_and_rebuilds_indexes_on_big_empty_loads(tenant_a, monkeypatch):
    from catalog import services
    from catalog.services import bulk_load

    monkeypatch.setattr(bulk_load, "REBUILD_INDEXES_FROM", 100)
    with schema_context(tenant_a.schema_name):
        timings = services.products_bulk_load(count=300)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = 'catalog_product'"
            )
            names = {row[0] for row in cursor.fetchall()}
    assert {"product_search_gin", "product_name_trgm", "product_live_price"} <= names
    assert timings["indexes"] >= 0


def test_seed_catalog_bad_arguments(tenant_a):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed_catalog", "--tenant", "nobody", "--products", "5")
    with pytest.raises(CommandError):
        call_command("seed_catalog", "--tenant", "alpha", "--products", "0")
    with schema_context(tenant_a.schema_name):
        assert not Product.objects.exists()
        assert not Category.objects.exists()


def test_rebuild_search_vectors(tenant_a):
    with schema_context(tenant_a.schema_name):
        ProductFactory(name="Copper kettle")
    out = io.StringIO()
    call_command("rebuild_search_vectors", "--tenant", "alpha", stdout=out)
    assert "alpha: 1 products" in out.getvalue()
    with schema_context(tenant_a.schema_name):
        assert Product.objects.filter(search_vector="kettle").count() == 1


def test_demo_seed_is_idempotent(tenant_a, make_user):
    owner = make_user(tenant=tenant_a, role="owner")
    with schema_context(tenant_a.schema_name):
        first = demo.seed(tenant=tenant_a, owner=owner)
        counts = (Category.objects.count(), Tag.objects.count(), Product.objects.count())
        movements = InventoryMovement.objects.count()
        second = demo.seed(tenant=tenant_a, owner=owner)
        assert counts == (Category.objects.count(), Tag.objects.count(), Product.objects.count())
        assert InventoryMovement.objects.count() == movements
    assert "products (" in first and "(0 new)" in second
    assert counts[2] == 50


@pytest.fixture
def admin_client_a(make_user, tenant_a, admin_login):
    from django.test import Client

    user = make_user(tenant=tenant_a, role="owner", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="alpha.localhost")
    admin_login(client, user)
    return client


def test_admin_pages_render_with_constant_queries(admin_client_a, tenant_a):
    with schema_context(tenant_a.schema_name):
        products = [ProductFactory() for _ in range(5)]
        from catalog import services

        services.stock_adjust(product_id=products[0].id, quantity=3)
    for url in [
        "/admin/catalog/product/",
        "/admin/catalog/product/?q=product",
        f"/admin/catalog/product/{products[0].id}/change/",
        "/admin/catalog/product/add/",
        "/admin/catalog/category/",
        "/admin/catalog/tag/",
        "/admin/catalog/review/",
        "/admin/catalog/inventorymovement/",
    ]:
        assert admin_client_a.get(url).status_code == 200, url


def test_admin_edit_goes_through_the_service_with_versions(admin_client_a, tenant_a):
    with schema_context(tenant_a.schema_name):
        product = ProductFactory(name="Old")
    form = {
        "name": "New",
        "sku": product.sku,
        "description": "",
        "status": "active",
        "type": "physical",
        "price": "10.00",
        "cost_price": "0",
        "low_stock_threshold": "0",
        "images": "[]",
        "attributes": "{}",
        "version": "1",
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
    }
    url = f"/admin/catalog/product/{product.id}/change/"
    response = admin_client_a.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    with schema_context(tenant_a.schema_name):
        product.refresh_from_db()
        assert (product.name, product.version) == ("New", 2)
    # the same (now stale) form again is refused
    response = admin_client_a.post(url, {**form, "name": "Stale"})
    assert response.status_code == 200
    assert b"Someone else changed this product" in response.content
    with schema_context(tenant_a.schema_name):
        product.refresh_from_db()
        assert (product.name, product.version) == ("New", 2)


def test_admin_bulk_action_archives(admin_client_a, tenant_a):
    with schema_context(tenant_a.schema_name):
        products = [ProductFactory() for _ in range(3)]
    response = admin_client_a.post(
        "/admin/catalog/product/",
        {"action": "set_archived", "_selected_action": [p.id for p in products]},
    )
    assert response.status_code == 302
    with schema_context(tenant_a.schema_name):
        assert Product.objects.filter(status="archived").count() == 3
