"""Reads of presence: is a user connected, and the presence others may see (bulk)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection

from presence import state
from presence.models import PresenceStatus
from tenants.models import Membership


def is_online(user_id, *, schema_name: str | None = None) -> bool:
    """True while the user has at least one live websocket connection in the tenant.

    For delivery decisions (e.g. notifications: send in-app through
    chat.realtime.user_event_send when online, email otherwise). It ignores the user's "hide my
    presence" choice, which only affects what other people see (presence_for_users).
    One Redis round trip, no database query.
    """
    schema = schema_name or connection.schema_name
    return state.states(schema, [str(user_id)])[str(user_id)]["online"]


def _when(epoch: float | None):
    return datetime.fromtimestamp(epoch, tz=UTC) if epoch else None


def presence_for_users(*, viewer, user_ids: list) -> list[dict]:
    """Presence of the tenant's members among user_ids as the viewer may see it.

    Users who hide their presence appear offline with no last-seen (except to themselves).
    Unknown ids and users of other tenants are left out. Two queries and one Redis round trip.
    """
    wanted = list(dict.fromkeys(str(user_id) for user_id in user_ids))
    members = {
        str(user_id)
        for user_id in Membership.objects.filter(
            tenant__schema_name=connection.schema_name, user_id__in=wanted
        ).values_list("user_id", flat=True)
    }
    ids = [user_id for user_id in wanted if user_id in members]
    stored = {str(row.user_id): row for row in PresenceStatus.objects.filter(user_id__in=ids)}
    live = state.states(connection.schema_name, ids)
    result = []
    for user_id in ids:
        row = stored.get(user_id)
        hidden = live[user_id]["hidden"] or (row is not None and row.hidden)
        if hidden and user_id != str(viewer.pk):
            result.append({"user_id": user_id, "online": False, "last_seen_at": None})
            continue
        last_seen = _when(live[user_id]["last_seen"]) or (row.last_seen_at if row else None)
        result.append(
            {"user_id": user_id, "online": live[user_id]["online"], "last_seen_at": last_seen}
        )
    return result


def status_for(user) -> PresenceStatus:
    return PresenceStatus.objects.filter(user=user).first() or PresenceStatus(user=user)
