"""Unknown /api/ and /ws/ paths answer the one error shape, with DEBUG on too."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/nope", "/ws/nothing/"])
def test_unknown_api_paths_answer_json(client_a, settings, debug, path):
    settings.DEBUG = debug
    response = client_a.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_a_known_api_404_keeps_its_own_code(client_a, settings, make_user, tenant_a, auth_client):
    settings.DEBUG = True
    api = auth_client(make_user(tenant=tenant_a, role="owner"), tenant_a)
    response = api.get("/api/v1/catalog/products/999999/")
    assert response.status_code == 404 and response.json()["error"]["code"] != ""


def test_other_paths_keep_django_pages(client_a, settings):
    settings.DEBUG = True
    response = client_a.get("/not-api/")
    assert response.status_code == 404
    assert "json" not in response["Content-Type"]


def test_client_errors_are_not_logged_again_by_django(client_a, caplog):
    with caplog.at_level("INFO"):
        assert client_a.get("/api/v1/nothing-here/").status_code == 404
    assert not [r for r in caplog.records if r.name == "django.request"]
