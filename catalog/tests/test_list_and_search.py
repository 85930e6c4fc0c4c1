"""Product lists: filters, sorting, keyset pagination, constant query count, search."""

from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from catalog.tests.factories import CategoryFactory, ProductFactory, TagFactory
from core.pagination import encode_cursor

URL = "/api/v1/catalog/products/"

pytestmark = pytest.mark.django_db


def _ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def _walk(api, params, page_size):
    """Follows `next` links to the end; returns every id seen, in order."""
    ids, url, data = [], URL, {**params, "page_size": page_size}
    while url:
        response = api.get(url, data)
        ids += _ids(response)
        url, data = response.json()["next"], None
    return ids


class TestFilters:
    def test_each_filter(self, api, in_a):
        shoes = CategoryFactory(name="Shoes")
        running = CategoryFactory(name="Running", parent=shoes)
        trail = CategoryFactory(name="Trail", parent=running)
        other = CategoryFactory(name="Hats")
        red = TagFactory(name="red")
        p1 = ProductFactory(category=shoes, price=Decimal("10"), stock_quantity=0)
        p2 = ProductFactory(
            category=trail, price=Decimal("50"), compare_at_price=Decimal("80"), type="digital"
        )
        p3 = ProductFactory(category=other, price=Decimal("90"), status="draft")
        p2.tags.add(red)
        assert set(_ids(api.get(URL, {"category": shoes.id}))) == {p1.id, p2.id}
        assert set(_ids(api.get(URL, {"category": running.id}))) == {p2.id}
        assert set(_ids(api.get(URL, {"status": "draft"}))) == {p3.id}
        assert set(_ids(api.get(URL, {"type": "digital"}))) == {p2.id}
        assert set(_ids(api.get(URL, {"min_price": "20", "max_price": "60"}))) == {p2.id}
        assert set(_ids(api.get(URL, {"tags": f"{red.id},999"}))) == {p2.id}
        assert set(_ids(api.get(URL, {"in_stock": "false"}))) == {p1.id}
        assert set(_ids(api.get(URL, {"in_stock": "true"}))) == {p2.id, p3.id}
        assert set(_ids(api.get(URL, {"on_sale": "true"}))) == {p2.id}
        assert set(_ids(api.get(URL, {"on_sale": "false"}))) == {p1.id, p3.id}

    @pytest.mark.parametrize(
        "params, field",
        [
            ({"status": "bogus"}, "status"),
            ({"category": "999999"}, "category"),
            ({"min_price": "cheap"}, "min_price"),
            ({"ordering": "colour"}, "ordering"),
            ({"cursor": "not-a-cursor"}, "cursor"),
            ({"page_size": "0"}, "page_size"),
        ],
    )
    def test_bad_filters_are_400(self, api, in_a, params, field):
        response = api.get(URL, params)
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]

    def test_a_list_that_names_no_filter_builds_no_filterset(self, api, in_a, monkeypatch):
        from catalog.filters import ProductFilter

        built = []
        original = ProductFilter.__init__

        def counting(self, *args, **kwargs):
            built.append(kwargs.get("data"))
            original(self, *args, **kwargs)

        monkeypatch.setattr(ProductFilter, "__init__", counting)
        products = [ProductFactory(), ProductFactory(status="draft")]
        assert set(_ids(api.get(URL, {"page_size": 5, "ordering": "price"}))) == {
            p.id for p in products
        }
        assert built == []
        assert _ids(api.get(URL, {"status": "draft"})) == [products[1].id]
        assert len(built) == 1

    def test_cursor_of_another_ordering_is_refused(self, api, in_a):
        cursor = encode_cursor(sort="price", value="1.00", row_id=1)
        response = api.get(URL, {"cursor": cursor, "ordering": "-price"})
        assert response.status_code == 400


