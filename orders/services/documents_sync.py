"""Rebuilding the order documents of a workspace from PostgreSQL (orders_documents_sync)."""

from collections.abc import Callable

from django.db import connection

from orders import documents
from orders.models import Order


def documents_sync(
    *,
    rebuild: bool = False,
    batch: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Writes the document of every order of the current workspace (version-guarded, so an
    up-to-date document is left alone); returns how many were written.

    rebuild drops the workspace's database first (documents of orders PostgreSQL no longer has
    go with it) and recreates its indexes; reads of the documents see a partial set meanwhile.
    progress(done, total) is called after each batch.
    """
    schema = connection.schema_name
    if rebuild:
        documents.database_drop(schema)
    documents.indexes_ensure(schema)
    total = Order.objects.count()
    done = written = 0
    last_id = 0
    while True:
        orders = list(Order.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not orders:
            break
        written += documents.documents_write(
            (documents.order_document(order) for order in orders), schema
        )
        last_id = orders[-1].id
        done += len(orders)
        if progress is not None:
            progress(done, total)
    return written
