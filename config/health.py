"""Liveness and readiness probes, served on every host."""

import time

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Liveness: the process answers. No dependency is touched."""
    return JsonResponse({"status": "ok"})


def _check_postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_redis() -> None:
    client = cache._cache.get_client(write=True)  # the Redis client behind the cache
    if not client.ping():
        raise RuntimeError("no PONG")


def readyz(request):
    """Readiness: PostgreSQL and Redis answer. 503 with the failing checks otherwise."""
    checks = {}
    healthy = True
    for name, check in (("postgres", _check_postgres), ("redis", _check_redis)):
        started = time.perf_counter()
        try:
            check()
            checks[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}
        except Exception as exc:  # any failure means not ready; the class name says which
            healthy = False
            checks[name] = {"ok": False, "error": exc.__class__.__name__}
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
