"""The DRF integration as other apps use it: permission class, object filter, field mixin."""

import pytest
from django.contrib.auth.models import Permission as AuthPermission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django_tenants.utils import schema_context
from guardian.models import UserObjectPermission

from rbac import access, services
from rbac.models import Role, RolePermission
from rbac.tests.factories import RoleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("rbac.tests.urls")]

URL = "/test/guarded-roles/"


def _give_objects(user, roles, codename="view_role"):
    content_type = ContentType.objects.get_for_model(Role)
    permission = AuthPermission.objects.get(content_type=content_type, codename=codename)
    UserObjectPermission.objects.bulk_create(
        UserObjectPermission(
            user=user, permission=permission, content_type=content_type, object_pk=str(r.pk)
        )
        for r in roles
    )


def test_role_grant_allows_every_row_and_unmapped_actions_are_refused(
    tenant_a, make_user, auth_client, rbac_state
):
    manager = make_user(tenant=tenant_a, role="manager")  # holds rbac.role:read
    client = auth_client(manager, tenant_a)
    response = client.get(URL)
    assert response.status_code == 200
    assert {r["name"] for r in response.json()["results"]} >= {"owner", "admin", "member"}
    before = rbac_state()
    assert client.post(URL, {"name": "x"}, format="json").status_code == 403
    assert rbac_state() == before


def test_a_member_sees_only_objects_granted_to_them(tenant_a, make_user, auth_client, rbac_state):
    member = make_user(tenant=tenant_a, role="member")
    with schema_context(tenant_a.schema_name):
        mine, other = RoleFactory(name="mine"), RoleFactory(name="other")
        _give_objects(member, [mine])
    client = auth_client(member, tenant_a)
    response = client.get(URL)
    assert response.status_code == 200
    assert [r["name"] for r in response.json()["results"]] == ["mine"]
    assert client.get(f"{URL}{mine.pk}/").status_code == 200
    assert client.get(f"{URL}{other.pk}/").status_code == 404
    before = rbac_state()
    # view only: no update, and creating needs the role-level grant
    assert client.patch(f"{URL}{mine.pk}/", {"description": "x"}, format="json").status_code == 404
    denied = client.post(URL, {"name": "new"}, format="json")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "permission_denied"
    assert rbac_state() == before


def test_object_filter_is_one_query_for_thousands_of_permitted_objects(
    in_a, make_user, tenant_a, django_assert_num_queries
):
    member = make_user(tenant=tenant_a, role="member")
    roles = Role.objects.bulk_create(Role(name=f"bulk-{i}") for i in range(6000))
    _give_objects(member, roles[:5000])
    access.snapshot_for(member)  # warm the cache: the filter itself is what is measured

    with django_assert_num_queries(1):  # the one SELECT (search_path already set)
        queryset = access.filter_queryset(member, Role.objects.all(), "rbac.role", "read")
        assert queryset.count() == 5000
    sql = str(queryset.query)
    assert "EXISTS" in sql and len(sql) < 2000  # a correlated subquery, not a list of ids


def test_list_query_count_does_not_grow_with_rows(
    tenant_a, make_user, auth_client, django_assert_num_queries
):
    member = make_user(tenant=tenant_a, role="member")
    client = auth_client(member, tenant_a)
    with schema_context(tenant_a.schema_name):
        _give_objects(member, [RoleFactory() for _ in range(3)])
    client.get(URL)  # warm the permission cache
    # the filtered page after one SET search_path (host and user are served from caches)
    with django_assert_num_queries(2):
        assert len(client.get(URL).json()["results"]) == 3
    with schema_context(tenant_a.schema_name):
        _give_objects(member, [RoleFactory() for _ in range(30)])
    client.get(URL)
    with django_assert_num_queries(2):
        assert len(client.get(URL).json()["results"]) == 33


def test_conditions_on_model_fields_filter_rows(tenant_a, make_user, auth_client, grant, assign):
    user = make_user(tenant=tenant_a, role="member")
    with schema_context(tenant_a.schema_name):
        role = RoleFactory()
        grant(role, "rbac.role:read", conditions={"description": ["open", "public"]})
        assign(user, role)
        RoleFactory(name="visible", description="open")
        RoleFactory(name="hidden", description="secret")
    names = {r["name"] for r in auth_client(user, tenant_a).get(URL).json()["results"]}
    assert "visible" in names and "hidden" not in names


