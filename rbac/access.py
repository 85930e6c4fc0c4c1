"""The one place that answers "may this user do action on resource (in context, on object)?".

A user's rules in a tenant come from their base role (tenants.Membership.role names a role of
this tenant) plus their explicit, unexpired RoleAssignments; each role brings its own grants and
its parent chain's. The membership owner always has every permission; a user who is not a
member of the tenant has none. The resolved rules are cached per user (rbac.cache) so a warm check
costs no database query; object permissions (django-guardian) are always read live.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from guardian.models import UserObjectPermission

from rbac import cache as rbac_cache
from rbac.models import Role, RoleAssignment, RolePermission

OWNER_ROLE = "owner"
USER_PLACEHOLDER = "$user"
# RBAC actions that map onto Django's default model permissions for guardian object checks.
OBJECT_CODENAMES = {"read": "view", "update": "change", "delete": "delete", "create": "add"}


def permission_key(resource: str, action: str) -> str:
    return f"{resource}:{action}"


# --- Building a snapshot ------------------------------------------------------------------------


def _membership_role(user_id) -> str | None:
    from tenants.models import Membership

    return (
        Membership.objects.filter(user_id=user_id, tenant__schema_name=connection.schema_name)
        .order_by()  # no join for Membership's default ordering
        .values_list("role", flat=True)
        .first()
    )


def build_snapshot(user_id) -> dict:
    """Resolves the user's roles, inheritance and grants into plain data (cacheable)."""
    base_role = _membership_role(user_id)
    snapshot: dict[str, Any] = {
        "member": base_role is not None,
        "owner": base_role == OWNER_ROLE,
        "base_role": base_role,
        "sources": [],
        "grants": {},
        "all": [],
        "expires": None,
    }
    if base_role is None:
        return snapshot

    now = timezone.now()
    roles = {
        row["id"]: row
        for row in Role.objects.values("id", "name", "parent_id", "grants_all", "is_active")
    }
    by_name = {row["name"]: row for row in roles.values()}
    sources = []
    if base_role in by_name:
        sources.append(
            {
                "role_id": by_name[base_role]["id"],
                "source": "membership",
                "assignment": None,
                "scope": {},
                "expires_at": None,
            }
        )
    assignments = (
        RoleAssignment.objects.filter(user_id=user_id)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values("id", "role_id", "context", "expires_at")
    )
    for row in assignments:
        sources.append(
            {
                "role_id": row["role_id"],
                "source": "assignment",
                "assignment": row["id"],
                "scope": row["context"] or {},
                "expires_at": row["expires_at"].timestamp() if row["expires_at"] else None,
            }
        )

    # Each source's role chain (the role, its parent, ...), cycles cut defensively.
    chains: list[list[int]] = []
    needed: set[int] = set()
    for src in sources:
        chain, role_id = [], src["role_id"]
        while role_id is not None and role_id in roles and role_id not in chain:
            chain.append(role_id)
            role_id = roles[role_id]["parent_id"]
        chains.append(chain)
        needed.update(chain)

    grants_by_role: dict[int, list[dict]] = {}
    rows = (
        RolePermission.objects.filter(
            role_id__in=needed, permission__is_active=True, permission__resource__is_active=True
        )
        .order_by()  # the default ordering would join the role table for nothing
        .values(
            "role_id",
            "conditions",
            "fields",
            resource=F("permission__resource__name"),
            action=F("permission__action"),
        )
    )
    for row in rows:
        grants_by_role.setdefault(row["role_id"], []).append(row)

    for src, chain in zip(sources, chains, strict=True):
        assigned = roles[src["role_id"]]
        if not assigned["is_active"]:
            continue
        snapshot["sources"].append(
            {
                "role": assigned["name"],
                "source": src["source"],
                "assignment": src["assignment"],
                "scope": src["scope"],
                "expires_at": src["expires_at"],
            }
        )
        source_index = len(snapshot["sources"]) - 1
        if src["expires_at"] and (
            snapshot["expires"] is None or src["expires_at"] < snapshot["expires"]
        ):
            snapshot["expires"] = src["expires_at"]
        for role_id in chain:
            role = roles[role_id]
            if not role["is_active"]:
                continue
            if role["grants_all"]:
                snapshot["all"].append([source_index, role["name"]])
            for grant in grants_by_role.get(role_id, []):
                key = permission_key(grant["resource"], grant["action"])
                snapshot["grants"].setdefault(key, []).append(
                    [source_index, role["name"], grant["conditions"] or {}, grant["fields"]]
                )
    return snapshot


