"""Writes of resources and their permissions (the actions a role can be granted)."""

from __future__ import annotations

from django.db import transaction

from core.services import model_update
from rbac import cache as rbac_cache
from rbac.errors import AlreadyExists, InUse, InvalidRule
from rbac.models import Permission, Resource
from rbac.registry import RESOURCES
from rbac.services._shared import ACTION_RE, RESOURCE_RE
from rbac.services.audit import audit_record

EDITABLE_FIELDS = ("description", "is_active")


@transaction.atomic
def resource_create(
    *, actor, name: str, description: str = "", actions: list[str] | tuple = ()
) -> Resource:
    name = name.strip().lower()
    if not RESOURCE_RE.match(name):
        raise InvalidRule(fields={"name": ['Use "<app>.<thing>", e.g. "catalog.product".']})
    bad = [a for a in actions if not ACTION_RE.match(a)]
    if bad:
        raise InvalidRule(fields={"actions": [f"Invalid action names: {', '.join(bad)}."]})
    if Resource.objects.filter(name=name).exists():
        raise AlreadyExists(f'The resource "{name}" already exists.', fields={"name": ["Taken."]})
    resource = Resource.objects.create(name=name, description=description)
    for action in dict.fromkeys(actions):
        Permission.objects.create(resource=resource, action=action)
    audit_record(
        actor=actor,
        action="resource.create",
        target=resource,
        changes={"name": name, "description": description, "actions": list(actions)},
    )
    rbac_cache.rules_changed()
    return resource


@transaction.atomic
def resource_update(*, actor, resource: Resource, data: dict) -> Resource:
    # Compared with the stored row: the admin hands over an instance its form already changed.
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    resource, changed = model_update(instance=resource, fields=EDITABLE_FIELDS, data=data)
    if changed:
        changes = {name: data[name] for name in changed}
        audit_record(actor=actor, action="resource.update", target=resource, changes=changes)
        rbac_cache.rules_changed()
    return resource


@transaction.atomic
def resource_delete(*, actor, resource: Resource) -> None:
    if resource.name in RESOURCES:
        raise InUse(f'"{resource.name}" is a platform resource; deactivate it instead.')
    audit_record(actor=actor, action="resource.delete", target=resource)
    resource.delete()
    rbac_cache.rules_changed()


@transaction.atomic
def permission_create(
    *, actor, resource: Resource, action: str, description: str = ""
) -> Permission:
    if not ACTION_RE.match(action or ""):
        raise InvalidRule(fields={"action": ["Lowercase letters, digits and underscores."]})
    if Permission.objects.filter(resource=resource, action=action).exists():
        raise AlreadyExists(
            f"{resource.name}:{action} already exists.", fields={"action": ["Already exists."]}
        )
    permission = Permission.objects.create(
        resource=resource, action=action, description=description
    )
    audit_record(
        actor=actor,
        action="permission.create",
        target=permission,
        changes={"resource": resource.name, "action": action},
    )
    rbac_cache.rules_changed()
    return permission


@transaction.atomic
def permission_update(*, actor, permission: Permission, data: dict) -> Permission:
    # Compared with the stored row: the admin hands over an instance its form already changed.
    permission = (
        Permission.objects.select_related("resource")
        .select_for_update(of=("self",))
        .get(pk=permission.pk)
    )
    permission, changed = model_update(instance=permission, fields=EDITABLE_FIELDS, data=data)
    if changed:
        changes = {name: data[name] for name in changed}
        audit_record(actor=actor, action="permission.update", target=permission, changes=changes)
        rbac_cache.rules_changed()
    return permission


@transaction.atomic
def permission_delete(*, actor, permission: Permission) -> None:
    spec = RESOURCES.get(permission.resource.name)
    if spec and permission.action in spec.actions:
        raise InUse(f"{permission} is a platform permission; deactivate it instead.")
    audit_record(actor=actor, action="permission.delete", target=permission)
    permission.delete()
    rbac_cache.rules_changed()
