"""Platform admin for tenant domains (public host only). Tenants and memberships are
administered from accounts/admin.py, through the services that provision workspaces."""

from django.contrib import admin

from core.admin import PublicSchemaOnlyAdmin
from tenants.models import Domain


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Domain)
class DomainAdmin(PublicSchemaOnlyAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    list_select_related = ["tenant"]
    search_fields = ["domain", "tenant__slug"]
    list_per_page = 50
