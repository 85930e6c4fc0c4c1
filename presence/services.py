"""Writes of presence: hiding one's presence, flushing last-seen times to PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.db import connection, transaction

from presence import state
from presence.models import PresenceStatus


@transaction.atomic
def presence_hidden_set(*, user, hidden: bool) -> PresenceStatus:
    status, _ = PresenceStatus.objects.get_or_create(user=user)
    status.hidden = hidden
    status.save(update_fields=["hidden", "updated_at"])
    schema = connection.schema_name
    transaction.on_commit(lambda: state.set_hidden(schema, user.pk, hidden))
    return status


def last_seen_flush() -> int:
    """Writes the last-seen times Redis gathered since the previous flush (idempotent).

    Runs in the tenant's schema (Celery task presence.flush_last_seen); returns the rows written.
    """
    schema = connection.schema_name
    redis = state.client()
    since = float(redis.get(state.flushed_key(schema)) or 0)
    started = time.time()
    seen = state.seen_since(schema, since)
    if seen:
        rows = [
            PresenceStatus(user_id=user_id, last_seen_at=datetime.fromtimestamp(score, tz=UTC))
            for user_id, score in seen
        ]
        from tenants.models import Membership

        members = {
            str(user_id)
            for user_id in Membership.objects.filter(
                tenant__schema_name=schema, user_id__in=[user_id for user_id, _ in seen]
            ).values_list("user_id", flat=True)
        }
        rows = [row for row in rows if str(row.user_id) in members]
        PresenceStatus.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["user"],
            update_fields=["last_seen_at", "updated_at"],
            batch_size=1000,
        )
    else:
        rows = []
    # A small overlap: a heartbeat written while we read is flushed again next time.
    redis.set(state.flushed_key(schema), started - 1)
    return len(rows)
