"""Bodies and ids an attacker sends to every route: JSON nested 1,000 levels or carrying U+0000,
ids that are not ids. Always a 4xx in the one error shape, never a 500, nothing written."""

import json
import uuid

import pytest
from rest_framework.views import APIView

from tests.test_isolation_walk import ROUTES, _url

DEEP = "[" * 1000 + "]" * 1000
NUL = json.dumps({"email": "a\u0000@example.com", "password": "x", "name": "\u0000"})


def _refused(response) -> dict:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "parse_error"
    return error


@pytest.mark.django_db
@pytest.mark.parametrize("body", [DEEP, '{"a": ' * 33 + "1" + "}" * 33, NUL])
def test_unauthenticated_auth_routes_refuse_deep_and_nul_json(client_a, public_client, body):
    from accounts.models import User
    from tenants.models import Tenant

    before = (User.objects.count(), Tenant.objects.count())
    for client, path in (
        (client_a, "/api/v1/auth/login/"),
        (client_a, "/api/v1/auth/register/"),
        (client_a, "/api/v1/auth/password/forgot/"),
        (public_client, "/api/v1/tenants/"),
    ):
        _refused(client.generic("POST", path, body, content_type="application/json"))
    assert (User.objects.count(), Tenant.objects.count()) == before


@pytest.mark.django_db
def test_nesting_up_to_the_limit_is_parsed(client_a):
    body = json.dumps({"email": "nobody@example.com", "password": "x", "extra": [[[[1]]]]})
    response = client_a.generic("POST", "/api/v1/auth/login/", body, "application/json")
    assert response.status_code != 400 or response.json()["error"]["code"] != "parse_error"


@pytest.mark.django_db
def test_no_route_answers_deep_or_nul_json_with_a_server_error(tenant_a, make_user, auth_client):
    owner = make_user(email="owner-deep@example.com", tenant=tenant_a, role="owner")
    client = auth_client(owner, tenant_a)
    server_errors = []
    checked = 0
    for route, view, methods, _actions in ROUTES:
        url = _url(route, "1")
        drf = issubclass(view, APIView)  # plain Django views (signed-link pages) answer HTML
        for method in {"post", "put", "patch"} & set(methods):
            for body in (DEEP, NUL):
                response = client.generic(method.upper(), url, body, "application/json")
                checked += 1
                status = response.status_code
                # A 2xx comes from a route that never reads its body (e.g. logout-all).
                if status >= 500 or (drf and status >= 400 and "error" not in response.json()):
                    server_errors.append(f"{method.upper()} {url} -> {response.status_code}")
    assert checked > 40
    assert server_errors == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "files/not-a-uuid/",
        "files/1/",
        "files/1/download/",
        "files/%00/",
        f"files/{str(uuid.uuid4())[:-1]}/",
        "notifications/not-a-uuid/read/",
        "notifications/1/read/",
        "auth/sessions/abc/",
        "chat/rooms/abc/",
        "chat/messages/1.5/",
        "rbac/roles/abc/",
        "billing/payments/x/",
    ],
)
def test_malformed_ids_are_a_json_404(tenant_a, make_user, auth_client, path):
    owner = make_user(email="owner-ids@example.com", tenant=tenant_a, role="owner")
    client = auth_client(owner, tenant_a)
    for method in ("get", "post", "patch", "delete"):
        response = getattr(client, method)(f"/api/v1/{path}", {}, format="json")
        assert response.status_code == 404, (method, path, response.content)
        assert response.json()["error"]["code"] in ("not_found", "error")
