"""Platform admin for user accounts (public host only)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import OneTimeToken, RecoveryCode, SecurityEvent, Session, TotpDevice, User
from accounts.services import session_revoke
from tenants.admin import PublicSchemaOnlyAdmin


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


class ReadOnlyAdmin(PublicSchemaOnlyAdmin):
    """Records written only by the accounts services: visible, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
