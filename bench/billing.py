"""Webhook ingestion benchmark: Stripe-signed events posted to the real endpoint of a real uvicorn
process by concurrent clients; prints events per second (new events, then redeliveries) and the
latency percentiles. Ingestion is: verify the signature, insert into the ledger (once), queue the
processing task on the broker.

    DATABASE_URL=... REDIS_URL=... python bench/billing.py [--events 2000] [--concurrency 16]

The database must be migrated (`manage.py migrate_schemas`); a "bench" tenant is created on first
use. The events are of a type billing has no handler for, so a worker that later picks up the
queued tasks only marks them "ignored".
"""

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import django
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django_tenants.utils import schema_context  # noqa: E402

from accounts.services import tenant_create  # noqa: E402
from billing.models import WebhookEvent  # noqa: E402
from config.standins.stripe import sign_payload  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tests.live import free_port, wait_for_port  # noqa: E402

SECRET = "whsec_bench_" + uuid.uuid4().hex


def bench_tenant() -> Tenant:
    tenant = Tenant.objects.filter(slug="bench").first()
    if tenant is None:
        print("creating the bench tenant (schema and migrations)...", flush=True)
        tenant = tenant_create(slug="bench", name="Bench", domain="bench.localhost")
    return tenant


def make_event(n: int, run: str) -> str:
    return json.dumps(
        {
            "id": f"evt_bench_{run}_{n}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "type": "customer.updated",
            "data": {"object": {"id": f"cus_bench_{n}", "object": "customer", "metadata": {}}},
        }
    )


def run_batch(port: int, payloads: list[str], concurrency: int) -> tuple[float, list[float]]:
    url = f"http://127.0.0.1:{port}/api/v1/billing/webhooks/stripe/"
    latencies: list[float] = []

    def post(client: httpx.Client, payload: str) -> None:
        started = time.perf_counter()
        response = client.post(
            url,
            content=payload,
            headers={
                "Host": "bench.localhost",
                "Content-Type": "application/json",
                "Stripe-Signature": sign_payload(payload, SECRET),
            },
        )
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.text[:200]}")

    clients = [httpx.Client(timeout=30) for _ in range(concurrency)]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(post, clients[i % concurrency], p) for i, p in enumerate(payloads)]
        for future in futures:
            future.result()
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    return elapsed, latencies


def report(label: str, count: int, elapsed: float, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(
        f"{label:<28} {count / elapsed:8.0f} events/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--pool", type=int, default=0, help="DATABASE_POOL_MAX of the server")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)

    bench_tenant()
    run = uuid.uuid4().hex[:8]
    payloads = [make_event(n, run) for n in range(args.events)]
    port = free_port()
    env = dict(
        os.environ,
        STRIPE_WEBHOOK_SECRET=SECRET,
        DJANGO_DEBUG="false",
        LOG_LEVEL="WARNING",
        DATABASE_POOL_MAX=str(args.pool),
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for_port(port, server)
        run_batch(port, [make_event(n, run + "w") for n in range(50)], 4)  # warm up
        print(
            f"{args.events} signed events, {args.concurrency} concurrent clients, "
            f"{args.workers} uvicorn worker(s), connection pool {args.pool or 'off'}"
        )
        elapsed, latencies = run_batch(port, payloads, args.concurrency)
        report("new events (stored)", args.events, elapsed, latencies)
        elapsed, latencies = run_batch(port, payloads, args.concurrency)
        report("redeliveries (duplicates)", args.events, elapsed, latencies)
    finally:
        server.terminate()
        server.wait(timeout=15)
        with schema_context("bench"):
            stored = WebhookEvent.objects.filter(event_id__startswith=f"evt_bench_{run}")
            count = stored.count()
        print(f"ledger rows written: {count} (expected {args.events + 50}: one per event id)")


if __name__ == "__main__":
    main()
