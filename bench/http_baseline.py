"""The platform's request path as a ratio of Django's own cost, on the same server, in one run.

    DATABASE_URL=... REDIS_URL=... python bench/http_baseline.py \
        [--server gunicorn-uvicorn|uvicorn|gunicorn-wsgi|all] [--workers 1] [-n 300] \
        [--concurrency 1,16] [--rounds 3]

A scratch workspace "bench-http" with 200 products is made (or reused). For each server kind one
server process tree starts on a free port with DEBUG off and BENCH_BASELINE_VIEWS on, so it serves
a bare Django view (/bench/bare) and a bare one-query view (/bench/one-query: 20 product rows)
beside the platform's views, through the same middleware and connection settings. The paths are
measured interleaved, round after round, over keep-alive connections; the figures are medians
over the rounds, and every row is also given as a ratio of the bare views of the same run. The
load average is printed before and after: the machine is shared, so compare ratios, not req/s.

The load comes from wrk when it is installed (`apt-get install wrk`: a C client, `--seconds` per
path and round, latency percentiles from its own histogram, p99 the median of the rounds'), else
from an httpx client in this process (`-n` requests per path and round). The Python client runs
on the same two cores: it tops the bare views out near 300 req/s (wrk reaches ~1,000) and its own
scheduling adds a tail of ~200 ms at 16 clients, so its figures understate the bare views and
overstate every p99. Use `--client httpx` to force it.

--against DIR serves a second checkout of the platform (e.g. the previous release, extracted with
`git archive`) beside this one, from the same database; each round measures both servers in
turn, so a change is measured against its baseline under the same load.
"""

import argparse
import asyncio
import logging
import os
import re
import shutil
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
from django_tenants.utils import schema_context  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import membership_set, tenant_create  # noqa: E402
from accounts.tokens import tokens_for_user  # noqa: E402
from catalog.models import Product  # noqa: E402
from catalog.services import products_bulk_load  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import public_tenant_ensure  # noqa: E402
from tests.live import free_port, wait_for_port  # noqa: E402

SLUG, HOST = "bench-http", "bench-http.localhost"
PRODUCTS = 200


def prepare() -> tuple[User, Tenant, int]:
    public_tenant_ensure()
    tenant = Tenant.objects.filter(slug=SLUG).first() or tenant_create(
        slug=SLUG, name="HTTP benchmark", domain=HOST, verbosity=0
    )
    user = User.objects.filter(email="bench@http.bench").first()
    if user is None:
        user = User.objects.create_user(email="bench@http.bench", password=None)
    membership_set(user=user, tenant=tenant, role="owner")
    with schema_context(tenant.schema_name):
        if Product.objects.count() < PRODUCTS:
            products_bulk_load(count=PRODUCTS)
        product_id = Product.objects.order_by("-id").values_list("id", flat=True).first()
    return user, tenant, product_id


