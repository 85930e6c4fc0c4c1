"""CORS on the API: platform-wide origins from settings, each workspace's own, no credentials."""

import pytest

pytestmark = pytest.mark.django_db

SPA = "http://localhost:5173"


def _preflight(client, origin: str, path: str = "/api/v1/catalog/products/"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


def test_preflight_from_a_configured_origin_is_allowed_without_credentials(client_a, settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    response = _preflight(client_a, SPA)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SPA
    assert "access-control-allow-credentials" not in response.headers
    allowed = response["Access-Control-Allow-Headers"]
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_preflight_from_another_origin_gets_no_allow_origin(client_a, settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    response = _preflight(client_a, "https://evil.example")
    assert "access-control-allow-origin" not in response.headers


def test_a_workspace_origin_is_allowed_on_that_workspace_only(
    tenant_a, client_a, client_b, settings
):
    settings.CORS_ALLOWED_ORIGINS = []
    tenant_a.cors_allowed_origins = ["https://shop.alpha.test"]
    tenant_a.save()
    assert _preflight(client_a, "https://shop.alpha.test")["Access-Control-Allow-Origin"] == (
        "https://shop.alpha.test"
    )
    assert "access-control-allow-origin" not in _preflight(client_b, "https://shop.alpha.test")


def test_a_simple_request_carries_the_allow_origin_and_exposed_headers(client_a, settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    response = client_a.get("/api/v1/", HTTP_ORIGIN=SPA)
    assert response["Access-Control-Allow-Origin"] == SPA
    assert "etag" in response["Access-Control-Expose-Headers"]
    assert "access-control-allow-credentials" not in response.headers


def test_pages_outside_the_api_get_no_cors_headers(tenant_a, client_a, settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    tenant_a.cors_allowed_origins = [SPA]
    tenant_a.save()
    response = client_a.get("/admin/login/", HTTP_ORIGIN=SPA)
    assert "access-control-allow-origin" not in response.headers
