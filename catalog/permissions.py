"""Who may read and write catalog resources.

One small class per viewset, each naming its resource (`rbac_resource`), so the whole module can
later be replaced by the RBAC app's permission class with the same resource names. Until then the
tenant membership role decides: any member reads; owners, admins and managers write. Reviews are
the exception: any member writes their own review.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from tenants.models import Membership
from tenants.selectors import membership_for

MANAGER_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.MANAGER})


def member_role(request) -> str | None:
    """The caller's role in the request's tenant, looked up once per request."""
    if not hasattr(request, "_catalog_member_role"):
        role = None
        if request.user and request.user.is_authenticated:
            membership = membership_for(user=request.user, tenant=request.tenant)
            role = membership.role if membership else None
        request._catalog_member_role = role
    return request._catalog_member_role


def is_manager(request) -> bool:
    return member_role(request) in MANAGER_ROLES


class CatalogPermission(BasePermission):
    rbac_resource = ""
    message = "You do not have permission to do this."

    def has_permission(self, request, view) -> bool:
        role = member_role(request)
        if role is None:
            return False
        return request.method in SAFE_METHODS or role in MANAGER_ROLES


class ProductPermission(CatalogPermission):
    rbac_resource = "catalog.product"


class CategoryPermission(CatalogPermission):
    rbac_resource = "catalog.category"


class TagPermission(CatalogPermission):
    rbac_resource = "catalog.tag"


class AnalyticsPermission(CatalogPermission):
    """Sales figures are for managers only, reads included."""

    rbac_resource = "catalog.product"

    def has_permission(self, request, view) -> bool:
        return is_manager(request)


class ReviewPermission(CatalogPermission):
    rbac_resource = "catalog.review"

    def has_permission(self, request, view) -> bool:
        return member_role(request) is not None

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return obj.user_id == request.user.id or is_manager(request)
