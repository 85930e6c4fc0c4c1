"""Fixtures of the rbac tests: run code in tenant alpha's schema, grant and assign tersely."""

import pytest


@pytest.fixture
def grant():
    """grant(role, "resource:action", conditions=..., fields=...) through the service."""
    from rbac import services
    from rbac.models import Permission

    def make(role, key, *, conditions=None, fields=None):
        resource, action = key.split(":")
        permission = Permission.objects.get(resource__name=resource, action=action)
        return services.role_permission_grant(
            actor=None, role=role, permission=permission, conditions=conditions, fields=fields
        )

    return make


@pytest.fixture
def assign():
    """assign(user, role, context=..., expires_at=...) through the service."""
    from rbac import services

    def make(user, role, **kwargs):
        return services.assignment_create(actor=None, user=user, role=role, **kwargs)

    return make


@pytest.fixture
def lab(in_a):
    """A custom resource "lab.sample" with a few actions, in tenant alpha."""
    from rbac import services

    return services.resource_create(
        actor=None, name="lab.sample", actions=["create", "read", "update", "delete", "approve"]
    )


@pytest.fixture
def rbac_state(tenant_a):
    """rbac_state(): every rule, assignment, object permission and audit entry of tenant alpha,
    compared before and after a refused request to show it wrote nothing."""
    from django_tenants.utils import schema_context
    from guardian.models import UserObjectPermission

    from rbac.models import AuditEntry, Permission, Resource, Role, RoleAssignment, RolePermission

    def snapshot() -> dict:
        with schema_context(tenant_a.schema_name):
            return {
                model.__name__: list(model.objects.order_by("pk").values())
                for model in (
                    Resource,
                    Permission,
                    Role,
                    RolePermission,
                    RoleAssignment,
                    UserObjectPermission,
                    AuditEntry,
                )
            }

    return snapshot
