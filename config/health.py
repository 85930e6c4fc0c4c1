"""Liveness and readiness probes, served on every host."""

import time

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

from core import mongo
from core.jobs import broker_reachable, live_workers


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


def _check_broker() -> None:
    broker_reachable()


def _check_workers() -> None:
    if not live_workers(timeout=0.5):
        raise RuntimeError("no worker answered")


def _check_mongodb() -> None:
    mongo.ping()


# Checks whose failure degrades the service without making it unready: with MongoDB down, order
# changes wait in the outbox and the reads it serves answer from PostgreSQL.
OPTIONAL = {"mongodb"}


def readyz(request):
    """Readiness: PostgreSQL, Redis and the Celery broker answer; 503 naming the failing checks.

    MongoDB is checked too, but only degrades: {"status": "degraded"} with 200 when it alone
    fails. With ?workers=1 at least one Celery worker must answer a ping too (for deploy
    pipelines); by default web readiness does not wait on workers.
    """
    checks = {}
    healthy = True
    degraded = False
    probes = [
        ("postgres", _check_postgres),
        ("redis", _check_redis),
        ("broker", _check_broker),
        ("mongodb", _check_mongodb),
    ]
    if request.GET.get("workers") in ("1", "true"):
        probes.append(("workers", _check_workers))
    for name, check in probes:
        started = time.perf_counter()
        try:
            check()
            checks[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}
        except Exception as exc:  # any failure means not ready; the class name says which
            if name in OPTIONAL:
                degraded = True
            else:
                healthy = False
            checks[name] = {"ok": False, "error": exc.__class__.__name__}
    state = "unavailable" if not healthy else "degraded" if degraded else "ok"
    return JsonResponse(
        {"status": state, "checks": checks},
        status=200 if healthy else 503,
    )
