"""The permission engine: seeding, inheritance, conditions, fields, expiry, owner, cache."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from rbac import access, services
from rbac.errors import Escalation, RoleCycle, SystemRoleProtected
from rbac.models import AuditEntry, Permission, Resource, Role, RolePermission
from rbac.registry import DEFAULT_ROLES, RESOURCES
from rbac.tests.factories import RoleFactory

pytestmark = pytest.mark.django_db


def test_every_tenant_has_the_default_roles_and_the_platform_resources(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        with schema_context(tenant.schema_name):
            roles = {r.name: r for r in Role.objects.select_related("parent")}
            assert set(roles) == set(DEFAULT_ROLES)
            assert roles["admin"].parent.name == "manager"
            assert roles["manager"].parent.name == "member"
            assert roles["owner"].grants_all and all(r.is_system for r in roles.values())
            assert set(Resource.objects.values_list("name", flat=True)) >= set(RESOURCES)
            assert Permission.objects.count() == sum(len(s.actions) for s in RESOURCES.values())


def test_sync_is_idempotent_and_keeps_revoked_default_grants_revoked(in_a):
    member = Role.objects.get(name="member")
    RolePermission.objects.filter(
        role=member, permission__resource__name="catalog.product", permission__action="read"
    ).delete()
    assert services.rbac_sync() == {"roles": 0, "resources": 0, "permissions": 0, "grants": 0}
    assert not RolePermission.objects.filter(
        role=member, permission__resource__name="catalog.product"
    ).exists()


def test_sync_adds_a_newly_registered_resource_with_its_default_grants(in_a, monkeypatch):
    from rbac import registry
    from rbac.services import sync

    monkeypatch.setattr(registry, "RESOURCES", dict(registry.RESOURCES))
    monkeypatch.setattr(sync, "RESOURCES", registry.RESOURCES)
    registry.register_resource("lab.widget", actions=("read", "tune"), member=("read",))
    counts = services.rbac_sync()
    assert counts == {"roles": 0, "resources": 1, "permissions": 2, "grants": 3}
    member_keys = RolePermission.objects.filter(role__name="member").values_list(
        "permission__resource__name", "permission__action"
    )
    assert ("lab.widget", "read") in set(member_keys)


def test_inheritance_over_three_levels(in_a, lab, make_user, tenant_a, grant, assign):
    grandparent = RoleFactory(name="lab-viewer")
    parent = RoleFactory(name="lab-editor", parent=grandparent)
    child = RoleFactory(name="lab-approver", parent=parent)
    grant(grandparent, "lab.sample:read")
    grant(parent, "lab.sample:update")
    grant(child, "lab.sample:approve")
    approver, editor = make_user(tenant=tenant_a), make_user(tenant=tenant_a)
    assign(approver, child)
    assign(editor, parent)

    for action in ("read", "update", "approve"):
        assert access.has_permission(approver, "lab.sample", action)
    assert access.has_permission(editor, "lab.sample", "update")
    assert not access.has_permission(editor, "lab.sample", "approve")
    assert not access.has_permission(approver, "lab.sample", "delete")

    why = access.explain(approver, "lab.sample", "read")
    assert why["allowed"] and why["granted_by"]["role"] == "lab-viewer"
    assert why["granted_by"]["via_role"] == "lab-approver"
    assert why["granted_by"]["source"] == "assignment"


def test_default_roles_inherit_along_member_manager_admin(in_a, make_user, tenant_a):
    manager = make_user(tenant=tenant_a, role="manager")
    member = make_user(tenant=tenant_a, role="member")
    # catalog.review:create is a member grant; managers get it through inheritance.
    why = access.explain(manager, "catalog.review", "create")
    assert why["granted_by"] == {
        "role": "member",
        "via_role": "manager",
        "source": "membership",
        "assignment": None,
        "scope": {},
        "conditions": {},
        "fields": None,
    }
    assert access.has_permission(manager, "catalog.product", "update")
    assert not access.has_permission(member, "catalog.product", "update")
    assert not access.has_permission(manager, "billing.payment", "refund")
    assert access.has_permission(
        make_user(tenant=tenant_a, role="admin"), "billing.payment", "refund"
    )


def test_conditions_must_match_the_context(in_a, lab, make_user, tenant_a, grant, assign):
    role = RoleFactory()
    grant(role, "lab.sample:read", conditions={"department": ["cardiology", "oncology"]})
    grant(role, "lab.sample:update", conditions={"department": "cardiology", "owner": "$user"})
    user = make_user(tenant=tenant_a)
    assign(user, role)

    assert access.has_permission(user, "lab.sample", "read", {"department": "oncology"})
    assert not access.has_permission(user, "lab.sample", "read", {"department": "surgery"})
    assert not access.has_permission(user, "lab.sample", "read")
    own = {"department": "cardiology", "owner": str(user.pk)}
    assert access.has_permission(user, "lab.sample", "update", own)
    assert not access.has_permission(user, "lab.sample", "update", {**own, "owner": "someone"})

    why = access.explain(user, "lab.sample", "read", {"department": "surgery"})
    assert why["allowed"] is False and why["reason"] == "conditions_not_met"
    assert why["considered"][0]["unmet_conditions"] == {"department": ["cardiology", "oncology"]}


def test_assignment_context_scopes_the_whole_role(in_a, lab, make_user, tenant_a, grant, assign):
    role = RoleFactory(name="ward-doctor")
    grant(role, "lab.sample:approve")
    user = make_user(tenant=tenant_a)
    assign(user, role, context={"ward": "3B"})
    assert access.has_permission(user, "lab.sample", "approve", {"ward": "3B"})
    assert not access.has_permission(user, "lab.sample", "approve", {"ward": "4A"})
    assert not access.has_permission(user, "lab.sample", "approve")


def test_field_lists_add_up_and_a_grant_without_fields_allows_all(
    in_a, lab, make_user, tenant_a, grant, assign
):
    one, two = RoleFactory(), RoleFactory()
    grant(one, "lab.sample:read", fields=["name", "status"])
    grant(two, "lab.sample:read", fields=["result"])
    grant(one, "lab.sample:update", fields=["status"])
    user = make_user(tenant=tenant_a)
    assign(user, one)
    assign(user, two)
    assert access.field_access(user, "lab.sample", "read") == {"name", "status", "result"}
    assert access.field_access(user, "lab.sample", "update") == {"status"}
    assert access.field_access(user, "lab.sample", "delete") == set()

    grant(RoleFactory(name="full-reader"), "lab.sample:read")
    assign(user, Role.objects.get(name="full-reader"))
    assert access.field_access(user, "lab.sample", "read") is None


def test_expired_assignments_grant_nothing_even_from_a_warm_cache(
    in_a, lab, make_user, tenant_a, grant, assign, monkeypatch
):
    role = RoleFactory()
    grant(role, "lab.sample:read")
    user = make_user(tenant=tenant_a)
    assign(user, role, expires_at=timezone.now() + timedelta(hours=1))
    assert access.has_permission(user, "lab.sample", "read")  # cached now

    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(access.time, "time", lambda: later.timestamp())
    monkeypatch.setattr(access.timezone, "now", lambda: later)
    assert not access.has_permission(user, "lab.sample", "read")


def test_owner_has_every_permission_and_a_non_member_none(in_a, make_user, tenant_a):
    from rbac.models import RoleAssignment

    owner = make_user(tenant=tenant_a, role="owner")
    assert access.has_permission(owner, "billing.payment", "refund")
    assert access.has_permission(owner, "anything.at_all", "whatever")
    assert access.field_access(owner, "catalog.product", "update") is None

    outsider = make_user()
    RoleAssignment.objects.create(user=outsider, role=Role.objects.get(name="admin"))
    assert not access.has_permission(outsider, "catalog.product", "read")
    assert access.explain(outsider, "catalog.product", "read")["reason"] == "not_a_member"


def test_a_warm_check_costs_no_database_query(in_a, make_user, tenant_a, django_assert_num_queries):
    user = make_user(tenant=tenant_a, role="manager")
    assert access.has_permission(user, "catalog.product", "update")
    with django_assert_num_queries(0):
        assert access.has_permission(user, "catalog.product", "update")
        assert not access.has_permission(user, "billing.payment", "refund")
        assert access.field_access(user, "catalog.product", "read") is None


def test_a_cold_check_costs_four_queries(in_a, make_user, tenant_a):
    from django.core.cache import cache
    from django.test.utils import CaptureQueriesContext

    user = make_user(tenant=tenant_a, role="manager")
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert access.has_permission(user, "catalog.product", "update")
    # membership, roles, unexpired assignments, grants of the roles involved (django-tenants
    # also issues a SET search_path before each one)
    selects = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
    assert len(selects) == 4
    assert "accounts_user" not in selects[0]


def test_revoking_a_grant_takes_effect_on_the_next_check(in_a, make_user, tenant_a):
    user = make_user(tenant=tenant_a, role="manager")
    assert access.has_permission(user, "catalog.product", "update")
    rp = RolePermission.objects.get(
        role__name="manager",
        permission__resource__name="catalog.product",
        permission__action="update",
    )
    services.role_permission_revoke(actor=None, grant=rp)
    assert not access.has_permission(user, "catalog.product", "update")


def test_many_users_at_once_answer_like_one_at_a_time_in_one_cache_round_trip(
    in_a, make_user, tenant_a
):
    from unittest import mock

    from django.core.cache import cache

    users = [make_user(tenant=tenant_a, role=r) for r in ("owner", "manager", "member", "admin")]
    outsider = make_user()
    everyone = users + [outsider]
    for resource, action in [("catalog.product", "update"), ("chat.message", "create")]:
        expected = {u.pk: access.has_permission(u, resource, action) for u in everyone}
        with mock.patch.object(cache, "get_many", wraps=cache.get_many) as get_many:
            assert access.has_permission_many(everyone, resource, action) == expected
        assert get_many.call_count == 1
    assert len(set(expected.values())) == 2  # some may, some may not

    # A revocation is seen by the next bulk check, as by has_permission.
    rp = RolePermission.objects.get(
        role__name="manager",
        permission__resource__name="catalog.product",
        permission__action="update",
    )
    assert access.has_permission_many(users, "catalog.product", "update")[users[1].pk]
    services.role_permission_revoke(actor=None, grant=rp)
    assert not access.has_permission_many(users, "catalog.product", "update")[users[1].pk]


def test_assignment_changes_invalidate_only_that_users_cache(
    in_a, lab, make_user, tenant_a, grant, assign, django_assert_num_queries
):
    role = RoleFactory()
    grant(role, "lab.sample:approve")
    alice, bob = make_user(tenant=tenant_a), make_user(tenant=tenant_a)
    assert not access.has_permission(alice, "lab.sample", "approve")
    assert not access.has_permission(bob, "lab.sample", "approve")
    assignment = assign(alice, role)
    assert access.has_permission(alice, "lab.sample", "approve")
    with django_assert_num_queries(0):  # bob's snapshot is still valid
        assert not access.has_permission(bob, "lab.sample", "approve")
    services.assignment_delete(actor=None, assignment=assignment)
    assert not access.has_permission(alice, "lab.sample", "approve")


def test_membership_role_change_and_role_edits_invalidate(in_a, make_user, tenant_a, lab, grant):
    from accounts.services import membership_set

    user = make_user(tenant=tenant_a, role="member")
    assert not access.has_permission(user, "catalog.product", "update")
    membership_set(user=user, tenant=tenant_a, role="manager")
    assert access.has_permission(user, "catalog.product", "update")

    # A new parent brings its grants; deactivating a role removes its grants.
    extra = RoleFactory(name="lab-base")
    grant(extra, "lab.sample:approve")
    member = Role.objects.get(name="member")
    custom = RoleFactory(parent=member)
    services.assignment_create(actor=None, user=user, role=custom)
    assert not access.has_permission(user, "lab.sample", "approve")
    services.role_update(actor=None, role=custom, data={"parent": extra})
    assert access.has_permission(user, "lab.sample", "approve")
    services.role_update(actor=None, role=extra, data={"is_active": False})
    assert not access.has_permission(user, "lab.sample", "approve")


def test_role_cycles_are_rejected(in_a, rbac_state):
    a = RoleFactory()
    b = RoleFactory(parent=a)
    c = RoleFactory(parent=b)
    before = rbac_state()
    with pytest.raises(RoleCycle):
        services.role_update(actor=None, role=a, data={"parent": c})
    with pytest.raises(RoleCycle):
        services.role_update(actor=None, role=a, data={"parent": a})
    a.refresh_from_db()
    assert a.parent is None
    with pytest.raises(SystemRoleProtected):
        services.role_delete(actor=None, role=Role.objects.get(name="member"))
    with pytest.raises(SystemRoleProtected):
        services.role_update(actor=None, role=Role.objects.get(name="admin"), data={"name": "boss"})
    assert rbac_state() == before


def test_no_one_hands_out_what_they_do_not_hold(
    in_a, make_user, tenant_a, grant, assign, rbac_state
):
    delegate = RoleFactory(name="role-editor")
    grant(delegate, "rbac.role:update")
    grant(delegate, "rbac.assignment:create")
    manager = make_user(tenant=tenant_a, role="manager")
    assign(manager, delegate)
    refund = Permission.objects.get(resource__name="billing.payment", action="refund")
    newcomer, plain = make_user(tenant=tenant_a), RoleFactory()
    before = rbac_state()
    with pytest.raises(Escalation):
        services.role_permission_grant(actor=manager, role=delegate, permission=refund)
    with pytest.raises(Escalation):
        services.assignment_create(
            actor=manager, user=newcomer, role=Role.objects.get(name="admin")
        )
    assert rbac_state() == before
    # Inheriting is granting: a role under "admin" would hand out admin's permissions.
    grant(delegate, "rbac.role:create")
    before = rbac_state()
    with pytest.raises(Escalation):
        services.role_create(actor=manager, name="sneaky", parent=Role.objects.get(name="admin"))
    with pytest.raises(Escalation):
        services.role_update(
            actor=manager, role=plain, data={"parent": Role.objects.get(name="admin")}
        )
    assert rbac_state() == before
    services.role_create(actor=manager, name="fine", parent=Role.objects.get(name="member"))
    # What the manager holds, they may grant.
    update = Permission.objects.get(resource__name="catalog.product", action="update")
    services.role_permission_grant(actor=manager, role=RoleFactory(), permission=update)


def test_every_change_is_audited(in_a, make_user, tenant_a, lab, grant, assign):
    actor = make_user(tenant=tenant_a, role="owner")
    role = services.role_create(actor=actor, name="auditors")
    services.role_update(actor=actor, role=role, data={"description": "They audit."})
    permission = Permission.objects.get(resource__name="lab.sample", action="read")
    rp = services.role_permission_grant(actor=actor, role=role, permission=permission)
    user = make_user(tenant=tenant_a)
    assignment = services.assignment_create(actor=actor, user=user, role=role)
    services.assignment_delete(actor=actor, assignment=assignment)
    services.role_permission_revoke(actor=actor, grant=rp)
    services.role_delete(actor=actor, role=role)
    entries = list(AuditEntry.objects.filter(actor=actor).order_by("id"))
    assert [e.action for e in entries] == [
        "role.create",
        "role.update",
        "grant.create",
        "assignment.create",
        "assignment.delete",
        "grant.delete",
        "role.delete",
    ]
    assert entries[1].changes == {"description": "They audit."}
    assert entries[3].changes["user"] == str(user.pk)


def test_a_role_in_one_tenant_grants_nothing_in_another(tenant_a, tenant_b, make_user):
    user = make_user(tenant=tenant_a, role="admin")
    from accounts.services import membership_set

    membership_set(user=user, tenant=tenant_b, role="member")
    with schema_context(tenant_a.schema_name):
        assert access.has_permission(user, "billing.payment", "refund")
        custom = services.role_create(actor=None, name="alpha-special")
        services.assignment_create(actor=None, user=user, role=custom)
    with schema_context(tenant_b.schema_name):
        assert not access.has_permission(user, "billing.payment", "refund")
        assert not Role.objects.filter(name="alpha-special").exists()
        assert access.effective_permissions(user)["base_role"] == "member"
    with schema_context(tenant_a.schema_name):
        assert access.has_permission(user, "billing.payment", "refund")
    assert connection.schema_name == "public"


def test_object_permissions_for_single_objects(in_a, make_user, tenant_a):
    member = make_user(tenant=tenant_a, role="member")
    mine, other = RoleFactory(), RoleFactory()
    assert not access.has_permission(member, "rbac.role", "read", obj=mine)
    services.object_permission_grant(
        actor=None, user=member, obj=mine, action="read", resource="rbac.role"
    )
    assert access.has_permission(member, "rbac.role", "read", obj=mine)
    assert not access.has_permission(member, "rbac.role", "read", obj=other)
    assert not access.has_permission(member, "rbac.role", "update", obj=mine)
    assert access.explain(member, "rbac.role", "read", obj=mine)["reason"] == "object_permission"
    services.object_permission_revoke(actor=None, user=member, obj=mine, action="read")
    assert not access.has_permission(member, "rbac.role", "read", obj=mine)


def test_conditions_are_met_by_the_objects_own_fields(in_a, make_user, tenant_a, grant, assign):
    role = RoleFactory()
    grant(role, "rbac.role:update", conditions={"description": "editable"})
    user = make_user(tenant=tenant_a)
    assign(user, role)
    assert access.has_permission(
        user, "rbac.role", "update", obj=RoleFactory(description="editable")
    )
    assert not access.has_permission(user, "rbac.role", "update", obj=RoleFactory())


def test_a_new_tenant_gets_default_roles_and_its_owner_everything():
    from accounts.services import tenant_create

    tenant = tenant_create(
        slug="delta-co", name="Delta", domain="delta.localhost", owner_email="boss@delta.test"
    )
    owner = tenant.memberships.get().user
    with schema_context(tenant.schema_name):
        assert set(Role.objects.values_list("name", flat=True)) == set(DEFAULT_ROLES)
        assert Resource.objects.filter(name="orders.order").exists()
        assert access.has_permission(owner, "billing.subscription", "cancel")
        assert AuditEntry.objects.filter(action="rbac.sync").count() == 1


def test_deactivated_permissions_and_resources_grant_nothing(in_a, make_user, tenant_a):
    manager = make_user(tenant=tenant_a, role="manager")
    permission = Permission.objects.get(resource__name="catalog.product", action="update")
    assert access.has_permission(manager, "catalog.product", "update")
    services.permission_update(actor=None, permission=permission, data={"is_active": False})
    assert not access.has_permission(manager, "catalog.product", "update")
    services.permission_update(actor=None, permission=permission, data={"is_active": True})
    assert access.has_permission(manager, "catalog.product", "update")
    services.resource_update(actor=None, resource=permission.resource, data={"is_active": False})
    assert not access.has_permission(manager, "catalog.product", "read")
