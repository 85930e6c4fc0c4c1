"""DRF permission of the presence API: who may use chat may see presence (chat.room:read)."""

from rest_framework.permissions import BasePermission

from rbac.access import has_permission


class CanSeePresence(BasePermission):
    message = "Your role may not use chat."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated) and has_permission(user, "chat.room", "read")
