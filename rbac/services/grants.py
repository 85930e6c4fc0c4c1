"""Writes of grants: a permission given to a role, with conditions and a field list."""

from __future__ import annotations

from django.db import transaction

from rbac import cache as rbac_cache
from rbac.errors import AlreadyExists
from rbac.models import Permission, Role, RolePermission
from rbac.services._shared import clean_attributes, clean_fields, require_holds
from rbac.services.audit import audit_record


@transaction.atomic
def role_permission_grant(
    *,
    actor,
    role: Role,
    permission: Permission,
    conditions: dict | None = None,
    fields: list[str] | None = None,
) -> RolePermission:
    conditions = clean_attributes(conditions, "conditions")
    fields = clean_fields(fields)
    require_holds(actor, permission.resource.name, permission.action)
    if RolePermission.objects.filter(role=role, permission=permission).exists():
        raise AlreadyExists(
            f'Role "{role.name}" already has {permission}.',
            fields={"permission": ["Already granted to this role."]},
        )
    grant = RolePermission.objects.create(
        role=role, permission=permission, conditions=conditions, fields=fields
    )
    audit_record(
        actor=actor,
        action="grant.create",
        target=grant,
        changes={
            "role": role.name,
            "permission": permission.key,
            "conditions": conditions,
            "fields": fields,
        },
    )
    rbac_cache.rules_changed()
    return grant


@transaction.atomic
def role_permission_update(*, actor, grant: RolePermission, data: dict) -> RolePermission:
    """Replaces the grant's conditions and/or field list. The admin hands over an instance its
    form already changed, so the given values are written and audited whether or not they
    differ from the instance."""
    require_holds(actor, grant.permission.resource.name, grant.permission.action)
    changes = {}
    if "conditions" in data:
        grant.conditions = changes["conditions"] = clean_attributes(
            data["conditions"], "conditions"
        )
    if "fields" in data:
        grant.fields = changes["fields"] = clean_fields(data["fields"])
    if changes:
        grant.save()
        audit_record(actor=actor, action="grant.update", target=grant, changes=changes)
        rbac_cache.rules_changed()
    return grant


@transaction.atomic
def role_permission_revoke(*, actor, grant: RolePermission) -> None:
    audit_record(
        actor=actor,
        action="grant.delete",
        target=grant,
        changes={"role": grant.role.name, "permission": grant.permission.key},
    )
    grant.delete()
    rbac_cache.rules_changed()