# A user object that lives for one request only (set by the API's authentication) may keep its
# snapshot for the rest of that request without asking Redis again; any other user object (a
# websocket's, a test's) checks the versions on every call.
REQUEST_SCOPED_USER = "_rbac_request_scoped"


# The API's authentication reads the user's versions and snapshot in the round trip that reads
# the session (rbac_cache.snapshot_keys) and leaves them on the user for the request's first
# check: (schema, rbac_cache.local_generation before the read, versions_and_snapshot).
_HELD = "_rbac_prefetched"


def hold_prefetched(user, *, schema_name: str, generation: int, read: tuple) -> None:
    """Leave versions_and_snapshot, read by the caller under `generation`, for the next
    snapshot_for(user) in schema_name (used once, and only if no rule changed meanwhile in
    this process)."""
    setattr(user, _HELD, (schema_name, generation, read))


def _take_prefetched(user) -> tuple | None:
    held = user.__dict__.pop(_HELD, None)
    if (
        held is not None
        and held[0] == connection.schema_name
        and held[1] == rbac_cache.local_generation
    ):
        return held[2]
    return None


def snapshot_for(user, prefetched: tuple | None = None) -> dict:
    """The user's resolved rules in the current tenant, from the cache when it is warm.

    prefetched: the user's rbac_cache.versions_and_snapshot() when the caller read it already
    (in bulk, rbac_cache.versions_and_snapshots; or held by hold_prefetched).
    """
    memo = getattr(user, "_rbac_snapshot", None)
    now = time.time()
    if (
        memo
        and getattr(user, REQUEST_SCOPED_USER, False)
        and memo[0][0] == connection.schema_name
        and memo[2] == rbac_cache.local_generation
        and not _expired(memo[1], now)
    ):
        return memo[1]
    generation = rbac_cache.local_generation
    prefetched = prefetched or _take_prefetched(user)
    versions, snapshot = prefetched or rbac_cache.versions_and_snapshot(user.pk)
    key = (connection.schema_name, versions)
    if memo and memo[0] == key and not _expired(memo[1], now):
        return memo[1]
    if snapshot is None or _expired(snapshot, now):
        snapshot = build_snapshot(user.pk)
        timeout = rbac_cache.SNAPSHOT_TTL
        if snapshot["expires"]:
            timeout = int(snapshot["expires"] - now) + 1
        rbac_cache.set_snapshot(user.pk, versions, snapshot, timeout)
    user._rbac_snapshot = (key, snapshot, generation)
    return snapshot


def _expired(snapshot: dict, now: float) -> bool:
    return bool(snapshot["expires"]) and snapshot["expires"] <= now


# --- Evaluating -----------------------------------------------------------------------------


def _same(expected: Any, actual: Any, user_id: str) -> bool:
    if expected == USER_PLACEHOLDER:
        expected = user_id
    return expected == actual or str(expected) == str(actual)


MISSING = object()


class ObjectContext(dict):
    """A check context that falls back to the object's own fields (e.g. obj.department).

    Only concrete model fields are read, never arbitrary attributes or methods.
    """

    def __init__(self, obj, extra: dict | None = None):
        super().__init__(extra or {})
        self.obj = obj
        fields = obj._meta.concrete_fields
        self.names = {f.name: f.attname for f in fields} | {f.attname: f.attname for f in fields}

    def get(self, key, default=None):
        if key in self:
            return super().get(key)
        if key in self.names:
            return getattr(self.obj, self.names[key])
        return default


def unmet(required: dict, context: dict, user_id: str) -> dict:
    """The required attributes the context does not satisfy ({} when all match).

    A required value that is a list matches any of its items; "$user" stands for the user's id.
    """
    missing = {}
    for key, expected in required.items():
        actual = context.get(key, MISSING)
        options = expected if isinstance(expected, list) else [expected]
        if actual is MISSING or not any(_same(option, actual, user_id) for option in options):
            missing[key] = expected
    return missing


@dataclass
class Decision:
    allowed: bool
    reason: str
    message: str
    granted_by: dict | None = None
    considered: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "message": self.message,
            "granted_by": self.granted_by,
            "considered": self.considered,
        }


def _source_info(snapshot: dict, index: int, role_name: str) -> dict:
    src = snapshot["sources"][index]
    return {
        "role": role_name,
        "via_role": src["role"],
        "source": src["source"],
        "assignment": src["assignment"],
        "scope": src["scope"],
    }


