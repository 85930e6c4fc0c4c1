"""A guarded viewset over roles, mounted next to the real tenant URLs, to test the DRF pieces
the way other apps use them."""

from django.urls import include, path
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from rbac.models import Role
from rbac.permissions import HasRBACPermission, RBACObjectFilter
from rbac.serializers import RBACFieldsMixin


class GuardedRoleSerializer(RBACFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Role
        fields = ["id", "name", "description", "is_active"]
        rbac_resource = "rbac.role"


class GuardedRoleViewSet(viewsets.ModelViewSet):
    queryset = Role.objects.all()
    serializer_class = GuardedRoleSerializer
    permission_classes = [HasRBACPermission]
    filter_backends = [RBACObjectFilter]
    rbac_resource = "rbac.role"
    rbac_object_permissions = True

    def get_rbac_context(self, request):
        ward = request.headers.get("X-Ward")
        return {"ward": ward} if ward else {}

    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return Response({"archived": self.get_object().pk})

    @action(detail=False)
    def products(self, request):
        return Response({"ok": True})

    @action(detail=False)
    def unmapped(self, request):
        return Response({"ok": True})


GuardedRoleViewSet.rbac_actions = {"archive": "delete", "products": ("catalog.product", "read")}
GuardedRoleViewSet.rbac_object_actions = ("archive",)  # detail action: object grants count


class FilteredRoleViewSet(viewsets.ReadOnlyModelViewSet):
    """Rows by conditions on columns, no object permissions."""

    queryset = Role.objects.all()
    serializer_class = GuardedRoleSerializer
    permission_classes = [HasRBACPermission]
    filter_backends = [RBACObjectFilter]
    rbac_resource = "rbac.role"


class UnfilteredRoleViewSet(FilteredRoleViewSet):
    filter_backends: list = []


router = SimpleRouter()
router.register("guarded-roles", GuardedRoleViewSet, basename="guarded-role")
router.register("filtered-roles", FilteredRoleViewSet, basename="filtered-role")
router.register("unfiltered-roles", UnfilteredRoleViewSet, basename="unfiltered-role")

urlpatterns = [
    path("test/", include(router.urls)),
    path("", include("config.urls_tenant")),
]
