"""Admin pages of the rbac app (tenant host) and the rbac_sync command."""

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from rbac import services
from rbac.models import AuditEntry, Permission, Role, RoleAssignment
from rbac.tests.factories import RoleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(tenant_a, make_user, admin_login):
    admin = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    client = APIClient(HTTP_HOST="alpha.localhost")
    admin_login(client, admin)
    return client


@pytest.mark.parametrize(
    "page",
    [
        "resource",
        "permission",
        "role",
        "rolepermission",
        "roleassignment",
        "auditentry",
    ],
)
def test_admin_changelists_render_with_few_queries(
    admin_client, page, django_assert_max_num_queries
):
    admin_client.get(f"/admin/rbac/{page}/")
    with django_assert_max_num_queries(30):
        response = admin_client.get(f"/admin/rbac/{page}/")
    assert response.status_code == 200


def test_the_audit_log_is_read_only_in_the_admin(admin_client, tenant_a):
    with schema_context(tenant_a.schema_name):
        services.role_create(actor=None, name="audited")
        entry = AuditEntry.objects.get(action="role.create")
        before = list(AuditEntry.objects.values())
    assert admin_client.get("/admin/rbac/auditentry/add/").status_code == 403
    assert admin_client.get(f"/admin/rbac/auditentry/{entry.pk}/change/").status_code == 200
    edit = admin_client.post(f"/admin/rbac/auditentry/{entry.pk}/change/", {"action": "x"})
    assert edit.status_code == 403
    delete = admin_client.post(f"/admin/rbac/auditentry/{entry.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    with schema_context(tenant_a.schema_name):
        assert list(AuditEntry.objects.values()) == before


def test_admin_role_pages_and_guardian_object_permissions(admin_client, tenant_a, make_user):
    with schema_context(tenant_a.schema_name):
        role = RoleFactory()
    assert admin_client.get(f"/admin/rbac/role/{role.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/rbac/role/{role.pk}/permissions/").status_code == 200


def test_admin_writes_go_through_the_services(admin_client, tenant_a, make_user, rbac_state):
    with schema_context(tenant_a.schema_name):
        member = Role.objects.get(name="member")
    response = admin_client.post(
        "/admin/rbac/role/add/",
        {
            "name": "from-admin",
            "description": "",
            "parent": member.pk,
            "is_active": "on",
            "grants-TOTAL_FORMS": "0",
            "grants-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    user = make_user(tenant=tenant_a)
    with schema_context(tenant_a.schema_name):
        role = Role.objects.get(name="from-admin")
        assert AuditEntry.objects.filter(action="role.create", target_id=str(role.pk)).exists()
    response = admin_client.post(
        "/admin/rbac/roleassignment/add/",
        {
            "user": str(user.pk),
            "role": role.pk,
            "context": "{}",
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    with schema_context(tenant_a.schema_name):
        assert RoleAssignment.objects.filter(user=user, role=role).exists()
        assert AuditEntry.objects.filter(action="assignment.create").exists()
    with schema_context(tenant_a.schema_name):
        system = Role.objects.get(name="admin")
    before = rbac_state()
    response = admin_client.post(f"/admin/rbac/role/{system.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert rbac_state() == before
    with schema_context(tenant_a.schema_name):
        assert Role.objects.filter(name="admin").exists()
        child = RoleFactory(parent=role)
    before = rbac_state()
    cycle = admin_client.post(
        f"/admin/rbac/role/{role.pk}/change/",
        {
            "name": "from-admin",
            "description": "",
            "parent": child.pk,
            "is_active": "on",
            "grants-TOTAL_FORMS": "0",
            "grants-INITIAL_FORMS": "0",
        },
    )
    assert cycle.status_code == 200 and b"inherit from itself" in cycle.content
    with schema_context(tenant_a.schema_name):
        assert Role.objects.get(pk=role.pk).parent_id == member.pk
    assert rbac_state() == before


def test_admin_edits_of_resources_and_permissions_are_saved_and_audited(admin_client, tenant_a):
    with schema_context(tenant_a.schema_name):
        resource = services.resource_create(
            actor=None, name="lab.sample", description="old", actions=["read"]
        )
        permission = Permission.objects.get(resource=resource, action="read")
    inline = {"permissions-TOTAL_FORMS": "0", "permissions-INITIAL_FORMS": "0"}
    response = admin_client.post(
        f"/admin/rbac/resource/{resource.pk}/change/", {"description": "new", **inline}
    )
    assert response.status_code == 302, response.content[:2000]
    response = admin_client.post(
        f"/admin/rbac/permission/{permission.pk}/change/",
        {"description": "reads samples", "is_active": "on"},
    )
    assert response.status_code == 302, response.content[:2000]
    with schema_context(tenant_a.schema_name):
        resource.refresh_from_db()
        permission.refresh_from_db()
        assert resource.description == "new" and resource.is_active is False
        assert permission.description == "reads samples" and permission.is_active is True
        changes = dict(
            AuditEntry.objects.filter(action__in=["resource.update", "permission.update"])
            .order_by("id")
            .values_list("action", "changes")
        )
    assert changes == {
        "resource.update": {"description": "new", "is_active": False},
        "permission.update": {"description": "reads samples"},
    }


def test_rbac_sync_command_is_idempotent(tenant_a, tenant_b, capsys):
    call_command("rbac_sync")
    out = capsys.readouterr().out
    assert "alpha: up to date" in out and "beta: up to date" in out
