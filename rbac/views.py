"""REST API of the rbac app: thin views over rbac.services, rbac.selectors and rbac.access."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from rbac import access, selectors, services
from rbac.permissions import HasRBACPermission
from rbac.serializers import (
    AssignmentSerializer,
    AuditEntrySerializer,
    CheckSerializer,
    ExplainSerializer,
    GrantSerializer,
    GrantUpdateSerializer,
    ObjectPermissionSerializer,
    PermissionSerializer,
    ResourceSerializer,
    RoleSerializer,
)


class ResourceViewSet(viewsets.ModelViewSet):
    lookup_value_converter = "int"
    permission_classes = [HasRBACPermission]
    rbac_resource = "rbac.resource"
    serializer_class = ResourceSerializer

    def get_queryset(self):
        return selectors.resource_list()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.resource_create(
            actor=self.request.user,
            name=data["name"],
            description=data.get("description", ""),
            actions=data.get("actions", []),
        )

    def perform_update(self, serializer):
        serializer.instance = services.resource_update(
            actor=self.request.user, resource=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.resource_delete(actor=self.request.user, resource=instance)


class PermissionViewSet(viewsets.ModelViewSet):
    lookup_value_converter = "int"
    permission_classes = [HasRBACPermission]
    rbac_resource = "rbac.permission"
    serializer_class = PermissionSerializer
    filterset_fields = ["resource__name", "action"]

    def get_queryset(self):
        return selectors.permission_list()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.permission_create(
            actor=self.request.user,
            resource=data["resource"],
            action=data["action"],
            description=data.get("description", ""),
        )

    def perform_update(self, serializer):
        serializer.instance = services.permission_update(
            actor=self.request.user,
            permission=serializer.instance,
            data=serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.permission_delete(actor=self.request.user, permission=instance)


class RoleViewSet(viewsets.ModelViewSet):
    """Roles, each with its own grants and the grants it inherits from its parents."""

    lookup_value_converter = "int"
    permission_classes = [HasRBACPermission]
    rbac_resource = "rbac.role"
    serializer_class = RoleSerializer

    def get_queryset(self):
        return selectors.role_list()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request.method in ("GET", "POST", "PUT", "PATCH"):
            context["role_graph"] = selectors.role_graph()
        return context

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.role_create(
            actor=self.request.user,
            name=data["name"],
            description=data.get("description", ""),
            parent=data.get("parent"),
        )
        serializer.context["role_graph"] = selectors.role_graph()

    def perform_update(self, serializer):
        serializer.instance = services.role_update(
            actor=self.request.user, role=serializer.instance, data=serializer.validated_data
        )
        serializer.context["role_graph"] = selectors.role_graph()

    def perform_destroy(self, instance):
        services.role_delete(actor=self.request.user, role=instance)


class GrantViewSet(viewsets.ModelViewSet):
    """Permissions granted to roles (with conditions and field lists): writing one is an
    update of the role."""

    lookup_value_converter = "int"
    permission_classes = [HasRBACPermission]
    rbac_resource = "rbac.role"
    rbac_actions = {"create": "update", "destroy": "update"}
    filterset_fields = ["role"]

    def get_queryset(self):
        return selectors.grant_list()

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return GrantUpdateSerializer
        return GrantSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.role_permission_grant(
            actor=self.request.user,
            role=data["role"],
            permission=data["permission"],
            conditions=data.get("conditions"),
            fields=data.get("fields"),
        )

    def update(self, request, *args, **kwargs):
        grant = self.get_object()
        serializer = GrantUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        grant = services.role_permission_update(
            actor=request.user, grant=grant, data=serializer.validated_data
        )
        return Response(GrantSerializer(grant).data)

    def perform_destroy(self, instance):
        services.role_permission_revoke(actor=self.request.user, grant=instance)


class AssignmentViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_converter = "int"
    permission_classes = [HasRBACPermission]
    rbac_resource = "rbac.assignment"
    serializer_class = AssignmentSerializer
    filterset_fields = ["user", "role"]

    def get_queryset(self):
        return selectors.assignment_list()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.assignment_create(
            actor=self.request.user,
            user=data["user"],
            role=data["role"],
            context=data.get("context"),
            expires_at=data.get("expires_at"),
        )

    def perform_destroy(self, instance):
        services.assignment_delete(actor=self.request.user, assignment=instance)


class AuditViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_converter = "int"
    permission_classes = [HasRBACPermission]
    rbac_resource = "rbac.audit"
    serializer_class = AuditEntrySerializer
    filterset_fields = ["action", "target_type", "target_id", "actor"]

    def get_queryset(self):
        return selectors.audit_list()


class MyPermissionsView(APIView):
    """The caller's roles in this workspace and every permission they grant, with its source."""

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(access.effective_permissions(request.user))


class CheckView(APIView):
    """Bulk check: {"checks": [{"resource", "action", "context"?, "object_id"?}]} (max 200)."""

    @extend_schema(request=CheckSerializer, responses={200: dict})
    def post(self, request):
        serializer = CheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        checks = serializer.validated_data["checks"]
        return Response({"results": selectors.check_results(user=request.user, checks=checks)})


class ExplainView(APIView):
    """Which role and rule granted or denied a check. Explaining another user's check needs
    rbac.assignment:read."""

    @extend_schema(request=ExplainSerializer, responses={200: dict})
    def post(self, request):
        serializer = ExplainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = selectors.explanation(
            actor=request.user,
            resource=data["resource"],
            action=data["action"],
            context=data["context"],
            user_id=data.get("user"),
            object_id=data.get("object_id"),
        )
        return Response(result)


class ObjectPermissionView(APIView):
    """Grants (POST) or revokes (DELETE, same body) an object permission for one user."""

    permission_classes = [HasRBACPermission]
    rbac_resource = "rbac.assignment"

    def _parse(self, request):
        serializer = ObjectPermissionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        obj = selectors.guarded_object_or_404(
            resource=data["resource"], object_id=data["object_id"]
        )
        return data, obj

    @extend_schema(request=ObjectPermissionSerializer, responses={201: dict})
    def post(self, request):
        data, obj = self._parse(request)
        services.object_permission_grant(
            actor=request.user,
            user=data["user"],
            obj=obj,
            action=data["action"],
            resource=data["resource"],
        )
        return Response(
            {
                "user": str(data["user"].pk),
                "resource": data["resource"],
                "object_id": str(obj.pk),
                "action": data["action"],
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=ObjectPermissionSerializer, responses={204: None})
    def delete(self, request):
        data, obj = self._parse(request)
        services.object_permission_revoke(
            actor=request.user, user=data["user"], obj=obj, action=data["action"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
