"""End to end over HTTP: health probes, docs, admin, unknown hosts, JWT bound to its tenant."""

import pytest
from rest_framework.test import APIClient


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["localhost", "alpha.localhost", "beta.localhost"])
def test_healthz_answers_on_every_known_host(host, tenant_a):
    response = APIClient(HTTP_HOST=host).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_postgres_and_redis(client_a):
    response = client_a.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["postgres"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True


@pytest.mark.django_db
def test_readyz_reports_503_when_redis_is_down(client_a, monkeypatch):
    from config import health

    def broken():
        raise ConnectionError("refused")

    monkeypatch.setattr(health, "_check_redis", broken)
    response = client_a.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}


@pytest.mark.django_db
def test_unknown_host_gets_a_clear_json_404(tenant_a):
    response = APIClient(HTTP_HOST="nobody.localhost").get("/healthz")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "tenant_not_found"
    assert "nobody.localhost" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_suspended_tenant_gets_403(client_a, tenant_a):
    tenant_a.is_active = False
    tenant_a.save(update_fields=["is_active"])
    response = client_a.get("/api/v1/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tenant_suspended"


@pytest.mark.django_db
def test_api_root_names_the_tenant_of_the_host(client_a, client_b):
    assert client_a.get("/api/v1/").json()["workspace"] == "alpha"
    assert client_b.get("/api/v1/").json()["schema"] == "beta"


@pytest.mark.django_db
def test_openapi_schema_and_docs_render(client_a, public_client):
    schema = client_a.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/tenant/" in schema.json()["paths"]
    docs = client_a.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert public_client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_admin_login_page_loads_on_public_and_tenant_hosts(host, tenant_a):
    response = APIClient(HTTP_HOST=host).get("/admin/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content


@pytest.mark.django_db
def test_platform_admin_lists_tenants_only_on_the_public_host(tenant_a, make_user, admin_login):
    admin = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    public = APIClient(HTTP_HOST="localhost")
    admin_login(public, admin)
    page = public.get("/admin/tenants/tenant/")
    assert page.status_code == 200
    assert b"Alpha Corp" in page.content and b"Beta Inc" in page.content

    tenant_host = APIClient(HTTP_HOST="alpha.localhost")
    admin_login(tenant_host, admin)
    assert tenant_host.get("/admin/tenants/tenant/").status_code == 403
    assert b"Beta Inc" not in tenant_host.get("/admin/").content


@pytest.mark.django_db
def test_api_requires_authentication_with_the_error_shape(client_a):
    response = client_a.get("/api/v1/tenant/")
    assert response.status_code == 401
    assert set(response.json()["error"]) >= {"code", "message"}


@pytest.mark.django_db
def test_jwt_works_on_its_own_tenant(tenant_a, make_user, auth_client):
    user = make_user(tenant=tenant_a, role="admin")
    response = auth_client(user, tenant_a).get("/api/v1/tenant/")
    assert response.status_code == 200
    assert response.json() == {
        "tenant": {
            "name": "Alpha Corp",
            "slug": "alpha",
            "plan": "free",
            "is_active": True,
            "created_at": response.json()["tenant"]["created_at"],
        },
        "role": "admin",
    }


@pytest.mark.django_db
def test_jwt_issued_for_one_tenant_is_rejected_on_another(tenant_a, tenant_b, make_user):
    from accounts.tokens import tokens_for_user

    user = make_user(tenant=tenant_a)
    access = tokens_for_user(user=user, tenant=tenant_a)["access"]
    client = APIClient(HTTP_HOST="beta.localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_wrong_tenant"


@pytest.mark.django_db
def test_malformed_jwt_gets_401_in_the_error_shape(client_a):
    client_a.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client_a.get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404(client_a):
    response = client_a.get("/api/v1/does-not-exist/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_platform_admin_deactivates_users_instead_of_deleting(tenant_a, make_user, admin_login):
    admin = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    target = make_user(email="leaver@example.com", tenant=tenant_a)
    client = APIClient(HTTP_HOST="localhost")
    admin_login(client, admin)
    assert client.get(f"/admin/accounts/user/{target.pk}/delete/").status_code == 403
    response = client.post(
        "/admin/accounts/user/",
        {"action": "deactivate", "_selected_action": [str(target.pk)]},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_active is False


@pytest.mark.django_db
def test_readyz_checks_mongodb(client_a):
    response = client_a.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["mongodb"]["ok"] is True


@pytest.mark.django_db
def test_readyz_is_degraded_not_unavailable_when_mongodb_is_down(client_a, settings):
    from core import mongo

    settings.MONGODB_URL = "mongodb://127.0.0.1:9"  # nothing listens there
    settings.MONGODB_TIMEOUT_MS = 200
    mongo.reset()
    try:
        response = client_a.get("/readyz")
    finally:
        mongo.reset()  # the next call makes a client from the restored settings
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["mongodb"]["ok"] is False
    assert body["checks"]["postgres"]["ok"] is True
