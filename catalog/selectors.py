"""Reads of the catalog: product lists and search, categories, the ledger, sales analytics."""

import re
from datetime import timedelta

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.utils import timezone

from catalog.models import SEARCH_CONFIG, Category, InventoryMovement, Product, Review, Tag

ANALYTICS_PERIODS = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}


def product_list() -> QuerySet[Product]:
    """Live products with what the API shows of them, in a constant number of queries."""
    return Product.objects.live().select_related("category").prefetch_related("tags")


def product_get(*, product_id: int) -> Product | None:
    return product_list().filter(id=product_id).first()


def category_subtree_ids(*, category: Category) -> QuerySet:
    """Ids of a category and all its descendants (a prefix scan of the path index)."""
    return Category.objects.filter(path__startswith=category.path).values("id")


_WORD = re.compile(r"\w+", re.UNICODE)


def _search_query(text: str) -> SearchQuery | None:
    """The words as PostgreSQL's own parser reads them (so "ZX-9001" matches a SKU the way it
    was indexed), OR every word with the last one as a prefix ("wirel" finds "wireless").

    The prefix form keeps only word characters, so nothing typed reaches the tsquery syntax.
    """
    words = _WORD.findall(text.lower())[:8]
    if not words:
        return None
    prefix = " & ".join(words[:-1] + [f"{words[-1]}:*"])
    return SearchQuery(text[:200], search_type="plain", config=SEARCH_CONFIG) | SearchQuery(
        prefix, search_type="raw", config=SEARCH_CONFIG
    )


def product_search(
    *, queryset: QuerySet[Product], text: str, limit: int, offset: int = 0
) -> tuple[list[Product], str]:
    """Ranked full-text search over name, SKU and description (the stored, GIN-indexed vector).

    When the full-text query finds nothing on the first page, falls back to trigram word
    similarity on the name (GIN trigram index), which forgives typos ("hedphones").
    Returns (products, mode) with mode "fulltext" or "trigram".
    """
    query = _search_query(text)
    if query is None:
        return [], "fulltext"
    ranked = (
        queryset.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-id")
    )
    products = list(ranked[offset : offset + limit])
    if products or offset:
        return products, "fulltext"
    text = " ".join(_WORD.findall(text))[:100]
    similar = (
        queryset.filter(TrigramWordSimilar(F("name"), text))
        .annotate(rank=TrigramWordSimilarity(text, "name"))
        .order_by("-rank", "-id")
    )
    return list(similar[:limit]), "trigram"


def movements_for_product(*, product_id: int) -> QuerySet[InventoryMovement]:
    return InventoryMovement.objects.filter(product_id=product_id)


def top_products(*, period: str, by: str = "revenue", limit: int = 10) -> list[dict]:
    """Best sellers over the last day/week/month/year, by units sold or revenue.

    Sales are the ledger's reservations net of releases (cancellations), valued at the unit
    price recorded on each ledger line.
    """
    since = timezone.now() - ANALYTICS_PERIODS[period]
    units = Sum(-F("quantity"))
    revenue = Sum(
        ExpressionWrapper(
            -F("quantity") * F("unit_price"),
            output_field=DecimalField(max_digits=18, decimal_places=2),
        )
    )
    rows = (
        InventoryMovement.objects.filter(
            created_at__gte=since,
            reason__in=[InventoryMovement.Reason.RESERVATION, InventoryMovement.Reason.RELEASE],
        )
        .values("product_id", "product__name", "product__sku")
        .annotate(units_sold=units, revenue=revenue)
        .filter(units_sold__gt=0)
        .order_by("-units_sold" if by == "units" else "-revenue", "product_id")[:limit]
    )
    return [
        {
            "product_id": row["product_id"],
            "name": row["product__name"],
            "sku": row["product__sku"],
            "units_sold": row["units_sold"],
            "revenue": row["revenue"],
        }
        for row in rows
    ]


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.all()


def review_list() -> QuerySet[Review]:
    return Review.objects.select_related("user")
