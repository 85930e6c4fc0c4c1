"""Announcing presence changes to subscribers of the user and to the user's audiences.

Presence does not know what a user belongs to: apps above it (chat's rooms) register an audience,
a function of (user_id) -> channel-layer groups, run in the tenant's schema. Every announcement
goes through core.realtime.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from core import realtime
from presence import state
from tenants.db import tenant_sync_to_async

Audience = Callable[[object], Iterable[str]]
_audiences: list[Audience] = []


def register_audience(audience: Audience) -> None:
    """Also announce a user's presence to the groups audience(user_id) returns (app ready())."""
    if audience not in _audiences:
        _audiences.append(audience)


def _event(user_id: str, online: bool) -> dict:
    event = {"type": "presence", "user_id": str(user_id), "online": online}
    if not online:
        # ISO 8601 with T and Z, as the REST API and the snapshot frames render it.
        now = datetime.fromtimestamp(time.time(), tz=UTC)
        event["last_seen_at"] = now.isoformat().replace("+00:00", "Z")
    return event


def _groups(schema_name: str, user_id) -> list[str]:
    """The user's presence group and their audiences' groups (call in the tenant's schema)."""
    groups = [realtime.presence_group(schema_name, user_id)]
    for audience in _audiences:
        groups.extend(audience(user_id))
    return groups


async def announce(schema_name: str, user_id, online: bool) -> None:
    """Sends {"type": "presence", ...} unless the user hides their presence."""
    if await state.is_hidden(schema_name, user_id):
        return
    groups = await tenant_sync_to_async(schema_name, _groups)(schema_name, user_id)
    event = _event(str(user_id), online)
    for group in groups:
        await realtime.send_event_async(group, event)


def announce_sync(schema_name: str, user_id, online: bool) -> None:
    """announce() for synchronous callers (the sweep task); runs in the tenant's schema."""
    if state.client().sismember(state.hidden_key(schema_name), str(user_id)):
        return
    event = _event(str(user_id), online)
    for group in _groups(schema_name, user_id):
        realtime.send_event(group, event)
