"""Where a hot list page of 20 spends its Python: cProfile over requests through Django's client.

    DATABASE_URL=... REDIS_URL=... python bench/profile_lists.py [--requests 100] [--top 25]

Uses the scratch workspace of bench/http_baseline.py ("bench-http"), adds 20 orders and 20
files to it if missing, then for the product, order and file lists: the mean time per request
(in-process: no server, no network) and the functions with the most cumulative time.
Messages are not profiled here (chat has its own benchmark).
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("THROTTLE_USER_RATE", "1000000/min")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.tokens import tokens_for_user  # noqa: E402
from bench.http_baseline import HOST, prepare  # noqa: E402
from catalog.models import Product  # noqa: E402
from orders.models import Order  # noqa: E402
from orders.services import order_checkout  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from uploads.models import File  # noqa: E402

ADDRESS = {"line1": "1 Bench Road", "city": "Lisbon", "postal_code": "1000", "country": "PT"}


def add_orders_and_files() -> None:
    tenant = Tenant.objects.get(domains__domain=HOST)
    user = User.objects.get(email="bench@http.bench")
    with schema_context(tenant.schema_name):
        product_id = Product.objects.filter(status="active", stock_quantity__gt=100).first().id
        for _ in range(20 - Order.objects.filter(customer=user).count()):
            order_checkout(
                customer=user,
                items=[{"product_id": product_id, "quantity": 1}],
                shipping_address=ADDRESS,
                payment_method="credit_card",
            )
        from uploads.tests.factories import FileFactory

        for _ in range(20 - File.objects.filter(owner=user).count()):
            FileFactory(owner=user)


def profile(client: Client, path: str, headers: dict, requests: int, top: int) -> None:
    for _ in range(5):
        response = client.get(path, **headers)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(requests):
        client.get(path, **headers)
    profiler.disable()
    elapsed = (time.perf_counter() - started) / requests * 1000
    print(f"\n{path}: {elapsed:.2f} ms per request (in-process, profiler on)")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-6000:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    user, tenant, _product_id = prepare()
    token = tokens_for_user(user=user, tenant=tenant)["access"]
    add_orders_and_files()
    headers = {"HTTP_HOST": HOST, "HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for path in (
        "/api/v1/catalog/products/?page_size=20",
        "/api/v1/orders/?page_size=20",
        "/api/v1/files/?page_size=20",
    ):
        profile(client, path, headers, args.requests, args.top)


if __name__ == "__main__":
    main()
