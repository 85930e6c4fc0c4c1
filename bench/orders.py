"""Orders benchmark: checkouts per second under contention, and report times on many orders.

    DATABASE_URL=... REDIS_URL=... python bench/orders.py [--threads 16 --checkouts 2000
                                                          --orders 100000]

Needs a migrated database (`manage.py migrate_schemas`); creates an "obench" tenant on first run.
Checkouts commit for real (threads, one connection each) and are deleted afterwards; the
generated order set for the reports is rolled back at the end.
"""

import argparse
import os
import queue
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import membership_set, tenant_create  # noqa: E402
from catalog import services as catalog_services  # noqa: E402
from catalog.errors import InsufficientStock  # noqa: E402
from catalog.models import InventoryMovement, Product  # noqa: E402
from orders import selectors, services  # noqa: E402
from orders.models import IdempotencyKey, Order  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import public_tenant_ensure  # noqa: E402

ADDRESS = {"line1": "1 Bench Road", "city": "Lisbon", "postal_code": "1000", "country": "PT"}


class Rollback(Exception):
    pass


def checkout_round(schema, user, product_ids, *, threads, checkouts, quantity=1):
    """`checkouts` checkouts on `threads` threads -> (seconds, ok, refused, latencies).

    Each thread keeps its own connection for the whole round (as a web worker would).
    """
    barrier = threading.Barrier(threads + 1)
    work = queue.SimpleQueue()
    for i in range(checkouts):
        work.put(product_ids[i % len(product_ids)])
    latencies: list[float] = []
    outcome = {"ok": 0, "refused": 0}
    lock = threading.Lock()

    def worker():
        try:
            with schema_context(schema):
                connection.ensure_connection()
                barrier.wait()
                while True:
                    try:
                        pid = work.get_nowait()
                    except queue.Empty:
                        return
                    started = time.perf_counter()
                    try:
                        services.order_checkout(
                            customer=user,
                            items=[{"product_id": pid, "quantity": quantity}],
                            shipping_address=ADDRESS,
                            payment_method="credit_card",
                        )
                        key = "ok"
                    except InsufficientStock:
                        key = "refused"
                    with lock:
                        outcome[key] += 1
                        latencies.append(time.perf_counter() - started)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()  # every thread is connected: start the clock
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, outcome["ok"], outcome["refused"], latencies


def describe(label, seconds, ok, refused, latencies):
    latencies = sorted(latencies)
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
    rate = (ok + refused) / seconds
    print(
        f"  {label:<42} {rate:8,.0f} checkouts/s  ok={ok:<6} refused(409)={refused:<6} "
        f"p50={p50:6.1f} ms  p95={p95:6.1f} ms"
    )


def lock_hold_round(schema, user, product_id, *, checkouts):
    """Sequential checkouts of one product -> (checkout ms, ms the product row stays locked).

    The lock is taken by the stock reservation and released at the commit; an on-commit hook
    registered right after the reservation is the first thing to run after the commit.
    """
    real_reserve = catalog_services.stock_reserve
    held: list[float] = []
    totals: list[float] = []

    def reserve(**kwargs):
        started = time.perf_counter()
        movements = real_reserve(**kwargs)
        transaction.on_commit(lambda: held.append(time.perf_counter() - started))
        return movements

    catalog_services.stock_reserve = reserve
    try:
        with schema_context(schema):
            for _ in range(checkouts):
                started = time.perf_counter()
                services.order_checkout(
                    customer=user,
                    items=[{"product_id": product_id, "quantity": 1}],
                    shipping_address=ADDRESS,
                    payment_method="credit_card",
                )
                totals.append(time.perf_counter() - started)
    finally:
        catalog_services.stock_reserve = real_reserve
    return statistics.median(totals) * 1000, statistics.median(held) * 1000


def cleanup(schema, product_ids, user):
    with schema_context(schema):
        IdempotencyKey.objects.filter(customer_id=user.pk).delete()
        Order.objects.filter(customer_id=user.pk).delete()
        InventoryMovement.objects.filter(product_id__in=product_ids).delete()
        Product.objects.filter(id__in=product_ids).delete()


def bench_checkout(tenant, user, args):
    schema = tenant.schema_name
    print(f"Checkout ({args.threads} threads, one connection each, real commits):")
    with schema_context(schema):
        hot = catalog_services.product_create(
            name="Hot item", price="19.99", stock_quantity=args.checkouts, status="active"
        )
        spread = [
            catalog_services.product_create(
                name=f"Item {i}", price="5.00", stock_quantity=args.checkouts, status="active"
            ).id
            for i in range(args.threads * 4)
        ]
        scarce = catalog_services.product_create(
            name="Scarce item", price="99.00", stock_quantity=50, status="active"
        )
    ids = [hot.id, scarce.id, *spread]
    try:
        total_ms, held_ms = lock_hold_round(schema, user, hot.id, checkouts=200)
        print(
            f"  {'one client, 200 checkouts (medians)':<42} checkout {total_ms:6.1f} ms, "
            f"product row locked {held_ms:6.1f} ms ({held_ms / total_ms:.0%})"
        )
        describe(
            "one hot product (every checkout contends)",
            *checkout_round(schema, user, [hot.id], threads=args.threads, checkouts=args.checkouts),
        )
        describe(
            f"{len(spread)} products (little contention)",
            *checkout_round(schema, user, spread, threads=args.threads, checkouts=args.checkouts),
        )
        seconds, ok, refused, latencies = checkout_round(
            schema, user, [scarce.id], threads=args.threads, checkouts=200
        )
        describe("200 checkouts of a product with stock 50", seconds, ok, refused, latencies)
        with schema_context(schema):
            left = Product.objects.get(id=scarce.id).stock_quantity
        print(f"  -> {ok} orders, {refused} refused, stock left {left}")
    finally:
        cleanup(schema, ids, user)


