"""Platform admin for user accounts, workspaces and memberships (public host only)."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django_tenants.admin import TenantAdminMixin

from accounts.models import OneTimeToken, RecoveryCode, SecurityEvent, Session, TotpDevice, User
from accounts.services import membership_remove, membership_set, session_revoke, tenant_create
from core.admin import PublicSchemaOnlyAdmin, ReadOnlyAdminMixin
from core.errors import DomainError
from tenants.admin import DomainInline
from tenants.models import Membership, Tenant
from tenants.services import (
    tenant_reactivate,
    tenant_schedule_deletion,
    tenant_suspend,
    tenant_validate,
)


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(PublicSchemaOnlyAdmin, BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = ["email", "name", "is_active", "is_staff", "email_verified_at", "date_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "name"]
    readonly_fields = ["date_joined", "last_login"]
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "email_verified_at")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),
    )
    filter_horizontal = ("groups",)
    actions = ["deactivate"]

    def has_delete_permission(self, request, obj=None):
        # Users own rows in every tenant schema they belong to; a plain cascade from the public
        # schema cannot reach those, so accounts are deactivated here, not deleted.
        return False

    @admin.action(description="Deactivate selected users")
    def deactivate(self, request, queryset):
        from accounts.services import users_deactivate

        count = users_deactivate(users=queryset)
        self.message_user(request, f"Deactivated {count} user(s).")


class ReadOnlyAdmin(ReadOnlyAdminMixin, PublicSchemaOnlyAdmin):
    """Records written only by the accounts services: visible, never edited by hand."""


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "user",
        "tenant",
        "ip_address",
        "created_at",
        "last_activity_at",
        "expires_at",
        "revoked_at",
        "revoke_reason",
    ]
    list_filter = ["revoke_reason", "tenant"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__email", "ip_address", "=id"]
    exclude = ["refresh_jti", "previous_refresh_jti"]
    actions = ["revoke_sessions"]
    list_per_page = 50

    @admin.action(description="Revoke the selected sessions")
    def revoke_sessions(self, request, queryset):
        count = 0
        for session in queryset.select_related("user").filter(revoked_at__isnull=True):
            session_revoke(session=session, reason="revoked_by_admin")
            count += 1
        self.message_user(request, f"{count} session(s) revoked.")

    def has_change_permission(self, request, obj=None):
        # Needed for the revoke action; every field stays read-only.
        return PublicSchemaOnlyAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in self.exclude]


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "email", "user", "tenant", "ip_address"]
    list_filter = ["kind", "tenant"]
    list_select_related = ["user", "tenant"]
    search_fields = ["email", "user__email", "ip_address"]
    date_hierarchy = "created_at"
    list_per_page = 50


@admin.register(OneTimeToken)
class OneTimeTokenAdmin(ReadOnlyAdmin):
    list_display = ["user", "purpose", "created_at", "expires_at", "used_at"]
    list_filter = ["purpose"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    exclude = ["token_hash"]
    list_per_page = 50


@admin.register(TotpDevice)
class TotpDeviceAdmin(ReadOnlyAdmin):
    list_display = ["user", "created_at", "confirmed_at"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    exclude = ["secret", "last_used_step"]
    list_per_page = 50


@admin.register(RecoveryCode)
class RecoveryCodeAdmin(ReadOnlyAdmin):
    list_display = ["user", "created_at", "used_at"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    exclude = ["code_hash"]
    list_per_page = 50


def _domain_for(slug: str) -> str:
    return f"{slug}.{settings.TENANT_BASE_DOMAIN}"


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Shown for reference; memberships change on their own admin page, through the services
    (sessions and cached permissions follow)."""

    model = Membership
    extra = 0
    fields = ["user", "role", "joined_at"]
    readonly_fields = fields


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
