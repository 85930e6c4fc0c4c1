"""Demo data of the rbac app: the registry synced, and a custom role showing conditions,
field lists and inheritance."""

from rbac.models import Permission, Role, RolePermission
from rbac.services import rbac_sync, role_create, role_permission_grant


def seed(*, tenant, owner) -> str:
    counts = rbac_sync()
    role = Role.objects.filter(name="catalog-editor").first()
    if role is None:
        role = role_create(
            actor=None,
            name="catalog-editor",
            description="Edits product names and descriptions in the books category.",
            parent=Role.objects.get(name="member"),
        )
    update = Permission.objects.get(resource__name="catalog.product", action="update")
    if not RolePermission.objects.filter(role=role, permission=update).exists():
        role_permission_grant(
            actor=None,
            role=role,
            permission=update,
            conditions={"category": "books"},
            fields=["name", "description"],
        )
    return f"{Role.objects.count()} roles, {Permission.objects.count()} permissions ({counts})"
