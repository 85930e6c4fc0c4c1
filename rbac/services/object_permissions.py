"""Writes of object permissions: one user's grant on one object (django-guardian rows)."""

from __future__ import annotations

from django.contrib.auth.models import Permission as AuthPermission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from guardian.models import UserObjectPermission

from rbac import access
from rbac.errors import InvalidRule
from rbac.services._shared import require_holds
from rbac.services.audit import audit_record


def _auth_permission(model, action: str) -> AuthPermission:
    content_type = ContentType.objects.get_for_model(model)
    codename = access.object_codename(model, action)
    found = AuthPermission.objects.filter(content_type=content_type, codename=codename).first()
    if found is None:
        raise InvalidRule(
            f"{model._meta.label} has no object permission for {action} ({codename}).",
            fields={"action": ["Not available on this kind of object."]},
        )
    return found


@transaction.atomic
def object_permission_grant(
    *, actor, user, obj, action: str, resource: str
) -> UserObjectPermission:
    require_holds(actor, resource, action)
    permission = _auth_permission(type(obj), action)
    row, created = UserObjectPermission.objects.get_or_create(
        user=user,
        permission=permission,
        content_type=permission.content_type,
        object_pk=str(obj.pk),
    )
    if created:
        audit_record(
            actor=actor,
            action="object_permission.create",
            target=obj,
            changes={"user": str(user.pk), "action": action, "codename": permission.codename},
        )
    return row


@transaction.atomic
def object_permission_revoke(*, actor, user, obj, action: str) -> None:
    permission = _auth_permission(type(obj), action)
    deleted, _ = UserObjectPermission.objects.filter(
        user=user,
        permission=permission,
        content_type=permission.content_type,
        object_pk=str(obj.pk),
    ).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="object_permission.delete",
            target=obj,
            changes={"user": str(user.pk), "action": action, "codename": permission.codename},
        )
