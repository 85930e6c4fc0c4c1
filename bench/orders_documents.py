"""Order documents benchmark: projection lag of checkouts into MongoDB, and the order statistics
over many order documents (aggregation pipelines) against the same figures from PostgreSQL.

    DATABASE_URL=... REDIS_URL=... [MONGODB_URL=...] python bench/orders_documents.py \
        [--rate 100 --seconds 20 --threads 4 --orders 1000000 --repeat 5]

Needs a migrated database (`manage.py migrate_schemas`); creates a "bench-docs" workspace on the
first run. With MONGODB_URL unset it starts the embedded server (secantusdb) under
.data/bench-mongo, as `make run` does. Bounded: `--threads` database connections.

1. Projection lag: checkouts through orders.services at `--rate` per second (open loop, spread
   over `--threads` connections); the lag of one is the time from its commit to its document
   being readable in MongoDB (a watcher polls). Rounds with the relay's publish after commit
   and without it (changes left to the sweep) alternate, for its cost on the checkout itself.
2. Statistics: `--orders` orders are generated once in PostgreSQL (SQL) and written to MongoDB by
   orders_documents_sync; then orders.selectors.order_stats (PostgreSQL) and
   orders.document_selectors.order_stats (MongoDB) run interleaved, `--repeat` times per query,
   and their answers are compared.
"""

import argparse
import os
import queue
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

_embedded = None
if not os.environ.get("MONGODB_URL"):
    from core import mongo_server

    port = int(os.environ.get("BENCH_MONGODB_PORT", "27047"))
    _embedded = mongo_server.start(port=port, storage=ROOT / ".data" / "bench-mongo")
    os.environ["MONGODB_URL"] = f"mongodb://127.0.0.1:{port}"

import django  # noqa: E402

django.setup()

from datetime import date  # noqa: E402

from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import membership_set, tenant_create  # noqa: E402
from catalog import services as catalog_services  # noqa: E402
from core import mongo  # noqa: E402
from orders import document_selectors, documents, selectors, services  # noqa: E402
from orders.models import Order  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import public_tenant_ensure  # noqa: E402

SLUG, SCHEMA = "bench-docs", "bench_docs"
ADDRESS = {"line1": "1 Bench Road", "city": "Lisbon", "postal_code": "1000", "country": "PT"}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * len(values))) - 1)] * 1000


def setup() -> tuple[User, list[int]]:
    public_tenant_ensure()
    if not Tenant.objects.filter(slug=SLUG).exists():
        tenant_create(slug=SLUG, name="Documents benchmark", domain=f"{SLUG}.localhost")
    tenant = Tenant.objects.get(slug=SLUG)
    user = User.objects.filter(email="bench-docs@example.com").first()
    if user is None:
        user = User.objects.create_user(email="bench-docs@example.com", password="Bench-pass-2024")
        membership_set(user=user, tenant=tenant, role="member")
    with schema_context(SCHEMA):
        from catalog.models import Product

        ids = list(Product.objects.filter(sku__startswith="BD-").values_list("id", flat=True))
        for n in range(len(ids), 50):
            ids.append(
                catalog_services.product_create(
                    name=f"Doc bench {n}",
                    sku=f"BD-{n:03d}",
                    price="9.90",
                    stock_quantity=1_000_000,
                    status="active",
                ).id
            )
    return user, ids


# --- 1. projection lag -------------------------------------------------------------------------


