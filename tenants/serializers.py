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


class SignupSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=63)
    owner_email = serializers.EmailField()
    owner_password = serializers.CharField(
        write_only=True, max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )
    owner_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class SignupResultSerializer(serializers.Serializer):
    tenant = TenantSerializer()
    domain = serializers.CharField()
    api = serializers.URLField()
    admin = serializers.URLField()
