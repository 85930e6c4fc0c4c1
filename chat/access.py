"""Who may do what in a room: room roles first, then RBAC grants and guardian object grants.

- read / post: a member of the room whose tenant role grants chat.room:read / chat.message:create.
- moderate (rename, add and remove members, delete others' messages, archive): the room's owner
  or admin, a tenant role granting chat.room:moderate, or a guardian object grant
  ``moderate_room`` on this room (POST /api/v1/rbac/object-permissions).
"""

from chat.errors import ChatForbidden, NotRoomMember, RoomArchived
from chat.models import Room, RoomMember
from rbac.access import has_object_permission, has_permission, has_permission_many

MODERATOR_ROLES = (RoomMember.Role.OWNER, RoomMember.Role.ADMIN)


def can_moderate(user, room: Room, member: RoomMember | None) -> bool:
    if member is not None and member.role in MODERATOR_ROLES:
        return True
    return has_permission(user, "chat.room", "moderate") or has_object_permission(
        user, room, "moderate"
    )


def check_member(member: RoomMember | None) -> RoomMember:
    if member is None:
        raise NotRoomMember()
    return member


def may_post(user) -> bool:
    """The tenant grant to post messages (the room's own rules are check_can_post's)."""
    return has_permission(user, "chat.message", "create")


def may_post_many(users) -> dict:
    """may_post for several users at once: user pk -> allowed."""
    return has_permission_many(users, "chat.message", "create")


def check_can_post(
    user, room: Room, member: RoomMember | None, *, granted: bool | None = None
) -> RoomMember:
    """granted: may_post(user) when the caller already knows it (a batch of one sender's sends)."""
    check_member(member)
    if room.archived_at is not None:
        raise RoomArchived()
    if not (may_post(user) if granted is None else granted):
        raise ChatForbidden("Your role may not post messages.")
    return member


def check_can_moderate(user, room: Room, member: RoomMember | None) -> None:
    if not can_moderate(user, room, member):
        raise ChatForbidden("Only the room's owners and admins may do this.")
