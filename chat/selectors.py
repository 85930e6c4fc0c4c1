"""Reads of the chat app: a user's rooms with unread counts, members, message history, search."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from chat.errors import RoomNotFound
from chat.models import Message, MessageEdit, RoomMember
from core import realtime


def _unread_subquery(user) -> Subquery:
    """Messages of others after the member's read position, not deleted (one correlated count)."""
    unread = (
        Message.objects.filter(
            room_id=OuterRef("room_id"),
            id__gt=OuterRef("last_read_message_id"),
            deleted_at__isnull=True,
        )
        .exclude(sender=user)
        .order_by()
        .values("room_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))


def rooms_for_user(user) -> QuerySet[RoomMember]:
    """The user's memberships, each with its room and unread count (one query per page)."""
    return (
        RoomMember.objects.filter(user=user)
        .select_related("room")
        .annotate(unread_count=_unread_subquery(user))
    )


def membership_for(*, user, room_id) -> RoomMember:
    """The user's membership of the room, or RoomNotFound (non-members learn nothing)."""
    member = (
        RoomMember.objects.select_related("room")
        .filter(room_id=room_id, user=user)
        .annotate(unread_count=_unread_subquery(user))
        .first()
    )
    if member is None:
        raise RoomNotFound()
    return member


def is_member(*, user_id, room_id) -> bool:
    return RoomMember.objects.filter(room_id=room_id, user_id=user_id).exists()


def room_members(*, room_id) -> QuerySet[RoomMember]:
    return RoomMember.objects.filter(room_id=room_id).select_related("user").order_by("id")


def room_ids_for_user(user_id) -> list[int]:
    return list(RoomMember.objects.filter(user_id=user_id).values_list("room_id", flat=True))


def room_groups_for_user(user_id) -> list[str]:
    """The room groups that hear about the user's presence (a presence audience)."""
    schema = connection.schema_name
    return [realtime.room_group(schema, room_id) for room_id in room_ids_for_user(user_id)]


def unread_counts(user) -> dict[int, int]:
    return {
        member.room_id: member.unread_count
        for member in RoomMember.objects.filter(user=user)
        .annotate(unread_count=_unread_subquery(user))
        .only("room_id")
    }


def messages_for_room(
    *, room_id, before: int | None = None, after: int | None = None, search: str = ""
) -> QuerySet[Message]:
    """A room's messages, newest first; before/after are message ids (exclusive)."""
    messages = Message.objects.filter(room_id=room_id)
    if before is not None:
        messages = messages.filter(id__lt=before)
    if after is not None:
        messages = messages.filter(id__gt=after)
    if search:
        messages = messages.filter(deleted_at__isnull=True, body__icontains=search)
    return messages.order_by("-id")


def messages_after(*, room_id, after: int, limit: int) -> list[Message]:
    """Catch-up after a reconnect: the oldest `limit` messages newer than `after`, oldest first."""
    return list(Message.objects.filter(room_id=room_id, id__gt=after).order_by("id")[:limit])


def message_for_user(*, user, message_id) -> Message:
    from chat.errors import MessageNotFound

    message = (
        Message.objects.filter(pk=message_id, room__members__user=user)
        .select_related("room")
        .first()
    )
    if message is None:
        raise MessageNotFound()
    return message


def message_edits(*, message) -> QuerySet[MessageEdit]:
    return MessageEdit.objects.filter(message=message).order_by("id")


def room_read_positions(*, room_id) -> list[dict]:
    return list(
        RoomMember.objects.filter(room_id=room_id)
        .exclude(last_read_message_id=0)
        .values("user_id", "last_read_message_id", "last_read_at")
        .order_by("user_id")
    )
