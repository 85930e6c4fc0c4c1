"""Writes of role assignments (a role given to a member, maybe scoped and expiring)."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rbac import cache as rbac_cache
from rbac.errors import AlreadyExists, InvalidRule, NotAMember
from rbac.models import Role, RoleAssignment
from rbac.services._shared import clean_attributes, require_can_assign
from rbac.services.audit import audit_record


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

    context = clean_attributes(context, "context")
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidRule(fields={"expires_at": ["Must be in the future."]})
    schema = connection.schema_name
    if not Membership.objects.filter(user=user, tenant__schema_name=schema).exists():
        raise NotAMember(fields={"user": ["Not a member of this workspace."]})
    require_can_assign(actor, role)
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
