"""The one path real-time events take to websocket connections (channel-layer groups).

Group names carry the tenant schema, so no event crosses tenants:
- ``{schema}.r.{room_id}``: connections that joined a chat room.
- ``{schema}.u.{user_id hex}``: every open connection of a user in that tenant.
- ``{schema}.p.{user_id hex}``: connections subscribed to a user's presence.
- ``{schema}.as.{session_id hex}``: the connections of one sign-in session (revocation).

(Short on purpose: a group name has at most 100 characters and a schema name up to 63.)

Every push goes through :func:`send_event` (sync callers: services, tasks) or
:func:`send_event_async` (consumers), and writes push with :func:`send_event_on_commit` so a
rolled-back change never reaches a client::

    from core import realtime

    realtime.send_event_on_commit(
        realtime.user_group(schema, user.pk), {"type": "notification", "id": 7}
    )

``event`` is the JSON-serialisable frame the connection forwards unchanged (it carries a "type");
it is encoded to JSON once here ("frame"), not once per connection;
``handler`` names the consumer method that receives it ("chat.event", "user.event",
"session.revoked"). :func:`send_events` (and ``send_events_on_commit``) publishes several events
for one group in one channel-layer message ("chat.events"), forwarded in order as separate frames
(the chat's group commit: one publish per room and batch). Sending does nothing when nobody
listens. A worker thread of an event loop may hold its send_events with
:func:`hold_publishes` and have the loop make them with :func:`publish_held`, on the loop's own
channel-layer connection and in order (without, each publish from a thread runs on an event
loop of its own).
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from functools import partial
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

CHAT_EVENT = "chat.event"
# Several events for one group in one channel-layer message (send_events): one publish.
CHAT_EVENTS = "chat.events"
USER_EVENT = "user.event"
SESSION_REVOKED = "session.revoked"


def room_group(schema_name: str, room_id: int) -> str:
    return f"{schema_name}.r.{int(room_id)}"


def user_group(schema_name: str, user_id) -> str:
    return f"{schema_name}.u.{UUID(str(user_id)).hex}"


def presence_group(schema_name: str, user_id) -> str:
    return f"{schema_name}.p.{UUID(str(user_id)).hex}"


def session_group(schema_name: str, session_id) -> str:
    """The group that hears about one session's revocation (63 + 4 + 32 characters at most)."""
    return f"{schema_name}.as.{UUID(str(session_id)).hex}"


def current_schema() -> str:
    return connection.schema_name


def _message(event: dict[str, Any] | None, handler: str, extra: dict | None) -> dict:
    message: dict[str, Any] = {"type": handler}
    if event is not None:
        message["event"] = event
        message["frame"] = json.dumps(event, default=str)
    if extra:
        message.update(extra)
    return message


def send_event(
    group: str,
    event: dict[str, Any] | None = None,
    *,
    handler: str = CHAT_EVENT,
    extra: dict | None = None,
) -> None:
    """Delivers event to every connection in group (synchronous callers)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, _message(event, handler, extra))


async def send_event_async(
    group: str,
    event: dict[str, Any] | None = None,
    *,
    handler: str = CHAT_EVENT,
    extra: dict | None = None,
) -> None:
    """send_event for code already running on the event loop (consumers)."""
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(group, _message(event, handler, extra))


def _batch(events: list[dict[str, Any]]) -> dict:
    # Only the encoded frames travel: the connections forward them as they are.
    return {"type": CHAT_EVENTS, "frames": [json.dumps(event, default=str) for event in events]}


_held = threading.local()


@contextmanager
def hold_publishes():
    """Within the block, this thread's send_events are kept, in order, in the list it yields
    instead of being published; pass it to publish_held (on the event loop) afterwards."""
    held: list[tuple[str, dict]] = []
    previous = getattr(_held, "publishes", None)
    _held.publishes = held
    try:
        yield held
    finally:
        _held.publishes = previous


async def publish_held(held: list[tuple[str, dict]]) -> None:
    """Makes the publishes kept by hold_publishes, one after the other."""
    layer = get_channel_layer()
    if layer is None:
        return
    for group, message in held:
        await layer.group_send(group, message)


def send_events(group: str, events: list[dict[str, Any]]) -> None:
    """Delivers several events, in order, to every connection in group with one publish
    (each encoded once); the connections forward them as separate frames."""
    held = getattr(_held, "publishes", None)
    if held is not None:
        if events:
            held.append((group, _batch(events)))
        return
    layer = get_channel_layer()
    if layer is not None and events:
        async_to_sync(layer.group_send)(group, _batch(events))


def send_events_on_commit(group: str, events: list[dict[str, Any]]) -> None:
    """send_events once the surrounding transaction commits."""
    transaction.on_commit(partial(send_events, group, events))


def send_event_on_commit(
    group: str,
    event: dict[str, Any] | None = None,
    *,
    handler: str = CHAT_EVENT,
    extra: dict | None = None,
) -> None:
    """send_event once the surrounding transaction commits (at once outside a transaction)."""
    transaction.on_commit(partial(send_event, group, event, handler=handler, extra=extra))
