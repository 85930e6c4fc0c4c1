"""Reads of the rbac app (the permission decisions themselves live in rbac.access)."""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from rbac.models import AuditEntry, Permission, Resource, Role, RoleAssignment, RolePermission
from rbac.registry import model_for


def resource_list() -> QuerySet[Resource]:
    return Resource.objects.prefetch_related(
        Prefetch("permissions", queryset=Permission.objects.order_by("action"))
    )


def permission_list() -> QuerySet[Permission]:
    return Permission.objects.select_related("resource")


def role_list() -> QuerySet[Role]:
    return Role.objects.all()


def role_graph() -> dict[int, tuple[Role, list[RolePermission]]]:
    """Every role of the tenant with its own grants (two queries; roles are few per tenant)."""
    graph: dict[int, tuple[Role, list[RolePermission]]] = {
        role.pk: (role, []) for role in Role.objects.all()
    }
    grants = RolePermission.objects.select_related("permission__resource").order_by(
        "permission__resource__name", "permission__action"
    )
    for grant in grants:
        graph[grant.role_id][1].append(grant)
    return graph


def grant_list() -> QuerySet[RolePermission]:
    return RolePermission.objects.select_related("role", "permission__resource")


def assignment_list() -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.select_related("user", "role")


def audit_list() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.select_related("actor")


def guarded_object(*, resource: str, object_id: str):
    """The object of a resource that supports object permissions, or None."""
    model = model_for(resource)
    if model is None:
        return None
    try:
        return model.objects.filter(pk=object_id).first()
    except (ValueError, TypeError, ValidationError):
        return None
