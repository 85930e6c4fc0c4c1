"""REST routes of this app, mounted by config.urls_tenant under /api/v1/rbac/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from rbac import views

router = SimpleRouter(use_regex_path=False)
router.register("resources", views.ResourceViewSet, basename="rbac-resource")
router.register("permissions", views.PermissionViewSet, basename="rbac-permission")
router.register("roles", views.RoleViewSet, basename="rbac-role")
router.register("grants", views.GrantViewSet, basename="rbac-grant")
router.register("assignments", views.AssignmentViewSet, basename="rbac-assignment")
router.register("audit", views.AuditViewSet, basename="rbac-audit")

urlpatterns = [
    path("me/permissions", views.MyPermissionsView.as_view(), name="rbac-me-permissions"),
    path("check", views.CheckView.as_view(), name="rbac-check"),
    path("explain", views.ExplainView.as_view(), name="rbac-explain"),
    path("object-permissions", views.ObjectPermissionView.as_view(), name="rbac-object-perms"),
    *router.urls,
]
