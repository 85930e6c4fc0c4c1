"""Shapes of the rbac API, and RBACFieldsMixin for field-level read/write in any serializer."""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rbac import access
from rbac.errors import PermissionDenied
from rbac.models import AuditEntry, Permission, Resource, Role, RoleAssignment, RolePermission


def _narrowing(user, resource: str, action: str, context: dict) -> set | None:
    """The field list that narrows what the user does, or None for no narrowing.

    Without any role-level grant of the action, access came from an object permission (the view
    already decided): such access is not narrowed.
    """
    fields = access.field_access(user, resource, action, context)
    if fields == set() and not access.decide(user, resource, action, context).allowed:
        return None
    return fields


class RBACFieldsMixin:
    """Drops fields the user may not read; rejects (403) writes to fields they may not write.

    The resource comes from Meta.rbac_resource or the view's rbac_resource. Readable fields are
    those of the user's "read" grants, writable ones those of "create" (new instance) or "update"
    grants; a grant without a field list allows every field. Meta.rbac_always_readable (default
    ("id",)) stays visible to anyone who may read the resource at all. Access that comes only
    from an object permission is not narrowed.
    """

    def _rbac_setup(self):
        request = self.context.get("request")
        view = self.context.get("view")
        meta = getattr(self, "Meta", None)
        resource = getattr(meta, "rbac_resource", None) or getattr(view, "rbac_resource", None)
        context = {}
        if view is not None and hasattr(view, "get_rbac_context"):
            context = dict(view.get_rbac_context(request) or {})
        return (request.user if request else None), resource, context

    def _rbac_readable(self):
        # Cached on the serializer: a list serializes every row with the same child instance.
        if not hasattr(self, "_rbac_readable_cache"):
            user, resource, context = self._rbac_setup()
            if user is None or resource is None:
                self._rbac_readable_cache = None
            else:
                readable = _narrowing(user, resource, "read", context)
                if readable is not None:
                    meta = getattr(self, "Meta", None)
                    readable = readable | set(getattr(meta, "rbac_always_readable", ("id",)))
                self._rbac_readable_cache = readable
        return self._rbac_readable_cache

    def to_representation(self, instance):
        data = super().to_representation(instance)
        readable = self._rbac_readable()
        if readable is None:
            return data
        return {name: value for name, value in data.items() if name in readable}

    def to_internal_value(self, data):
        user, resource, context = self._rbac_setup()
        if user is not None and resource is not None and hasattr(data, "keys"):
            action = "update" if self.instance is not None else "create"
            writable = _narrowing(user, resource, action, context)
            if writable is not None:
                refused = sorted(
                    name
                    for name in data
                    if name in self.fields
                    and not self.fields[name].read_only
                    and name not in writable
                )
                if refused:
                    raise PermissionDenied(
                        "You may not write some of these fields.",
                        fields={name: ["You may not write this field."] for name in refused},
                    )
        return super().to_internal_value(data)


# --- API shapes -------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class PermissionKeyField(serializers.Field):
    """A permission given as "resource:action" (or its id)."""

    default_error_messages = {"unknown": 'No permission "{value}".'}

    def to_representation(self, value):
        return value.key

    def to_internal_value(self, data):
        query = Permission.objects.select_related("resource")
        if isinstance(data, int):
            found = query.filter(pk=data).first()
        elif isinstance(data, str) and ":" in data:
            resource, action = data.split(":", 1)
            found = query.filter(resource__name=resource, action=action).first()
        else:
            found = None
        if found is None:
            self.fail("unknown", value=data)
        return found