def lag_round(user, product_ids, *, rate: float, seconds: float, threads: int, publish: bool):
    """Checkouts at `rate`/s for `seconds` -> (lags, checkout latencies, achieved rate)."""
    total = int(rate * seconds)
    work: queue.SimpleQueue = queue.SimpleQueue()
    committed: dict[int, float] = {}
    seen: dict[int, float] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    done = threading.Event()
    coll = documents.collection(SCHEMA)
    real_recently_failed = mongo.recently_failed
    if not publish:  # publishing after commit skipped, as when MongoDB failed moments ago
        mongo.recently_failed = lambda: True

    def worker():
        with schema_context(SCHEMA):
            while True:
                item = work.get()
                if item is None:
                    connection.close()
                    return
                n, due = item
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                started = time.perf_counter()
                stamp: dict[str, float] = {}
                with transaction.atomic():
                    # Registered first: runs first after the commit, before the relay's publish.
                    transaction.on_commit(lambda s=stamp: s.setdefault("t", time.perf_counter()))
                    order, _ = services.order_checkout(
                        customer=user,
                        items=[{"product_id": product_ids[n % len(product_ids)], "quantity": 1}],
                        shipping_address=ADDRESS,
                        payment_method="credit_card",
                    )
                with lock:
                    committed[order.id] = stamp["t"]
                    latencies.append(time.perf_counter() - started)

    def watcher():
        while not done.is_set() or len(seen) < len(committed):
            with lock:
                waiting = [i for i in committed if i not in seen]
            if waiting:
                found = coll.find({"_id": {"$in": waiting}}, {"_id": 1})
                now = time.perf_counter()
                for doc in found:
                    seen[doc["_id"]] = now
            if not publish and waiting:
                with schema_context(SCHEMA):
                    services.outbox_drain()  # the sweep, run as often as it can
                connection.close()
            time.sleep(0.002)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    watch = threading.Thread(target=watcher)
    watch.start()
    start = time.perf_counter() + 0.2
    for n in range(total):
        work.put((n, start + n / rate))
    for _ in pool:
        work.put(None)
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - start
    done.set()
    watch.join(timeout=120)
    mongo.recently_failed = real_recently_failed
    lags = [seen[i] - committed[i] for i in committed if i in seen]
    return lags, latencies, len(committed) / elapsed, len(committed) - len(lags)


def bench_lag(user, product_ids, args) -> None:
    print(
        f"\n1. Projection lag, {args.rate:.0f} checkouts/s for {args.seconds:.0f} s per round, "
        f"{args.threads} connections (load average {load()})"
    )
    results: dict[bool, dict[str, list[float]]] = {
        True: {"lag": [], "latency": [], "rate": []},
        False: {"lag": [], "latency": [], "rate": []},
    }
    lost = 0
    for round_no in range(args.lag_rounds):
        for publish in (True, False) if round_no % 2 == 0 else (False, True):
            lags, latencies, achieved, missing = lag_round(
                user,
                product_ids,
                rate=args.rate,
                seconds=args.seconds,
                threads=args.threads,
                publish=publish,
            )
            lost += missing
            results[publish]["lag"] += lags
            results[publish]["latency"] += latencies
            results[publish]["rate"].append(achieved)
    for publish, label in ((True, "relay right after commit"), (False, "sweep only (baseline)")):
        r = results[publish]
        print(
            f"  {label:<26} {statistics.mean(r['rate']):6.1f} checkouts/s  "
            f"lag p50 {pct(r['lag'], 50):7.1f} ms  p99 {pct(r['lag'], 99):7.1f} ms  "
            f"max {max(r['lag']) * 1000:7.1f} ms   checkout p50 {pct(r['latency'], 50):6.1f} ms "
            f"p99 {pct(r['latency'], 99):6.1f} ms  (n={len(r['lag'])})"
        )
    ratio = pct(results[True]["latency"], 50) / pct(results[False]["latency"], 50)
    print(f"  checkout p50 with the publish / without: {ratio:.2f}x;  documents never seen: {lost}")
    print(f"  load average after: {load()}")


# --- 2. statistics over many documents ---------------------------------------------------------

GENERATE = """
INSERT INTO orders_order (number, customer_id, customer_email, status, payment_status,
    payment_method, payment_reference, payment_details, currency, subtotal, discount_amount,
    discount_code, tax_amount, shipping_amount, total, item_count, items, shipping_address,
    billing_address, metadata, history, notes, tracking_number, cancel_reason, created_at,
    updated_at, version)
SELECT 'BD-' || g, md5('c' || (g %% 20000))::uuid, '', s.status, 'paid', s.method, '', '{}',
    'USD', s.q1 * s.p1 + s.q2 * s.p2, 0, '', 0, 0, s.q1 * s.p1 + s.q2 * s.p2, s.q1 + s.q2,
    jsonb_build_array(
        jsonb_build_object('product_id', s.id1, 'name', 'Product ' || s.id1, 'sku', 'P-' || s.id1,
            'unit_price', s.p1::text, 'quantity', s.q1, 'subtotal', (s.q1 * s.p1)::text,
            'attributes', '{}'::jsonb),
        jsonb_build_object('product_id', s.id2, 'name', 'Product ' || s.id2, 'sku', 'P-' || s.id2,
            'unit_price', s.p2::text, 'quantity', s.q2, 'subtotal', (s.q2 * s.p2)::text,
            'attributes', '{}'::jsonb)),
    '{"city": "Lisbon"}', '{"city": "Lisbon"}', '{}', '[]', '', '', '',
    timestamptz '2025-01-01 00:00:00+00' + g * %s * interval '1 second', now(), 1
FROM (
    SELECT g,
        (ARRAY['pending','confirmed','processing','shipped','delivered','cancelled','refunded'])
            [1 + g %% 7] AS status,
        (ARRAY['credit_card','debit_card','paypal','bank_transfer','cash_on_delivery'])
            [1 + g %% 5] AS method,
        1 + g %% 200 AS id1, 201 + (g * 31) %% 200 AS id2,
        1 + g %% 3 AS q1, 1 + g %% 5 AS q2,
        round(1 + (g %% 200) * 0.37, 2) AS p1, round(2 + ((g * 31) %% 200) * 0.53, 2) AS p2
    FROM generate_series(%s, %s) AS g
) AS s
"""


