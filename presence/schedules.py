"""Periodic presence work: last-seen flush to PostgreSQL and the offline sweep, per tenant."""

from django.conf import settings

from tenants.schedules import Periodic, register

register(
    Periodic(
        "Presence: flush last-seen times",
        "presence.flush_last_seen",
        settings.PRESENCE_FLUSH_SECONDS,
        per_tenant=True,
    )
)
register(
    Periodic(
        "Presence: mark silent connections offline",
        "presence.sweep",
        max(int(settings.PRESENCE_TIMEOUT_SECONDS), 10),
        per_tenant=True,
    )
)