class TestKeysetPagination:
    @pytest.mark.parametrize(
        "ordering", ["-created", "created", "price", "-price", "name", "-rating"]
    )
    def test_walking_all_pages_sees_every_product_once_in_order(self, api, in_a, ordering):
        # Many ties on price and rating: ties must neither repeat nor skip rows.
        products = [ProductFactory(price=Decimal(i % 3), name=f"P{i % 4}") for i in range(23)]
        ids = _walk(api, {"ordering": ordering}, page_size=5)
        assert sorted(ids) == sorted(p.id for p in products)
        assert len(ids) == len(set(ids))
        key = {
            "created": lambda p: (p.created_at, p.id),
            "price": lambda p: (p.price, p.id),
            "name": lambda p: (p.name, p.id),
            "rating": lambda p: (p.average_rating, p.id),
        }[ordering.lstrip("-")]
        expected = sorted(products, key=key, reverse=ordering.startswith("-"))
        assert ids == [p.id for p in expected]

    def test_previous_link_goes_back(self, api, in_a):
        for _ in range(12):
            ProductFactory()
        first = api.get(URL, {"page_size": 5}).json()
        assert first["previous"] is None
        second = api.get(first["next"]).json()
        back = api.get(second["previous"]).json()
        assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]

    def test_query_count_is_constant_whatever_the_page_size(
        self, api, in_a, django_assert_num_queries
    ):
        category = CategoryFactory()
        tags = [TagFactory() for _ in range(3)]
        for _ in range(30):
            ProductFactory(category=category).tags.set(tags)
        api.get(URL, {"page_size": 1})  # warms the caller's cached RBAC rules
        # The catalog version (this transaction wrote the catalog, so no cached page is used),
        # products (+ category join) and the tags after one SET search_path; host, user (JWT)
        # and the permission check are served from caches.
        for size in (2, 10, 30):
            with django_assert_num_queries(4):
                response = api.get(URL, {"page_size": size, "ordering": "price"})
            assert len(response.json()["results"]) == size
        cursor = api.get(URL, {"page_size": 5}).json()["next"]
        with django_assert_num_queries(4):
            api.get(cursor)


