"""The one place that decides who may do what with a file.

RBAC's "files.file" resource decides who may use files at all (members: create and read) and
who may manage other people's files (managers and above: update and delete); owners may do
everything with their own files, and members may read and download the public ones.
"""

from django.core import signing
from django.db import connection
from rest_framework.permissions import BasePermission

from rbac import access
from tenants.models import Membership
from uploads import storage
from uploads.errors import FilePrivate, LinkExpired, LinkInvalid
from uploads.models import File

READ = "read"
DOWNLOAD = "download"
UPDATE = "update"
DELETE = "delete"
UPLOAD = "upload"

_METHOD_ACTIONS = {"GET": READ, "HEAD": READ, "OPTIONS": READ, "PATCH": UPDATE, "PUT": UPDATE}


def is_member(*, user, tenant, action: str = "read") -> bool:
    """Whether the user may use this workspace's files at all (RBAC files.file:read/create)."""
    return access.has_permission(user, "files.file", action)


def sees_workspace_usage(*, user, tenant) -> bool:
    """Whether the user sees the whole workspace's storage usage and quota (its owners and
    admins); everyone sees their own."""
    role = (
        Membership.objects.filter(user=user, tenant=tenant).values_list("role", flat=True).first()
    )
    return role in (Membership.Role.OWNER, Membership.Role.ADMIN)


def can(*, user, file: File, action: str) -> bool:
    if file.owner_id == user.id:
        return True
    if action in (READ, DOWNLOAD):
        return not file.is_private and file.status == File.Status.READY
    if action in (UPDATE, DELETE):
        return access.has_permission(user, "files.file", action)
    return False


def blob_link_payload(token: str) -> dict:
    """What a signed download link grants (key "k", name "n", type "t", expiry "e").

    The link is the permission: it was issued after a permission check, carries a valid
    signature, names a key of this tenant and has not expired; otherwise LinkInvalid or
    LinkExpired.
    """
    try:
        payload, expired = storage.read_blob_token(token)
    except signing.BadSignature as exc:
        raise LinkInvalid() from exc
    if not payload["k"].startswith(f"{connection.schema_name}/"):
        raise LinkInvalid()
    if expired:
        raise LinkExpired()
    return payload


class FilePermission(BasePermission):
    """Tenant members only; per file, `can` decides (views pass the action they perform)."""

    message = "Only members of this workspace may use its files."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        action = "create" if request.method == "POST" else "read"
        return is_member(user=user, tenant=request.tenant, action=action)

    def has_object_permission(self, request, view, obj: File) -> bool:
        action = getattr(view, "file_action", None) or _METHOD_ACTIONS.get(request.method, DELETE)
        allowed = can(user=request.user, file=obj, action=action)
        if not allowed and obj.is_private and action in (READ, DOWNLOAD):
            # Managers see others' private files (to manage them) but may not open them; the
            # generic message ("only members...") would mislead them.
            raise FilePrivate()
        return allowed
