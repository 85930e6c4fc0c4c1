"""Product search at scale, against a baseline checkout, interleaved, in one run.

    DATABASE_URL=... REDIS_URL=... python bench/search.py --against DIR \
        [--rounds 5] [--requests 40]

Uses the scratch workspace "bench-catalog" that bench/catalog.py loads (1,000,000 products; run
that first). Two servers start on free ports with DEBUG off, one uvicorn worker each, from the
same database: this checkout and DIR, a second checkout of the platform (e.g. the previous
commit, `git archive REV | tar -x -C DIR`). Each round sends every query of bench/catalog.py's
SEARCHES `--requests` times to each server, alternating the order of the servers between rounds,
over keep-alive connections, so both are measured under the same load. The figures are end to
end (HTTP, JWT, tenant lookup, SQL, JSON): p50/p95 per query and over all queries, with this
checkout's figures as a ratio of the baseline's. Each query's answer (mode, query, partial, ids,
ranks) must be the same from both servers, or the run stops. Then the ranked statements of
a prefix and of two typos are timed in the database alone, as they were and as they are. The
load average is printed before and after: the machine is shared, so compare ratios, not
milliseconds across runs.
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
from accounts.tokens import tokens_for_user  # noqa: E402
from catalog import selectors  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tests.live import free_port, wait_for_port  # noqa: E402

SLUG, HOST = "bench-catalog", "bench-catalog.localhost"
SEARCHES = [
    "walnut lamp",  # two words
    "ergonomic keyboard",
    "copper kettle",
    "hammock",  # one word, ~1.6% of rows
    "tripo",  # prefix
    "S0-00424242",  # SKU
    "hedphones",  # typo
    "keybord",  # typo
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def answer(body: dict) -> tuple:
    return (
        body["mode"],
        body["query"],
        body["partial"],
        [(r["id"], r["rank"]) for r in body["results"]],
    )


def server_ms(statements: list[tuple[str, list]]) -> float:
    """Planning plus execution time of these statements (EXPLAIN ANALYZE), summed."""
    total = 0.0
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0][0]
            total += plan["Planning Time"] + plan["Execution Time"]
    return total


def sql_shapes(schema: str, n: int) -> None:
    """The ranked statements of a prefix and of typos, as before (the typed words matched and
    ranked by one query; a typo's two passes in two statements) and now, interleaved; medians."""
    with schema_context(schema):
        products = selectors.product_list(with_tags=False)
        shapes = {}
        for q in ("tripo", "hedphones", "keybord"):
            known, completes = selectors._dictionary_lookup(q)
            full = selectors._search_query(q, known=known)
            before = [selectors._window_statement(products, (full, full))]
            otherwise = None
            sql, params = before[0]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                found = bool(cursor.fetchall())
            corrected = None if found else selectors._corrected(q, known)
            if corrected is not None:  # the typed words found nothing: corrected, again
                fixed = selectors._search_query(corrected, known=set(corrected.split()))
                before.append(selectors._window_statement(products, (fixed, fixed)))
                if selectors._looks_mistyped(q, known, completes):
                    otherwise = selectors._search_queries(corrected, known=set(corrected.split()))
            now = [
                selectors._window_statement(
                    products, selectors._search_queries(q, known=known), otherwise
                )
            ]
            shapes[q] = (before, now)
        times = {q: ([], []) for q in shapes}
        for i in range(n):
            for q, (before, now) in shapes.items():
                pair = [(0, before), (1, now)]
                for k, statements in pair if i % 2 else pair[::-1]:
                    times[q][k].append(server_ms(statements))
    print("\nSQL only (EXPLAIN ANALYZE, planning + execution, median of", n, "interleaved):")
    for q, (before, now) in times.items():
        b, t = statistics.median(before), statistics.median(now)
        print(f"  {q!r:<12} before {b:6.2f} ms  now {t:6.2f} ms  ({t / b:.2f}x)")


def start(cwd: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
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
        cwd=cwd, env=env,
    )  # fmt: skip
    return server, port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", type=Path, required=True, help="baseline checkout")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40, help="per query, server and round")
    parser.add_argument("--sql", type=int, default=30, help="EXPLAIN ANALYZE runs per shape")
    args = parser.parse_args()

    tenant = Tenant.objects.filter(slug=SLUG).first()
    user = User.objects.filter(email="bench@catalog.bench").first()
    if tenant is None or user is None:
        raise SystemExit("no bench-catalog workspace: run bench/catalog.py first")
    token = tokens_for_user(user=user, tenant=tenant)["access"]

    servers = {"baseline": start(args.against.resolve()), "this": start(ROOT)}
    try:
        for server, port in servers.values():
            wait_for_port(port, server)
        headers = {"Host": HOST, "Authorization": f"Bearer {token}"}
        clients = {
            name: httpx.Client(
                base_url=f"http://127.0.0.1:{port}/api/v1/catalog/products/search/",
                headers=headers,
                timeout=60,
            )
            for name, (_, port) in servers.items()
        }
        print(f"search of {SLUG}: {len(SEARCHES)} queries, one uvicorn worker per server")
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
        for q in SEARCHES:  # warm both, and check they answer alike
            bodies = {}
            for name, client in clients.items():
                response = client.get("", params={"q": q, "limit": 20})
                if response.status_code != 200:
                    raise SystemExit(f"{name} {q!r} -> {response.status_code}")
                bodies[name] = answer(response.json())
            if bodies["this"] != bodies["baseline"]:
                raise SystemExit(f"{q!r}: answers differ\n{bodies}")
            print(f"{q!r:<22} same answer from both ({bodies['this'][0]}, "
                  f"{len(bodies['this'][3])} hits)")  # fmt: skip

        ms: dict[tuple[str, str], list[float]] = {(n, q): [] for n in clients for q in SEARCHES}
        order = list(clients)
        for _ in range(args.rounds):
            for q in SEARCHES:
                for name in order:
                    client = clients[name]
                    for _ in range(args.requests):
                        t0 = time.perf_counter()
                        client.get("", params={"q": q, "limit": 20}).raise_for_status()
                        ms[name, q].append((time.perf_counter() - t0) * 1000)
            order.reverse()

        print(f"\n{'query':<22}{'baseline p50/p95':>20}{'this p50/p95':>20}{'this/baseline':>16}")
        for q in SEARCHES:
            b, t = ms["baseline", q], ms["this", q]
            print(
                f"{q!r:<22}{pct(b, 50):9.1f}{pct(b, 95):9.1f} ms"
                f"{pct(t, 50):9.1f}{pct(t, 95):9.1f} ms"
                f"{pct(t, 50) / pct(b, 50):8.2f}{pct(t, 95) / pct(b, 95):7.2f}"
            )
        every = {name: [v for q in SEARCHES for v in ms[name, q]] for name in clients}
        b, t = every["baseline"], every["this"]
        print(
            f"{'all queries':<22}{pct(b, 50):9.1f}{pct(b, 95):9.1f} ms{pct(t, 50):9.1f}"
            f"{pct(t, 95):9.1f} ms{pct(t, 50) / pct(b, 50):8.2f}{pct(t, 95) / pct(b, 95):7.2f}"
        )
        print(f"  p99: baseline {pct(b, 99):.1f} ms, this {pct(t, 99):.1f} ms  (n={len(t)} each)")
        sql_shapes(tenant.schema_name, args.sql)
        print(f"load average at end: {os.getloadavg()[0]:.1f}")
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
