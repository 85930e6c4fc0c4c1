"""Every write of the catalog: categories, tags, products, stock, reviews, search, bulk loads.

One module per sub-domain; the public names are re-exported here, so callers import them from
catalog.services. Stock changes lock product rows in ascending id order (see stock.py).
"""

from catalog.services.bulk_load import (
    REBUILD_INDEXES_FROM,
    SEED_TAGS,
    SEED_TREE,
    products_bulk_load,
)
from catalog.services.categories import category_create, category_delete, category_update
from catalog.services.products import (
    BULK_UPDATE_FIELDS,
    BULK_UPDATE_LIMIT,
    product_bulk_update,
    product_create,
    product_delete,
    product_restore,
    product_update,
    sku_generate,
)
from catalog.services.reviews import review_create, review_delete, review_update
from catalog.services.search import search_vectors_rebuild, search_words_add, search_words_refresh
from catalog.services.stock import sale_reverse, stock_adjust, stock_release, stock_reserve
from catalog.services.tags import tag_create, tag_delete, tag_update
from catalog.services.view_counts import (
    product_view_record,
    product_views_flush,
    product_views_pending,
)

__all__ = [
    "BULK_UPDATE_FIELDS",
    "BULK_UPDATE_LIMIT",
    "REBUILD_INDEXES_FROM",
    "SEED_TAGS",
    "SEED_TREE",
    "category_create",
    "category_delete",
    "category_update",
    "product_bulk_update",
    "product_create",
    "product_delete",
    "product_restore",
    "product_update",
    "product_view_record",
    "product_views_flush",
    "product_views_pending",
    "products_bulk_load",
    "review_create",
    "review_delete",
    "review_update",
    "sale_reverse",
    "search_vectors_rebuild",
    "search_words_add",
    "search_words_refresh",
    "sku_generate",
    "stock_adjust",
    "stock_release",
    "stock_reserve",
    "tag_create",
    "tag_delete",
    "tag_update",
]
