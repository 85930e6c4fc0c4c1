"""Bulk loading of synthetic products (seeding, benchmarks): COPY, with index rebuilds."""

import time

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import Category, Product, Tag
from catalog.seeding import PRODUCT_COLUMNS, product_rows
from catalog.services.categories import category_create
from catalog.services.search import search_words_refresh
from catalog.services.tags import tag_create

SEED_TREE = {
    "Home": ["Kitchen", "Furniture", "Lighting", "Decor"],
    "Fashion": ["Jackets", "Shirts", "Shoes", "Accessories"],
    "Electronics": ["Audio", "Computers", "Cameras", "Phones"],
    "Outdoors": ["Camping", "Cycling", "Garden"],
}
SEED_TAGS = [
    "new", "bestseller", "eco", "limited", "gift", "clearance", "handmade", "imported",
    "bundle", "premium", "staff-pick", "seasonal",
]  # fmt: skip
# Below this many rows, loading with the indexes in place is as fast as rebuilding them.
REBUILD_INDEXES_FROM = 100_000


def _seed_taxonomy() -> tuple[list[int], list[int]]:
    leaves = []
    for root_name, children in SEED_TREE.items():
        root = Category.objects.filter(slug=slugify(root_name)).first() or category_create(
            name=root_name
        )
        for child in children:
            slug = slugify(f"{root_name}-{child}")
            leaf = Category.objects.filter(slug=slug).first() or category_create(
                name=child, slug=slug, parent=root
            )
            leaves.append(leaf.id)
    tags = [(Tag.objects.filter(name=n).first() or tag_create(name=n)).id for n in SEED_TAGS]
    return leaves, tags


@transaction.atomic
def products_bulk_load(
    *, count: int, batch_size: int = 50_000, progress=None, seed: int = 0
) -> dict[str, float]:
    """Loads `count` synthetic products into the current tenant with COPY, in one transaction.

    For a large load into an empty table, the secondary indexes (GIN search and trigram
    included) are dropped first and rebuilt once at the end, which is several times faster
    than maintaining them row by row. The stored search vector is computed by PostgreSQL
    (generated column). Each product gets one or two tags. Returns timings in seconds.
    `progress(done, total)` is called after every batch.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    leaves, tag_ids = _seed_taxonomy()
    table = Product._meta.db_table
    rebuild = count >= REBUILD_INDEXES_FROM and not Product.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        index_defs = []
        if rebuild:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = %s AND indexname NOT IN (%s, 'product_live_sku_uniq')",
                [table, f"{table}_pkey"],
            )
            index_defs = cursor.fetchall()
            for name, _ in index_defs:
                cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT coalesce(max(id), 0) FROM catalog_product")
        first_new_id = cursor.fetchone()[0]
        columns = ", ".join(f'"{c}"' for c in PRODUCT_COLUMNS)
        rows = product_rows(
            count=count,
            category_ids=leaves,
            sku_prefix=f"S{first_new_id:x}-",
            seed=seed,
            now=timezone.now(),
        )
        done = 0
        t0 = time.perf_counter()
        while done < count:
            size = min(batch_size, count - done)
            with cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                for _ in range(size):
                    copy.write_row(next(rows))
            done += size
            if progress:
                progress(done, count)
        timings["copy"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        # Every product gets tag[id mod n]; every third also tag[(id / 3 + 1) mod n].
        cursor.execute(
            "INSERT INTO catalog_product_tags (product_id, tag_id) "
            "SELECT p.id, t.ids[1 + p.id %% t.n] FROM catalog_product p, "
            "  (SELECT %s::bigint[] AS ids, %s AS n) t WHERE p.id > %s "
            "UNION ALL "
            "SELECT p.id, t.ids[1 + (p.id / 3 + 1) %% t.n] FROM catalog_product p, "
            "  (SELECT %s::bigint[] AS ids, %s AS n) t "
            "WHERE p.id > %s AND p.id %% 3 = 0 AND (p.id / 3 + 1) %% t.n <> p.id %% t.n",
            [tag_ids, len(tag_ids), first_new_id] * 2,
        )
        timings["tags"] = time.perf_counter() - t0
        # Check the deferred foreign keys now: CREATE INDEX refuses pending trigger events.
        t0 = time.perf_counter()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        timings["foreign_keys"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        for _, definition in index_defs:
            cursor.execute(definition)
        timings["indexes"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        search_words_refresh()
        timings["search_words"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        cursor.execute("ANALYZE catalog_product")
        cursor.execute("ANALYZE catalog_product_tags")
        timings["analyze"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    return timings