class TestSearch:
    def test_ranked_full_text_over_name_sku_and_description(self, api, in_a):
        by_name = ProductFactory(name="Wireless headphones", description="Over-ear.")
        by_description = ProductFactory(name="Speaker", description="Pairs with headphones.")
        ProductFactory(name="Teapot", description="Porcelain.")
        by_sku = ProductFactory(name="Cable", sku="ZX-9001")
        body = api.get(f"{URL}search/", {"q": "headphones"}).json()
        assert body["mode"] == "fulltext"
        assert [r["id"] for r in body["results"]] == [by_name.id, by_description.id]
        assert body["results"][0]["rank"] > body["results"][1]["rank"]
        # prefix of the last word
        assert [r["id"] for r in api.get(f"{URL}search/", {"q": "wirel"}).json()["results"]] == [
            by_name.id
        ]
        body = api.get(f"{URL}search/", {"q": "zx-9001"}).json()
        assert (body["mode"], [r["id"] for r in body["results"]]) == ("sku", [by_sku.id])
        # the start of a SKU goes through full text
        body = api.get(f"{URL}search/", {"q": "zx"}).json()
        assert (body["mode"], [r["id"] for r in body["results"]]) == ("fulltext", [by_sku.id])

    def test_typos_are_corrected_against_the_words_of_product_names(self, api, in_a):
        target = ProductFactory(name="Wireless headphones")
        ProductFactory(name="Teapot")
        body = api.get(f"{URL}search/", {"q": "wireles hedphones"}).json()
        assert body["mode"] == "corrected"
        assert body["query"] == "wireless headphones"
        assert [r["id"] for r in body["results"]] == [target.id]
        # renamed products teach the dictionary their new words
        api.patch(f"{URL}{target.id}/", {"name": "Walnut bookshelf", "version": 1}, format="json")
        body = api.get(f"{URL}search/", {"q": "bookshelv"}).json()
        assert [r["id"] for r in body["results"]] == [target.id]
        body = api.get(f"{URL}search/", {"q": "qqqzzz"}).json()
        assert (body["mode"], body["results"]) == ("fulltext", [])

    def test_without_pg_trgm_typos_are_corrected_by_edit_distance(
        self, api, in_a, monkeypatch, django_assert_num_queries
    ):
        from django.db import connections
        from django.test.utils import CaptureQueriesContext

        from catalog import extensions, selectors

        target = ProductFactory(name="Wireless headphones")
        ProductFactory(name="Walnut bookshelf")
        monkeypatch.setattr(selectors, "trigram_available", lambda: False)
        exact = api.get(f"{URL}search/", {"q": "wireless headphones"}).json()
        assert [r["id"] for r in exact["results"]] == [target.id]
        with CaptureQueriesContext(connections["default"]) as queries:
            typo = api.get(f"{URL}search/", {"q": "wireles hedphones"}).json()
        assert typo["mode"] == "corrected"
        assert typo["query"] == "wireless headphones"
        assert [r["id"] for r in typo["results"]] == [target.id]
        assert not any("similarity" in q["sql"].lower() or '"word" %' in q["sql"] for q in queries)
        # a slip at the very start, swapped letters, an extra letter
        # and two slips (compared one by one, not one edit away)
        for typed in ("jeadphones", "wirelses", "headphonnes", "headfones"):
            body = api.get(f"{URL}search/", {"q": typed}).json()
            assert (body["mode"], [r["id"] for r in body["results"]]) == ("corrected", [target.id])
        # bounded: one dictionary query per corrected word, whatever the dictionary's size
        # search_path, words, 2 corrections, one search (both queries), the page
        with django_assert_num_queries(6 + 1):
            api.get(f"{URL}search/", {"q": "wireles hedphones"})
        body = api.get(f"{URL}search/", {"q": "qqqzzz"}).json()
        assert (body["mode"], body["query"], body["results"]) == ("fulltext", "qqqzzz", [])
        assert extensions.trigram_available() is True  # the test server has pg_trgm

    @pytest.mark.parametrize("trigram", [True, False])
    def test_typo_dictionary_is_per_tenant(
        self, api, auth_client, make_user, tenant_b, in_a, monkeypatch, trigram
    ):
        from catalog import selectors

        if not trigram:
            monkeypatch.setattr(selectors, "trigram_available", lambda: False)
        ProductFactory(name="Wireless headphones")
        api_b = auth_client(make_user(tenant=tenant_b, role="manager"), tenant_b)
        body = api_b.get(f"{URL}search/", {"q": "hedphones"}).json()
        assert (body["mode"], body["query"], body["results"]) == ("fulltext", "hedphones", [])
        with schema_context(tenant_b.schema_name):
            from catalog.models import SearchWord

            assert not SearchWord.objects.filter(word="headphones").exists()
        assert api.get(f"{URL}search/", {"q": "hedphones"}).json()["mode"] == "corrected"

    def test_a_typo_is_searched_once_with_its_correction(self, api, in_a):
        from django.db import connections
        from django.test.utils import CaptureQueriesContext

        target = ProductFactory(name="Wireless headphones")
        ProductFactory(name="Speaker", description="Pairs with headphones.")
        api.get(f"{URL}search/", {"q": "lamp"})  # warms the caller's cached RBAC rules

        def searches(q):
            with CaptureQueriesContext(connections["default"]) as queries:
                body = api.get(f"{URL}search/", {"q": q}).json()
            ranked = [x for x in queries if "ts_rank" in x["sql"]]
            return body, len(ranked), len(queries)

        body, ranked, total = searches("hedphones wireles")
        assert (body["mode"], body["query"]) == ("corrected", "headphones wireless")
        assert [r["id"] for r in body["results"]] == [target.id]
        # one ranked statement for both queries (search_path, words, 2 corrections, it, the page
        # and its tags)
        assert (ranked, total) == (1, 7)
        # a word of descriptions only is unknown to the dictionary, yet found as typed
        body, ranked, _ = searches("pairs")
        assert (body["mode"], body["query"], ranked) == ("fulltext", "pairs", 1)
        assert len(body["results"]) == 1
        # the start of a word of product names is a prefix, not a typo: no correction looked up
        body, ranked, total = searches("wirel")
        assert (body["mode"], [r["id"] for r in body["results"]]) == ("fulltext", [target.id])
        assert (ranked, total) == (1, 5)  # search_path, words, the search, the page, its tags
        # nothing found either way: the typed words, not a correction that found nothing
        # (and the correction, none, is looked up once): search_path, words, correction, search
        body, ranked, total = searches("qqqzzz")
        assert (body["mode"], body["results"], ranked, total) == ("fulltext", [], 1, 4)

    def test_corrected_query_that_finds_nothing_still_says_corrected(self, api, in_a):
        ProductFactory(name="Wireless headphones", status="draft")
        body = api.get(f"{URL}search/", {"q": "hedphones", "status": "active"}).json()
        assert (body["mode"], body["query"], body["results"]) == ("corrected", "headphones", [])

    @pytest.mark.parametrize(
        "q", ["tripo", "walnut tri", "Walnut  TRI ", "the tri", "tri 3.5", "zx-9001", "café tri"]
    )
    def test_prefix_searches_find_and_rank_as_the_full_query(self, in_a, q):
        from django.contrib.postgres.search import SearchRank
        from django.db.models import F

        from catalog import selectors
        from catalog.models import Product

        for name, description in [
            ("Walnut tripod", "3.5 kg"),
            ("Tripod", "café tri-fold"),
            ("Walnut tray", "the triangle"),
            ("Steel trivet", "ZX-9001 tri 3.5"),
            ("Lamp", "Trip 3.5"),
        ]:
            ProductFactory(name=name, description=description)
        match, rank = selectors._search_queries(q, known=selectors._known_words(q))
        full = selectors._search_query(q, known=selectors._known_words(q))

        def ranked(query, by):
            rows = (
                Product.objects.filter(search_vector=query)
                .annotate(rank=SearchRank(F("search_vector"), by))
                .values_list("id", "rank")
            )
            return sorted(rows)

        assert ranked(match, rank) == ranked(full, full)
        assert ranked(full, full)  # each query finds something

    def test_search_respects_filters_and_soft_delete(self, api, in_a):
        live = ProductFactory(name="Lamp", status="active")
        ProductFactory(name="Lamp", status="draft")
        deleted = ProductFactory(name="Lamp")
        api.delete(f"{URL}{deleted.id}/")
        body = api.get(f"{URL}search/", {"q": "lamp", "status": "active"}).json()
        assert [r["id"] for r in body["results"]] == [live.id]

    def test_search_pages_by_offset(self, api, in_a):
        for i in range(5):
            ProductFactory(name=f"Chair {i}")
        first = api.get(f"{URL}search/", {"q": "chair", "limit": 3}).json()
        assert len(first["results"]) == 3
        rest = api.get(first["next"]).json()
        assert len(rest["results"]) == 2
        assert rest["next"] is None

    def test_broad_queries_are_ranked_within_a_bounded_window(self, api, in_a, monkeypatch):
        from catalog import selectors

        monkeypatch.setattr(selectors, "SEARCH_WINDOW", 3)
        for i in range(5):
            ProductFactory(name=f"Desk {i}")
        body = api.get(f"{URL}search/", {"q": "desk"}).json()
        assert body["partial"] is True
        assert len(body["results"]) == 3
        assert api.get(f"{URL}search/", {"q": "desk 4"}).json()["partial"] is False

    def test_bad_if_match_is_400(self, api, in_a):
        product = ProductFactory()
        response = api.patch(f"{URL}{product.id}/", {"name": "x"}, HTTP_IF_MATCH="yesterday")
        assert response.status_code == 400
        assert "If-Match" in response.json()["error"]["fields"]
        product.refresh_from_db()
        assert product.name != "x"
        assert product.version == 1

    @pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "x", "limit": "0"}])
    def test_bad_search_input_is_400(self, api, in_a, params):
        response = api.get(f"{URL}search/", params)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid"

    def test_punctuation_only_query_finds_nothing(self, api, in_a):
        ProductFactory(name="Lamp")
        body = api.get(f"{URL}search/", {"q": "&|!():*"}).json()
        assert body["results"] == []

    def test_search_uses_the_gin_index(self, in_a):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(
                "EXPLAIN SELECT id FROM catalog_product WHERE search_vector @@ "
                "to_tsquery('english', 'lamp:*')"
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "product_search_gin" in plan


def test_product_representation_matches_the_generic_serializer(in_a):
    from rest_framework import serializers

    from catalog.selectors import product_get
    from catalog.serializers import ProductSerializer

    product = ProductFactory(
        category=CategoryFactory(),
        price=Decimal("19.90"),
        compare_at_price=Decimal("25.00"),
        attributes={"a": [1, 2]},
        images=["https://example.com/a.png"],
    )
    product.tags.set([TagFactory(), TagFactory()])
    for candidate in (product_get(product_id=product.id), ProductFactory(category=None)):
        context = {"show_cost": True}
        fast = ProductSerializer(candidate, context=context).data
        generic = serializers.ModelSerializer.to_representation(
            ProductSerializer(context=context), candidate
        )
        assert fast == dict(generic)


def test_rows_are_represented_exactly_as_model_instances(in_a):
    """The list, the detail and the write answers are built from plain rows
    (selectors.product_values); they must equal the serializer's output for the instance."""
    from catalog.selectors import product_get, product_row
    from catalog.serializers import ProductSerializer, product_row_representation

    tagged = ProductFactory(
        category=CategoryFactory(),
        price=Decimal("19.90"),
        compare_at_price=Decimal("25.00"),
        stock_quantity=2,
        low_stock_threshold=5,
        attributes={"a": [1, 2], "b": {"c": None}},
        images=["https://example.com/a.png"],
    )
    tagged.tags.set([TagFactory(name="zebra"), TagFactory(name="apple")])
    plain = ProductFactory(category=None, compare_at_price=None)
    for product in (tagged, plain):
        instance = product_get(product_id=product.id)
        row = product_row(product_id=product.id)
        for show_cost in (True, False):
            expected = ProductSerializer(instance, context={"show_cost": show_cost}).data
            assert product_row_representation(row, show_cost=show_cost) == expected
    assert [t["name"] for t in product_row(product_id=tagged.id)["tag_summaries"]] == [
        "apple",
        "zebra",
    ]
    assert product_row(product_id=plain.id)["tag_summaries"] == []
    assert product_row(product_id=10**12) is None


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("headphones", "headphones", 0),
        ("hedphones", "headphones", 1),  # missing
        ("headphonnes", "headphones", 1),  # extra
        ("haedphones", "headphones", 1),  # swapped neighbours
        ("jeadphones", "headphones", 1),  # wrong
        ("hdaephones", "headphones", 2),
        ("qqqzzz", "kettle", 3),  # above the bound: bound + 1
        ("tent", "tentacles", 3),  # lengths too far apart
    ],
)
def test_edit_distance(a, b, distance):
    from catalog.selectors import _edit_distance

    assert _edit_distance(a, b, 2) == distance


def test_trigram_extension_lives_in_public_and_works_in_both_tenants(tenant_a, tenant_b):
    """pg_trgm is created WITH SCHEMA public, so every tenant's search_path finds its operators."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        )
        assert cursor.fetchone() == ("public",)
    for tenant in (tenant_a, tenant_b):
        with schema_context(tenant.schema_name):
            ProductFactory(name=f"Espresso machine {tenant.slug}")
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = %s "
                    "AND indexname = 'product_name_trgm'",
                    [tenant.schema_name],
                )
                assert "gin_trgm_ops" in cursor.fetchone()[0]
                cursor.execute("SELECT count(*) FROM catalog_product WHERE name %> 'espreso'")
                assert cursor.fetchone()[0] == 1