class ResourceSerializer(serializers.ModelSerializer):
    actions = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list
    )

    class Meta:
        model = Resource
        fields = ["id", "name", "description", "is_active", "actions", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_name(self, value):
        if self.instance is not None and value != self.instance.name:
            raise serializers.ValidationError("A resource cannot be renamed.")
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["actions"] = [p.action for p in instance.permissions.all()]
        return data


class PermissionSerializer(serializers.ModelSerializer):
    resource = serializers.SlugRelatedField(slug_field="name", queryset=Resource.objects.all())
    key = serializers.CharField(read_only=True)

    class Meta:
        model = Permission
        fields = ["id", "resource", "action", "key", "description", "is_active", "created_at"]
        read_only_fields = ["id", "key", "created_at"]

    def validate(self, attrs):
        instance = self.instance
        if instance is not None and (
            attrs.get("resource", instance.resource) != instance.resource
            or attrs.get("action", instance.action) != instance.action
        ):
            raise serializers.ValidationError("A permission's resource and action are fixed.")
        return attrs


class GrantSerializer(serializers.ModelSerializer):
    role = serializers.PrimaryKeyRelatedField(queryset=Role.objects.all())
    permission = PermissionKeyField()
    conditions = serializers.JSONField(required=False, default=dict)
    fields = serializers.JSONField(required=False, allow_null=True, default=None)

    class Meta:
        model = RolePermission
        fields = ["id", "role", "permission", "conditions", "fields", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class GrantUpdateSerializer(serializers.Serializer):
    conditions = serializers.JSONField(required=False)
    fields = serializers.JSONField(required=False, allow_null=True)


def _grant_data(grant: RolePermission, from_role: Role | None = None) -> dict:
    data = {
        "id": grant.pk,
        "permission": grant.permission.key,
        "conditions": grant.conditions,
        "fields": grant.fields,
    }
    if from_role is not None:
        data["from_role"] = from_role.name
    return data


class RoleSerializer(serializers.ModelSerializer):
    """A role with its own grants and those inherited from its parent chain.

    The view passes "role_graph" (every role of the tenant with its grants, two queries) in the
    serializer context, so inheritance costs no query per role.
    """

    parent = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Role
        fields = [
            "id",
            "name",
            "description",
            "parent",
            "is_system",
            "grants_all",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "is_system", "grants_all", "created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        graph = self.context.get("role_graph")
        if graph is None:
            return data
        role, grants = graph[instance.pk]
        data["parent_name"] = graph[role.parent_id][0].name if role.parent_id else None
        data["permissions"] = [_grant_data(g) for g in grants]
        inherited, seen, parent_id = [], {role.pk}, role.parent_id
        while parent_id is not None and parent_id not in seen:
            seen.add(parent_id)
            parent, parent_grants = graph[parent_id]
            inherited.extend(_grant_data(g, parent) for g in parent_grants)
            parent_id = parent.parent_id
        data["inherited_permissions"] = inherited
        return data


class AssignmentSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all())
    role = serializers.PrimaryKeyRelatedField(queryset=Role.objects.all())
    user_email = serializers.EmailField(source="user.email", read_only=True)
    role_name = serializers.CharField(source="role.name", read_only=True)
    context = serializers.JSONField(required=False, default=dict)

    class Meta:
        model = RoleAssignment
        fields = [
            "id",
            "user",
            "user_email",
            "role",
            "role_name",
            "context",
            "expires_at",
            "granted_by",
            "created_at",
        ]
        read_only_fields = ["id", "granted_by", "created_at"]


class AuditEntrySerializer(serializers.ModelSerializer):
    actor_email = serializers.EmailField(
        source="actor.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "actor",
            "actor_email",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "changes",
            "created_at",
        ]


class CheckItemSerializer(serializers.Serializer):
    resource = serializers.CharField(max_length=100)
    action = serializers.CharField(max_length=50)
    context = serializers.DictField(required=False, default=dict)
    object_id = serializers.CharField(required=False, max_length=64)


class CheckSerializer(serializers.Serializer):
    checks = CheckItemSerializer(many=True, allow_empty=False, max_length=200)


class ExplainSerializer(CheckItemSerializer):
    user = serializers.UUIDField(required=False)


class ObjectPermissionSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all())
    resource = serializers.CharField(max_length=100)
    object_id = serializers.CharField(max_length=64)
    action = serializers.CharField(max_length=50)
