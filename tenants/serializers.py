"""Output shapes of the tenants app."""

from rest_framework import serializers

from tenants.models import Membership, Tenant


class TenantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["name", "slug", "plan", "is_active", "created_at"]
        read_only_fields = fields


class CurrentTenantSerializer(serializers.Serializer):
    tenant = TenantSerializer()
    role = serializers.ChoiceField(choices=Membership.Role.choices, allow_null=True)
