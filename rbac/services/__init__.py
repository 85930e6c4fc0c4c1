"""Every write to resources, permissions, roles, grants, assignments and object permissions.

Each write records an AuditEntry (who, what, when) and invalidates exactly the cached snapshots
it affects: rule changes bump the tenant's rule version, assignment changes the user's version.
A non-owner can only hand out permissions they hold themselves (no privilege escalation).

One module per sub-domain; the public names are re-exported here, so callers import them from
rbac.services.
"""

from rbac.services._shared import ACTION_RE, RESOURCE_RE, SCALAR
from rbac.services.assignments import assignment_create, assignment_delete, membership_changed
from rbac.services.audit import audit_record
from rbac.services.grants import (
    role_permission_grant,
    role_permission_revoke,
    role_permission_update,
)
from rbac.services.object_permissions import object_permission_grant, object_permission_revoke
from rbac.services.resources import (
    permission_create,
    permission_delete,
    permission_update,
    resource_create,
    resource_delete,
    resource_update,
)
from rbac.services.roles import check_parent, role_create, role_delete, role_update
from rbac.services.sync import rbac_sync

__all__ = [
    "ACTION_RE",
    "RESOURCE_RE",
    "SCALAR",
    "assignment_create",
    "assignment_delete",
    "audit_record",
    "check_parent",
    "membership_changed",
    "object_permission_grant",
    "object_permission_revoke",
    "permission_create",
    "permission_delete",
    "permission_update",
    "rbac_sync",
    "resource_create",
    "resource_delete",
    "resource_update",
    "role_create",
    "role_delete",
    "role_permission_grant",
    "role_permission_revoke",
    "role_permission_update",
    "role_update",
]
