"""Every write to resources, permissions, roles, grants, assignments and object permissions.

Each write records an AuditEntry (who, what, when) and invalidates exactly the cached snapshots
it affects: rule changes bump the tenant's rule version, assignment changes the user's version.
A non-owner can only hand out permissions they hold themselves (no privilege escalation).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Permission as AuthPermission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.models import UserObjectPermission

from rbac import access
from rbac import cache as rbac_cache
from rbac.errors import (
    AlreadyExists,
    Escalation,
    InUse,
    InvalidRule,
    NotAMember,
    RoleCycle,
    SystemRoleProtected,
)
from rbac.models import AuditEntry, Permission, Resource, Role, RoleAssignment, RolePermission
from rbac.registry import DEFAULT_ROLES, RESOURCES, default_grants

RESOURCE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
SCALAR = (str, int, float, bool)


# --- Audit ------------------------------------------------------------------------------------


def audit_record(*, actor, action: str, target, changes: dict | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.model_name,
        target_id=str(target.pk),
        target_repr=str(target)[:255],
        changes=changes or {},
    )


# --- Validation -------------------------------------------------------------------------------


def _clean_attributes(value: Any, name: str) -> dict:
    """Conditions and assignment contexts: {"attr": scalar or [scalars]}."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str)
        and k
        and (
            isinstance(v, SCALAR)
            or (isinstance(v, list) and v and all(isinstance(i, SCALAR) for i in v))
        )
        for k, v in value.items()
    ):
        raise InvalidRule(
            fields={name: ["An object mapping attribute names to a value or a list of values."]}
        )
    return value


def _clean_fields(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(f, str) and f for f in value):
        raise InvalidRule(fields={"fields": ["A list of field names, or null for every field."]})
    return sorted(set(value))


def _exempt(actor) -> bool:
    # System calls (no actor) and platform superusers (the admin site) are not limited by the
    # tenant's rules; everyone else hands out only what they hold.
    return actor is None or not actor.is_authenticated or actor.is_superuser


def _require_holds(actor, resource: str, action: str) -> None:
    if _exempt(actor):
        return
    if not access.decide(actor, resource, action).allowed:
        raise Escalation(f"You cannot grant {resource}:{action}: you do not hold it.")


def _role_chain(role: Role) -> list[Role]:
    chain, current = [], role
    while current is not None and current not in chain:
        chain.append(current)
        current = current.parent
    return chain


# --- Resources and permissions ----------------------------------------------------------------


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


def _fields_apply(obj, data: dict, fields: tuple[str, ...]) -> dict:
    """Sets the given fields from data where they differ; returns what changed (for the audit)."""
    changes = {}
    for field in fields:
        if field in data and getattr(obj, field) != data[field]:
            setattr(obj, field, data[field])
            changes[field] = data[field]
    return changes


@transaction.atomic
def resource_update(*, actor, resource: Resource, data: dict) -> Resource:
    changes = {}
    changes.update(_fields_apply(resource, data, ("description", "is_active")))
    if changes:
        resource.save()
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
    changes = {}
    changes.update(_fields_apply(permission, data, ("description", "is_active")))
    if changes:
        permission.save()
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


# --- Roles ------------------------------------------------------------------------------------


def check_parent(*, role: Role | None, parent: Role | None) -> None:
    """Raises RoleCycle when role may not inherit from parent."""
    if parent is None or role is None or role.pk is None:
        return
    if any(ancestor.pk == role.pk for ancestor in _role_chain(parent)):
        raise RoleCycle(fields={"parent": ["This would make the role inherit from itself."]})


@transaction.atomic
def role_create(*, actor, name: str, description: str = "", parent: Role | None = None) -> Role:
    name = name.strip()
    if not name:
        raise InvalidRule(fields={"name": ["A name is required."]})
    if Role.objects.filter(name=name).exists():
        raise AlreadyExists(f'The role "{name}" already exists.', fields={"name": ["Taken."]})
    if parent is not None:
        _require_can_assign(actor, parent)  # inheriting is granting the parent's permissions
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
    changes: dict[str, Any] = {}
    if role.is_system and set(data) & {"name", "parent", "is_active"}:
        differs = any(
            getattr(role, "parent" if f == "parent" else f) != data[f]
            for f in ("name", "parent", "is_active")
            if f in data
        )
        if differs:
            raise SystemRoleProtected()
    if "parent" in data and data["parent"] != role.parent:
        check_parent(role=role, parent=data["parent"])
        if data["parent"] is not None:
            _require_can_assign(actor, data["parent"])
        role.parent = data["parent"]
        changes["parent"] = data["parent"] and data["parent"].name
    if "name" in data and data["name"].strip() != role.name:
        name = data["name"].strip()
        if not name:
            raise InvalidRule(fields={"name": ["A name is required."]})
        if Role.objects.filter(name=name).exclude(pk=role.pk).exists():
            raise AlreadyExists(f'The role "{name}" already exists.', fields={"name": ["Taken."]})
        role.name = changes["name"] = name
    changes.update(_fields_apply(role, data, ("description", "is_active")))
    if changes:
        role.save()
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


