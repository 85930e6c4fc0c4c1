"""The workspace admin: owners, admins and managers of a tenant sign in at its host; what they
see and may do follows RBAC; platform tables stay on the public host; service refusals are
form or message errors."""

import re

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import Session
from catalog import services as catalog_services
from catalog.models import Category, Product
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

PLATFORM_PAGES = [
    "/admin/tenants/domain/",
    "/admin/accounts/user/",
    "/admin/accounts/session/",
    "/admin/django_celery_beat/periodictask/",
    "/admin/django_celery_results/taskresult/",
    "/admin/auth/group/",
]
CREATED = {"created_at_0": "2026-01-01", "created_at_1": "00:00:00"}
PLATFORM_NAMES = ["Tenants", "Users", "Periodic tasks", "Task results", "Groups", "Domains"]


def _signed_in_client(host: str, email: str, password: str) -> Client:
    client = Client(HTTP_HOST=host)
    response = client.post("/admin/login/?next=/admin/", {"username": email, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def _app_list(client: Client) -> str:
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode().split('id="content-main"')[1].split('id="content-related"')[0]


def _product_form(product: Product, **changes) -> dict:
    return {
        "name": product.name,
        "sku": product.sku,
        "description": "",
        "status": "active",
        "type": "physical",
        "price": str(product.price),
        "cost_price": "0",
        "low_stock_threshold": "0",
        "images": "[]",
        "attributes": "{}",
        "version": str(product.version),
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
        **changes,
    }


def test_a_workspace_owner_signs_in_without_being_platform_staff(make_user, tenant_a, password):
    owner = make_user(email="owner@alpha.test", tenant=tenant_a, role="owner")
    assert not owner.is_staff
    client = _signed_in_client("alpha.localhost", owner.email, password)
    app_list = _app_list(client)
    for name in ("Products", "Orders", "Roles", "Files", "Branding"):
        assert name in app_list, name
    for name in PLATFORM_NAMES:
        assert f">{name}<" not in app_list, name
    for path in PLATFORM_PAGES:
        assert client.get(path).status_code in (403, 404), path
    assert client.get("/admin/catalog/product/").status_code == 200


def test_a_superuser_on_a_tenant_host_sees_no_platform_tables(make_user, tenant_a, password):
    root = make_user(email="root@platform.test", is_staff=True, is_superuser=True)
    client = _signed_in_client("alpha.localhost", root.email, password)
    app_list = _app_list(client)
    assert "Products" in app_list
    for name in PLATFORM_NAMES:
        assert f">{name}<" not in app_list, name
    for path in PLATFORM_PAGES:
        assert client.get(path).status_code in (403, 404), path


def test_the_public_host_shows_no_workspace_tables(make_user, password):
    root = make_user(email="root@platform.test", is_staff=True, is_superuser=True)
    client = _signed_in_client("localhost", root.email, password)
    app_list = _app_list(client)
    assert "Tenants" in app_list and "Periodic tasks" in app_list
    assert "Products" not in app_list
    assert client.get("/admin/catalog/product/").status_code in (403, 404)


def test_a_plain_member_cannot_use_the_workspace_admin(make_user, tenant_a, password):
    member = make_user(email="member@alpha.test", tenant=tenant_a, role="member")
    client = Client(HTTP_HOST="alpha.localhost")
    response = client.post("/admin/login/", {"username": member.email, "password": password})
    assert response.status_code == 200
    assert "Please enter the correct email address and password" in response.content.decode()
    # The services signed the member in; the admin ended that session at once.
    assert not Session.objects.get(user=member).is_active
    assert client.get("/admin/").status_code == 302


def test_an_owner_of_one_workspace_cannot_open_another(make_user, tenant_a, tenant_b, password):
    tenant_b.allow_self_signup = False
    tenant_b.save()
    owner = make_user(email="owner@alpha.test", tenant=tenant_a, role="owner")
    client = Client(HTTP_HOST="beta.localhost")
    response = client.post("/admin/login/", {"username": owner.email, "password": password})
    assert response.status_code == 200
    assert not Session.objects.filter(user=owner).exists()
    assert client.get("/admin/catalog/product/").status_code == 302


def test_a_manager_sees_what_rbac_grants_and_loses_it_with_the_grant(make_user, tenant_a, password):
    from rbac.models import RolePermission
    from rbac.services import role_permission_revoke

    manager = make_user(email="manager@alpha.test", tenant=tenant_a, role="manager")
    client = _signed_in_client("alpha.localhost", manager.email, password)
    app_list = _app_list(client)
    assert "Products" in app_list
    # Admin-only resources (audit log, workspace branding) are not offered to managers.
    assert "Audit entries" not in app_list and "Branding" not in app_list
    assert client.get("/admin/rbac/auditentry/").status_code == 403
    assert client.get("/admin/catalog/product/").status_code == 200

    with schema_context(tenant_a.schema_name):
        for grant in RolePermission.objects.filter(
            role__name__in=["member", "manager"], permission__resource__name="catalog.product"
        ).select_related("role", "permission"):
            role_permission_revoke(actor=None, grant=grant)
    assert "Products" not in _app_list(client)
    assert client.get("/admin/catalog/product/").status_code == 403


def test_a_manager_edits_through_the_service_but_cannot_delete_what_rbac_refuses(
    make_user, tenant_a, password
):
    manager = make_user(email="manager@alpha.test", tenant=tenant_a, role="manager")
    client = _signed_in_client("alpha.localhost", manager.email, password)
    with schema_context(tenant_a.schema_name):
        category = catalog_services.category_create(name="Shoes", slug="shoes")
    # Managers may not read the audit log nor add roles (read only on rbac.role).
    assert client.get("/admin/rbac/role/add/").status_code == 403
    response = client.post(
        f"/admin/catalog/category/{category.pk}/change/",
        {"name": "Renamed", "slug": category.slug, "position": "0", "description": "", **CREATED},
    )
    assert response.status_code == 302, re.findall(r"errorlist.*?</ul>", response.content.decode())
    with schema_context(tenant_a.schema_name):
        assert Category.objects.get(pk=category.pk).name == "Renamed"


def test_a_stale_product_edit_is_a_form_error(make_user, tenant_a, password, monkeypatch):
    owner = make_user(email="owner@alpha.test", tenant=tenant_a, role="owner")
    client = _signed_in_client("alpha.localhost", owner.email, password)
    with schema_context(tenant_a.schema_name):
        product = ProductFactory(name="Old")
    real_update = catalog_services.product_update

    def someone_else_saves_first(**kwargs):
        # Another editor's save lands between this form's validation and its save.
        real_update(product_id=product.pk, expected_version=product.version, data={"name": "X"})
        return real_update(**kwargs)

    monkeypatch.setattr(catalog_services, "product_update", someone_else_saves_first)
    url = f"/admin/catalog/product/{product.id}/change/"
    response = client.post(url, _product_form(product, name="Mine"))
    assert response.status_code == 200
    assert 'class="errornote"' in response.content.decode()
    assert "Mine" in response.content.decode()  # what the editor typed is still there
    with schema_context(tenant_a.schema_name):
        # The refused request wrote nothing (its whole save was rolled back).
        saved = Product.objects.get(pk=product.pk)
        assert (saved.name, saved.version) == ("Old", product.version)


def test_a_service_refusal_on_save_is_a_field_error(make_user, tenant_a, password):
    owner = make_user(email="owner@alpha.test", tenant=tenant_a, role="owner")
    client = _signed_in_client("alpha.localhost", owner.email, password)
    with schema_context(tenant_a.schema_name):
        parent = catalog_services.category_create(name="Parent", slug="parent")
        child = catalog_services.category_create(name="Child", slug="child", parent=parent)
    response = client.post(
        f"/admin/catalog/category/{parent.pk}/change/",
        {
            "name": parent.name,
            "slug": parent.slug,
            "parent": str(child.pk),
            "position": "0",
            "description": "",
            **CREATED,
        },
    )
    assert response.status_code == 200
    assert "cannot be moved under itself" in response.content.decode()
    with schema_context(tenant_a.schema_name):
        assert Category.objects.get(pk=parent.pk).parent_id is None


def _dashboard_rows(tenant, customer, n: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from billing.models import WebhookEvent
    from billing.tests.factories import WebhookEventFactory
    from orders.tests.factories import OrderFactory

    with schema_context(tenant.schema_name):
        for i in range(n):
            OrderFactory(customer=customer, created_at=timezone.now() - timedelta(days=i % 30))
            ProductFactory(name=f"Scarce {i}", stock_quantity=i % 3, low_stock_threshold=5)
            WebhookEventFactory(status=WebhookEvent.Status.FAILED, type=f"invoice.failed{i}")


def test_the_workspace_index_shows_the_dashboard_with_bounded_queries(
    make_user, tenant_a, password, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = make_user(email="owner@alpha.test", tenant=tenant_a, role="owner")
    client = _signed_in_client("alpha.localhost", owner.email, password)
    _dashboard_rows(tenant_a, owner, 3)
    client.get("/admin/")  # the process resolves the host and caches permissions once
    with CaptureQueriesContext(connection) as few:
        page = client.get("/admin/").content.decode()
    for title in ("Orders, last 30 days", "Low stock", "Failed webhook events", "Storage"):
        assert title in page, title
    assert "Scarce 0" in page and "invoice.failed0" in page and "<svg" in page
    assert "3 orders" in page
    assert "https://" not in page.split('id="dashboard"')[1].split("</section>")[0]

    _dashboard_rows(tenant_a, owner, 12)
    with django_assert_max_num_queries(len(few)):
        client.get("/admin/")
    assert len(few) <= 20


def test_the_dashboard_shows_a_manager_only_what_rbac_grants(make_user, tenant_a, password):
    from rbac.models import RolePermission
    from rbac.services import role_permission_revoke

    manager = make_user(email="manager@alpha.test", tenant=tenant_a, role="manager")
    client = _signed_in_client("alpha.localhost", manager.email, password)
    _dashboard_rows(tenant_a, manager, 1)
    page = client.get("/admin/").content.decode()
    assert "Orders, last 30 days" in page and "Failed webhook events" in page
    with schema_context(tenant_a.schema_name):
        for grant in RolePermission.objects.filter(
            role__name="manager", permission__resource__name="billing.payment"
        ).select_related("role", "permission"):
            role_permission_revoke(actor=None, grant=grant)
    page = client.get("/admin/").content.decode()
    assert "Orders, last 30 days" in page and "Failed webhook events" not in page


def test_the_platform_index_has_no_workspace_dashboard(make_user, password):
    root = make_user(email="root@platform.test", is_staff=True, is_superuser=True)
    client = _signed_in_client("localhost", root.email, password)
    assert 'id="dashboard"' not in client.get("/admin/").content.decode()
