"""A guarded viewset over roles, mounted next to the real tenant URLs, to test the DRF pieces
the way other apps use them."""

from django.urls import include, path
from rest_framework import serializers, viewsets
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
    rbac_actions = {"archive": "delete"}
    rbac_object_permissions = True

    def get_rbac_context(self, request):
        ward = request.headers.get("X-Ward")
        return {"ward": ward} if ward else {}


router = SimpleRouter()
router.register("guarded-roles", GuardedRoleViewSet, basename="guarded-role")

urlpatterns = [
    path("test/", include(router.urls)),
    path("", include("config.urls_tenant")),
]
