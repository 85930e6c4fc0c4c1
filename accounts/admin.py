"""Platform admin for user accounts (public host only)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import User
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
