"""A real Celery worker consuming the "high" queue delivers a committed message in the tenant's
schema; a rolled-back transaction leaves nothing for it."""

import sys
import time
import uuid

import pytest
from django.db import connection, transaction

from notifications import registry, services
from notifications.models import Message
from tests.live import process_env, running


def _worker(queue: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "-Q",
        queue,
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"notify-{uuid.uuid4().hex[:8]}@%h",
    ]


@pytest.mark.slow
def test_a_real_worker_on_the_high_queue_sends_the_committed_message(
    django_db_setup, django_db_blocker
):
    from tenants.models import Tenant

    context = registry.TEMPLATES["order_status_changed"].example
    with django_db_blocker.unblock():
        connection.set_tenant(Tenant.objects.get(slug="alpha"))
        sent_id, rolled_back = None, "rolled-back@example.com"
        try:
            with transaction.atomic():  # committed: on_commit queues the task on the broker
                sent_id = services.email_send(
                    to="live@example.com", template="order_status_changed", context=context
                ).pk
            try:
                with transaction.atomic():
                    services.email_send(
                        to=rolled_back, template="order_status_changed", context=context
                    )
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass
            env = process_env(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
            with running(_worker("high"), env=env):
                deadline = time.monotonic() + 60
                message = Message.objects.get(pk=sent_id)
                while message.status == "queued" and time.monotonic() < deadline:
                    time.sleep(0.3)
                    message.refresh_from_db()
            assert message.status == "sent" and message.attempts == 1
            assert message.subject == "Order A-1001 is shipped"
            assert not Message.objects.filter(to_email=rolled_back).exists()
        finally:
            Message.objects.filter(pk=sent_id).delete()
            connection.set_schema_to_public()
