"""Reads of the catalog: product lists and search, categories, the ledger, sales analytics."""

import re
from collections.abc import Callable
from datetime import timedelta

from django.contrib.postgres.lookups import TrigramSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramSimilarity
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Length, Substr
from django.utils import timezone

from catalog.extensions import trigram_available
from catalog.models import (
    SEARCH_CONFIG,
    Category,
    InventoryMovement,
    Product,
    Review,
    SearchWord,
    Tag,
)

ANALYTICS_PERIODS = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}


def product_list(*, with_tags: bool = True) -> QuerySet[Product]:
    """Live products with what the API shows of them, in a constant number of queries.

    without tags: for a page whose tags are read by :func:`tag_summaries_by_product`.
    """
    products = Product.objects.live().select_related("category")
    return products.prefetch_related("tags") if with_tags else products


def tag_summaries_by_product(*, product_ids: list[int]) -> dict[int, list[dict]]:
    """{product id: [{"id", "name", "slug"} of its tags, by name]}: one statement, written
    out (building it with the ORM cost more than running it)."""
    if not product_ids:
        return {}
    through = Product.tags.through._meta.db_table
    tags = Tag._meta.db_table
    found: dict[int, list[dict]] = {}
    with connection.cursor() as cursor:
        # Table names come from the models, never from the request.
        cursor.execute(
            f'SELECT pt.product_id, t.id, t.name, t.slug FROM "{through}" pt '  # noqa: S608
            f'JOIN "{tags}" t ON t.id = pt.tag_id WHERE pt.product_id = ANY(%s) '
            "ORDER BY t.name, t.id",
            [list(product_ids)],
        )
        for product_id, tag_id, name, slug in cursor.fetchall():
            found.setdefault(product_id, []).append({"id": tag_id, "name": name, "slug": slug})
    return found


# The columns the API shows of a product (catalog.serializers.product_row_representation).
PRODUCT_ROW_FIELDS = (
    "id", "name", "description", "sku", "price", "compare_at_price", "cost_price",
    "stock_quantity", "low_stock_threshold", "status", "type", "images", "attributes",
    "view_count", "purchase_count", "average_rating", "review_count", "category_id",
    "version", "created_at", "updated_at",
)  # fmt: skip


def product_values(queryset: QuerySet[Product]) -> QuerySet[dict]:
    """queryset's products as plain rows of what the API shows (PRODUCT_ROW_FIELDS and the
    category's name and slug, joined): no model instances, whose building cost most of a list
    page's time. Still filtered, ordered and sliced like the products; add the tags with
    :func:`with_tag_summaries` once the page is read."""
    return queryset.values(*PRODUCT_ROW_FIELDS, "category__name", "category__slug")


def with_tag_summaries(rows: list[dict]) -> list[dict]:
    """rows of :func:`product_values`, each given its tags (`tag_summaries`), in one statement."""
    tags = tag_summaries_by_product(product_ids=[row["id"] for row in rows])
    for row in rows:
        row["tag_summaries"] = tags.get(row["id"], [])
    return rows


def product_row(*, product_id: int) -> dict | None:
    """One live product as a row of :func:`product_values` with its tags, or None."""
    rows = list(product_values(product_list(with_tags=False).filter(id=product_id)))
    return with_tag_summaries(rows)[0] if rows else None


def product_get(*, product_id: int, with_tags: bool = True) -> Product | None:
    return product_list(with_tags=with_tags).filter(id=product_id).first()


def category_subtree_ids(*, category: Category) -> QuerySet:
    """Ids of a category and all its descendants (a prefix scan of the path index)."""
    return Category.objects.filter(path__startswith=category.path).values("id")


_WORD = re.compile(r"\w+", re.UNICODE)
_SKU_LIKE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")


def _search_query(text: str, *, known: set[str] | frozenset = frozenset()) -> SearchQuery | None:
    """The words as PostgreSQL's own parser reads them (so "ZX-9001" matches a SKU the way it
    was indexed). Unless the last word is a complete word of some product name (`known`),
    OR the same words with the last one as a prefix ("wirel" finds "wireless"): prefix
    lookups cost several times more in the GIN index, so they are used only when needed.

    The prefix form keeps only word characters, so nothing typed reaches the tsquery syntax.
    """
    words = _WORD.findall(text.lower())[:8]
    if not words:
        return None
    query = SearchQuery(text[:200], search_type="plain", config=SEARCH_CONFIG)
    if words[-1] in known:
        return query
    return query | _prefix_query(words)


