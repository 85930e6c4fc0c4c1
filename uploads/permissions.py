"""The one place that decides who may do what with a file.

Owners may do everything with their files; members of the tenant may read and download its
public files. When RBAC lands, `can` is where the "files.file" permission is consulted.
"""

from rest_framework.permissions import BasePermission

from tenants.models import Membership
from uploads.models import File

READ = "read"
DOWNLOAD = "download"
UPDATE = "update"
DELETE = "delete"
UPLOAD = "upload"

_METHOD_ACTIONS = {"GET": READ, "HEAD": READ, "OPTIONS": READ, "PATCH": UPDATE, "PUT": UPDATE}


def is_member(*, user, tenant) -> bool:
    return Membership.objects.filter(user=user, tenant=tenant).exists()


def can(*, user, file: File, action: str) -> bool:
    if file.owner_id == user.id:
        return True
    if action in (READ, DOWNLOAD):
        return not file.is_private and file.status == File.Status.READY
    return False


class FilePermission(BasePermission):
    """Tenant members only; per file, `can` decides (views pass the action they perform)."""

    message = "Only members of this workspace may use its files."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and is_member(user=user, tenant=request.tenant))

    def has_object_permission(self, request, view, obj: File) -> bool:
        action = getattr(view, "file_action", None) or _METHOD_ACTIONS.get(request.method, DELETE)
        return can(user=request.user, file=obj, action=action)
