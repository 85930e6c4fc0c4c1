"""Notifications benchmark: template rendering, queueing (email_send), and delivery by the task
(to Django's in-memory backend, so the figure is our own overhead, not a provider's latency).

    DATABASE_URL=... REDIS_URL=... python bench/notifications.py [--count 200]

Needs a migrated database (`manage.py migrate_schemas`); creates a "nbench" tenant on first run.
Rows written for the measurement are rolled back at the end.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"

import django  # noqa: E402

django.setup()

from django.core import mail  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.services import tenant_create  # noqa: E402
from notifications import registry, services  # noqa: E402
from notifications.rendering import render_email  # noqa: E402
from notifications.tasks import send_email  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import public_tenant_ensure  # noqa: E402


class Rollback(Exception):
    pass


def per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({seconds / count * 1e3:,.2f} ms each)"


def run(count: int) -> None:
    spec = registry.TEMPLATES["order_confirmation"]
    started = time.perf_counter()
    for _ in range(count):
        render_email(
            template=spec.name, context=spec.example, to_email="a@example.com", base_url="http://x"
        )
    print("render (subject, text, html):", per_second(count, time.perf_counter() - started))

    with CaptureQueriesContext(connection) as queued_queries:
        started = time.perf_counter()
        ids = [
            services.email_send(
                to=f"reader{i}@example.com", template=spec.name, context=spec.example
            ).pk
            for i in range(count)
        ]
        elapsed = time.perf_counter() - started
    print(
        "email_send (record + queue):",
        per_second(count, elapsed),
        f"{len(queued_queries) / count:.1f} queries each",
    )

    mail.outbox = []
    with CaptureQueriesContext(connection) as sent_queries:
        started = time.perf_counter()
        for pk in ids:
            send_email.apply(args=[str(pk)], headers={"_schema_name": connection.schema_name})
        elapsed = time.perf_counter() - started
    assert len(mail.outbox) == count
    print(
        "send_email task (render + send + record):",
        per_second(count, elapsed),
        f"{len(sent_queries) / count:.1f} queries each",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    public_tenant_ensure()
    tenant = Tenant.objects.filter(slug="nbench").first() or tenant_create(
        slug="nbench", name="Notifications bench", domain="nbench.localhost"
    )
    connection.set_tenant(tenant)
    try:
        with transaction.atomic():
            run(args.count)
            raise Rollback()
    except Rollback:
        pass


if __name__ == "__main__":
    main()
