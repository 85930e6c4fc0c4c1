"""DRF permissions of the chat API: the tenant role must grant chat.room:read, and reading a
room's contents needs membership of the room."""

from rest_framework.permissions import BasePermission

from chat import selectors
from rbac.access import has_permission


class CanUseChat(BasePermission):
    message = "Your role may not use chat."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated) and has_permission(user, "chat.room", "read")


class CanReadRoom(BasePermission):
    """Reading a room's members, messages or read positions needs membership of the room.

    Anyone else gets RoomNotFound, so non-members learn nothing about the room. Writes are
    judged by the services (chat.access), which look the membership up themselves.
    """

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD"):
            selectors.membership_for(user=request.user, room_id=view.kwargs["room_id"])
        return True
