"""Admin building blocks every app shares: public-host-only and read-only model admins."""

from django.contrib import admin
from django.db import connection
from django_tenants.utils import get_public_schema_name


class ReadOnlyAdminMixin:
    """Rows are shown, never added, changed or deleted from this admin (they change through
    the app's services, or are records such as events and ledgers)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
