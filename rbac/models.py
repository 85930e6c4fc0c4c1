"""Roles, permissions (resource:action), role grants with conditions and fields, assignments, audit.

All tables live in each tenant's schema: a role in one tenant means nothing in another.
Users are global (public schema); tenants.Membership.role names the user's base role here.
"""

from django.conf import settings
from django.db import models


class Resource(models.Model):
    """Something that can be protected, named "<app>.<thing>" (e.g. "catalog.product")."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Permission(models.Model):
    """One action on one resource, e.g. catalog.product:update."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="permissions")
    action = models.CharField(max_length=50)
    description = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["resource__name", "action"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "action"], name="rbac_permission_unique_resource_action"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource.name}:{self.action}"

    @property
    def key(self) -> str:
        return f"{self.resource.name}:{self.action}"


class Role(models.Model):
    """A named set of permissions; a role inherits every permission of its parent chain."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    # Default roles (owner, admin, manager, member) are system roles: renaming or deleting
    # them would break the link with tenants.Membership.role.
    is_system = models.BooleanField(default=False)
    # Holders of this role may do everything (the owner role).
    grants_all = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    permissions = models.ManyToManyField(
        Permission, through="RolePermission", related_name="roles", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RolePermission(models.Model):
    """A grant of one permission to one role, optionally narrowed.

    conditions: context attributes that must match for the grant to apply, e.g.
      {"department": "cardiology"} or {"department": ["cardiology", "oncology"]} (any of).
    fields: for read/create/update grants, the only fields readable or writable through it;
      null means every field.
    """

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="grants")
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, related_name="grants")
    conditions = models.JSONField(default=dict, blank=True)
    fields = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["role__name", "permission__resource__name", "permission__action"]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "permission"], name="rbac_rolepermission_unique_role_permission"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role.name} -> {self.permission}"


class RoleAssignment(models.Model):
    """An explicit role for a user in this tenant, on top of their membership's base role.

    context: the assignment applies only to checks whose context matches it (e.g. a "doctor"
      role for {"department": "cardiology"}). expires_at: temporary access.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rbac_assignments"
    )
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="assignments")
    context = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "context"], name="rbac_assignment_unique_user_role_context"
            )
        ]
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.user} as {self.role.name}"


class AuditEntry(models.Model):
    """Who changed what in this tenant's access rules, and when."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=50)  # e.g. "role.create", "assignment.delete"
    target_type = models.CharField(max_length=50)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=255)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr}"
