"""DRF integration: a permission class and a queryset filter configured per viewset action.

class ProductViewSet(viewsets.ModelViewSet):
    permission_classes = [HasRBACPermission]
    filter_backends = [RBACObjectFilter, DjangoFilterBackend]   # when objects are guarded
    rbac_resource = "catalog.product"
    rbac_actions = {"publish": "update"}          # merged over DEFAULT_ACTIONS
    rbac_object_permissions = True                # single objects may be granted (guardian)

    def get_rbac_context(self, request):          # optional: attributes for conditions
        return {"department": request.query_params.get("department")}
"""

from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import BaseFilterBackend
from rest_framework.permissions import BasePermission

from rbac import access, errors

DEFAULT_ACTIONS = {
    "list": "read",
    "retrieve": "read",
    "create": "create",
    "update": "update",
    "partial_update": "update",
    "destroy": "delete",
    "metadata": "read",
}
# View actions that work on existing rows, so a grant on single objects can allow them.
OBJECT_ACTIONS = {"list", "retrieve", "update", "partial_update", "destroy"}
METHOD_ACTIONS = {
    "get": "read",
    "head": "read",
    "options": "read",
    "post": "create",
    "put": "update",
    "patch": "update",
    "delete": "delete",
}


def rbac_target(view, request) -> tuple[str, str] | None:
    """(resource, action) for this request; None when the view action is not mapped.

    rbac_actions values are an action name on view.rbac_resource or a (resource, action) pair.
    Viewsets are keyed by view action (list, retrieve, custom @action names); APIViews by
    lowercase HTTP method.
    """
    resource = getattr(view, "rbac_resource", None)
    overrides = getattr(view, "rbac_actions", {})
    name = getattr(view, "action", None)
    if name is not None:
        target = overrides.get(name, DEFAULT_ACTIONS.get(name))
    else:
        method = request.method.lower()
        target = overrides.get(method, METHOD_ACTIONS.get(method))
    if target is None:
        return None
    if isinstance(target, tuple):
        return target
    return (resource, target) if resource else None


def filters_rows(view) -> bool:
    """Only a view whose queryset goes through RBACObjectFilter may answer with some rows."""
    return any(
        isinstance(backend, type) and issubclass(backend, RBACObjectFilter)
        for backend in getattr(view, "filter_backends", ())
    )


def rbac_context(view, request) -> dict:
    hook = getattr(view, "get_rbac_context", None)
    return dict(hook(request) or {}) if hook else {}


class HasRBACPermission(BasePermission):
    """Allows the request when the user's roles grant the view action's resource:action.

    Unmapped view actions are refused (fail closed). With rbac_object_permissions, a user without
    the role grant still passes the view-level check of actions on existing rows (OBJECT_ACTIONS and
    rbac_object_actions) and is judged per object (detail routes) or sees only the permitted rows
    (lists); the same holds for grants whose conditions name model columns. Both need
    RBACObjectFilter in the view's filter_backends (without it, nothing passes but full grants).
    """

    message = "You do not have permission to do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        target = rbac_target(view, request)
        if target is None:
            raise PermissionDenied("This operation is not mapped to a permission.")
        resource, action = target
        context = rbac_context(view, request)
        if access.has_permission(user, resource, action, context):
            return True
        object_actions = OBJECT_ACTIONS | set(getattr(view, "rbac_object_actions", ()))
        if (
            getattr(view, "action", None) in object_actions
            and filters_rows(view)
            and (
                getattr(view, "rbac_object_permissions", False)
                or access.has_row_grants(user, resource, action, context)
            )
        ):
            # Judged per row (RBACObjectFilter narrows lists and detail lookups alike) and per
            # object (has_object_permission): object permissions, or conditions on columns.
            return access.snapshot_for(user)["member"]
        self.message = f"You may not {action} {resource}."
        return False

    def has_object_permission(self, request, view, obj) -> bool:
        target = rbac_target(view, request)
        if target is None:
            return False
        resource, action = target
        guarded = getattr(view, "rbac_object_permissions", False)
        allowed = access.has_permission(
            request.user,
            resource,
            action,
            access.ObjectContext(obj, rbac_context(view, request)),
            obj=obj if guarded else None,
        )
        if not allowed:
            self.message = f"You may not {action} this {resource}."
        return allowed


class RBACObjectFilter(BaseFilterBackend):
    """Narrows the queryset to the rows the user may act on (one SQL query, see access).

    Also makes detail routes answer 404 for rows the user may not see.
    """

    def filter_queryset(self, request, queryset, view):
        target = rbac_target(view, request)
        if target is None:
            return queryset.none()
        resource, action = target
        return access.filter_queryset(
            request.user, queryset, resource, action, rbac_context(view, request)
        )


def check_can_explain(actor, subject_id) -> None:
    """Anyone may explain their own checks; explaining another user's shows who holds what,
    which needs rbac.assignment:read."""
    if (
        subject_id
        and subject_id != actor.pk
        and not access.has_permission(actor, "rbac.assignment", "read")
    ):
        raise errors.PermissionDenied("You may not explain another user's permissions.")
