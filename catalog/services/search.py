"""The search vocabulary (typo-correction dictionary) and the stored search vectors."""

from collections.abc import Iterable

from django.db import connection, transaction

from catalog.models import SearchWord


def search_words_add(*, names: Iterable[str]) -> None:
    """Adds the words of these product names to the typo-correction dictionary.

    Words of 3+ letters as the "simple" parser splits them, unstemmed: a corrected word goes
    back through the full-text query, which stems it itself.
    """
    names = [n for n in names if n]
    if not names:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_searchword (word) "
            "SELECT DISTINCT w FROM unnest(%s::text[]) AS n, "
            "  unnest(tsvector_to_array(to_tsvector('simple', n))) AS w "
            "WHERE w ~ '^[[:alpha:]]{3,100}$' ON CONFLICT (word) DO NOTHING",
            [names],
        )


def search_words_refresh() -> int:
    """Adds every product name's words to the dictionary (after bulk loads); returns its size."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_searchword (word) SELECT word FROM ts_stat("
            "'SELECT to_tsvector(''simple'', name) FROM catalog_product') "
            "WHERE word ~ '^[[:alpha:]]{3,100}$' ON CONFLICT (word) DO NOTHING"
        )
    return SearchWord.objects.count()


def search_vectors_rebuild(*, batch_size: int = 20_000, progress=None) -> int:
    """Recomputes the stored search vectors of the current tenant, in batches of ids.

    The vector is a generated column, so ordinary writes keep it right; rebuilding is needed
    only when what it is computed from changes outside the rows: a new text search dictionary,
    stop-word list or PostgreSQL upgrade. A no-op assignment makes PostgreSQL recompute it.
    The typo-correction dictionary is refreshed too.
    Each batch commits on its own, so a million rows never sit in one long transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM catalog_product")
        low, high = cursor.fetchone()
    done = 0
    for start in range(low, high + 1, batch_size):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE catalog_product SET name = name WHERE id >= %s AND id < %s",
                [start, start + batch_size],
            )
            done += cursor.rowcount
        if progress:
            progress(min(start + batch_size, high + 1) - low, high + 1 - low)
    search_words_refresh()
    return done