def _prefix_query(words: list[str]) -> SearchQuery:
    prefix = " & ".join(words[:-1] + [f"{words[-1]}:*"])
    return SearchQuery(prefix, search_type="raw", config=SEARCH_CONFIG)


# Plain words of ASCII letters: the parser splits them exactly as _WORD does.
_PLAIN_WORDS = re.compile(r" *[A-Za-z]+(?: +[A-Za-z]+)* *")


def _search_queries(
    text: str, *, known: set[str] | frozenset = frozenset()
) -> tuple[SearchQuery, SearchQuery] | None:
    """(the query products must match, the query they are ranked by).

    Both are :func:`_search_query`, except for plain words ending in a prefix: every product
    the whole words find also has the prefix form's words (the same lexemes, the last one a
    prefix of itself), so matching the prefix form alone selects the same products while the
    GIN index answers one partial-match lookup instead of two; the ranks are computed with
    the full query as before. Anything else (digits, SKUs, e-mails, versions, text cut at 200
    characters) is a token the prefix form may split differently, and matches the full query.
    """
    query = _search_query(text, known=known)
    if query is None:
        return None
    words = _WORD.findall(text.lower())[:8]
    if words[-1] in known or len(text) > 200 or not _PLAIN_WORDS.fullmatch(text):
        return query, query
    return _prefix_query(words), query


def _known_words(text: str) -> set[str]:
    return _dictionary_lookup(text)[0]


def _dictionary_lookup(text: str) -> tuple[set[str], bool]:
    """(the words of the text that are words of product names, whether some longer such word
    starts with the last word): one statement, two lookups in the dictionary's unique index."""
    words = _WORD.findall(text.lower())[:8]
    if not words:
        return set(), False
    last = connection.ops.prep_for_like_query(words[-1])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT word, false FROM catalog_searchword WHERE word = ANY(%s) UNION ALL "
            "(SELECT word, true FROM catalog_searchword WHERE word LIKE %s AND word <> %s "
            "LIMIT 1)",
            [words, f"{last}%", words[-1]],
        )
        rows = cursor.fetchall()
    return {word for word, longer in rows if not longer}, any(longer for _, longer in rows)


def _correctable(word: str) -> bool:
    return len(word) >= 3 and not word.isdigit()


def _looks_mistyped(text: str, known: set[str], completes: bool) -> bool:
    """Whether the words cannot all be words of product names: a whole word (not the last)
    unknown to the dictionary, or a last word that neither is nor starts one of its words.
    The words of descriptions and SKUs are not in the dictionary, so the typed words may still
    match; the guess decides only whether the correction is looked up before searching."""
    words = _WORD.findall(text.lower())[:8]
    if any(_correctable(w) and w not in known for w in words[:-1]):
        return True
    return _correctable(words[-1]) and words[-1] not in known and not completes


def _corrected(text: str, known: set[str]) -> str | None:
    """The query with each unknown word replaced by the most similar known one, or None.

    Known words are the words of product names (SearchWord), so this is a lookup in a small
    table, not a similarity scan over every product: with pg_trgm its trigram index, without
    it (the embedded PostgreSQL of `make run`) a bounded edit-distance comparison.
    """
    closest = _closest_by_trigram if trigram_available() else _closest_by_edit_distance
    words = _WORD.findall(text.lower())[:8]
    corrected, changed = [], False
    for word in words:
        if word in known or len(word) < 3 or word.isdigit():
            corrected.append(word)
            continue
        best = closest(word)
        corrected.append(best or word)
        changed = changed or best is not None
    return " ".join(corrected) if changed else None


def _closest_by_trigram(word: str) -> str | None:
    return (
        SearchWord.objects.filter(TrigramSimilar(F("word"), word))
        .annotate(score=TrigramSimilarity("word", word))
        .order_by("-score", "word")
        .values_list("word", flat=True)
        .first()
    )


# Without pg_trgm at most this many dictionary words are compared (in Python) per typed word,
# which bounds the work whatever the dictionary's size.
EDIT_CANDIDATES = 5000
# Longer words skip the one-edit lookup: its list of variants grows with the length.
ONE_EDIT_MAX_LENGTH = 30
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _max_edits(word: str) -> int:
    return 1 if len(word) <= 4 else 2 if len(word) <= 8 else 3