def decide(
    user,
    resource: str,
    action: str,
    context: dict | None = None,
    *,
    explain: bool = False,
    snapshot: dict | None = None,
) -> Decision:
    """Role-level decision (no object permissions); with explain, every rule considered."""
    snapshot = snapshot_for(user) if snapshot is None else snapshot
    context = {} if context is None else context
    user_id = str(user.pk)
    key = permission_key(resource, action)
    if not snapshot["member"]:
        return Decision(False, "not_a_member", "The user is not a member of this workspace.")
    if snapshot["owner"]:
        return Decision(
            True,
            "owner",
            "The workspace owner has every permission.",
            {
                "role": OWNER_ROLE,
                "via_role": OWNER_ROLE,
                "source": "membership",
                "assignment": None,
                "scope": {},
            },
        )
    considered: list[dict] = []
    for index, role_name in snapshot["all"]:
        info = _source_info(snapshot, index, role_name)
        missing = unmet(info["scope"], context, user_id)
        if not missing:
            return Decision(True, "granted", f'Role "{role_name}" has every permission.', info)
        considered.append({**info, "rule": "all permissions", "unmet_scope": missing})
    for index, role_name, conditions, fields in snapshot["grants"].get(key, []):
        info = {
            **_source_info(snapshot, index, role_name),
            "conditions": conditions,
            "fields": fields,
        }
        missing_scope = unmet(info["scope"], context, user_id)
        missing_conditions = unmet(conditions, context, user_id)
        if not missing_scope and not missing_conditions:
            return Decision(True, "granted", f'Role "{role_name}" grants {key}.', info, considered)
        considered.append(
            {**info, "unmet_scope": missing_scope, "unmet_conditions": missing_conditions}
        )
    if considered:
        return Decision(
            False,
            "conditions_not_met",
            f"Grants of {key} exist but the context does not satisfy their conditions.",
            None,
            considered if explain else [],
        )
    return Decision(False, "no_grant", f"No role of the user grants {key}.")


def has_permission(user, resource: str, action: str, context: dict | None = None, obj=None) -> bool:
    """May the user do action on resource (in this context, on this object)?

    With an object, conditions may also be met by the object's own fields.
    """
    if user is None or not user.is_authenticated:
        return False
    if obj is not None and not isinstance(context, ObjectContext):
        context = ObjectContext(obj, context)
    if decide(user, resource, action, context).allowed:
        return True
    return obj is not None and has_object_permission(user, obj, action)


def has_permission_many(users, resource: str, action: str) -> dict:
    """has_permission (no context, no object) for several users: user pk -> allowed.

    The version tokens and cached snapshots of all of them are read in one round trip.
    """
    users = [user for user in users if user is not None and user.is_authenticated]
    prefetched = rbac_cache.versions_and_snapshots([user.pk for user in users])
    return {
        user.pk: decide(
            user, resource, action, snapshot=snapshot_for(user, prefetched[user.pk])
        ).allowed
        for user in users
    }


def explain(user, resource: str, action: str, context: dict | None = None, obj=None) -> dict:
    plain_context = dict(context or {})
    if obj is not None:
        context = ObjectContext(obj, context)
    decision = decide(user, resource, action, context, explain=True)
    if (
        not decision.allowed
        and obj is not None
        and decision.reason != "not_a_member"
        and has_object_permission(user, obj, action)
    ):
        decision = Decision(
            True,
            "object_permission",
            f"The user holds {object_codename(type(obj), action)} on this object.",
            {"object": str(obj.pk)},
            decision.considered,
        )
    return {"resource": resource, "action": action, "context": plain_context, **decision.as_dict()}


def check_many(user, checks: list[dict]) -> list[dict]:
    """Bulk checks against one snapshot: [{"resource", "action", "context"?}] -> allowed each."""
    return [
        {
            "resource": c["resource"],
            "action": c["action"],
            "allowed": has_permission(user, c["resource"], c["action"], c.get("context")),
        }
        for c in checks
    ]


def field_access(user, resource: str, action: str, context: dict | None = None) -> set | None:
    """Fields the user may read (action "read") or write ("create"/"update").

    None means every field; an empty set means none (the action itself is not granted).
    A grant without a field list allows every field; lists of several grants add up.
    """
    snapshot = snapshot_for(user)
    if not snapshot["member"]:
        return set()
    if snapshot["owner"]:
        return None
    context = {} if context is None else context
    user_id = str(user.pk)
    for index, _role in snapshot["all"]:
        if not unmet(snapshot["sources"][index]["scope"], context, user_id):
            return None
    allowed: set[str] = set()
    for index, _role, conditions, fields in snapshot["grants"].get(
        permission_key(resource, action), []
    ):
        scope = snapshot["sources"][index]["scope"]
        if unmet(scope, context, user_id) or unmet(conditions, context, user_id):
            continue
        if fields is None:
            return None
        allowed.update(fields)
    return allowed


