"""Product view counts: counted in Redis on every read, written to PostgreSQL in bulk.

A product detail GET must not write to PostgreSQL (a hot row under load), so each view is one
HINCRBY on a per-tenant hash (the default cache's key, prefixed with the schema). The periodic
task `catalog.flush_product_views` (catalog/schedules.py, every tenant) moves the counts into
`Product.view_count` with one UPDATE. `view_count` as the API shows it is the flushed count: it
lags the real one by at most the flush interval, the same in lists, details and the admin.
"""

from django.core.cache import cache
from django.db import connection, transaction

from catalog.models import Product

VIEWS_KEY = "catalog:product-views"
# Counts of a workspace nobody flushes (e.g. one deleted meanwhile) do not stay for ever.
VIEWS_TTL_SECONDS = 7 * 24 * 3600


def _redis_key_and_client():
    key = cache.make_key(VIEWS_KEY)  # schema-prefixed
    return key, cache._cache.get_client(key, write=True)  # the Redis client behind the cache


def product_view_record(*, product_id: int) -> None:
    """Counts one view of the product: one Redis round trip, nothing written to PostgreSQL."""
    key, client = _redis_key_and_client()
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(key, str(product_id), 1)
    pipe.expire(key, VIEWS_TTL_SECONDS)
    pipe.execute()


def product_views_pending() -> dict[int, int]:
    """Views counted since the last flush, by product id (for tests and operators)."""
    key, client = _redis_key_and_client()
    return {int(k): int(v) for k, v in client.hgetall(key).items()}


def product_views_flush() -> int:
    """Adds the views counted in Redis to `Product.view_count` in one UPDATE; returns how many
    products changed.

    The counts are taken and removed from Redis atomically (views counted meanwhile go to the
    next flush); if the database write fails they are put back, so no view is lost or counted
    twice.
    """
    key, client = _redis_key_and_client()
    pipe = client.pipeline(transaction=True)
    pipe.hgetall(key)
    pipe.delete(key)
    raw, _ = pipe.execute()
    counts = [(int(k), int(v)) for k, v in raw.items() if int(v) > 0]
    if not counts:
        return 0
    table = connection.ops.quote_name(Product._meta.db_table)
    values = ", ".join(["(%s::bigint, %s::bigint)"] * len(counts))
    params = [x for pair in sorted(counts) for x in pair]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS p SET view_count = p.view_count + v.n "  # noqa: S608
                f"FROM (VALUES {values}) AS v(id, n) WHERE p.id = v.id",
                params,
            )
            updated = cursor.rowcount
    except Exception:
        pipe = client.pipeline(transaction=False)
        for product_id, n in counts:
            pipe.hincrby(key, str(product_id), n)
        pipe.expire(key, VIEWS_TTL_SECONDS)
        pipe.execute()
        raise
    return updated
