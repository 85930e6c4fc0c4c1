"""Tenant admin for resources, permissions, roles, grants, assignments and the audit log.

Every write goes through rbac.services (audit and cache invalidation included). Roles use
guardian's object-permission admin, since single roles can be guarded.
"""

from django import forms
from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from core.admin import ReadOnlyAdminMixin
from core.errors import DomainError
from rbac import services
from rbac.models import AuditEntry, Permission, Resource, Role, RoleAssignment, RolePermission


class ServiceWritesMixin:
    """Bulk deletes go through delete_model (and so through the services) one by one."""

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class PermissionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Permission
    extra = 0
    fields = ["action", "description", "is_active"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(Resource)
class ResourceAdmin(ServiceWritesMixin, admin.ModelAdmin):
    list_display = ["name", "description", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    list_per_page = 50
    inlines = [PermissionInline]

    def get_readonly_fields(self, request, obj=None):
        return ["name"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            services.resource_update(actor=request.user, resource=obj, data=form.cleaned_data)
        else:
            obj.pk = services.resource_create(
                actor=request.user, name=obj.name, description=obj.description
            ).pk

    def delete_model(self, request, obj):
        services.resource_delete(actor=request.user, resource=obj)


@admin.register(Permission)
class PermissionAdmin(ServiceWritesMixin, admin.ModelAdmin):
    list_display = ["__str__", "resource", "action", "is_active"]
    list_filter = ["is_active", "action"]
    list_select_related = ["resource"]
    search_fields = ["resource__name", "action"]
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        return ["resource", "action"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            services.permission_update(actor=request.user, permission=obj, data=form.cleaned_data)
        else:
            obj.pk = services.permission_create(
                actor=request.user,
                resource=obj.resource,
                action=obj.action,
                description=obj.description,
            ).pk

    def delete_model(self, request, obj):
        services.permission_delete(actor=request.user, permission=obj)


class GrantInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RolePermission
    extra = 0
    fields = ["permission", "conditions", "fields"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("permission__resource")


class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = ["name", "description", "parent", "is_active"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        try:
            services.check_parent(role=self.instance, parent=parent)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        return parent


@admin.register(Role)
class RoleAdmin(ServiceWritesMixin, GuardedModelAdmin):
    form = RoleForm
    list_display = ["name", "parent", "is_system", "grants_all", "is_active", "updated_at"]
    list_filter = ["is_system", "is_active"]
    list_select_related = ["parent"]
    search_fields = ["name"]
    list_per_page = 50
    inlines = [GrantInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_system:
            return ["name", "parent", "is_active", "is_system", "grants_all"]
        return ["is_system", "grants_all"]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.is_system or obj.children.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = {
            k: form.cleaned_data[k]
            for k in ("name", "description", "parent", "is_active")
            if k in form.cleaned_data
        }
        if change:
            services.role_update(actor=request.user, role=obj, data=data)
        else:
            obj.pk = services.role_create(
                actor=request.user,
                name=data["name"],
                description=data.get("description", ""),
                parent=data.get("parent"),
            ).pk

    def delete_model(self, request, obj):
        services.role_delete(actor=request.user, role=obj)


@admin.register(RolePermission)
class RolePermissionAdmin(ServiceWritesMixin, admin.ModelAdmin):
    rbac_resource = "rbac.role"
    list_display = ["role", "permission", "conditions", "fields", "updated_at"]
    list_filter = ["role"]
    list_select_related = ["role", "permission__resource"]
    search_fields = ["role__name", "permission__resource__name", "permission__action"]
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        return ["role", "permission"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            data = {"conditions": obj.conditions, "fields": obj.fields}
            services.role_permission_update(actor=request.user, grant=obj, data=data)
        else:
            obj.pk = services.role_permission_grant(
                actor=request.user,
                role=obj.role,
                permission=obj.permission,
                conditions=obj.conditions,
                fields=obj.fields,
            ).pk

    def delete_model(self, request, obj):
        services.role_permission_revoke(actor=request.user, grant=obj)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ServiceWritesMixin, admin.ModelAdmin):
    rbac_resource = "rbac.assignment"
    list_display = ["user", "role", "context", "expires_at", "granted_by", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "role", "granted_by"]
    search_fields = ["user__email", "role__name"]
    raw_id_fields = ["user"]
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        # Assignments are granted or revoked, never edited in place.
        fields = ["granted_by", "created_at"]
        return [*fields, "user", "role", "context", "expires_at"] if obj else fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.pk = services.assignment_create(
                actor=request.user,
                user=obj.user,
                role=obj.role,
                context=obj.context,
                expires_at=obj.expires_at,
            ).pk

    def delete_model(self, request, obj):
        services.assignment_delete(actor=request.user, assignment=obj)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    rbac_resource = "rbac.audit"
    list_display = ["created_at", "actor", "action", "target_type", "target_repr"]
    list_filter = ["action", "target_type"]
    list_select_related = ["actor"]
    search_fields = ["target_repr", "target_id", "actor__email"]
    date_hierarchy = "created_at"
    list_per_page = 100
