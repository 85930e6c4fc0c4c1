"""Every write of the chat app. Events reach websocket connections after the commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from chat.access import (
    can_moderate,
    check_can_moderate,
    check_can_post,
    check_member,
    may_post_many,
)
from chat.errors import (
    ChatForbidden,
    InvalidChatData,
    LastOwner,
    MessageDeleted,
    MessageNotFound,
    MessageTooLong,
    NotRoomMember,
    RoomArchived,
    RoomNotFound,
)
from chat.models import Message, MessageEdit, Room, RoomMember
from core import realtime
from core.errors import DomainError
from rbac.access import has_permission
from tenants.models import Membership

Role = RoomMember.Role


# --- Event payloads (one shape for websocket events and REST) -------------------------------


def message_payload(message: Message) -> dict:
    deleted = message.deleted_at is not None
    return {
        "id": message.pk,
        "room_id": message.room_id,
        "sender_id": str(message.sender_id) if message.sender_id else None,
        "client_id": message.client_id,
        "body": "" if deleted else message.body,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
    }


# --- Checks ---------------------------------------------------------------------------------


def _tenant_member_ids(user_ids) -> set[str]:
    rows = Membership.objects.filter(
        tenant__schema_name=connection.schema_name, user_id__in=list(user_ids)
    ).values_list("user_id", flat=True)
    return {str(user_id) for user_id in rows}


def _check_tenant_members(user_ids) -> None:
    wanted = {str(user_id) for user_id in user_ids}
    missing = wanted - _tenant_member_ids(wanted)
    if missing:
        raise InvalidChatData(fields={"user_ids": ["Not members of this workspace."]})


def _room_for_update(room_id) -> Room:
    room = Room.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise RoomNotFound()
    return room


def _member(room_id, user) -> RoomMember | None:
    return RoomMember.objects.filter(room_id=room_id, user=user).first()


def check_body(body) -> str:
    if not isinstance(body, str) or not body.strip():
        raise InvalidChatData(fields={"body": ["A message needs some text."]})
    if "\x00" in body:  # PostgreSQL text cannot hold it
        raise InvalidChatData(fields={"body": ["A message cannot contain NUL characters."]})
    if len(body) > settings.CHAT_MAX_MESSAGE_CHARS:
        raise MessageTooLong(
            f"A message has at most {settings.CHAT_MAX_MESSAGE_CHARS} characters.",
            fields={"body": [f"At most {settings.CHAT_MAX_MESSAGE_CHARS} characters."]},
        )
    return body


# --- Rooms ----------------------------------------------------------------------------------


@transaction.atomic
def room_direct_get_or_create(*, user, other_user_id) -> tuple[Room, bool]:
    """The direct room of the two users (one per pair), created on first use."""
    if str(other_user_id) == str(user.pk):
        raise InvalidChatData(fields={"user_id": ["A direct room needs another person."]})
    if not has_permission(user, "chat.message", "create"):
        raise ChatForbidden("Your role may not start conversations.")
    _check_tenant_members([other_user_id])
    key = ":".join(sorted([str(user.pk), str(other_user_id)]))
    room = Room.objects.filter(direct_key=key).first()
    if room is not None:
        return room, False
    try:
        with transaction.atomic():
            room = Room.objects.create(kind=Room.Kind.DIRECT, direct_key=key, created_by=user)
    except IntegrityError:  # created concurrently by the other side
        return Room.objects.get(direct_key=key), False
    RoomMember.objects.bulk_create(
        [
            RoomMember(room=room, user=user, role=Role.MEMBER),
            RoomMember(room=room, user_id=other_user_id, role=Role.MEMBER),
        ]
    )
    _notify_added(room_id=room.pk, user_ids=[str(other_user_id)])
    return room, True


@transaction.atomic
def room_create(*, user, name: str, member_ids=()) -> Room:
    """A group room owned by its creator (needs chat.room:create)."""
    if not has_permission(user, "chat.room", "create"):
        raise ChatForbidden("Your role may not create group rooms.")
    others = {str(m) for m in member_ids} - {str(user.pk)}
    _check_tenant_members(others)
    room = Room.objects.create(kind=Room.Kind.GROUP, name=name, created_by=user)
    RoomMember.objects.bulk_create(
        [RoomMember(room=room, user=user, role=Role.OWNER)]
        + [RoomMember(room=room, user_id=other, role=Role.MEMBER) for other in others]
    )
    _notify_added(room_id=room.pk, user_ids=sorted(others))
    return room


def _group_room_to_moderate(*, user, room_id) -> tuple[Room, RoomMember | None]:
    room = _room_for_update(room_id)
    member = _member(room.pk, user)
    if member is None and not can_moderate(user, room, member):
        raise RoomNotFound()  # outsiders learn nothing about the room
    if room.kind == Room.Kind.DIRECT:
        raise InvalidChatData("Direct rooms have exactly their two people.")
    check_can_moderate(user, room, member)
    if room.archived_at is not None:
        raise RoomArchived()
    return room, member


@transaction.atomic
def room_rename(*, user, room_id, name: str) -> Room:
    room, _ = _group_room_to_moderate(user=user, room_id=room_id)
    room.name = name
    room.save(update_fields=["name", "updated_at"])
    _room_event(
        room_id=room.pk,
        event={"type": "room.updated", "room_id": room.pk, "name": name},
    )
    return room


@transaction.atomic
def room_archive(*, user, room_id) -> Room:
    room, _ = _group_room_to_moderate(user=user, room_id=room_id)
    room.archived_at = timezone.now()
    room.save(update_fields=["archived_at", "updated_at"])
    _room_event(room_id=room.pk, event={"type": "room.archived", "room_id": room.pk})
    return room


@transaction.atomic
def room_member_add(*, user, room_id, user_id, role: str = Role.MEMBER) -> RoomMember:
    room, actor = _group_room_to_moderate(user=user, room_id=room_id)
    actor_is_owner = actor is not None and actor.role == Role.OWNER
    if role == Role.OWNER and not actor_is_owner:
        raise ChatForbidden("Only an owner may make another owner.")
    _check_tenant_members([user_id])
    member, created = RoomMember.objects.select_for_update().get_or_create(
        room=room, user_id=user_id, defaults={"role": role}
    )
    if not created and member.role == Role.OWNER and role != Role.OWNER:
        # Re-adding an owner with a lower role is a demotion: only owners change owners, and
        # the room keeps at least one.
        if not actor_is_owner:
            raise ChatForbidden("Only an owner may change an owner's role.")
        if not RoomMember.objects.filter(room=room, role=Role.OWNER).exclude(pk=member.pk).exists():
            raise LastOwner("The last owner cannot step down; make another member owner first.")
    if not created and member.role != role:
        member.role = role
        member.save(update_fields=["role"])
    if created:
        _notify_added(room_id=room.pk, user_ids=[str(user_id)])
    return member


@transaction.atomic
def room_member_remove(*, user, room_id, user_id) -> None:
    """Removes a member (moderators), or leaves the room (user_id is the caller)."""
    room = _room_for_update(room_id)
    actor = _member(room.pk, user)
    leaving = str(user_id) == str(user.pk)
    if leaving:
        check_member(actor)
        if room.kind == Room.Kind.DIRECT:
            raise InvalidChatData("A direct room cannot be left; archive it instead.")
    else:
        room, actor = _group_room_to_moderate(user=user, room_id=room_id)
    target = _member(room.pk, user_id)
    if target is None:
        raise RoomNotFound("No such member in this room.")
    if target.role == Role.OWNER:
        owners = RoomMember.objects.filter(room=room, role=Role.OWNER).count()
        if leaving and owners == 1 and RoomMember.objects.filter(room=room).count() > 1:
            raise LastOwner()
        if not leaving and (actor is None or actor.role != Role.OWNER):
            raise ChatForbidden("Only an owner may remove an owner.")
    target.delete()
    _notify_removed(room_id=room.pk, user_id=str(user_id))


def _notify_added(*, room_id: int, user_ids: list[str]) -> None:
    schema = connection.schema_name
    for user_id in user_ids:
        realtime.send_event_on_commit(
            realtime.user_group(schema, user_id),
            {"type": "room.added", "room_id": room_id},
            handler=realtime.USER_EVENT,
        )


def _notify_removed(*, room_id: int, user_id: str) -> None:
    # The user's connections leave the room's group; the others see the member go.
    schema = connection.schema_name
    realtime.send_event_on_commit(
        realtime.user_group(schema, user_id),
        {"type": "room.removed", "room_id": room_id},
        handler=realtime.USER_EVENT,
    )
    _room_event(
        room_id=room_id, event={"type": "member.removed", "room_id": room_id, "user_id": user_id}
    )


def _room_event(*, room_id: int, event: dict) -> None:
    realtime.send_event_on_commit(realtime.room_group(connection.schema_name, room_id), event)


# --- Messages -------------------------------------------------------------------------------


@transaction.atomic
def message_send(*, user, room_id, body, client_id: str = "") -> tuple[Message, bool]:
    """Stores the message, then (after the commit) broadcasts it to the room.

    A client_id seen before from the same sender in the room returns the stored message and
    broadcasts nothing (created False): retries after a reconnect are harmless.
    """
    client_id = str(client_id or "")[:64]
    room = Room.objects.filter(pk=room_id).first()
    if room is None:
        raise RoomNotFound()
    check_can_post(user, room, _member(room.pk, user))
    check_body(body)
    if client_id:
        existing = Message.objects.filter(room=room, sender=user, client_id=client_id).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            message = Message.objects.create(room=room, sender=user, client_id=client_id, body=body)
    except IntegrityError:  # the same client id raced in on another connection
        return Message.objects.get(room=room, sender=user, client_id=client_id), False
    Room.objects.filter(pk=room.pk).update(last_message_at=message.created_at)
    # The sender has read their own message.
    RoomMember.objects.filter(room=room, user=user, last_read_message_id__lt=message.pk).update(
        last_read_message_id=message.pk, last_read_at=message.created_at
    )
    _room_event(
        room_id=room.pk,
        event={"type": "message", "message": message_payload(message)},
    )
    return message, True


@dataclass(frozen=True)
class MessageSend:
    """One message.send of a websocket connection, for messages_send."""

    user: Any
    room_id: int
    body: Any
    client_id: str = ""


def messages_send(*, sends: list[MessageSend]) -> list[tuple[Message, bool] | DomainError]:
    """message_send for many messages at once (the websocket's group commit).

    Same checks, results and events as message_send, one per item and in order: a refused item
    gets its DomainError and does not affect the others. The whole batch is one SQL statement
    (_BATCH_SQL), so outside a transaction it commits on its own: membership and archive checks,
    retried client ids, the INSERT in arrival order, the rooms' last-message time and the
    senders' read positions, in one round trip. The messages are broadcast in order after it.
    """
    try:
        if not connection.in_atomic_block:
            return _messages_send(sends)  # the one statement commits on its own
        with transaction.atomic():  # inside a transaction: a savepoint, for the fallback
            return _messages_send(sends)
    except IntegrityError:  # e.g. a room deleted meanwhile: one at a time
        results: list[tuple[Message, bool] | DomainError] = []
        for item in sends:
            try:
                results.append(
                    message_send(
                        user=item.user,
                        room_id=item.room_id,
                        body=item.body,
                        client_id=item.client_id,
                    )
                )
            except DomainError as exc:
                results.append(exc)
        return results


# One statement for a batch of sends (inputs as arrays, in arrival order "ord"): every send's
# room and membership; the stored message of an allowed send whose client id was seen before;
# ids from the sequence in arrival order for the others, INSERTed (a client id that another
# transaction stored meanwhile is skipped and looked up afterwards); the rooms' last-message
# time and the senders' read positions (forward only), their rows locked in id order so that
# concurrent batches never wait on each other in a cycle. One row per send comes back.
_BATCH_SQL = """
WITH input AS (
    SELECT * FROM unnest(
        %(ord)s::int[], %(room_id)s::bigint[], %(sender_id)s::uuid[], %(client_id)s::text[],
        %(body)s::text[], %(insertable)s::bool[]
    ) AS t(ord, room_id, sender_id, client_id, body, insertable)
),
checked AS (
    SELECT i.*, r.id IS NOT NULL AS room_found, r.archived_at IS NOT NULL AS archived,
           m.id IS NOT NULL AS is_member
    FROM input i
    LEFT JOIN chat_room r ON r.id = i.room_id
    LEFT JOIN chat_roommember m ON m.room_id = i.room_id AND m.user_id = i.sender_id
),
allowed AS (
    SELECT * FROM checked WHERE is_member AND NOT archived AND insertable
),
old AS (
    SELECT a.ord, msg.id, msg.created_at, msg.body, msg.edited_at, msg.deleted_at
    FROM allowed a
    JOIN chat_message msg
      ON msg.room_id = a.room_id AND msg.sender_id = a.sender_id AND msg.client_id = a.client_id
    -- on msg itself, so that the probe can use the partial unique index (one per key) and
    -- does not read the room's whole history
    WHERE NOT (a.client_id = '') AND NOT (msg.client_id = '')
),
numbered AS (
    SELECT n.ord, n.room_id, n.sender_id, n.client_id, n.body,
           nextval(pg_get_serial_sequence('chat_message', 'id')) AS id
    FROM (
        SELECT a.* FROM allowed a WHERE a.ord NOT IN (SELECT ord FROM old) ORDER BY a.ord
    ) n
),
ins AS (
    INSERT INTO chat_message (id, room_id, sender_id, client_id, body, created_at)
    SELECT id, room_id, sender_id, client_id, body, %(now)s FROM numbered ORDER BY id
    ON CONFLICT (room_id, sender_id, client_id) WHERE NOT (client_id = '') DO NOTHING
    RETURNING id, room_id, sender_id
),
room_locks AS (
    SELECT r.id FROM chat_room r
    WHERE r.id IN (SELECT room_id FROM ins)
    ORDER BY r.id FOR NO KEY UPDATE
),
rooms AS (
    UPDATE chat_room r SET last_message_at = %(now)s FROM room_locks l WHERE r.id = l.id
),
reads AS (
    SELECT room_id, sender_id, max(id) AS id FROM ins GROUP BY room_id, sender_id
),
member_locks AS (
    SELECT m.id, reads.id AS message_id
    FROM chat_roommember m
    JOIN reads ON m.room_id = reads.room_id AND m.user_id = reads.sender_id
    ORDER BY m.id FOR NO KEY UPDATE OF m
),
members AS (
    UPDATE chat_roommember m SET last_read_message_id = l.message_id, last_read_at = %(now)s
    FROM member_locks l WHERE m.id = l.id AND m.last_read_message_id < l.message_id
)
SELECT c.ord, c.room_found, c.is_member, c.archived, n.id, ins.id IS NOT NULL,
       o.id, o.created_at, o.body, o.edited_at, o.deleted_at
FROM checked c
LEFT JOIN old o ON o.ord = c.ord
LEFT JOIN numbered n ON n.ord = c.ord
LEFT JOIN ins ON ins.id = n.id
ORDER BY c.ord
"""

_BIGINT_MAX = 2**63 - 1


def _messages_send(sends: list[MessageSend]) -> list[tuple[Message, bool] | DomainError]:
    results: list[tuple[Message, bool] | DomainError | None] = [None] * len(sends)
    # The tenant grant, once per sender in the batch (one cache round trip for all of them).
    granted = may_post_many({item.user.pk: item.user for item in sends}.values())
    rows: list[tuple[int, int, str, DomainError | None]] = []  # index, room, client id, refusal
    first: dict[tuple, int] = {}  # (room, sender, client id) -> the batch's first such send
    repeats: list[tuple[int, int]] = []
    for index, item in enumerate(sends):
        room_id = item.room_id
        if isinstance(room_id, bool) or not isinstance(room_id, int):
            results[index] = RoomNotFound()
            continue
        if not 0 < room_id <= _BIGINT_MAX:
            results[index] = RoomNotFound()
            continue
        client_id = str(item.client_id or "")[:64]
        refusal: DomainError | None = None
        if not granted.get(item.user.pk):
            refusal = ChatForbidden("Your role may not post messages.")
        else:
            try:
                check_body(item.body)
            except DomainError as exc:
                refusal = exc
        key = (room_id, item.user.pk, client_id)
        if client_id and refusal is None:
            if key in first:  # a retry within the batch answers what the first one gets
                repeats.append((index, first[key]))
                continue
            first[key] = index
        rows.append((index, room_id, client_id, refusal))
    if rows:
        now = timezone.now()
        params = {
            "ord": list(range(len(rows))),
            "room_id": [row[1] for row in rows],
            "sender_id": [sends[row[0]].user.pk for row in rows],
            "client_id": [row[2] for row in rows],
            "body": [sends[row[0]].body if row[3] is None else "" for row in rows],
            "insertable": [row[3] is None for row in rows],
            "now": now,
        }
        with connection.cursor() as cursor:
            cursor.execute(_BATCH_SQL, params)
            answers = cursor.fetchall()
        for (index, room_id, client_id, refusal), answer in zip(rows, answers, strict=True):
            results[index] = _batch_result(sends[index], room_id, client_id, refusal, answer, now)
    for index, original in repeats:
        result = results[original]
        results[index] = result if isinstance(result, DomainError) else (result[0], False)
    # One publish per room for the whole batch, in order, after the commit.
    events: dict[int, list[dict]] = {}
    for result in results:
        if isinstance(result, tuple) and result[1]:
            message = result[0]
            events.setdefault(message.room_id, []).append(
                {"type": "message", "message": message_payload(message)}
            )
    schema = connection.schema_name
    for room_id, room_events in events.items():
        realtime.send_events_on_commit(realtime.room_group(schema, room_id), room_events)
    return results  # type: ignore[return-value]


def _batch_result(item, room_id, client_id, refusal, answer, now):
    ord_, room_found, is_member, archived, new_id, inserted, *old = answer
    if not room_found:
        return RoomNotFound()
    if not is_member:
        return NotRoomMember()
    if archived:
        return RoomArchived()
    if refusal is not None:
        return refusal
    if old[0] is not None:  # stored before
        old_id, created_at, body, edited_at, deleted_at = old
        message = Message(
            pk=old_id,
            room_id=room_id,
            sender=item.user,
            client_id=client_id,
            body=body,
            created_at=created_at,
            edited_at=edited_at,
            deleted_at=deleted_at,
        )
        return message, False
    if inserted:
        message = Message(
            pk=new_id,
            room_id=room_id,
            sender=item.user,
            client_id=client_id,
            body=item.body,
            created_at=now,
        )
        return message, True
    # The client id was stored by another transaction while this one ran: its message.
    stored = Message.objects.filter(room_id=room_id, sender=item.user, client_id=client_id).first()
    if stored is None:
        return RoomNotFound()
    return stored, False


def _message_for_update(*, user, message_id) -> tuple[Message, RoomMember | None]:
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("room")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        raise MessageNotFound()
    member = _member(message.room_id, user)
    if member is None:
        raise MessageNotFound()
    if message.deleted_at is not None:
        raise MessageDeleted()
    return message, member


@transaction.atomic
def message_edit(*, user, message_id, body) -> Message:
    """The sender edits their message; the previous body is kept in its edit history."""
    message, member = _message_for_update(user=user, message_id=message_id)
    if message.sender_id != user.pk:
        raise ChatForbidden("Only the sender may edit a message.")
    if message.room.archived_at is not None:
        raise RoomArchived()
    check_body(body)
    if body == message.body:
        return message
    MessageEdit.objects.create(message=message, body=message.body)
    message.body = body
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "edited_at"])
    _room_event(
        room_id=message.room_id,
        event={"type": "message.edited", "message": message_payload(message)},
    )
    return message


@transaction.atomic
def message_delete(*, user, message_id) -> Message:
    """The sender, a room moderator or a chat.message:delete grant makes it a tombstone."""
    message, member = _message_for_update(user=user, message_id=message_id)
    may_moderate = message.sender_id == user.pk or (
        can_moderate(user, message.room, member) or has_permission(user, "chat.message", "delete")
    )
    if not may_moderate:
        raise ChatForbidden("Only the sender or a moderator may delete a message.")
    message.deleted_at = timezone.now()
    message.body = ""
    message.save(update_fields=["deleted_at", "body"])
    # The history of a deleted message goes too: a tombstone keeps no content.
    MessageEdit.objects.filter(message=message).delete()
    _room_event(
        room_id=message.room_id,
        event={
            "type": "message.deleted",
            "room_id": message.room_id,
            "message_id": message.pk,
        },
    )
    return message


@transaction.atomic
def room_mark_read(*, user, room_id, message_id) -> RoomMember:
    """Moves the member's read position forward (never back) and broadcasts the receipt."""
    member = check_member(_member(room_id, user))
    if not Message.objects.filter(pk=message_id, room_id=room_id).exists():
        raise MessageNotFound()
    updated = RoomMember.objects.filter(pk=member.pk, last_read_message_id__lt=message_id).update(
        last_read_message_id=message_id, last_read_at=timezone.now()
    )
    if updated:
        member.last_read_message_id = message_id
        _room_event(
            room_id=room_id,
            event={
                "type": "read",
                "room_id": int(room_id),
                "user_id": str(user.pk),
                "message_id": int(message_id),
            },
        )
    return member