def test_view_context_feeds_conditions(tenant_a, make_user, auth_client, grant, assign, rbac_state):
    user = make_user(tenant=tenant_a, role="member")
    with schema_context(tenant_a.schema_name):
        role = RoleFactory()
        grant(role, "rbac.role:create", conditions={"ward": "3B"})
        assign(user, role)
    client = auth_client(user, tenant_a)
    before = rbac_state()
    assert client.post(URL, {"name": "w1"}, format="json", HTTP_X_WARD="4A").status_code == 403
    assert rbac_state() == before
    assert client.post(URL, {"name": "w1"}, format="json", HTTP_X_WARD="3B").status_code == 201


def test_fields_are_dropped_on_read_and_refused_on_write(
    tenant_a, make_user, auth_client, grant, assign, rbac_state
):
    user = make_user(tenant=tenant_a, role="member")
    with schema_context(tenant_a.schema_name):
        role = RoleFactory()
        grant(role, "rbac.role:read", fields=["name"])
        grant(role, "rbac.role:update", fields=["description"])
        assign(user, role)
        target = RoleFactory(name="target", description="before")
    client = auth_client(user, tenant_a)
    body = client.get(f"{URL}{target.pk}/").json()
    assert body == {"id": target.pk, "name": "target"}

    before = rbac_state()
    refused = client.patch(f"{URL}{target.pk}/", {"name": "renamed"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["fields"] == {"name": ["You may not write this field."]}
    with schema_context(tenant_a.schema_name):
        assert Role.objects.get(pk=target.pk).name == "target"
    assert rbac_state() == before
    ok = client.patch(f"{URL}{target.pk}/", {"description": "after"}, format="json")
    assert ok.status_code == 200 and ok.json() == {"id": target.pk, "name": "target"}
    with schema_context(tenant_a.schema_name):
        assert Role.objects.get(pk=target.pk).description == "after"


def test_a_revoked_permission_takes_effect_on_the_next_request(tenant_a, make_user, auth_client):
    manager = make_user(tenant=tenant_a, role="manager")
    client = auth_client(manager, tenant_a)
    assert client.get(URL).status_code == 200
    with schema_context(tenant_a.schema_name):
        grant = RolePermission.objects.get(
            role__name="manager", permission__resource__name="rbac.role", permission__action="read"
        )
        services.role_permission_revoke(actor=None, grant=grant)
    response = client.get(URL)
    assert response.status_code == 200 and response.json()["results"] == []  # no row granted
    assert client.get("/api/v1/rbac/roles/").status_code == 403
    assert connection.schema_name in ("public", tenant_a.schema_name)


def test_custom_actions_are_mapped_and_unmapped_ones_refused(tenant_a, make_user, auth_client):
    member = make_user(tenant=tenant_a, role="member")
    with schema_context(tenant_a.schema_name):
        target = RoleFactory()
        _give_objects(member, [target])
    client = auth_client(member, tenant_a)
    assert client.get(f"{URL}products/").status_code == 200  # catalog.product:read
    refused = client.get(f"{URL}unmapped/")
    assert refused.status_code == 403
    assert "not mapped" in refused.json()["error"]["message"]
    assert client.post(f"{URL}{target.pk}/archive/").status_code == 404  # needs delete_role
    with schema_context(tenant_a.schema_name):
        _give_objects(member, [target], codename="delete_role")
    assert client.post(f"{URL}{target.pk}/archive/").json() == {"archived": target.pk}


def test_column_conditions_need_the_row_filter(tenant_a, make_user, auth_client, grant, assign):
    user = make_user(tenant=tenant_a, role="member")
    with schema_context(tenant_a.schema_name):
        role = RoleFactory()
        grant(role, "rbac.role:read", conditions={"description": "open"})
        assign(user, role)
        shown, hidden = RoleFactory(description="open"), RoleFactory(description="closed")
    client = auth_client(user, tenant_a)
    rows = client.get("/test/filtered-roles/").json()["results"]
    assert {r["id"] for r in rows} == {shown.pk}
    assert client.get(f"/test/filtered-roles/{shown.pk}/").status_code == 200
    assert client.get(f"/test/filtered-roles/{hidden.pk}/").status_code == 404
    # Without RBACObjectFilter the view cannot narrow rows, so a conditional grant is refused.
    assert client.get("/test/unfiltered-roles/").status_code == 403
    assert client.get(f"/test/unfiltered-roles/{shown.pk}/").status_code == 403
