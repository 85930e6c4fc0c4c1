"""Platform admin for tenants, their domains and memberships (public host only)."""

from django.contrib import admin
from django.db import connection
from django_tenants.admin import TenantAdminMixin
from django_tenants.utils import get_public_schema_name

from tenants.models import Domain, Membership, Tenant


class PublicSchemaOnlyAdmin(admin.ModelAdmin):
    """Shared (platform-wide) models are managed on the public host only, never from a tenant."""

    def _on_public(self) -> bool:
        return connection.schema_name == get_public_schema_name()

    def has_module_permission(self, request):
        return self._on_public() and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._on_public() and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._on_public() and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._on_public() and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._on_public() and super().has_delete_permission(request, obj)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(TenantAdminMixin, PublicSchemaOnlyAdmin):
    list_display = ["name", "slug", "schema_name", "plan", "is_active", "created_at"]
    list_filter = ["plan", "is_active"]
    search_fields = ["name", "slug", "schema_name", "domains__domain"]
    readonly_fields = ["created_at"]
    inlines = [DomainInline, MembershipInline]
    list_per_page = 50


@admin.register(Domain)
class DomainAdmin(PublicSchemaOnlyAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    list_select_related = ["tenant"]
    search_fields = ["domain", "tenant__slug"]
    list_per_page = 50


@admin.register(Membership)
class MembershipAdmin(PublicSchemaOnlyAdmin):
    list_display = ["user", "tenant", "role", "joined_at"]
    list_filter = ["role"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__email", "tenant__slug"]
    autocomplete_fields = ["user", "tenant"]
    list_per_page = 50
