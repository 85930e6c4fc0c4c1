"""Bare views served beside the platform for benchmarks (BENCH_BASELINE_VIEWS=true only).

They run behind the same server, middleware and connection settings as every other view, so the
platform's own views are measured as a ratio of what Django itself costs on this stack.
"""

from django.db import connection
from django.http import JsonResponse


def bare(request):
    return JsonResponse({"status": "ok"})


def one_query(request):
    """One query for 20 rows of the workspace's products (what a list page needs at least)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name, price FROM catalog_product ORDER BY id DESC LIMIT 20")
        rows = cursor.fetchall()
    return JsonResponse(
        {"results": [{"id": pk, "name": name, "price": str(price)} for pk, name, price in rows]}
    )
