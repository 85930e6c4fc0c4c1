"""The chat websocket (/ws/chat/): authentication, room events, typing, read receipts, presence.

Protocol (JSON text frames, every event has a "type"; a client may add "ref", echoed back in the
answer or error):
- Authenticate with the Sec-WebSocket-Protocol header ("bearer, <access token>") or with the
  first frame {"type": "auth", "token": "..."} within CHAT_AUTH_TIMEOUT_SECONDS. The server
  answers {"type": "ready", ...}. Tokens are never logged.
- Client: heartbeat, room.join {room_id, after?}, room.leave {room_id},
  message.send {room_id, body, client_id}, message.edit {message_id, body},
  message.delete {message_id}, typing.start / typing.stop {room_id}, read {room_id, message_id},
  presence.subscribe / presence.unsubscribe {user_ids}.
- Server: ready, heartbeat.ack, room.joined (with catch-up messages), message, message.ack,
  message.edited, message.deleted, typing, read, presence, room.added, room.removed,
  room.updated, room.archived, member.removed, error {code, message}.

Every event is checked against the room membership in the database; bad frames get an error
event and the connection stays open. A revoked session closes the connection (code 4401); a
connection that stops sending heartbeats is closed (4408) and its user goes offline.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.authentication import user_for_access_token
from chat import selectors, services
from core import realtime
from core.errors import DomainError
from core.parsers import JSONRefused, loads
from presence import events as presence_events
from presence import state as presence_state

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_HEARTBEAT_MISSED = 4408
MAX_SUBSCRIPTIONS = 200


def in_tenant(schema_name: str, func):
    """Runs ORM work in the tenant's schema on the thread pool (many consumers in parallel)."""

    def call(*args, **kwargs):
        with schema_context(schema_name):
            return func(*args, **kwargs)

    return database_sync_to_async(call, thread_sensitive=False)


class BadEvent(DomainError):
    code = "invalid_event"
    default_message = "The event is not valid."


class RateLimited(DomainError):
    code = "rate_limited"
    default_message = "Too many events; slow down."


def _int(content: dict, name: str, *, required: bool = True) -> int | None:
    value = content.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadEvent(f"'{name}' must be an integer.", fields={name: ["An integer."]})
    try:
        return int(value)
    except ValueError:
        raise BadEvent(f"'{name}' must be an integer.", fields={name: ["An integer."]}) from None


