"""The /api/v1/rbac/ endpoints through real URLs, tenant hosts and JWTs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from rbac.models import AuditEntry, Permission, Role, RoleAssignment, RolePermission
from rbac.tests.factories import RoleFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/rbac/"


@pytest.fixture
def owner(tenant_a, make_user):
    return make_user(email="owner@alpha.test", tenant=tenant_a, role="owner")


@pytest.fixture
def as_owner(owner, tenant_a, auth_client):
    return auth_client(owner, tenant_a)


@pytest.fixture
def member(tenant_a, make_user):
    return make_user(email="member@alpha.test", tenant=tenant_a, role="member")


@pytest.fixture
def as_member(member, tenant_a, auth_client):
    return auth_client(member, tenant_a)


def _error(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    return response.json()["error"]


def test_me_permissions_lists_roles_and_sources(as_member, as_owner):
    body = as_member.get(f"{API}me/permissions").json()
    assert body["base_role"] == "member" and body["all_permissions"] is False
    assert {"resource": "catalog.product", "action": "read"}.items() <= body["permissions"][
        [p["resource"] for p in body["permissions"]].index("catalog.product")
    ].items()
    assert body["roles"] == [
        {
            "role": "member",
            "source": "membership",
            "assignment": None,
            "scope": {},
            "expires_at": None,
        }
    ]
    assert as_owner.get(f"{API}me/permissions").json()["all_permissions"] is True


def test_bulk_check(as_member):
    response = as_member.post(
        f"{API}check",
        {
            "checks": [
                {"resource": "catalog.product", "action": "read"},
                {"resource": "catalog.product", "action": "delete"},
                {"resource": "nothing.here", "action": "read", "context": {"a": 1}},
            ]
        },
        format="json",
    )
    assert response.status_code == 200
    assert [r["allowed"] for r in response.json()["results"]] == [True, False, False]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"checks": []},
        {"checks": [{"resource": "catalog.product"}]},
        {"checks": [{"resource": "x", "action": "read"}] * 201},
        {"checks": [{"resource": "x", "action": "read", "context": "not-a-dict"}]},
    ],
)
def test_bulk_check_rejects_bad_input(as_member, body, rbac_state):
    before = rbac_state()
    _error(as_member.post(f"{API}check", body, format="json"), 400, "invalid")
    assert rbac_state() == before


def test_explain_names_the_granting_role_and_the_unmet_rule(as_owner, as_member, member, tenant_a):
    with schema_context(tenant_a.schema_name):
        role = RoleFactory(name="cardio")
    grant = as_owner.post(
        f"{API}grants/",
        {
            "role": role.pk,
            "permission": "orders.order:refund",
            "conditions": {"department": "cardiology"},
        },
        format="json",
    )
    assert grant.status_code == 201, grant.content
    assigned = as_owner.post(
        f"{API}assignments/", {"user": str(member.pk), "role": role.pk}, format="json"
    )
    assert assigned.status_code == 201, assigned.content

    granted = as_member.post(
        f"{API}explain",
        {"resource": "orders.order", "action": "refund", "context": {"department": "cardiology"}},
        format="json",
    ).json()
    assert granted["allowed"] is True and granted["reason"] == "granted"
    assert granted["granted_by"]["role"] == "cardio"
    assert granted["granted_by"]["conditions"] == {"department": "cardiology"}

    denied = as_member.post(
        f"{API}explain",
        {"resource": "orders.order", "action": "refund", "context": {"department": "surgery"}},
        format="json",
    ).json()
    assert denied["allowed"] is False and denied["reason"] == "conditions_not_met"
    assert denied["considered"][0]["unmet_conditions"] == {"department": "cardiology"}

    inherited = as_member.post(
        f"{API}explain", {"resource": "orders.order", "action": "create"}, format="json"
    ).json()
    assert inherited["granted_by"]["role"] == "member"


def test_explaining_another_user_needs_assignment_read(
    as_owner, as_member, owner, member, rbac_state
):
    before = rbac_state()
    body = {"resource": "billing.payment", "action": "refund", "user": str(owner.pk)}
    _error(as_member.post(f"{API}explain", body, format="json"), 403, "permission_denied")
    body["user"] = str(member.pk)
    explained = as_owner.post(f"{API}explain", body, format="json").json()
    assert explained["user"] == str(member.pk) and explained["reason"] == "no_grant"
    body["user"] = "00000000-0000-0000-0000-000000000000"
    _error(as_owner.post(f"{API}explain", body, format="json"), 404, "not_found")
    assert rbac_state() == before


def test_roles_crud_with_inherited_permissions(as_owner, tenant_a):
    created = as_owner.post(
        f"{API}roles/", {"name": "senior", "parent": None, "description": "x"}, format="json"
    )
    assert created.status_code == 201, created.content
    with schema_context(tenant_a.schema_name):
        manager_id = Role.objects.get(name="manager").pk
    patched = as_owner.patch(
        f"{API}roles/{created.json()['id']}/", {"parent": manager_id}, format="json"
    )
    assert patched.status_code == 200
    body = patched.json()
    assert body["parent_name"] == "manager"
    inherited = {(p["permission"], p["from_role"]) for p in body["inherited_permissions"]}
    assert ("catalog.product:update", "manager") in inherited
    assert ("catalog.product:read", "member") in inherited
    assert as_owner.delete(f"{API}roles/{created.json()['id']}/").status_code == 204


def test_role_errors_leave_nothing_written(as_owner, tenant_a, rbac_state):
    with schema_context(tenant_a.schema_name):
        a = RoleFactory(name="a")
        c = RoleFactory(name="c", parent=RoleFactory(name="b", parent=a))
        member_role = Role.objects.get(name="member")
        audit_before = AuditEntry.objects.count()
    before = rbac_state()
    _error(
        as_owner.patch(f"{API}roles/{a.pk}/", {"parent": c.pk}, format="json"), 400, "role_cycle"
    )
    _error(as_owner.delete(f"{API}roles/{member_role.pk}/"), 409, "system_role")
    _error(
        as_owner.patch(f"{API}roles/{member_role.pk}/", {"name": "x"}, format="json"),
        409,
        "system_role",
    )
    _error(as_owner.delete(f"{API}roles/{a.pk}/"), 409, "in_use")
    _error(as_owner.post(f"{API}roles/", {"name": ""}, format="json"), 400, "invalid")
    _error(as_owner.post(f"{API}roles/", {"name": "a"}, format="json"), 400, "invalid")
    with schema_context(tenant_a.schema_name):
        assert Role.objects.get(pk=a.pk).parent is None
        assert AuditEntry.objects.count() == audit_before
    assert rbac_state() == before


def test_roles_list_has_a_constant_query_count(as_owner, tenant_a, django_assert_num_queries):
    as_owner.get(f"{API}roles/")  # warm the permission cache
    # page, roles graph, grants graph after one SET search_path (host and user are cached)
    with django_assert_num_queries(4):
        assert as_owner.get(f"{API}roles/").status_code == 200
    with schema_context(tenant_a.schema_name):
        for _ in range(20):
            RoleFactory(parent=Role.objects.get(name="member"))
    with django_assert_num_queries(4):
        assert len(as_owner.get(f"{API}roles/").json()["results"]) == 24


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"permission": "catalog.product:fly"}, "permission"),
        ({"permission": "nonsense"}, "permission"),
        ({"permission": "catalog.product:read", "conditions": ["a"]}, "conditions"),
        ({"permission": "catalog.product:read", "conditions": {"a": {"b": 1}}}, "conditions"),
        ({"permission": "catalog.product:read", "fields": "name"}, "fields"),
    ],
)
def test_grant_bad_input(as_owner, tenant_a, body, field, rbac_state):
    with schema_context(tenant_a.schema_name):
        role = RoleFactory()
    before = rbac_state()
    error = _error(
        as_owner.post(f"{API}grants/", {"role": role.pk, **body}, format="json"), 400, "invalid"
    )
    assert field in error["fields"]
    with schema_context(tenant_a.schema_name):
        assert not RolePermission.objects.filter(role=role).exists()
    assert rbac_state() == before


def test_nul_characters_in_grant_conditions_are_refused(as_owner, tenant_a, rbac_state):
    import json

    with schema_context(tenant_a.schema_name):
        role = RoleFactory()
        existing = RolePermission.objects.create(
            role=role,
            permission=Permission.objects.get(resource__name="catalog.tag", action="read"),
        )
    before = rbac_state()
    for conditions in ({"owner": "\u0000"}, {"ow\u0000ner": "$user"}):
        body = {"role": role.pk, "permission": "catalog.product:read", "conditions": conditions}
        response = as_owner.generic(
            "POST", f"{API}grants/", json.dumps(body), content_type="application/json"
        )
        _error(response, 400, "parse_error")
        response = as_owner.generic(
            "PATCH",
            f"{API}grants/{existing.pk}/",
            json.dumps({"conditions": conditions}),
            content_type="application/json",
        )
        _error(response, 400, "parse_error")
    assert rbac_state() == before


def test_grant_update_and_duplicate(as_owner, tenant_a, rbac_state):
    with schema_context(tenant_a.schema_name):
        role = RoleFactory()
    body = {"role": role.pk, "permission": "catalog.product:read"}
    created = as_owner.post(f"{API}grants/", body, format="json").json()
    before = rbac_state()
    _error(as_owner.post(f"{API}grants/", body, format="json"), 400, "invalid")
    assert rbac_state() == before
    updated = as_owner.patch(
        f"{API}grants/{created['id']}/", {"fields": ["name", "price"]}, format="json"
    )
    assert updated.status_code == 200 and updated.json()["fields"] == ["name", "price"]
    assert as_owner.delete(f"{API}grants/{created['id']}/").status_code == 204


def test_assignments_validate_membership_expiry_and_escalation(
    as_owner, tenant_a, make_user, auth_client, rbac_state
):
    with schema_context(tenant_a.schema_name):
        role = RoleFactory()
        admin_role = Role.objects.get(name="admin")
        delegate = RoleFactory(name="delegate")
        RolePermission.objects.create(
            role=delegate,
            permission=RolePermission.permission.field.related_model.objects.get(
                resource__name="rbac.assignment", action="create"
            ),
        )
    outsider = make_user()
    insider = make_user(tenant=tenant_a)
    before = rbac_state()
    _error(
        as_owner.post(
            f"{API}assignments/", {"user": str(outsider.pk), "role": role.pk}, format="json"
        ),
        400,
        "not_a_member",
    )
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    _error(
        as_owner.post(
            f"{API}assignments/",
            {"user": str(insider.pk), "role": role.pk, "expires_at": past},
            format="json",
        ),
        400,
        "invalid",
    )
    _error(
        as_owner.post(f"{API}assignments/", {"user": "nope", "role": role.pk}, format="json"),
        400,
        "invalid",
    )
    assert rbac_state() == before

    manager = make_user(tenant=tenant_a, role="manager")
    with schema_context(tenant_a.schema_name):
        RoleAssignment.objects.create(user=manager, role=delegate)
    as_manager = auth_client(manager, tenant_a)
    before = rbac_state()
    _error(
        as_manager.post(
            f"{API}assignments/", {"user": str(insider.pk), "role": admin_role.pk}, format="json"
        ),
        403,
        "escalation",
    )
    with schema_context(tenant_a.schema_name):
        assert not RoleAssignment.objects.filter(user=insider).exists()
    assert rbac_state() == before

    soon = (timezone.now() + timedelta(days=1)).isoformat()
    ok = as_owner.post(
        f"{API}assignments/",
        {"user": str(insider.pk), "role": role.pk, "expires_at": soon, "context": {"ward": "3B"}},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["role_name"] == role.name
    listed = as_owner.get(f"{API}assignments/", {"user": str(insider.pk)}).json()["results"]
    assert [a["id"] for a in listed] == [ok.json()["id"]]


def test_members_cannot_change_rules(as_member, tenant_a, rbac_state):
    before = rbac_state()
    for path, body in [
        ("roles/", {"name": "x"}),
        ("resources/", {"name": "lab.x"}),
        ("permissions/", {"resource": "catalog.product", "action": "fly"}),
        ("assignments/", {}),
        ("grants/", {}),
    ]:
        _error(as_member.post(f"{API}{path}", body, format="json"), 403, "permission_denied")
    _error(as_member.get(f"{API}audit/"), 403, "permission_denied")
    _error(as_member.get(f"{API}roles/"), 403, "permission_denied")
    assert rbac_state() == before


def test_resources_and_permissions_crud_and_audit(as_owner, owner, tenant_a, rbac_state):
    created = as_owner.post(
        f"{API}resources/", {"name": "lab.sample", "actions": ["read", "approve"]}, format="json"
    )
    assert created.status_code == 201 and created.json()["actions"] == ["approve", "read"]
    before = rbac_state()
    _error(as_owner.post(f"{API}resources/", {"name": "Not A Name"}, format="json"), 400, "invalid")
    _error(as_owner.post(f"{API}resources/", {"name": "lab.sample"}, format="json"), 400, "invalid")
    assert rbac_state() == before
    perm = as_owner.post(
        f"{API}permissions/", {"resource": "lab.sample", "action": "archive"}, format="json"
    )
    assert perm.status_code == 201 and perm.json()["key"] == "lab.sample:archive"
    before = rbac_state()
    _error(
        as_owner.post(
            f"{API}permissions/", {"resource": "lab.sample", "action": "archive"}, format="json"
        ),
        400,
        "invalid",
    )
    listed = as_owner.get(f"{API}permissions/", {"resource__name": "lab.sample"}).json()
    assert {p["action"] for p in listed["results"]} == {"read", "approve", "archive"}
    platform = as_owner.get(f"{API}resources/").json()["results"]
    product = next(r for r in platform if r["name"] == "catalog.product")
    _error(as_owner.delete(f"{API}resources/{product['id']}/"), 409, "in_use")
    assert rbac_state() == before
    assert as_owner.delete(f"{API}resources/{created.json()['id']}/").status_code == 204

    audit = as_owner.get(f"{API}audit/", {"actor": str(owner.pk)}).json()["results"]
    assert [e["action"] for e in audit] == [
        "resource.delete",
        "permission.create",
        "resource.create",
    ]
    assert audit[0]["actor_email"] == "owner@alpha.test"


def test_object_permissions_endpoint(as_owner, as_member, member, tenant_a, rbac_state):
    with schema_context(tenant_a.schema_name):
        role = RoleFactory()
    body = {
        "user": str(member.pk),
        "resource": "rbac.role",
        "object_id": str(role.pk),
        "action": "read",
    }
    check = {"checks": [{"resource": "rbac.role", "action": "read", "object_id": str(role.pk)}]}
    assert (
        as_member.post(f"{API}check", check, format="json").json()["results"][0]["allowed"] is False
    )
    assert as_owner.post(f"{API}object-permissions", body, format="json").status_code == 201
    assert (
        as_member.post(f"{API}check", check, format="json").json()["results"][0]["allowed"] is True
    )
    assert as_owner.delete(f"{API}object-permissions", body, format="json").status_code == 204
    assert (
        as_member.post(f"{API}check", check, format="json").json()["results"][0]["allowed"] is False
    )

    before = rbac_state()
    _error(
        as_owner.post(
            f"{API}object-permissions", {**body, "resource": "catalog.product"}, format="json"
        ),
        404,
        "not_found",
    )
    _error(
        as_owner.post(f"{API}object-permissions", {**body, "object_id": "abc"}, format="json"),
        404,
        "not_found",
    )
    _error(
        as_owner.post(f"{API}object-permissions", {**body, "action": "fly"}, format="json"),
        400,
        "invalid",
    )
    _error(
        as_member.post(f"{API}object-permissions", body, format="json"), 403, "permission_denied"
    )
    _error(
        as_member.delete(f"{API}object-permissions", body, format="json"), 403, "permission_denied"
    )
    assert rbac_state() == before


def test_tenant_isolation(as_owner, owner, tenant_a, tenant_b, auth_client, client_b):
    from accounts.tokens import tokens_for_user

    as_owner.post(f"{API}roles/", {"name": "alpha-only"}, format="json")
    token = tokens_for_user(user=owner, tenant=tenant_a)["access"]
    client_b.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    _error(client_b.get(f"{API}roles/"), 401, "token_wrong_tenant")

    from accounts.services import membership_set

    membership_set(user=owner, tenant=tenant_b, role="member")
    in_b = auth_client(owner, tenant_b)
    _error(in_b.get(f"{API}roles/"), 403, "permission_denied")  # owner in alpha, member in beta
    assert in_b.get(f"{API}me/permissions").json()["base_role"] == "member"
    with schema_context(tenant_b.schema_name):
        assert not Role.objects.filter(name="alpha-only").exists()


def test_anonymous_gets_401(client_a):
    _error(client_a.get(f"{API}me/permissions"), 401, "not_authenticated")
    _error(client_a.post(f"{API}check", {}, format="json"), 401, "not_authenticated")


@pytest.mark.parametrize(
    "path", ["resources/", "permissions/", "grants/", "assignments/", "audit/"]
)
def test_list_endpoints_have_a_constant_query_count(
    path, as_owner, owner, tenant_a, make_user, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert as_owner.get(f"{API}{path}").status_code == 200
        return len(queries)

    as_owner.get(f"{API}{path}")  # warm the permission cache
    before = count()
    for i in range(5):
        role = as_owner.post(f"{API}roles/", {"name": f"extra-{i}"}, format="json").json()
        as_owner.post(f"{API}resources/", {"name": f"lab.r{i}", "actions": ["read"]}, format="json")
        as_owner.post(
            f"{API}grants/", {"role": role["id"], "permission": f"lab.r{i}:read"}, format="json"
        )
        user = make_user(tenant=tenant_a)
        as_owner.post(
            f"{API}assignments/", {"user": str(user.pk), "role": role["id"]}, format="json"
        )
    as_owner.get(f"{API}{path}")
    assert count() == before


def test_resources_and_permissions_cannot_be_renamed(as_owner, rbac_state):
    created = as_owner.post(
        f"{API}resources/", {"name": "lab.one", "actions": ["read"]}, format="json"
    ).json()
    before = rbac_state()
    _error(
        as_owner.patch(f"{API}resources/{created['id']}/", {"name": "lab.two"}, format="json"),
        400,
        "invalid",
    )
    assert rbac_state() == before
    ok = as_owner.patch(f"{API}resources/{created['id']}/", {"description": "d"}, format="json")
    assert ok.status_code == 200 and ok.json()["description"] == "d"
    perm = as_owner.get(f"{API}permissions/", {"resource__name": "lab.one"}).json()["results"][0]
    before = rbac_state()
    _error(
        as_owner.patch(f"{API}permissions/{perm['id']}/", {"action": "write"}, format="json"),
        400,
        "invalid",
    )
    assert rbac_state() == before
    off = as_owner.patch(f"{API}permissions/{perm['id']}/", {"is_active": False}, format="json")
    assert off.status_code == 200 and off.json()["is_active"] is False
