"""Writes of roles: create, rename, re-parent (no cycles, no escalation), deactivate, delete."""

from __future__ import annotations

from django.db import transaction

from core.services import model_update
from rbac import cache as rbac_cache
from rbac.errors import AlreadyExists, InUse, InvalidRule, RoleCycle, SystemRoleProtected
from rbac.models import Role
from rbac.services._shared import require_can_assign, role_chain
from rbac.services.audit import audit_record

# The audit names these in this order: the checked changes first, then the plain ones.
ROLE_FIELDS = ("parent", "name", "description", "is_active")
SYSTEM_FIELDS = ("name", "parent", "is_active")


def check_parent(*, role: Role | None, parent: Role | None) -> None:
    """Raises RoleCycle when role may not inherit from parent."""
    if parent is None or role is None or role.pk is None:
        return
    if any(ancestor.pk == role.pk for ancestor in role_chain(parent)):
        raise RoleCycle(fields={"parent": ["This would make the role inherit from itself."]})


@transaction.atomic
def role_create(*, actor, name: str, description: str = "", parent: Role | None = None) -> Role:
    name = name.strip()
    if not name:
        raise InvalidRule(fields={"name": ["A name is required."]})
    if Role.objects.filter(name=name).exists():
        raise AlreadyExists(f'The role "{name}" already exists.', fields={"name": ["Taken."]})
    if parent is not None:
        require_can_assign(actor, parent)  # inheriting is granting the parent's permissions
    role = Role.objects.create(name=name, description=description, parent=parent)
    audit_record(
        actor=actor,
        action="role.create",
        target=role,
        changes={"name": name, "description": description, "parent": parent and parent.name},
    )
    rbac_cache.rules_changed()
    return role


@transaction.atomic
def role_update(*, actor, role: Role, data: dict) -> Role:
    role = Role.objects.select_for_update().get(pk=role.pk)
    if role.is_system and any(
        getattr(role, name) != data[name] for name in SYSTEM_FIELDS if name in data
    ):
        raise SystemRoleProtected()
    updates = {name: data[name] for name in ("description", "is_active") if name in data}
    if "parent" in data and data["parent"] != role.parent:
        check_parent(role=role, parent=data["parent"])
        if data["parent"] is not None:
            require_can_assign(actor, data["parent"])
        updates["parent"] = data["parent"]
    if "name" in data and data["name"].strip() != role.name:
        name = data["name"].strip()
        if not name:
            raise InvalidRule(fields={"name": ["A name is required."]})
        if Role.objects.filter(name=name).exclude(pk=role.pk).exists():
            raise AlreadyExists(f'The role "{name}" already exists.', fields={"name": ["Taken."]})
        updates["name"] = name
    role, changed = model_update(instance=role, fields=ROLE_FIELDS, data=updates)
    if changed:
        changes = {
            name: (role.parent and role.parent.name) if name == "parent" else getattr(role, name)
            for name in changed
        }
        audit_record(actor=actor, action="role.update", target=role, changes=changes)
        rbac_cache.rules_changed()
    return role


@transaction.atomic
def role_delete(*, actor, role: Role) -> None:
    if role.is_system:
        raise SystemRoleProtected()
    if role.children.exists():
        raise InUse("Other roles inherit from this role; change their parent first.")
    audit_record(actor=actor, action="role.delete", target=role)
    role.delete()
    rbac_cache.rules_changed()
