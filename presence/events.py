"""Announcing presence changes to subscribers (the user's rooms and explicit subscribers)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from channels.layers import get_channel_layer

from chat import realtime
from chat.selectors import room_ids_for_user
from presence import state
from tenants.db import tenant_sync_to_async


def _event(user_id: str, online: bool) -> dict:
    event = {"type": "presence", "user_id": str(user_id), "online": online}
    if not online:
        event["last_seen_at"] = datetime.fromtimestamp(time.time(), tz=UTC).isoformat()
    return event


async def announce(schema_name: str, user_id, online: bool) -> None:
    """Sends {"type": "presence", ...} unless the user hides their presence."""
    if await state.is_hidden(schema_name, user_id):
        return
    layer = get_channel_layer()
    room_ids = await tenant_sync_to_async(schema_name, room_ids_for_user)(user_id)
    message = {"type": "chat.event", "event": _event(str(user_id), online)}
    await layer.group_send(realtime.presence_group(schema_name, user_id), message)
    for room_id in room_ids:
        await layer.group_send(realtime.room_group(schema_name, room_id), message)


def announce_sync(schema_name: str, user_id, online: bool) -> None:
    """announce() for synchronous callers (the sweep task); runs in the tenant's schema."""
    if state.client().sismember(state.hidden_key(schema_name), str(user_id)):
        return
    realtime.presence_event_send(
        user_id=user_id,
        event=_event(str(user_id), online),
        room_ids=room_ids_for_user(user_id),
        schema_name=schema_name,
    )