def server_command(kind: str, port: int, workers: int) -> list[str]:
    python = sys.executable
    if kind == "uvicorn":
        return [python, "-m", "uvicorn", "config.asgi:application", "--port", str(port),
                "--workers", str(workers), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    if kind == "gunicorn-wsgi":
        return [python, "-m", "gunicorn", "config.wsgi:application", "-k", "gthread",
                "--threads", "4", "-w", str(workers), "-b", f"127.0.0.1:{port}"]  # fmt: skip
    return [python, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.asgi:application"]


async def hammer(base: str, path: str, headers: dict, total: int, concurrency: int):
    latencies: list[float] = []
    errors = 0
    remaining = total
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    # Generous timeout: on a loaded machine a slow answer is a figure, not a failure.
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:
        # Warm the server's caches and open every connection before the clock starts: a
        # connection's set-up is not a request's latency.
        for _ in range(2):
            await asyncio.gather(*(client.get(path) for _ in range(concurrency)))

        async def worker():
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return total / elapsed, latencies, errors


def wrk(base: str, path: str, headers: dict, seconds: int, concurrency: int):
    """(req/s, {percentile: ms}, errors) from one wrk run, after a one-second warm-up run that
    opens the connections and warms the server's caches."""
    command = ["wrk", "-t1", f"-c{concurrency}", "--latency", "--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    subprocess.run([*command, "-d1s", base + path], capture_output=True, check=True)
    out = subprocess.run(
        [*command, f"-d{seconds}s", base + path], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    percentiles = {
        int(p): float(v) * _UNITS[unit]
        for p, v, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket = re.search(r"Socket errors: (.*)", out)
    errors += sum(int(n) for n in re.findall(r"\d+", socket.group(1))) if socket else 0
    return rate, percentiles, errors


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def start_server(kind: str, args, root: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(
        os.environ,
        BENCH_BASELINE_VIEWS="true",
        # Measure the work, not the rate limiter (one client sends every request).
        THROTTLE_USER_RATE="",
        THROTTLE_ANON_RATE="",
        DJANGO_DEBUG="false",
        LOG_LEVEL="WARNING",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY=str(args.workers),
    )
    process = subprocess.Popen(server_command(kind, port, args.workers), cwd=root, env=env)
    wait_for_port(port, process)
    return process, f"http://127.0.0.1:{port}"


def run_server(kind: str, args, user: User, tenant: Tenant, product_id: int) -> None:
    roots = {"this checkout": ROOT}
    if args.against:
        roots[f"against {args.against}"] = Path(args.against).resolve()
    processes, bases = [], {}
    try:
        for label, root in roots.items():
            process, bases[label] = start_server(kind, args, root)
            processes.append(process)
        time.sleep(1.0)
        auth = {"Host": HOST}
        paths = {
            "bare view": ("/bench/bare", {"Host": HOST}),
            "bare one-query view": ("/bench/one-query", {"Host": HOST}),
            "/healthz": ("/healthz", {"Host": HOST}),
            "product list (20)": ("/api/v1/catalog/products/?page_size=20", auth),
            "product detail": (f"/api/v1/catalog/products/{product_id}/", auth),
        }
        for concurrency in args.concurrency:
            figures = {label: {name: [] for name in paths} for label in bases}
            for round_no in range(args.rounds):
                # A fresh access token each round: a slow run outlives one (JWT_ACCESS_MINUTES).
                access = tokens_for_user(user=user, tenant=tenant)["access"]
                auth["Authorization"] = f"Bearer {access}"
                order = [(label, item) for item in paths.items() for label in bases]
                if round_no % 2:
                    order.reverse()  # interleave, so drift in the machine's load evens out
                for label, (name, (path, headers)) in order:
                    if args.client == "wrk":
                        run = wrk(bases[label], path, headers, args.seconds, concurrency)
                    else:
                        rate, latencies, errors = asyncio.run(
                            hammer(bases[label], path, headers, args.n, concurrency)
                        )
                        run = (rate, {50: pct(latencies, 50), 99: pct(latencies, 99)}, errors)
                    figures[label][name].append(run)
            for label, by_path in figures.items():
                report(kind, args, concurrency, label if args.against else "", by_path)
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def report(kind: str, args, concurrency: int, label: str, figures: dict) -> None:
    bare = statistics.median(rate for rate, _, _ in figures["bare view"])
    one = statistics.median(rate for rate, _, _ in figures["bare one-query view"])
    suffix = f", {label}" if label else ""
    print(f"\n{kind}, {args.workers} worker(s), concurrency {concurrency}, {args.client}{suffix}:")
    print(f"  {'path':<22}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'vs bare':>9}{'vs 1-query':>11}{'errors':>8}")  # fmt: skip
    for name, runs in figures.items():
        rate = statistics.median(r for r, _, _ in runs)
        p50 = statistics.median(p[50] for _, p, _ in runs)
        p99 = statistics.median(p[99] for _, p, _ in runs)
        errors = sum(e for _, _, e in runs)
        print(
            f"  {name:<22}{rate:8.0f}{p50:9.2f}{p99:9.2f}"
            f"{rate / bare:9.0%}{rate / one:11.0%}{errors:8d}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    kinds = ["gunicorn-uvicorn", "uvicorn", "gunicorn-wsgi", "all"]
    parser.add_argument("--server", default="gunicorn-uvicorn", choices=kinds)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("-n", type=int, default=300, help="requests per path and round")
    parser.add_argument("--concurrency", default="1,16")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", help="another checkout to serve and measure alongside")
    parser.add_argument("--client", choices=["wrk", "httpx"], default=None)
    parser.add_argument("--seconds", type=int, default=5, help="wrk: seconds per path and round")
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.client = args.client or ("wrk" if shutil.which("wrk") else "httpx")
    user, tenant, product_id = prepare()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    kinds = (
        ["gunicorn-uvicorn", "uvicorn", "gunicorn-wsgi"] if args.server == "all" else [args.server]
    )
    for kind in kinds:
        run_server(kind, args, user, tenant, product_id)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
