"""Keyset (seek) pagination of product lists, by core.pagination.KeysetPagination.

Each sort scans one of the partial (sort_col, id) indexes on live products. Unlike DRF's
CursorPagination, ties on the sort value (many products at one price) never fall back to an
OFFSET.
"""

from core.pagination import KeysetPagination


class ProductPagination(KeysetPagination):
    # public sort name -> (model field, SQL type of the cursor value)
    sorts = {
        "created": ("created_at", "timestamptz"),
        "price": ("price", "numeric"),
        "name": ("name", "text"),
        "rating": ("average_rating", "numeric"),
    }
    default_sort = "-created"