def effective_permissions(user) -> dict:
    """What /rbac/me/permissions shows: roles and every grant with where it comes from."""
    snapshot = snapshot_for(user)
    permissions = []
    for key, grants in sorted(snapshot["grants"].items()):
        resource, action = key.split(":", 1)
        for index, role_name, conditions, fields in grants:
            permissions.append(
                {
                    "resource": resource,
                    "action": action,
                    "conditions": conditions,
                    "fields": fields,
                    **_source_info(snapshot, index, role_name),
                }
            )
    return {
        "member": snapshot["member"],
        "owner": snapshot["owner"],
        "base_role": snapshot["base_role"],
        "all_permissions": snapshot["owner"] or bool(snapshot["all"]),
        "roles": snapshot["sources"],
        "permissions": permissions,
    }


# --- Objects (django-guardian) ----------------------------------------------------------------


def object_codename(model, action: str) -> str:
    return f"{OBJECT_CODENAMES.get(action, action)}_{model._meta.model_name}"


def _content_type_lookup(model) -> dict:
    # By natural key inside the same SQL statement: django-tenants clears ContentType's cache
    # whenever the schema changes, so get_for_model() would cost a query per request.
    opts = model._meta
    return {
        "content_type__app_label": opts.app_label,
        "content_type__model": opts.model_name,
        "permission__content_type_id": F("content_type_id"),
    }


def has_object_permission(user, obj, action: str) -> bool:
    """Does the user hold the guardian permission for action on this one object? (one query)"""
    if not _snapshot_member(user):
        return False
    model = type(obj)
    return UserObjectPermission.objects.filter(
        user_id=user.pk,
        **_content_type_lookup(model),
        permission__codename=object_codename(model, action),
        object_pk=str(obj.pk),
    ).exists()


def _snapshot_member(user) -> bool:
    return user is not None and user.is_authenticated and snapshot_for(user)["member"]


def has_row_grants(user, resource: str, action: str, context: dict | None = None) -> bool:
    """Does the user hold resource:action under conditions that rows (or objects) may meet?"""
    snapshot = snapshot_for(user)
    context = {} if context is None else context
    user_id = str(user.pk)
    return any(
        conditions and not unmet(snapshot["sources"][index]["scope"], context, user_id)
        for index, _role, conditions, _fields in snapshot["grants"].get(
            permission_key(resource, action), []
        )
    )


def filter_queryset(
    user, queryset: QuerySet, resource: str, action: str = "read", context: dict | None = None
) -> QuerySet:
    """The rows of queryset the user may act on, as one SQL query.

    Unconditional role grants (or conditions the context satisfies) allow every row; grants whose
    conditions name model fields become row filters; guardian object permissions are a correlated
    EXISTS on guardian's table (no id lists, whatever the number of permitted objects).
    """
    if user is None or not user.is_authenticated:
        return queryset.none()
    snapshot = snapshot_for(user)
    if not snapshot["member"]:
        return queryset.none()
    if decide(user, resource, action, context).allowed:
        return queryset
    model = queryset.model
    context = {} if context is None else context
    user_id = str(user.pk)
    field_names = {f.name for f in model._meta.concrete_fields} | {
        f.attname for f in model._meta.concrete_fields
    }
    row_filters = []
    for index, _role, conditions, _fields in snapshot["grants"].get(
        permission_key(resource, action), []
    ):
        if unmet(snapshot["sources"][index]["scope"], context, user_id):
            continue
        # Only the model's own columns (never lookups or relations) become row filters.
        if conditions and all(name in field_names for name in conditions):
            row_filters.append(_condition_q(conditions, user_id))
    granted = UserObjectPermission.objects.filter(
        user_id=user.pk,
        **_content_type_lookup(model),
        permission__codename=object_codename(model, action),
        object_pk=Cast(OuterRef("pk"), output_field=CharField()),
    )
    return queryset.filter(reduce(or_, row_filters, Q(Exists(granted))))


def _condition_q(conditions: dict, user_id: str) -> Q:
    q = Q()
    for name, expected in conditions.items():
        if isinstance(expected, list):
            values = [user_id if v == USER_PLACEHOLDER else v for v in expected]
            q &= Q(**{f"{name}__in": values})
        else:
            q &= Q(**{name: user_id if expected == USER_PLACEHOLDER else expected})
    return q
