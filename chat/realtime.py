"""The one place that sends real-time events to websocket connections (channel-layer groups).

Group names carry the tenant schema, so no event crosses tenants:
- ``{schema}.r.{room_id}``: connections that joined the room (room.join).
- ``{schema}.u.{user_id hex}``: every open connection of the user in that tenant.
- ``{schema}.p.{user_id hex}``: connections subscribed to the user's presence.

(Short on purpose: a group name has at most 100 characters and a schema name up to 63.)

Other apps push to a user's connections with :func:`user_event_send`, e.g. notifications::

    from chat.realtime import user_event_send

    user_event_send(user_id=user.pk, event={"type": "notification", "id": 7, "title": "..."})

The event must be JSON-serialisable and carry a "type"; the connection forwards it unchanged.
Call it after the write is committed (``transaction.on_commit``); it does nothing when nobody
is connected. ``presence.selectors.is_online(user_id)`` tells whether anyone would receive it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection


def room_group(schema_name: str, room_id: int) -> str:
    return f"{schema_name}.r.{int(room_id)}"


def user_group(schema_name: str, user_id) -> str:
    return f"{schema_name}.u.{UUID(str(user_id)).hex}"


def presence_group(schema_name: str, user_id) -> str:
    return f"{schema_name}.p.{UUID(str(user_id)).hex}"


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def room_event_send(*, room_id: int, event: dict[str, Any], schema_name: str | None = None) -> None:
    """Delivers event to every connection that joined the room (in the current tenant)."""
    schema = schema_name or connection.schema_name
    _send(room_group(schema, room_id), {"type": "chat.event", "event": event})


def user_event_send(*, user_id, event: dict[str, Any], schema_name: str | None = None) -> None:
    """Delivers event to every open connection of the user in the tenant (current by default).

    Safe to call from synchronous code (services, Celery tasks) after the commit; the connection
    sends ``event`` as it is. Used for room membership changes and by other apps (notifications).
    """
    schema = schema_name or connection.schema_name
    _send(user_group(schema, user_id), {"type": "user.event", "event": event})


def presence_event_send(
    *, user_id, event: dict[str, Any], room_ids: list[int], schema_name: str
) -> None:
    """Delivers a presence change to subscribers of the user and to the user's rooms."""
    _send(presence_group(schema_name, user_id), {"type": "chat.event", "event": event})
    for room_id in room_ids:
        _send(room_group(schema_name, room_id), {"type": "chat.event", "event": event})
