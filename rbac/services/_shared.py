"""Checks the rbac services share: rule validation and the no-escalation rule."""

from __future__ import annotations

import re
from typing import Any

from rbac import access
from rbac.errors import Escalation, InvalidRule
from rbac.models import Role, RolePermission

RESOURCE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
SCALAR = (str, int, float, bool)


def clean_attributes(value: Any, name: str) -> dict:
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


def clean_fields(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(f, str) and f for f in value):
        raise InvalidRule(fields={"fields": ["A list of field names, or null for every field."]})
    return sorted(set(value))


def _exempt(actor) -> bool:
    # System calls (no actor) and platform superusers (the admin site) are not limited by the
    # tenant's rules; everyone else hands out only what they hold.
    return actor is None or not actor.is_authenticated or actor.is_superuser


def require_holds(actor, resource: str, action: str) -> None:
    if _exempt(actor):
        return
    if not access.decide(actor, resource, action).allowed:
        raise Escalation(f"You cannot grant {resource}:{action}: you do not hold it.")


def role_chain(role: Role) -> list[Role]:
    chain, current = [], role
    while current is not None and current not in chain:
        chain.append(current)
        current = current.parent
    return chain


def require_can_assign(actor, role: Role) -> None:
    """The actor must hold everything the role (with its parents) grants."""
    if _exempt(actor) or access.snapshot_for(actor)["owner"]:
        return
    chain = role_chain(role)
    if any(r.grants_all for r in chain):
        raise Escalation(f'Only the owner can assign "{role.name}".')
    grants = RolePermission.objects.filter(role__in=chain).select_related("permission__resource")
    for grant in grants:
        require_holds(actor, grant.permission.resource.name, grant.permission.action)