# --- Grants (role permissions) ----------------------------------------------------------------


@transaction.atomic
def role_permission_grant(
    *,
    actor,
    role: Role,
    permission: Permission,
    conditions: dict | None = None,
    fields: list[str] | None = None,
) -> RolePermission:
    conditions = _clean_attributes(conditions, "conditions")
    fields = _clean_fields(fields)
    _require_holds(actor, permission.resource.name, permission.action)
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
    _require_holds(actor, grant.permission.resource.name, grant.permission.action)
    changes = {}
    if "conditions" in data:
        grant.conditions = changes["conditions"] = _clean_attributes(
            data["conditions"], "conditions"
        )
    if "fields" in data:
        grant.fields = changes["fields"] = _clean_fields(data["fields"])
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


# --- Assignments ------------------------------------------------------------------------------


def _require_can_assign(actor, role: Role) -> None:
    """The actor must hold everything the role (with its parents) grants."""
    if _exempt(actor) or access.snapshot_for(actor)["owner"]:
        return
    chain = _role_chain(role)
    if any(r.grants_all for r in chain):
        raise Escalation(f'Only the owner can assign "{role.name}".')
    grants = RolePermission.objects.filter(role__in=chain).select_related("permission__resource")
    for grant in grants:
        _require_holds(actor, grant.permission.resource.name, grant.permission.action)


@transaction.atomic
def assignment_create(
    *,
    actor,
    user,
    role: Role,
    context: dict | None = None,
    expires_at: datetime | None = None,
) -> RoleAssignment:
    from tenants.models import Membership

    context = _clean_attributes(context, "context")
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidRule(fields={"expires_at": ["Must be in the future."]})
    if not Membership.objects.filter(user=user, tenant__schema_name=_schema()).exists():
        raise NotAMember(fields={"user": ["Not a member of this workspace."]})
    _require_can_assign(actor, role)
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(
                user=user,
                role=role,
                context=context,
                expires_at=expires_at,
                granted_by=actor if actor is not None and actor.is_authenticated else None,
            )
    except IntegrityError:
        raise AlreadyExists(
            f'The user already has "{role.name}" in this context.',
            fields={"role": ["Already assigned."]},
        ) from None
    audit_record(
        actor=actor,
        action="assignment.create",
        target=assignment,
        changes={
            "user": str(user.pk),
            "role": role.name,
            "context": context,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    rbac_cache.user_changed(user.pk)
    return assignment


@transaction.atomic
def assignment_delete(*, actor, assignment: RoleAssignment) -> None:
    audit_record(
        actor=actor,
        action="assignment.delete",
        target=assignment,
        changes={"user": str(assignment.user_id), "role": assignment.role.name},
    )
    user_id = assignment.user_id
    assignment.delete()
    rbac_cache.user_changed(user_id)


def membership_changed(*, user_id) -> None:
    """tenants.Membership.role (the base role) changed: call inside the tenant's schema."""
    rbac_cache.user_changed(user_id)


def _schema() -> str:
    from django.db import connection

    return connection.schema_name


# --- Object permissions (django-guardian) -----------------------------------------------------


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
    _require_holds(actor, resource, action)
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


# --- Seeding ----------------------------------------------------------------------------------


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
    for spec in RESOURCES.values():
        resource, created = Resource.objects.get_or_create(
            name=spec.name, defaults={"description": spec.description}
        )
        counts["resources"] += created
        existing = set(resource.permissions.values_list("action", flat=True))
        for action in spec.actions:
            if action in existing:
                continue
            permission = Permission.objects.create(resource=resource, action=action)
            counts["permissions"] += 1
            for role_name, role in roles.items():
                if action in default_grants(role_name, spec):
                    RolePermission.objects.create(role=role, permission=permission)
                    counts["grants"] += 1
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
