"""Baseline HTTP throughput of a running server: liveness, tenant resolution, readiness.

Usage: start `make run`, then `.venv/bin/python bench/http_baseline.py [--base URL] [-n N] [-c C]`.
Prints requests per second and latency percentiles for each path.
"""

import argparse
import asyncio
import statistics
import time

import httpx

PATHS = ["/healthz", "/api/v1/", "/readyz"]


async def hammer(client: httpx.AsyncClient, path: str, total: int, concurrency: int):
    latencies: list[float] = []
    errors = 0
    remaining = total

    async def worker():
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await client.get(path)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--host", default="demo.localhost", help="Host header (the tenant)")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("-c", type=int, default=16)
    args = parser.parse_args()
    async with httpx.AsyncClient(base_url=args.base, headers={"Host": args.host}) as client:
        for path in PATHS:
            await hammer(client, path, 50, 4)  # warm up connections and caches
            latencies, errors, elapsed = await hammer(client, path, args.n, args.c)
            q = statistics.quantiles(latencies, n=100)
            print(
                f"{path:<12} {args.n / elapsed:8.0f} req/s   p50 {q[49] * 1000:6.2f} ms   "
                f"p99 {q[98] * 1000:6.2f} ms   errors {errors}"
            )


if __name__ == "__main__":
    asyncio.run(main())
