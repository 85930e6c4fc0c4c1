"""Reads of the rbac app: rules, the audit log, and answers to checks (the decisions
themselves are made by rbac.access)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from rbac import access
from rbac.errors import RbacNotFound
from rbac.models import AuditEntry, Permission, Resource, Role, RoleAssignment, RolePermission
from rbac.permissions import check_can_explain
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


def guarded_object_or_404(*, resource: str, object_id: str | None):
    """guarded_object, None without an object_id, RbacNotFound when there is no such object."""
    if object_id is None:
        return None
    obj = guarded_object(resource=resource, object_id=object_id)
    if obj is None:
        raise RbacNotFound(f'No {resource} object "{object_id}" that supports object permissions.')
    return obj


def check_results(*, user, checks: list[dict]) -> list[dict]:
    """The answer to each {"resource", "action", "context", "object_id"?} check for the user."""
    results = []
    for check in checks:
        obj = guarded_object_or_404(resource=check["resource"], object_id=check.get("object_id"))
        allowed = access.has_permission(
            user, check["resource"], check["action"], check["context"], obj=obj
        )
        item = {"resource": check["resource"], "action": check["action"], "allowed": allowed}
        if obj is not None:
            item["object_id"] = check["object_id"]
        results.append(item)
    return results


def explanation(
    *,
    actor,
    resource: str,
    action: str,
    context: dict,
    user_id=None,
    object_id: str | None = None,
) -> dict:
    """Which role and rule allow or deny a check, for the actor or (user_id) another user."""
    check_can_explain(actor, user_id)
    subject = actor
    if user_id and user_id != actor.pk:
        subject = get_user_model().objects.filter(pk=user_id).first()
        if subject is None:
            raise RbacNotFound("No such user.")
    obj = guarded_object_or_404(resource=resource, object_id=object_id)
    result = access.explain(subject, resource, action, context, obj)
    return {"user": str(subject.pk), **result}
