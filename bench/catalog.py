"""Catalog at scale: loads ~1,000,000 products into a scratch tenant and prints timings.

    DATABASE_URL=... REDIS_URL=... python bench/catalog.py [--products 1000000] [--requests 200]

Steps: (1) a scratch tenant "bench-catalog" is created if missing and filled with COPY
(catalog.services.products_bulk_load; reused when it already holds that many products);
(2) one uvicorn process serves the API on a free port with DEBUG off; (3) over keep-alive HTTP
it measures the product list's first page, a deep cursor page (90% of the way), filtered lists,
search, a 1,000-row bulk update, and requests per second of the list against the bare
/healthz view. Latencies are end to end (HTTP, JWT, tenant lookup, SQL, JSON).
"""

import argparse
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)

import httpx  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import membership_set, tenant_create  # noqa: E402
from accounts.tokens import tokens_for_user  # noqa: E402
from catalog.models import Category, Product, Tag  # noqa: E402
from catalog.services import products_bulk_load  # noqa: E402
from core.pagination import encode_cursor  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import public_tenant_ensure  # noqa: E402
from tests.live import free_port, wait_for_port  # noqa: E402

SLUG, HOST = "bench-catalog", "bench-catalog.localhost"
SEARCHES = [
    "walnut lamp",  # two words
    "ergonomic keyboard",
    "copper kettle",
    "hammock",  # one word, ~1.6% of rows
    "tripo",  # prefix
    "S0-00424242",  # SKU (the first load numbers them S0-00000000 up)
    "hedphones",  # typo: trigram fallback
    "keybord",  # typo
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(ms: list[float]) -> str:
    return (
        f"p50 {pct(ms, 50):7.2f} ms  p95 {pct(ms, 95):7.2f} ms  p99 {pct(ms, 99):7.2f} ms"
        f"  (n={len(ms)})"
    )


def timed(client: httpx.Client, method: str, url: str, **kwargs) -> tuple[float, httpx.Response]:
    t0 = time.perf_counter()
    response = client.request(method, url, **kwargs)
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status_code >= 400:
        raise SystemExit(f"{method} {url} -> {response.status_code}: {response.text[:300]}")
    return elapsed, response


def measure(client, url, n, **kwargs) -> list[float]:
    timed(client, "GET", url, **kwargs)  # warm
    return [timed(client, "GET", url, **kwargs)[0] for _ in range(n)]


def sql_ms(schema: str, sql: str, params: list, n: int = 30) -> float:
    """Median server-side execution time of one statement (EXPLAIN ANALYZE), no HTTP/Python."""
    times = []
    with schema_context(schema), connection.cursor() as cursor:
        for _ in range(n):
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            times.append(cursor.fetchone()[0][0]["Execution Time"])
    return statistics.median(times)


def prepare(count: int) -> tuple[Tenant, str]:
    public_tenant_ensure()
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        print(f"creating scratch tenant {SLUG} ...")
        tenant = tenant_create(slug=SLUG, name="Catalog benchmark", domain=HOST)
    user = User.objects.filter(email="bench@catalog.bench").first()
    if user is None:
        user = User.objects.create_user(email="bench@catalog.bench", password=None)
    membership_set(user=user, tenant=tenant, role="owner")
    with schema_context(tenant.schema_name):
        existing = Product.objects.count()
        if existing != count:
            if existing:
                print(f"emptying {existing:,} products left by another run ...")
                with connection.cursor() as cursor:
                    cursor.execute(
                        "TRUNCATE catalog_product, catalog_product_tags, "
                        "catalog_inventorymovement, catalog_review RESTART IDENTITY"
                    )
            print(f"loading {count:,} products with COPY ...")

            def progress(done, total):
                sys.stdout.write(f"\r  {done:,}/{total:,}")
                sys.stdout.flush()

            t0 = time.perf_counter()
            timings = products_bulk_load(count=count, progress=progress)
            print(
                f"\n  load: {time.perf_counter() - t0:.1f}s  "
                + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
            )
        else:
            print(f"reusing {count:,} products already loaded")
    return tenant, tokens_for_user(user=user, tenant=tenant)["access"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0, help="per throughput run")
    args = parser.parse_args()
    n = args.requests

    tenant, token = prepare(args.products)
    with schema_context(tenant.schema_name):
        live = Product.objects.live().count()
        root = Category.objects.filter(depth=0).order_by("id").first()
        tag = Tag.objects.order_by("id").first()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT created_at, id FROM catalog_product WHERE deleted_at IS NULL "
                "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
                [int(live * 0.9)],
            )
            deep_created = cursor.fetchone()
            cursor.execute(
                "SELECT price, id FROM catalog_product WHERE deleted_at IS NULL "
                "ORDER BY price, id OFFSET %s LIMIT 1",
                [int(live * 0.9)],
            )
            deep_price = cursor.fetchone()
        bulk_ids = list(Product.objects.live().order_by("?").values_list("id", flat=True)[:1000])

    port = free_port()
    # Measure the work, not the rate limiter (one client sends every request).
    env = dict(
        os.environ,
        DJANGO_DEBUG="0",
        PYTHONUNBUFFERED="1",
        THROTTLE_USER_RATE="",
        THROTTLE_ANON_RATE="",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_for_port(port, server)
        base = f"http://127.0.0.1:{port}"
        headers = {"Host": HOST, "Authorization": f"Bearer {token}"}
        api = f"{base}/api/v1/catalog/products/"
        print(f"\n{live:,} live products in one tenant; one uvicorn worker; page size 50")
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
        with httpx.Client(headers=headers, timeout=60) as client:
            first = measure(client, api, n)
            print(f"list, first page            {summary(first)}")
            cursor = encode_cursor(sort="-created", value=deep_created[0], row_id=deep_created[1])
            deep = measure(client, api, n, params={"cursor": cursor})
            print(f"list, deep page (90%)       {summary(deep)}")
            print(f"  deep / first (p50)        {pct(deep, 50) / pct(first, 50):.2f}x")
            cursor = encode_cursor(sort="price", value=deep_price[0], row_id=deep_price[1])
            deep_p = measure(client, api, n, params={"cursor": cursor, "ordering": "price"})
            print(f"list by price, deep (90%)   {summary(deep_p)}")

            filtered = {
                "status=active": {"status": "active"},
                "category (subtree)": {"category": root.id},
                "price 10-20, by price": {"min_price": 10, "max_price": 20, "ordering": "price"},
                "tag": {"tags": tag.id},
                "in stock + on sale": {"in_stock": "true", "on_sale": "true"},
                "active + category + by -rating": {
                    "status": "active", "category": root.id, "ordering": "-rating"
                },
            }  # fmt: skip
            for label, params in filtered.items():
                print(f"filter {label:<30}{summary(measure(client, api, n // 4, params=params))}")

            all_search: list[float] = []
            for q in SEARCHES:
                ms = measure(client, f"{api}search/", n // 4, params={"q": q, "limit": 20})
                all_search += ms
                body = client.get(f"{api}search/", params={"q": q, "limit": 20}).json()
                print(
                    f"search {q!r:<22} p50 {pct(ms, 50):7.2f} ms  p95 {pct(ms, 95):7.2f} ms"
                    f"  ({body['mode']}, {len(body['results'])} hits)"
                )
            print(f"search, all queries         {summary(all_search)}")

            bulk = []
            with schema_context(tenant.schema_name):
                for i in range(3):
                    versions = dict(
                        Product.objects.filter(id__in=bulk_ids).values_list("id", "version")
                    )
                    items = [
                        {"id": pid, "version": versions[pid], "low_stock_threshold": 5 + i}
                        for pid in bulk_ids
                    ]
                    ms, response = timed(
                        client, "POST", f"{api}bulk-update/", json={"items": items}
                    )
                    assert response.json()["summary"] == {"updated": 1000}, response.json()
                    bulk.append(ms)
            print(f"bulk update, 1,000 rows     {', '.join(f'{ms:.0f} ms' for ms in bulk)}")

            def rps(url, **kwargs) -> float:
                done, end = 0, time.perf_counter() + args.seconds
                while time.perf_counter() < end:
                    client.get(url, **kwargs)
                    done += 1
                return done / args.seconds

            bare = rps(f"{base}/healthz")
            listing = rps(api)
            page = (
                "SELECT * FROM catalog_product WHERE deleted_at IS NULL {} "
                "ORDER BY created_at DESC, id DESC LIMIT 51"
            )
            seek = "AND (created_at, id) < (%s, %s)"
            first_sql = sql_ms(tenant.schema_name, page.format(""), [])
            deep_sql = sql_ms(tenant.schema_name, page.format(seek), list(deep_created))
            print(
                f"\nSQL only (EXPLAIN ANALYZE, median): first page {first_sql:.2f} ms, "
                f"deep page {deep_sql:.2f} ms ({deep_sql / first_sql:.2f}x)"
            )
            search_sql = (
                "SELECT id FROM catalog_product WHERE deleted_at IS NULL AND search_vector @@ "
                "plainto_tsquery('english', %s) LIMIT 1000"
            )
            for q in ("walnut lamp", "hammock"):
                ms = sql_ms(tenant.schema_name, search_sql, [q])
                print(f"SQL only, search window {q!r}: {ms:.2f} ms")
            print(
                f"\nrequests/s, one client: bare /healthz {bare:,.0f}, product list {listing:,.0f}"
                f"  (list / bare = {listing / bare:.2f})"
            )
        print(f"load average at end: {os.getloadavg()[0]:.1f}")
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
