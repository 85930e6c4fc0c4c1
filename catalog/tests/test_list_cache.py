"""The product list's pages kept per catalog version (catalog.list_cache, migration 0003).

Catalog rows here are written and committed on connections of their own (catalog.tests.committed),
as other requests and workers would; the requests run in the test's transaction, which writes no
catalog row itself, so they may use cached pages.
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.models import Category, Product, Tag
from catalog.tests.committed import committed_in
from catalog.tests.factories import ProductFactory

URL = "/api/v1/catalog/products/"


def _version() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM catalog_listversion")
        return cursor.fetchone()[0]


@pytest.fixture
def shared(tenant_a):
    """write(fn) runs fn committed on tenant A; every product, tag and category made in these
    tests is named "Cached ..." and removed afterwards."""

    def write(fn):
        return committed_in(tenant_a.schema_name, fn)

    write(lambda: services.product_create(name="Cached one", price=5, status="active"))
    yield write

    def cleanup():
        Product.objects.filter(name__startswith="Cached").delete()
        Tag.objects.filter(name__startswith="Cached").delete()
        Category.objects.filter(name__startswith="Cached").delete()

    write(cleanup)


def _names(response) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


def test_a_page_is_served_from_the_cache_with_one_statement(api, shared):
    first = api.get(URL, {"page_size": 5})
    assert first.status_code == 200
    assert first["ETag"]
    with CaptureQueriesContext(connection) as queries:
        second = api.get(URL, {"page_size": 5})
    assert second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert [q["sql"] for q in queries.captured_queries] == [
        'SET search_path = "alpha","public"',
        "SELECT version FROM catalog_listversion WHERE NOT EXISTS (SELECT 1 FROM "
        "catalog_listchange WHERE txid = txid_current_if_assigned())",
    ]
    assert "Cached one" in _names(second)


def test_cached_and_uncached_pages_are_the_same_bytes(api, shared, settings):
    api.get(URL, {"page_size": 5, "ordering": "price"})
    cached = api.get(URL, {"page_size": 5, "ordering": "price"})
    settings.CATALOG_LIST_CACHE_SECONDS = 0
    fresh = api.get(URL, {"page_size": 5, "ordering": "price"})
    assert not fresh.has_header("ETag")
    assert cached.content == fresh.content
    assert cached["Content-Type"] == fresh["Content-Type"] == "application/json"
    assert json.loads(cached.content)["results"]


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(
            lambda p: services.product_update(
                product_id=p.id, expected_version=p.version, data={"name": "Cached two"}
            ),
            id="service",
        ),
        pytest.param(
            lambda p: Product.objects.filter(id=p.id).update(name="Cached two"), id="queryset"
        ),
        pytest.param(
            lambda p: connection.cursor().execute(
                "UPDATE catalog_product SET name = 'Cached two' WHERE id = %s", [p.id]
            ),
            id="raw-sql",
        ),
    ],
)
def test_any_committed_write_of_a_product_shows_at_once(api, shared, write):
    product = shared(lambda: Product.objects.get(name="Cached one"))
    before = api.get(URL)
    assert "Cached one" in _names(before)
    shared(lambda: write(product))
    after = api.get(URL)
    assert "Cached two" in _names(after)
    assert "Cached one" not in _names(after)
    assert after["ETag"] != before["ETag"]


def test_tags_categories_and_deletes_show_at_once(api, shared):
    product = shared(lambda: Product.objects.get(name="Cached one"))
    tag = shared(lambda: services.tag_create(name="Cached tag"))
    category = shared(lambda: services.category_create(name="Cached shelf"))
    api.get(URL)

    shared(lambda: product.tags.add(tag))  # the through table
    row = next(r for r in api.get(URL).json()["results"] if r["id"] == product.id)
    assert [t["name"] for t in row["tags"]] == ["Cached tag"]

    shared(lambda: services.tag_update(tag=tag, data={"name": "Cached label"}))
    row = next(r for r in api.get(URL).json()["results"] if r["id"] == product.id)
    assert [t["name"] for t in row["tags"]] == ["Cached label"]

    shared(lambda: Product.objects.filter(id=product.id).update(category=category))
    shared(lambda: services.category_update(category=category, data={"name": "Cached aisle"}))
    row = next(r for r in api.get(URL).json()["results"] if r["id"] == product.id)
    assert row["category"]["name"] == "Cached aisle"

    shared(lambda: services.product_delete(product_id=product.id))
    assert product.id not in [r["id"] for r in api.get(URL).json()["results"]]


def test_the_version_moves_once_per_transaction_and_only_at_commit(tenant_a, shared):
    from django.db import transaction

    def read():
        return _version()

    start = shared(read)

    def write_three_times_then_look():
        with transaction.atomic():
            for name in ("Cached a", "Cached b", "Cached c"):
                services.product_create(name=name, price=1)
            # Another connection still reads the old version while this one has not committed.
            return committed_in(tenant_a.schema_name, read)

    assert shared(write_three_times_then_look) == start
    assert shared(read) == start + 1

    def rolled_back():
        with transaction.atomic():
            services.product_create(name="Cached d", price=1)
            transaction.set_rollback(True)

    shared(rolled_back)
    assert shared(read) == start + 1


def test_truncate_moves_the_version(shared):
    from django.db import transaction

    def truncate_and_look():
        # Rolled back: the shared workspace keeps its rows. Constraints made immediate fire
        # the deferred bump before the end of the transaction, so it can be seen.
        with transaction.atomic():
            before = _version()
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE catalog_product_tags")
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            after = _version()
            transaction.set_rollback(True)
        return before, after

    before, after = shared(truncate_and_look)
    assert after == before + 1


def test_a_transaction_with_its_own_catalog_writes_reads_no_cached_page(api, shared, in_a):
    api.get(URL)
    cached = api.get(URL)
    assert cached.has_header("ETag")
    ProductFactory(name="Cached uncommitted")  # in the test's transaction, not committed
    response = api.get(URL)
    assert not response.has_header("ETag")
    assert "Cached uncommitted" in _names(response)


def test_cost_is_cached_apart_from_those_who_may_not_see_it(api, member_api, shared):
    shared(lambda: Product.objects.filter(name="Cached one").update(cost_price=2))
    manager_row = next(r for r in api.get(URL).json()["results"] if r["name"] == "Cached one")
    member_row = next(r for r in member_api.get(URL).json()["results"] if r["name"] == "Cached one")
    assert manager_row["cost_price"] == "2.00"
    assert "cost_price" not in member_row


def test_workspaces_never_share_pages(api, auth_client, make_user, tenant_b, shared):
    api.get(URL)
    other = auth_client(make_user(tenant=tenant_b, role="owner"), tenant_b)
    names = _names(other.get(URL))
    assert "Cached one" not in names


def test_if_none_match_gets_304(api, shared):
    first = api.get(URL, {"page_size": 3})
    again = api.get(URL, {"page_size": 3}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    shared(lambda: Product.objects.filter(name="Cached one").update(price=6))
    changed = api.get(URL, {"page_size": 3}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200


def test_bad_filters_are_still_400_and_not_cached(api, shared):
    for _ in range(2):
        response = api.get(URL, {"page_size": "x"})
        assert response.status_code == 400
        assert response.json()["error"]["code"]


def test_every_workspace_has_the_triggers(tenant_a, tenant_b):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname, c.relname, t.tgname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND n.nspname IN (%s, %s)",
            [tenant_a.schema_name, tenant_b.schema_name],
        )
        found = set(cursor.fetchall())
    for schema in (tenant_a.schema_name, tenant_b.schema_name):
        for table in ("catalog_product", "catalog_category", "catalog_tag", "catalog_product_tags"):
            assert (schema, table, f"{table}_list_changed") in found
        assert (schema, "catalog_listchange", "catalog_listchange_commit") in found


def test_unknown_parameters_make_no_cache_entries(api, shared, settings):
    import redis

    server = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    pages = lambda: set(server.keys("*catalog:list:*"))  # noqa: E731
    before = pages()
    for n in range(3):
        response = api.get(URL, {"page_size": 2, f"junk{n}": "x"})
        assert response.status_code == 200
        assert not response.has_header("ETag")
    assert pages() == before
    assert api.get(URL, {"page_size": 2, "in_stock": "true"}).has_header("ETag")
    assert len(pages()) == len(before) + 1
