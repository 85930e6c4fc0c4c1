"""The one list of protected resources, their actions and what the default roles get.

Every tenant is seeded from this registry (rbac.services.rbac_sync). An app adds its own resource
with register_resource(...) from its AppConfig.ready(), then `manage.py rbac_sync` brings existing
tenants up to date (new tenants get it at creation).

Default roles: member <- manager <- admin (each inherits its parent's grants); owner may do
everything. A resource lists what member and manager get; admin is granted every action.
"""

from dataclasses import dataclass

CRUD = ("create", "read", "update", "delete")

# name -> (description, parent role name, grants_all)
DEFAULT_ROLES: dict[str, tuple[str, str | None, bool]] = {
    "member": ("Every member of the workspace.", None, False),
    "manager": ("Manages the workspace's content and day-to-day operations.", "member", False),
    "admin": ("Administers the workspace: every permission.", "manager", False),
    "owner": ("Owns the workspace: always has every permission.", "admin", True),
}


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    description: str
    actions: tuple[str, ...] = CRUD
    member: tuple[str, ...] = ()
    manager: tuple[str, ...] = ()
    # "app_label.ModelName" when single objects of the resource can be guarded (guardian).
    model: str | None = None


RESOURCES: dict[str, ResourceSpec] = {}


def register_resource(
    name: str,
    *,
    description: str = "",
    actions: tuple[str, ...] = CRUD,
    member: tuple[str, ...] = (),
    manager: tuple[str, ...] = (),
    model: str | None = None,
) -> ResourceSpec:
    """Declares a protected resource; member/manager list the actions those roles get."""
    unknown = (set(member) | set(manager)) - set(actions)
    if unknown:
        raise ValueError(f"{name}: default grants for undeclared actions {sorted(unknown)}")
    spec = ResourceSpec(
        name=name,
        description=description,
        actions=tuple(actions),
        member=tuple(member),
        manager=tuple(manager),
        model=model,
    )
    RESOURCES[name] = spec
    return spec


def model_for(resource: str):
    """The model whose single objects can be guarded for this resource, or None."""
    from django.apps import apps

    spec = RESOURCES.get(resource)
    return apps.get_model(spec.model) if spec and spec.model else None


def default_grants(role_name: str, spec: ResourceSpec) -> tuple[str, ...]:
    """Actions the default role holds directly on the resource (inheritance adds the rest)."""
    if role_name == "member":
        return spec.member
    if role_name == "manager":
        return spec.manager
    if role_name == "admin":
        return spec.actions
    return ()


# --- The platform's resources --------------------------------------------------------------
register_resource(
    "catalog.product",
    description="Products of the catalog.",
    actions=(*CRUD, "manage_stock", "analytics"),
    member=("read",),
    manager=(*CRUD, "manage_stock", "analytics"),
)
register_resource(
    "catalog.category", description="Product categories.", member=("read",), manager=CRUD
)
register_resource("catalog.tag", description="Product tags.", member=("read",), manager=CRUD)
register_resource(
    "catalog.review",
    description="Product reviews.",
    actions=(*CRUD, "moderate"),
    member=("create", "read"),
    manager=("update", "delete", "moderate"),
)
register_resource(
    "orders.order",
    description="Customer orders (read: one's own; read_all: everyone's).",
    actions=(*CRUD, "cancel", "refund", "fulfil", "read_all", "report"),
    member=("create", "read", "cancel"),
    manager=("update", "fulfil", "read_all", "report"),
)
register_resource(
    "files.file",
    description="Uploaded files.",
    actions=(*CRUD, "share"),
    member=("create", "read"),
    manager=("update", "delete", "share"),
)
register_resource(
    "chat.room",
    description="Chat rooms.",
    actions=(*CRUD, "join", "moderate"),
    member=("read", "join"),
    manager=("create", "update", "moderate"),
)
register_resource(
    "chat.message",
    description="Chat messages.",
    member=("create", "read"),
    manager=("delete",),
)
register_resource(
    "billing.payment",
    description="Payments.",
    actions=("create", "read", "refund"),
    manager=("read",),
)
register_resource(
    "billing.subscription",
    description="The workspace's subscription.",
    actions=(*CRUD, "cancel"),
    manager=("read",),
)
register_resource(
    "notifications.message",
    description="Notifications sent to users.",
    actions=(*CRUD, "send"),
    member=("read",),
    manager=("create", "send"),
)
register_resource(
    "tenants.member",
    description="Members of the workspace.",
    actions=("invite", "read", "update", "remove"),
    member=("read",),
    manager=("invite",),
)
register_resource(
    "tenants.tenant",
    description="Workspace settings.",
    actions=("read", "update"),
    member=("read",),
)
register_resource(
    "admin.site",
    description="Signing in to the workspace's admin (what it shows follows the other grants).",
    actions=("access",),
    manager=("access",),
)
register_resource("rbac.resource", description="Protected resources.", manager=("read",))
register_resource(
    "rbac.permission", description="Permissions (resource:action).", manager=("read",)
)
register_resource(
    "rbac.role", description="Roles and their grants.", manager=("read",), model="rbac.Role"
)
register_resource("rbac.assignment", description="Role assignments.", manager=("read",))
register_resource("rbac.audit", description="The access-rules audit log.", actions=("read",))
