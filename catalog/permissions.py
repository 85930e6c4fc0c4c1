"""Who may read and write catalog resources: RBAC decides (resources catalog.product,
catalog.category, catalog.tag, catalog.review; defaults in rbac/registry.py: members read,
managers and above write). Reviews add one rule RBAC grants cannot express: a member may edit or
delete the review they wrote.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from rbac import access
from rbac.permissions import HasRBACPermission

# Actions of the product viewset beyond create/read/update/delete.
PRODUCT_ACTIONS = {
    "search": "read",
    "restore": "delete",
    "bulk_update": "update",
    "stock": "manage_stock",
    "movements": "manage_stock",
}


def can_see_cost(user) -> bool:
    """Cost prices are margins: shown only to those who may edit products."""
    return bool(user and user.is_authenticated) and access.has_permission(
        user, "catalog.product", "update"
    )


class CatalogPermission(HasRBACPermission):
    """HasRBACPermission; the viewset names rbac_resource and its extra rbac_actions."""


class ReviewPermission(BasePermission):
    message = "You do not have permission to do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action = "read" if request.method in SAFE_METHODS else "create"
        return access.has_permission(user, "catalog.review", action)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return obj.user_id == request.user.id or access.has_permission(
            request.user, "catalog.review", "moderate"
        )