def ensure_orders(count: int) -> None:
    """`count` generated orders spread over 2025 (made again, documents too, for another count)."""
    have = Order.objects.filter(number__startswith="BD-").count()
    if have == count:
        return
    if have:
        Order.objects.filter(number__startswith="BD-").delete()
        documents.database_drop(SCHEMA)
        have = 0
    print(f"  generating {count - have:,} orders in PostgreSQL ...", flush=True)
    step = 100_000
    for first in range(have + 1, count + 1, step):
        last = min(first + step - 1, count)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(GENERATE, [31_536_000 // count, first, last])
        print(f"\r  {last:,}/{count:,}", end="", flush=True)
    print()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    answer = fn()
    return time.perf_counter() - started, answer


def bench_stats(args) -> None:
    print(f"\n2. Order statistics over {args.orders:,} orders (load average {load()})")
    with schema_context(SCHEMA):
        ensure_orders(args.orders)
        coll = documents.collection(SCHEMA)
        if coll.estimated_document_count() < Order.objects.count():
            print("  writing the documents (orders_documents_sync) ...", flush=True)
            started = time.perf_counter()

            def progress(done: int, total: int) -> None:
                rate = done / (time.perf_counter() - started)
                print(f"\r  {done:,}/{total:,} ({rate:,.0f} documents/s)", end="", flush=True)

            services.documents_sync(batch=5000, progress=progress)
            print()
        queries = {
            "whole year": {"date_from": date(2025, 1, 1), "date_to": date(2025, 12, 31)},
            "one month": {"date_from": date(2025, 6, 1), "date_to": date(2025, 6, 30)},
            "year, paypal only": {
                "date_from": date(2025, 1, 1),
                "date_to": date(2025, 12, 31),
                "payment_method": "paypal",
            },
        }
        for label, query in queries.items():
            pg_times, mg_times = [], []
            for rep in range(args.repeat):
                order = ("pg", "mg") if rep % 2 == 0 else ("mg", "pg")
                for side in order:
                    if side == "pg":
                        seconds, pg_answer = timed(lambda q=query: selectors.order_stats(**q))
                        pg_times.append(seconds)
                    else:
                        seconds, mg_answer = timed(
                            lambda q=query: document_selectors.order_stats(**q)
                        )
                        mg_times.append(seconds)
            same = "equal" if pg_answer == mg_answer else "DIFFERENT"
            pg_med, mg_med = statistics.median(pg_times), statistics.median(mg_times)
            print(
                f"  {label:<18} orders={pg_answer['totals']['orders']:>9,}  "
                f"PostgreSQL {pg_med * 1000:8.0f} ms  MongoDB (embedded) {mg_med * 1000:8.0f} ms  "
                f"MongoDB/PostgreSQL {mg_med / pg_med:5.2f}x  answers {same}"
            )
    print(f"  load average after: {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--lag-rounds", type=int, default=2)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-lag", action="store_true")
    parser.add_argument("--skip-stats", action="store_true")
    args = parser.parse_args()
    print(
        f"load average at start: {load()} on {os.cpu_count()} cores; MongoDB "
        f"{'embedded (secantusdb)' if _embedded else 'at MONGODB_URL'}"
    )
    try:
        user, product_ids = setup()
        if not args.skip_lag:
            bench_lag(user, product_ids, args)
        if not args.skip_stats:
            bench_stats(args)
    finally:
        if _embedded is not None:
            mongo_server.stop(_embedded)


if __name__ == "__main__":
    main()
