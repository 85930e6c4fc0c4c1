"""Authentication costs, in process: login (Argon2) and refresh throughput, and the overhead of
authenticating a request (JWT + session-revocation check) compared with an anonymous one.

Logins are measured with the platform's Argon2 parameters and with Django's defaults in the same
run (alternating rounds, the machine is shared), with the bare hash verification as baseline.

Usage: with DATABASE_URL / REDIS_URL set (or the servers `make run` starts),
`.venv/bin/python bench/auth.py [-n N] [--logins N]`. It creates (once) a tenant "bench-auth"
(host bench-auth.localhost) and a verified user, runs requests through the full Django stack
(tenant middleware, DRF, real database and Redis), and prints operations per second.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from accounts.models import Session, User  # noqa: E402
from accounts.services import tenant_create  # noqa: E402
from accounts.sessions import session_is_active  # noqa: E402
from tenants.models import Tenant  # noqa: E402

HOST = "bench-auth.localhost"
EMAIL = "bench-auth@example.com"
PASSWORD = "Bench-password-2024"


def setup() -> Tenant:
    tenant = Tenant.objects.filter(slug="bench-auth").first() or tenant_create(
        slug="bench-auth", name="Auth benchmark", domain=HOST
    )
    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        user = User.objects.create_user(email=EMAIL, password=PASSWORD)
    user.set_password(PASSWORD)  # re-hash with the configured (first) hasher
    user.email_verified_at = user.email_verified_at or django.utils.timezone.now()
    user.save()
    return tenant


def timed(label: str, count: int, func) -> list[float]:
    latencies = []
    started = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        func()
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100) if count >= 2 else latencies * 99
    print(
        f"{label:<34} {count / elapsed:9.1f} /s   p50 {q[49] * 1000:8.3f} ms   "
        f"p99 {q[98] * 1000:8.3f} ms"
    )
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=2000, help="requests per request benchmark")
    parser.add_argument("--logins", type=int, default=30)
    args = parser.parse_args()
    from django.conf import settings

    setup()
    connection.set_schema_to_public()
    print(f"password hasher: {settings.PASSWORD_HASHERS[0].rsplit('.', 1)[-1]}")
    client = Client(HTTP_HOST=HOST)

    def login():
        response = client.post(
            "/api/v1/auth/login/",
            {"email": EMAIL, "password": PASSWORD},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        return response.json()

    # The login throttle would stop a benchmark; measure the work, not the limiter.
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES = {
        **SimpleRateThrottle.THROTTLE_RATES,
        "auth": None,
        "auth_account": None,
    }

    from django.contrib.auth.hashers import get_hasher
    from django.test import override_settings

    others = settings.PASSWORD_HASHERS[1:]
    variants = {
        "platform": settings.PASSWORD_HASHERS[0],
        "django default": "django.contrib.auth.hashers.Argon2PasswordHasher",
    }
    spent = {name: 0.0 for name in variants}
    verify = {name: 0.0 for name in variants}
    rounds = 3
    per_round = max(args.logins // rounds, 2)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for _ in range(rounds):
        for name, path in variants.items():
            with override_settings(PASSWORD_HASHERS=[path, *others]):
                user = User.objects.get(email=EMAIL)
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
                encoded = user.password
                started = time.perf_counter()
                for _ in range(per_round):
                    get_hasher().verify(PASSWORD, encoded)
                verify[name] += time.perf_counter() - started
                spent[name] += sum(timed(f"login, Argon2 {name}", per_round, login))
    total = rounds * per_round
    rate = {name: total / spent[name] for name in variants}
    bare = {name: total / verify[name] for name in variants}
    for name in variants:
        print(
            f"login with Argon2 {name}: {rate[name]:.1f}/s (bare hash verify {bare[name]:.1f}/s, "
            f"login = {rate[name] / bare[name]:.0%} of it)"
        )
    print(
        f"login ratio platform / Django default: {rate['platform'] / rate['django default']:.1f}x"
    )
    # Where a login's time goes besides the hash (a platform hash again: the last round left
    # Django's, which the next login would re-hash): the median of a few, split.
    user = User.objects.get(email=EMAIL)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    login()
    splits = []
    cpu = {"login": [], "hash": []}
    for _ in range(5):
        with CaptureQueriesContext(connection) as captured:
            started, cpu_started = time.perf_counter(), time.process_time()
            login()
            whole = time.perf_counter() - started
            cpu["login"].append(time.process_time() - cpu_started)
        encoded = User.objects.get(email=EMAIL).password
        started, cpu_started = time.perf_counter(), time.process_time()
        get_hasher().verify(PASSWORD, encoded)
        hashed = time.perf_counter() - started
        cpu["hash"].append(time.process_time() - cpu_started)
        sql = sum(float(q["time"]) for q in captured.captured_queries)
        splits.append((whole, hashed, sql, len(captured.captured_queries)))
    whole, hashed, sql, statements = sorted(splits)[len(splits) // 2]
    print(
        f"one login (median of 5): {whole * 1000:.1f} ms = hash verify {hashed * 1000:.1f} ms + "
        f"{statements} SQL statements {sql * 1000:.1f} ms + the rest (Python, Redis, "
        f"scheduling) {max(0.0, whole - hashed - sql) * 1000:.1f} ms"
    )
    login_cpu, hash_cpu = (statistics.median(cpu[k]) * 1000 for k in ("login", "hash"))
    print(
        f"CPU time of one login (median): {login_cpu:.1f} ms, of which the hash {hash_cpu:.1f} ms "
        f"(the rest of the wall time above is waiting: database, Redis, other processes)"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    tokens = login()
    state = {"refresh": tokens["refresh"]}

    def refresh():
        response = client.post(
            "/api/v1/auth/refresh/",
            {"refresh": state["refresh"]},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        state["refresh"] = response.json()["refresh"]

    timed("refresh (rotation)", args.n // 4, refresh)

    access = login()["access"]
    authed = Client(HTTP_HOST=HOST, HTTP_AUTHORIZATION=f"Bearer {access}")
    anonymous = Client(HTTP_HOST=HOST)

    # /api/v1/ skips authentication; /api/v1/tenant/ runs it and reads the membership.
    def get_anonymous():
        assert anonymous.get("/api/v1/").status_code == 200

    def get_authenticated():
        assert authed.get("/api/v1/tenant/").status_code == 200

    timed("GET /api/v1/ (anonymous)", args.n, get_anonymous)
    timed("GET /api/v1/tenant/ (authenticated)", args.n, get_authenticated)
    with CaptureQueriesContext(connection) as captured:
        get_authenticated()
    session_queries = [q for q in captured.captured_queries if "accounts_session" in q["sql"]]
    print(f"session-table queries per authenticated request: {len(session_queries)}")

    # The authentication step alone, split into its parts.
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.authentication import TenantJWTAuthentication
    from accounts.tokens import SESSION_CLAIM

    connection.set_tenant(Tenant.objects.get(slug="bench-auth"))
    raw = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {access}")
    backend = TenantJWTAuthentication()
    session_id = AccessToken(access)[SESSION_CLAIM]
    n = args.n * 2
    decode = statistics.median(timed("  JWT decode + verify", n, lambda: AccessToken(access)))
    check = statistics.median(
        timed("  session check (cached lookup)", n, lambda: session_is_active(session_id))
    )
    whole = statistics.median(
        timed(
            "  authenticate() (JWT + check + user)", n, lambda: backend.authenticate(Request(raw))
        )
    )
    print(
        f"per-request authentication: {whole * 1000:.3f} ms median, of which the "
        f"revocation check {check * 1000:.3f} ms and JWT {decode * 1000:.3f} ms; "
        f"the rest is loading the user (one query)"
    )
    connection.set_schema_to_public()

    with schema_context("bench_auth"):
        Session.objects.filter(user__email=EMAIL).delete()


if __name__ == "__main__":
    main()
