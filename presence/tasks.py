"""Periodic presence work, run in every tenant's schema (see presence/schedules.py)."""

from celery import shared_task
from django.db import connection


@shared_task(name="presence.flush_last_seen", acks_late=True)
def flush_last_seen() -> int:
    from presence.services import last_seen_flush

    return last_seen_flush()


@shared_task(name="presence.sweep", acks_late=True)
def sweep() -> list[str]:
    """Marks offline the users whose connections all missed their heartbeats.

    Web processes sweep the tenants they serve too; this covers tenants whose last web process
    died. Each user is announced once whoever sweeps first.
    """
    from presence import events, state

    schema = connection.schema_name
    gone = state.sweep_sync(schema)
    for user_id in gone:
        events.announce_sync(schema, user_id, False)
    return gone