def _closest_by_edit_distance(word: str) -> str | None:
    """The dictionary word fewest edits away (typing slips: a letter wrong, missing, extra or
    two swapped), within _max_edits; ties go to the longest common start, then the alphabet.

    Most typos are one slip, so the words one edit away are looked up first, in the unique
    index (a few hundred keys). Only when none is in the dictionary are candidates compared
    one by one: words of about the same length having the typed word's first or second letter
    in one of their first two places, so one slip at the very start still finds its word
    while most of the dictionary is never read.
    """
    if len(word) <= ONE_EDIT_MAX_LENGTH:
        # A join, not `word IN (...)`: where pg_trgm exists the planner may answer a long IN
        # list from the trigram index, seconds where this takes a millisecond.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.word FROM unnest(%s::text[]) AS v(word) "
                "JOIN catalog_searchword s ON s.word = v.word",
                [sorted(_one_edit_away(word))],
            )
            near = [row[0] for row in cursor.fetchall()]
        if near:
            return min(near, key=lambda candidate: (-_common_start(word, candidate), candidate))
    bound = _max_edits(word)
    heads = sorted({word[0], word[1]})
    candidates = (
        SearchWord.objects.annotate(
            length=Length("word"), first=Substr("word", 1, 1), second=Substr("word", 2, 1)
        )
        .filter(length__range=(len(word) - bound, len(word) + bound))
        .filter(Q(first__in=heads) | Q(second__in=heads))
        .values_list("word", flat=True)[:EDIT_CANDIDATES]
    )
    best, best_key = None, None
    for candidate in candidates:
        distance = _edit_distance(word, candidate, bound)
        if distance > bound:
            continue
        key = (distance, -_common_start(word, candidate), candidate)
        if best_key is None or key < best_key:
            best, best_key = candidate, key
    return best


def _one_edit_away(word: str) -> set[str]:
    letters = set(_LETTERS) | set(word)
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    variants = {a + b[1:] for a, b in splits if b}
    variants |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    variants |= {a + c + b[1:] for a, b in splits if b for c in letters}
    variants |= {a + c + b for a, b in splits for c in letters}
    variants.discard(word)
    return variants


