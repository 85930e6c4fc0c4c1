"""The product list's rendered pages, kept in the workspace's cache per catalog version.

The version is kept by the database (migration 0003): any write to the tables a page shows, from
any code path, bumps it when its transaction commits. A page is stored under the version read
before its rows were, so it is never older than its key; a new version makes every page of the
old one unreachable (they expire after CATALOG_LIST_CACHE_SECONDS). Nothing has to be
invalidated by hand.

A transaction that has written the catalog itself neither reads nor stores pages: its own
writes are in no version until it commits (the version query sees its change row).
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import parse_etags

KEY_PREFIX = "catalog:list:"


def catalog_version() -> int | None:
    """The workspace's catalog version; None when pages may not be cached (turned off, no
    version row, or this transaction has uncommitted catalog writes of its own)."""
    if not settings.CATALOG_LIST_CACHE_SECONDS:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version FROM catalog_listversion WHERE NOT EXISTS ("
            "SELECT 1 FROM catalog_listchange WHERE txid = txid_current_if_assigned())"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def names_only(request, names: set[str]) -> bool:
    """Every parameter of the query string is one of names."""
    return all(name in names for name in request.GET)


def page_key(*, version: int, request, show_cost: bool) -> str:
    """Everything a page's bytes depend on: the catalog's state, the URL (host, filters,
    cursor, page size; the page's links repeat them), what the caller may see, and the
    negotiated media type."""
    parts = (
        str(version),
        request.build_absolute_uri(),
        "cost" if show_cost else "",
        str(request.accepted_media_type),
    )
    return KEY_PREFIX + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def etag(key: str) -> str:
    return f'"{key[len(KEY_PREFIX) : len(KEY_PREFIX) + 32]}"'


def page_get(key: str) -> bytes | None:
    return cache.get(key)


def page_set(key: str, body: bytes) -> None:
    cache.set(key, body, settings.CATALOG_LIST_CACHE_SECONDS)


def client_holds(request, *, key: str) -> bool:
    """The client's If-None-Match names this page already (the key's version, URL and
    audience make its ETag, so the page need not be read)."""
    return etag(key) in parse_etags(request.headers.get("If-None-Match", ""))


def not_modified(*, key: str) -> HttpResponseNotModified:
    response = HttpResponseNotModified()
    response["ETag"] = etag(key)
    return response


def page_response(*, key: str, body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag(key)
    return response