class _Sweepers:
    """One offline sweep loop per tenant schema while this process serves its connections."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.tasks: dict[str, asyncio.Task] = {}

    def enter(self, schema_name: str) -> None:
        self.counts[schema_name] = self.counts.get(schema_name, 0) + 1
        task = self.tasks.get(schema_name)
        if task is None or task.done():
            self.tasks[schema_name] = asyncio.get_running_loop().create_task(
                self._loop(schema_name)
            )

    def exit(self, schema_name: str) -> None:
        self.counts[schema_name] = max(self.counts.get(schema_name, 1) - 1, 0)

    async def _loop(self, schema_name: str) -> None:
        interval = max(
            min(settings.PRESENCE_HEARTBEAT_SECONDS, settings.PRESENCE_TIMEOUT_SECONDS / 2), 0.2
        )
        while self.counts.get(schema_name):
            await asyncio.sleep(interval)
            try:
                for user_id in await presence_state.sweep(schema_name):
                    await presence_events.announce(schema_name, user_id, False)
            except Exception:
                logger.exception("presence sweep failed for %s", schema_name)
        self.tasks.pop(schema_name, None)


sweepers = _Sweepers()


def _write_batch(schema_name: str, sends: list[services.MessageSend]) -> tuple[list, list]:
    """One group commit on a writer thread, which keeps its database connection between batches
    (no pool check-out, health check or search-path round trips per batch). Returns the results
    and the batch's room publishes, which the event loop makes (on its own channel-layer
    connection, in batch order) rather than this thread (an event loop per publish)."""
    held = connection.connection
    if held is not None and (held.closed or held.broken):
        connection.close()  # lost since the previous batch: take another from the pool
    try:
        with schema_context(schema_name), realtime.hold_publishes() as publishes:
            return services.messages_send(sends=sends), publishes
    except Exception:
        connection.close()  # a broken connection is not reused: the next batch takes a new one
        raise


class _SendBatches:
    """Group commit of message.send: the sends that arrive while a batch is being written go
    into the next one (one transaction, one INSERT, in arrival order).

    One batch at a time per tenant schema and event loop, so a batch waits for nothing but the
    previous one; each connection still handles its frames one by one, so a sender's messages
    keep their order, and every ack follows the commit that stored its message. Batches run on
    CHAT_WRITER_THREADS threads per process, each with a database connection of its own.

    Closing a batch: senders that wait for their ack before sending again would otherwise split
    into two groups taking turns (those answered by a batch send again while the next one,
    holding the others, is being written), each batch half full. So a batch that starts right
    after the previous one answered waits up to CHAT_BATCH_LINGER_MS for as many sends as that
    one answered; a send arriving later (a person typing) waits for nothing.
    """

    MAX = 100

    def __init__(self) -> None:
        self.pending: dict[tuple, list[tuple[services.MessageSend, asyncio.Future]]] = {}
        self.tasks: dict[tuple, asyncio.Task] = {}
        self.executor: ThreadPoolExecutor | None = None
        # Per key: sends since the previous batch answered, and when it did and how many.
        self.arrived: dict[tuple, int] = {}
        self.answered: dict[tuple, tuple[float, int]] = {}
        self.waiting: dict[tuple, tuple[asyncio.Event, int]] = {}

    def _executor(self) -> ThreadPoolExecutor:
        if self.executor is None:
            self.executor = ThreadPoolExecutor(
                max_workers=settings.CHAT_WRITER_THREADS, thread_name_prefix="chat-writer"
            )
        return self.executor

    async def send(self, schema_name: str, item: services.MessageSend):
        loop = asyncio.get_running_loop()
        key = (loop, schema_name)
        future = loop.create_future()
        self.pending.setdefault(key, []).append((item, future))
        self.arrived[key] = self.arrived.get(key, 0) + 1
        waiting = self.waiting.get(key)
        if waiting is not None and self.arrived[key] >= waiting[1]:
            waiting[0].set()
        if key not in self.tasks:
            self.tasks[key] = loop.create_task(self._drain(key))
        return await future

    async def _drain(self, key: tuple) -> None:
        loop = key[0]
        try:
            while self.pending.get(key):
                await self._linger(key)
                batch = self.pending[key][: self.MAX]
                del self.pending[key][: self.MAX]
                publishes: list = []
                try:
                    results, publishes = await loop.run_in_executor(
                        self._executor(), _write_batch, key[1], [item for item, _ in batch]
                    )
                except Exception as exc:  # e.g. the database is gone: every sender hears it
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # the connection went away meanwhile
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                self.answered[key] = (loop.time(), len(batch))
                self.arrived[key] = 0
                try:  # committed: the rooms hear it, in batch order, before the next batch
                    await realtime.publish_held(publishes)
                except Exception:
                    logger.exception("chat batch publish failed")
        finally:
            self.tasks.pop(key, None)
            if not self.pending.get(key):
                self.pending.pop(key, None)
                self.arrived.pop(key, None)
                self.answered.pop(key, None)

    async def _linger(self, key: tuple) -> None:
        """Waits (briefly) for the senders the previous batch answered to send again."""
        linger = settings.CHAT_BATCH_LINGER_MS / 1000
        answered_at, answered = self.answered.get(key, (0.0, 0))
        expected = min(answered, self.MAX - len(self.pending[key]))
        if linger <= 0 or self.arrived.get(key, 0) >= expected:
            return
        remaining = answered_at + linger - key[0].time()
        if remaining <= 0:
            return
        event = asyncio.Event()
        self.waiting[key] = (event, expected)
        try:
            await asyncio.wait_for(event.wait(), remaining)
        except TimeoutError:
            pass
        finally:
            self.waiting.pop(key, None)


send_batches = _SendBatches()


class ChatConsumer(AsyncWebsocketConsumer):
    async def dispatch(self, message):
        """Calls the handler without Channels' close_old_connections before each message.

        Channels runs it on the sync thread before every frame and every channel-layer
        message: a thread hop per delivery, through one thread for the whole process, for a
        500-member room 500 per message. This consumer's event loop never holds a database
        connection: its database work runs in database_sync_to_async (which closes old
        connections around each call) and on the writer threads (which keep their own).
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.tenant = self.scope["tenant"]
        self.schema = self.tenant.schema_name
        self.user = None
        self.session_id = None
        self.conn_id = uuid.uuid4().hex
        self.groups_joined: set[str] = set()
        self.rooms: set[int] = set()
        self.tasks: list[asyncio.Task] = []
        self.typing_sent: dict[int, float] = {}
        self.presence_seen: dict[str, bool] = {}
        self.tokens = float(settings.CHAT_RATE_BURST)
        self.tokens_at = time.monotonic()
        self.last_beat = time.monotonic()
        protocols = self.scope.get("subprotocols") or []
        if len(protocols) >= 2 and protocols[0].lower() == "bearer":
            if not await self._authenticate(protocols[1]):
                await self.close(code=CLOSE_UNAUTHENTICATED)  # refuses the handshake
                return
            await self.accept(subprotocol="bearer")
            await self._ready()
            return
        await self.accept()
        self.tasks.append(asyncio.create_task(self._auth_deadline()))

    # --- Authentication and lifecycle -----------------------------------------------------

    async def _authenticate(self, token: str) -> bool:
        try:
            self.user, self.session_id = await in_tenant(self.schema, user_for_access_token)(
                token, schema_name=self.schema
            )
        except AuthenticationFailed as exc:
            self.auth_error = getattr(exc.detail, "code", None) or "token_not_valid"
            if isinstance(exc.detail, dict):
                self.auth_error = str(exc.detail.get("code", "token_not_valid"))
            return False
        return True

    async def _auth_deadline(self) -> None:
        await asyncio.sleep(settings.CHAT_AUTH_TIMEOUT_SECONDS)
        if self.user is None:
            await self._error("auth_timeout", "Authenticate first.")
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def _discard(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined.discard(group)

    async def _ready(self) -> None:
        await self._join(realtime.session_group(self.schema, self.session_id))
        await self._join(realtime.user_group(self.schema, self.user.pk))
        if await presence_state.touch(self.schema, self.user.pk, self.conn_id):
            await presence_events.announce(self.schema, self.user.pk, True)
        sweepers.enter(self.schema)
        self.last_beat = time.monotonic()
        self.tasks.append(asyncio.create_task(self._watchdog()))
        await self._send(
            {
                "type": "ready",
                "user_id": str(self.user.pk),
                "heartbeat_seconds": settings.PRESENCE_HEARTBEAT_SECONDS,
                "limits": {
                    "message_chars": settings.CHAT_MAX_MESSAGE_CHARS,
                    "frame_bytes": settings.CHAT_MAX_FRAME_BYTES,
                    "events_per_second": settings.CHAT_RATE_PER_SECOND,
                },
            }
        )

    async def _watchdog(self) -> None:
        """Closes a connection that stopped sending heartbeats (its client is gone)."""
        timeout = settings.PRESENCE_TIMEOUT_SECONDS
        while True:
            await asyncio.sleep(min(settings.PRESENCE_HEARTBEAT_SECONDS, timeout / 2))
            if time.monotonic() - self.last_beat > timeout:
                await self.close(code=CLOSE_HEARTBEAT_MISSED)
                return

    async def disconnect(self, code):
        for task in self.tasks:
            task.cancel()
        for group in list(self.groups_joined):
            await self._discard(group)
        if self.user is not None:
            sweepers.exit(self.schema)
            try:
                if await presence_state.leave(self.schema, self.user.pk, self.conn_id):
                    await presence_events.announce(self.schema, self.user.pk, False)
            except Exception:
                logger.exception("presence leave failed")

    # --- Frames ---------------------------------------------------------------------------

    async def _send(self, event: dict) -> None:
        await self.send(text_data=json.dumps(event, default=str))

    async def _error(self, code: str, message: str, ref=None, **extra) -> None:
        event = {"type": "error", "code": code, "message": message, **extra}
        if ref is not None:
            event["ref"] = ref
        await self._send(event)

    def _take_token(self) -> bool:
        now = time.monotonic()
        rate = settings.CHAT_RATE_PER_SECOND
        self.tokens = min(settings.CHAT_RATE_BURST, self.tokens + (now - self.tokens_at) * rate)
        self.tokens_at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None:
            await self._error("binary_not_supported", "Send JSON text frames.")
            return
        if len(text_data or "") > settings.CHAT_MAX_FRAME_BYTES:
            await self._error(
                "frame_too_large", f"A frame has at most {settings.CHAT_MAX_FRAME_BYTES} bytes."
            )
            return
        if not self._take_token():
            await self._error("rate_limited", "Too many events; slow down.")
            return
        try:
            content = loads(text_data or "")
        except JSONRefused as exc:
            await self._error(exc.code, exc.message)
            return
        except ValueError:
            await self._error("invalid_json", "The frame is not JSON.")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error("invalid_event", "An event is a JSON object with a 'type'.")
            return
        ref = content.get("ref")
        if not isinstance(ref, (str, int)) or isinstance(ref, bool):
            ref = None
        kind = content["type"]
        try:
            if self.user is None:
                await self._receive_unauthenticated(kind, content)
                return
            handler = self.HANDLERS.get(kind)
            if handler is None:
                raise BadEvent(f"Unknown event type '{kind[:40]}'.")
            answer = await handler(self, content)
            if answer is not None:
                if ref is not None:
                    answer["ref"] = ref
                await self._send(answer)
        except DomainError as exc:
            extra = {"fields": exc.fields} if exc.fields else {}
            await self._error(exc.code, exc.message, ref, **extra)
        except Exception:
            logger.exception("chat event %s failed", kind[:40])
            await self._error("internal_error", "The event could not be handled.", ref)

    async def _receive_unauthenticated(self, kind: str, content: dict) -> None:
        token = content.get("token")
        if kind != "auth" or not isinstance(token, str):
            await self._error("not_authenticated", "Send {'type': 'auth', 'token': ...} first.")
            return
        if not await self._authenticate(token):
            await self._error(self.auth_error, "Authentication failed.")
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self._ready()

    # --- Client events --------------------------------------------------------------------

    async def _check_member(self, room_id: int) -> None:
        if not await in_tenant(self.schema, selectors.is_member)(
            user_id=self.user.pk, room_id=room_id
        ):
            from chat.errors import RoomNotFound

            raise RoomNotFound()

    async def on_heartbeat(self, content):
        self.last_beat = time.monotonic()
        if await presence_state.touch(self.schema, self.user.pk, self.conn_id):
            await presence_events.announce(self.schema, self.user.pk, True)
        return {"type": "heartbeat.ack"}

    async def on_room_join(self, content):
        room_id = _int(content, "room_id")
        after = _int(content, "after", required=False)

        def load():
            if not selectors.is_member(user_id=self.user.pk, room_id=room_id):
                return None
            if after is None:
                return []
            return [
                services.message_payload(m)
                for m in selectors.messages_after(
                    room_id=room_id, after=after, limit=settings.CHAT_CATCHUP_LIMIT
                )
            ]

        messages = await in_tenant(self.schema, load)()
        if messages is None:
            from chat.errors import RoomNotFound

            raise RoomNotFound()
        await self._join(realtime.room_group(self.schema, room_id))
        self.rooms.add(room_id)
        return {
            "type": "room.joined",
            "room_id": room_id,
            "messages": messages,
            "has_more": len(messages) >= settings.CHAT_CATCHUP_LIMIT,
        }

    async def on_room_leave(self, content):
        room_id = _int(content, "room_id")
        await self._discard(realtime.room_group(self.schema, room_id))
        self.rooms.discard(room_id)
        return {"type": "room.left", "room_id": room_id}

    async def on_message_send(self, content):
        room_id = _int(content, "room_id")
        client_id = content.get("client_id") or ""
        if not isinstance(client_id, (str, int)) or len(str(client_id)) > 64:
            raise BadEvent("'client_id' is a string of at most 64 characters.")

        message, created = await send_batches.send(
            self.schema,
            services.MessageSend(
                user=self.user, room_id=room_id, body=content.get("body"), client_id=client_id
            ),
        )
        payload = services.message_payload(message)
        return {"type": "message.ack", "message": payload, "duplicate": not created}

    async def on_message_edit(self, content):
        message_id = _int(content, "message_id")
        message = await in_tenant(self.schema, services.message_edit)(
            user=self.user, message_id=message_id, body=content.get("body")
        )
        return {"type": "message.edit.ack", "message_id": message.pk}

    async def on_message_delete(self, content):
        message_id = _int(content, "message_id")
        await in_tenant(self.schema, services.message_delete)(user=self.user, message_id=message_id)
        return {"type": "message.delete.ack", "message_id": message_id}

    async def _typing(self, content, typing: bool):
        room_id = _int(content, "room_id")
        now = time.monotonic()
        if typing and now - self.typing_sent.get(room_id, -1e9) < settings.CHAT_TYPING_SECONDS / 2:
            return None  # throttled: the previous typing event has not expired yet
        await self._check_member(room_id)
        self.typing_sent[room_id] = now if typing else -1e9
        await realtime.send_event_async(
            realtime.room_group(self.schema, room_id),
            {
                "type": "typing",
                "room_id": room_id,
                "user_id": str(self.user.pk),
                "typing": typing,
                "expires_in": settings.CHAT_TYPING_SECONDS if typing else 0,
            },
        )
        return None

    async def on_typing_start(self, content):
        return await self._typing(content, True)

    async def on_typing_stop(self, content):
        return await self._typing(content, False)

    async def on_read(self, content):
        room_id = _int(content, "room_id")
        message_id = _int(content, "message_id")
        await in_tenant(self.schema, services.room_mark_read)(
            user=self.user, room_id=room_id, message_id=message_id
        )
        return None

    async def on_presence_subscribe(self, content):
        from presence.selectors import presence_for_users
        from presence.serializers import PresenceSerializer

        user_ids = content.get("user_ids")
        if not isinstance(user_ids, list) or not all(isinstance(u, str) for u in user_ids):
            raise BadEvent("'user_ids' is a list of user ids.")
        prefix = realtime.presence_group(self.schema, uuid.UUID(int=0))[:-32]
        current = {g for g in self.groups_joined if g.startswith(prefix)}
        if len(current) + len(user_ids) > MAX_SUBSCRIPTIONS:
            raise BadEvent(f"At most {MAX_SUBSCRIPTIONS} presence subscriptions.")
        valid = []
        for user_id in user_ids:
            try:
                valid.append(str(uuid.UUID(user_id)))
            except ValueError:
                raise BadEvent("'user_ids' holds an invalid id.") from None
        snapshot = await in_tenant(self.schema, presence_for_users)(
            viewer=self.user, user_ids=valid
        )
        for row in snapshot:  # only members of this tenant
            self.presence_seen[row["user_id"]] = row["online"]
            await self._join(realtime.presence_group(self.schema, row["user_id"]))
        # Rendered like the REST API (ISO 8601 with T and Z), not by the JSON encoder's str().
        return {"type": "presence.snapshot", "users": PresenceSerializer(snapshot, many=True).data}

    async def on_presence_unsubscribe(self, content):
        user_ids = content.get("user_ids")
        if not isinstance(user_ids, list):
            raise BadEvent("'user_ids' is a list of user ids.")
        for user_id in user_ids:
            try:
                group = realtime.presence_group(self.schema, str(user_id)[:40])
            except ValueError:
                raise BadEvent("'user_ids' holds an invalid id.") from None
            if group in self.groups_joined:
                await self._discard(group)
        return None

    HANDLERS = {
        "heartbeat": on_heartbeat,
        "room.join": on_room_join,
        "room.leave": on_room_leave,
        "message.send": on_message_send,
        "message.edit": on_message_edit,
        "message.delete": on_message_delete,
        "typing.start": on_typing_start,
        "typing.stop": on_typing_stop,
        "read": on_read,
        "presence.subscribe": on_presence_subscribe,
        "presence.unsubscribe": on_presence_unsubscribe,
    }

    # --- Channel-layer messages -----------------------------------------------------------

    async def chat_event(self, message):
        event = message["event"]
        if event.get("type") == "presence":
            # The same change may come through a room and a subscription: send it once.
            user_id = event.get("user_id")
            if self.presence_seen.get(user_id) == event.get("online"):
                return
            self.presence_seen[user_id] = event.get("online")
        await self._forward(message)

    async def chat_events(self, message):
        # A batch of room events (stored messages, in order), each frame encoded once.
        for frame in message["frames"]:
            await self.send(text_data=frame)

    async def user_event(self, message):
        event = message["event"]
        if event.get("type") == "room.removed":
            room_id = event.get("room_id")
            await self._discard(realtime.room_group(self.schema, room_id))
            self.rooms.discard(room_id)
        await self._forward(message)

    async def _forward(self, message: dict) -> None:
        # The frame was encoded once by the sender, for every member of the group.
        frame = message.get("frame")
        if isinstance(frame, str):
            await self.send(text_data=frame)
        else:
            await self._send(message["event"])

    async def session_revoked(self, message):
        await self._error("session_revoked", "This session has ended; sign in again.")
        await self.close(code=CLOSE_UNAUTHENTICATED)