GENERATE_SQL = """
INSERT INTO orders_order (
    number, customer_id, customer_email, status, payment_status, payment_method,
    payment_reference, payment_details, currency, subtotal, discount_amount, discount_code,
    tax_amount, shipping_amount, total, item_count, items, shipping_address, billing_address,
    metadata, history, notes, tracking_number, cancel_reason, created_at, updated_at, expires_at
)
SELECT 'BENCH-' || g, %(customer)s, 'bench@obench.test',
       (ARRAY['pending','confirmed','processing','shipped','delivered','delivered','delivered',
              'cancelled','refunded'])[1 + g %% 9],
       'paid', 'credit_card', '', '{}', 'USD', t.subtotal, 0, '', 0, 0, t.subtotal, t.units,
       t.items, '{"line1": "1 Road", "city": "Lisbon", "postal_code": "1", "country": "PT"}',
       '{"line1": "1 Road", "city": "Lisbon", "postal_code": "1", "country": "PT"}',
       '{}', '[]', '', '', '', ts, ts, NULL
FROM generate_series(1, %(count)s) AS g,
     LATERAL (SELECT now() - (g %% 365) * interval '1 day' - (g %% 1440) * interval '1 minute'
              AS ts) AS c,
     LATERAL (
        SELECT jsonb_agg(jsonb_build_object(
                   'product_id', p, 'name', 'Product ' || p, 'sku', 'SKU-' || p,
                   'unit_price', (p %% 90 + 10)::numeric(12, 2)::text, 'quantity', q,
                   'subtotal', ((p %% 90 + 10) * q)::numeric(12, 2)::text, 'attributes', '{}'
               )) AS items,
               sum((p %% 90 + 10) * q)::numeric(12, 2) AS subtotal,
               sum(q) AS units
        FROM (SELECT 1 + ((g * 7919 + k * 104729) %% %(products)s) AS p, 1 + (g + k) %% 3 AS q
              FROM generate_series(1, 1 + g %% 4) AS k) AS lines
     ) AS t
"""


def timed(label, func, repeat=3):
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        runs.append(time.perf_counter() - started)
    print(
        f"  {label:<58} best {min(runs) * 1000:8.1f} ms  "
        f"median {statistics.median(runs) * 1000:8.1f} ms"
    )
    return result


def bench_reports(tenant, user, args):
    from datetime import timedelta

    from django.utils import timezone

    print(f"Reports over {args.orders:,} generated orders (1-4 lines each, 365 days):")
    try:
        with schema_context(tenant.schema_name), transaction.atomic():
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(
                    GENERATE_SQL,
                    {"customer": user.pk, "count": args.orders, "products": args.products},
                )
                cursor.execute("ANALYZE orders_order")
            print(f"  generated in {time.perf_counter() - started:.1f} s")
            today = timezone.now().date()
            year = {"date_from": today - timedelta(days=364), "date_to": today}
            month = {"date_from": today - timedelta(days=29), "date_to": today}
            rows = timed(
                "sales per product per day, 365 days",
                lambda: selectors.sales_by_product_day(**year),
            )
            print(f"    ({len(rows):,} rows)")
            timed(
                "sales per product per day, 30 days",
                lambda: selectors.sales_by_product_day(**month),
            )
            timed(
                "sales of one product per day, 365 days",
                lambda: selectors.sales_by_product_day(**year, product_id=7),
            )
            timed(
                "stats (totals, by status, by month, top 10), 365 days",
                lambda: selectors.order_stats(**year),
            )
            timed("stats, 30 days", lambda: selectors.order_stats(**month))
            timed(
                "list page: search 'product 42' (item names)",
                lambda: list(
                    Order.objects.filter(selectors.order_search_q("product 42")).order_by(
                        "-created_at"
                    )[:50]
                ),
            )
            timed(
                "list page: orders containing product 7 (GIN)",
                lambda: list(
                    Order.objects.filter(items__contains=[{"product_id": 7}]).order_by(
                        "-created_at"
                    )[:50]
                ),
            )
            raise Rollback
    except Rollback:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--checkouts", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--skip-checkout", action="store_true")
    parser.add_argument("--skip-reports", action="store_true")
    args = parser.parse_args()

    public_tenant_ensure()
    tenant = Tenant.objects.filter(slug="obench").first() or tenant_create(
        slug="obench", name="Orders bench", domain="obench.localhost"
    )
    user = User.objects.filter(email="bench@obench.test").first() or User.objects.create_user(
        email="bench@obench.test", password=None
    )
    membership_set(user=user, tenant=tenant, role="member")
    print(f"PostgreSQL {connection.cursor().connection.info.server_version}, tenant {tenant.slug}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.skip_checkout:
        bench_checkout(tenant, user, args)
    if not args.skip_reports:
        bench_reports(tenant, user, args)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
