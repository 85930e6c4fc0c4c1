"""Seeding a tenant from the registry: default roles, platform resources and permissions."""

from __future__ import annotations

from django.db import transaction

from rbac import cache as rbac_cache
from rbac.models import Permission, Resource, Role, RolePermission
from rbac.registry import DEFAULT_ROLES, RESOURCES, default_grants
from rbac.services.audit import audit_record


@transaction.atomic
def rbac_sync(*, actor=None) -> dict[str, int]:
    """Creates the default roles and the registry's resources and permissions in this tenant.

    Idempotent. Default grants are given when a permission is first created, so grants removed
    by the tenant's administrators are not put back by a later sync.
    """
    counts = {"roles": 0, "resources": 0, "permissions": 0, "grants": 0}
    roles: dict[str, Role] = {}
    for name, (description, parent_name, grants_all) in DEFAULT_ROLES.items():
        role, created = Role.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "parent": roles.get(parent_name),
                "is_system": True,
                "grants_all": grants_all,
            },
        )
        if not role.is_system or role.grants_all != grants_all:
            role.is_system, role.grants_all = True, grants_all
            role.save(update_fields=["is_system", "grants_all", "updated_at"])
        roles[name] = role
        counts["roles"] += created
    # New permissions and their default grants are inserted in two statements, not one per
    # row: a new tenant gets a couple of hundred of them.
    new_permissions: list[tuple[object, Permission]] = []
    for spec in RESOURCES.values():
        resource, created = Resource.objects.get_or_create(
            name=spec.name, defaults={"description": spec.description}
        )
        counts["resources"] += created
        existing = set(resource.permissions.values_list("action", flat=True))
        for action in spec.actions:
            if action not in existing:
                new_permissions.append((spec, Permission(resource=resource, action=action)))
    Permission.objects.bulk_create([permission for _, permission in new_permissions])
    counts["permissions"] = len(new_permissions)
    grants = [
        RolePermission(role=role, permission=permission)
        for spec, permission in new_permissions
        for role_name, role in roles.items()
        if permission.action in default_grants(role_name, spec)
    ]
    RolePermission.objects.bulk_create(grants)
    counts["grants"] = len(grants)
    if any(counts.values()):
        created = [k for k, v in counts.items() if v]
        audit_record(
            actor=actor,
            action="rbac.sync",
            target=roles["owner"],
            changes={**counts, "created": created},
        )
        rbac_cache.rules_changed()
    return counts
