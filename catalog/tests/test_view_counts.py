"""Product views: a detail GET writes nothing to PostgreSQL; the periodic flush adds the views."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from catalog import services, tasks
from catalog.models import Product
from catalog.tests.factories import ProductFactory

URL = "/api/v1/catalog/products/"
WRITES = ("INSERT", "UPDATE", "DELETE")

pytestmark = pytest.mark.django_db


def test_a_detail_get_writes_nothing_to_postgresql(api, in_a):
    product = ProductFactory()
    api.get(f"{URL}{product.id}/")  # warm the caches (sessions, permissions)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"{URL}{product.id}/")
    assert response.status_code == 200
    statements = [q["sql"].lstrip().upper() for q in queries.captured_queries]
    assert statements  # the product was read
    assert not [s for s in statements if s.startswith(WRITES)], statements
    product.refresh_from_db()
    assert product.view_count == 0
    assert services.product_views_pending() == {product.id: 2}


def test_the_flush_adds_the_counted_views_in_one_update(api, in_a):
    first, second, untouched = ProductFactory(), ProductFactory(), ProductFactory(view_count=7)
    Product.objects.filter(id=first.id).update(view_count=10)
    for _ in range(3):
        api.get(f"{URL}{first.id}/")
    api.get(f"{URL}{second.id}/")
    with CaptureQueriesContext(connection) as queries:
        assert tasks.flush_product_views() == 2
    assert sum(q["sql"].lstrip().upper().startswith("UPDATE") for q in queries) == 1
    counts = dict(Product.objects.values_list("id", "view_count"))
    assert counts == {first.id: 13, second.id: 1, untouched.id: 7}
    assert services.product_views_pending() == {}
    assert tasks.flush_product_views() == 0  # nothing counted since: nothing written
    assert dict(Product.objects.values_list("id", "view_count")) == counts


def test_the_api_shows_the_flushed_count(api, in_a):
    product = ProductFactory()
    api.get(f"{URL}{product.id}/")
    assert api.get(f"{URL}{product.id}/").json()["view_count"] == 0
    services.product_views_flush()
    assert api.get(f"{URL}{product.id}/").json()["view_count"] == 2
    listed = api.get(URL).json()["results"]
    assert [p["view_count"] for p in listed if p["id"] == product.id] == [2]


def test_a_failed_flush_puts_the_counts_back(api, in_a, monkeypatch):
    product = ProductFactory()
    api.get(f"{URL}{product.id}/")
    api.get(f"{URL}{product.id}/")

    def broken_cursor(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    with pytest.raises(RuntimeError):
        services.product_views_flush()
    monkeypatch.undo()
    assert services.product_views_pending() == {product.id: 2}
    assert services.product_views_flush() == 1
    product.refresh_from_db()
    assert product.view_count == 2


def test_views_are_counted_per_workspace(api, in_a, tenant_b):
    product = ProductFactory()
    api.get(f"{URL}{product.id}/")
    with schema_context(tenant_b.schema_name):
        other = ProductFactory()
        assert services.product_views_pending() == {}
        assert services.product_views_flush() == 0
        other.refresh_from_db()
        assert other.view_count == 0
    assert services.product_views_flush() == 1
    product.refresh_from_db()
    assert product.view_count == 1


def test_the_flush_is_scheduled_in_every_tenant():
    import catalog.schedules  # noqa: F401
    from tenants.schedules import PERIODIC_TASKS

    entry = {e.task: e for e in PERIODIC_TASKS}["catalog.flush_product_views"]
    assert entry.per_tenant and entry.every_seconds <= 300