def _common_start(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _edit_distance(a: str, b: str, bound: int) -> int:
    """Levenshtein distance counting a swap of neighbours as one edit (optimal string
    alignment); anything above `bound` is reported as bound + 1, as soon as it is certain.
    """
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    before, previous = None, list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cost = x != y
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > bound:
            return bound + 1
        before, previous = previous, current
    return min(previous[-1], bound + 1)


# Ranking reads every match's row. A query matching more rows than this (one word found in
# 2% of a million products) is ranked over the first SEARCH_WINDOW matches the index yields,
# which keeps its cost bounded; narrower queries are ranked exhaustively.
SEARCH_WINDOW = 1000


def _window_sql(queryset: QuerySet[Product], queries: tuple[SearchQuery, SearchQuery]):
    # order_by() drops the model's default ordering, which would sort every match first.
    match, rank = queries
    matches = (
        queryset.filter(search_vector=match)
        .order_by()
        .annotate(rank=SearchRank(F("search_vector"), rank))
        .values_list("id", "rank")
    )
    return matches.query.sql_with_params()


def _window_statement(
    queryset: QuerySet[Product],
    queries: tuple[SearchQuery, SearchQuery],
    otherwise: tuple[SearchQuery, SearchQuery] | None = None,
) -> tuple[str, list]:
    """The statement :func:`_ranked` runs: rows of (0 or 1 for `otherwise`, id, rank)."""
    sql, params = _window_sql(queryset, queries)
    if otherwise is None:
        statement = f"WITH m AS MATERIALIZED ({sql}) SELECT 0, * FROM m LIMIT %s"  # noqa: S608
        return statement, [*params, SEARCH_WINDOW]
    other_sql, other_params = _window_sql(queryset, otherwise)
    statement = (
        f"WITH m AS MATERIALIZED ({sql}), c AS MATERIALIZED ({other_sql}) "  # noqa: S608
        "(SELECT 0, * FROM m LIMIT %s) UNION ALL "
        "(SELECT 1, * FROM c WHERE NOT EXISTS (SELECT FROM m) LIMIT %s)"
    )
    return statement, [*params, *other_params, SEARCH_WINDOW, SEARCH_WINDOW]


def _ranked(
    queryset: QuerySet[Product],
    queries: tuple[SearchQuery, SearchQuery],
    *,
    limit: int,
    offset: int,
    otherwise: tuple[SearchQuery, SearchQuery] | None = None,
) -> tuple[list[Product], bool, bool]:
    """(the page, whether the window was full, whether it is `otherwise`'s).

    One pass over at most SEARCH_WINDOW matches computes their rank while each row is at
    hand; only the page's products are then fetched (by primary key, with their relations).
    In a MATERIALIZED CTE the match is planned on its own (a GIN bitmap scan) and evaluated
    only as far as the LIMIT asks; a plain LIMIT lets the planner bet on a sequential scan
    finding matches early, a bet lost badly when a frequent word is ANDed with a rare one.

    `otherwise` (the corrected query) is searched in the same statement, and only when the
    first finds nothing: PostgreSQL skips its branch (a one-time filter) otherwise, so a typo
    costs one round trip and one plan, not two.
    """
    statement, params = _window_statement(queryset, queries, otherwise)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        window = cursor.fetchall()
    # Rows of the first query come first; none at all means it found nothing either.
    corrected = otherwise is not None and (not window or window[0][0] == 1)
    window = [(row[1], row[2]) for row in window]
    window.sort(key=lambda row: (-row[1], -row[0]))
    page = window[offset : offset + limit]
    by_id = {p.id: p for p in queryset.filter(id__in=[row[0] for row in page]).order_by()}
    products = []
    for product_id, rank in page:
        product = by_id[product_id]
        product.rank = rank
        products.append(product)
    return products, len(window) == SEARCH_WINDOW, corrected


def product_search(*, queryset: QuerySet[Product], text: str, limit: int, offset: int = 0) -> dict:
    """Ranked full-text search over name, SKU and description (the stored, GIN-indexed vector).

    When the words find nothing, each unknown word is corrected to the most similar word of
    the product names (pg_trgm similarity over the SearchWord dictionary, or the fewest edits
    where the server lacks pg_trgm) and the corrected query is searched the same way
    ("hedphones" finds "headphones"). When the words look mistyped (_looks_mistyped) the
    correction is looked up first and both queries go in one statement (see _ranked); when
    they looked right and found nothing, the corrected query runs after.
    A whole SKU is looked up exactly first (mode "sku").
    Returns {"products", "mode": "sku" | "fulltext" | "corrected", "query": the words searched,
    "partial": True when more than SEARCH_WINDOW products matched (see above)}.
    """
    result = {"products": [], "mode": "fulltext", "query": text, "partial": False}
    if not _WORD.search(text):
        return result
    if _SKU_LIKE.match(text.strip()) and not offset:
        # A SKU typed in full: one unique-index lookup, before any full-text work.
        sku = text.strip()
        exact = list(queryset.filter(sku__in={sku, sku.upper()})[:1])
        if exact:
            exact[0].rank = 1.0
            return {**result, "products": exact, "mode": "sku"}
    known, completes = _dictionary_lookup(text)
    queries = _search_queries(text, known=known)
    corrected = otherwise = None
    looked_up = not offset and _looks_mistyped(text, known, completes)
    if looked_up:
        corrected = _corrected(text, known)
        if corrected is not None:
            otherwise = _search_queries(corrected, known=set(corrected.split()))
    products, partial, is_corrected = _ranked(
        queryset, queries, limit=limit, offset=offset, otherwise=otherwise
    )
    if is_corrected:
        return {"products": products, "mode": "corrected", "query": corrected, "partial": partial}
    if products or offset or looked_up:
        return {**result, "products": products, "partial": partial}
    # The words looked complete yet found nothing: correct them now, search again.
    corrected = _corrected(text, known)
    if corrected is None:
        return result
    queries = _search_queries(corrected, known=set(corrected.split()))
    products, partial, _ = _ranked(queryset, queries, limit=limit, offset=0)
    return {"products": products, "mode": "corrected", "query": corrected, "partial": partial}


def movements_for_product(*, product_id: int) -> QuerySet[InventoryMovement]:
    return InventoryMovement.objects.filter(product_id=product_id)


SalesSource = Callable[..., list[dict]]
_sales_source: SalesSource | None = None


def register_sales_source(source: SalesSource) -> None:
    """The app that records sales (orders) gives the catalog its figures (from its ready()).

    source(since=datetime, by="revenue" | "units", limit=int) returns rows of {"product_id",
    "name", "sku", "units_sold", "revenue"}, best first. The catalog's stock ledger cannot tell
    a sale from a refunded one (a refund moves no stock), so best sellers are read from the
    same figures as the sales reports and the two always agree.
    """
    global _sales_source
    _sales_source = source


def top_products(*, period: str, by: str = "revenue", limit: int = 10) -> list[dict]:
    """Best sellers over the last day/week/month/year, by units sold or revenue: the registered
    sales source's figures (nothing when no app records sales)."""
    if _sales_source is None:
        return []
    return _sales_source(since=timezone.now() - ANALYTICS_PERIODS[period], by=by, limit=limit)


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.all()


def review_list() -> QuerySet[Review]:
    return Review.objects.select_related("user")
