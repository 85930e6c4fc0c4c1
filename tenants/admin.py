"""Platform admin for tenants, their domains and memberships (public host only)."""

from django.conf import settings
from django.contrib import admin, messages
from django.db import connection
from django_tenants.admin import TenantAdminMixin
from django_tenants.utils import get_public_schema_name

from config.errors import DomainError
from tenants.models import Domain, Membership, Tenant
from tenants.services import (
    membership_remove,
    membership_set,
    tenant_create,
    tenant_reactivate,
    tenant_schedule_deletion,
    tenant_suspend,
    tenant_validate,
)


def _domain_for(slug: str) -> str:
    return f"{slug}.{settings.TENANT_BASE_DOMAIN}"


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
    """Shown for reference; memberships change on their own admin page, through the services
    (sessions and cached permissions follow)."""

    model = Membership
    extra = 0
    fields = ["user", "role", "joined_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(TenantAdminMixin, PublicSchemaOnlyAdmin):
    list_display = [
        "name",
        "slug",
        "schema_name",
        "plan",
        "is_active",
        "delete_after",
        "created_at",
    ]
    list_filter = ["plan", "is_active"]
    search_fields = ["name", "slug", "schema_name", "domains__domain"]
    readonly_fields = ["schema_name", "created_at", "suspended_at", "delete_after"]
    inlines = [DomainInline, MembershipInline]
    list_per_page = 50
    actions = ["suspend", "reactivate", "schedule_deletion"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form

        class TenantAddForm(form):
            def clean(self):
                data = super().clean()
                slug, name = data.get("slug") or "", data.get("name") or ""
                try:
                    tenant_validate(slug=slug, name=name, domain=_domain_for(slug))
                except DomainError as exc:
                    for field, errors in (exc.fields or {"slug": [exc.message]}).items():
                        self.add_error(field if field in self.fields else None, errors)
                return data

        return TenantAddForm

    def has_delete_permission(self, request, obj=None):
        # Deletion goes through "schedule deletion" (grace period), never a direct drop.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # New tenants from the admin go through the same service as the API and the command.
        created = tenant_create(
            slug=obj.slug,
            name=obj.name,
            domain=_domain_for(obj.slug),
            plan=obj.plan,
            verbosity=0,
        )
        obj.pk = created.pk
        obj.schema_name = created.schema_name
        obj._state.adding = False

    @admin.action(description="Suspend selected tenants")
    def suspend(self, request, queryset):
        for tenant in queryset:
            tenant_suspend(tenant=tenant, reason=f"Suspended by {request.user.email}")
        self.message_user(request, f"Suspended {queryset.count()} tenant(s).")

    @admin.action(description="Reactivate selected tenants (cancels scheduled deletion)")
    def reactivate(self, request, queryset):
        for tenant in queryset:
            tenant_reactivate(tenant=tenant)
        self.message_user(request, f"Reactivated {queryset.count()} tenant(s).")

    @admin.action(description="Schedule deletion of selected tenants (after the grace period)")
    def schedule_deletion(self, request, queryset):
        for tenant in queryset:
            tenant_schedule_deletion(tenant=tenant)
        self.message_user(
            request,
            f"{queryset.count()} tenant(s) suspended; their data is deleted after "
            f"{settings.TENANT_DELETION_GRACE_DAYS} days unless reactivated.",
            messages.WARNING,
        )


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

    # Memberships change through the services, so sessions and cached permissions follow.
    def save_model(self, request, obj, form, change):
        obj.pk = membership_set(user=obj.user, tenant=obj.tenant, role=obj.role).pk

    def delete_model(self, request, obj):
        membership_remove(user=obj.user, tenant=obj.tenant)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user", "tenant"):
            membership_remove(user=membership.user, tenant=membership.tenant)
