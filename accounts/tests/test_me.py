"""The signed-in user's profile."""

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"


def test_read_and_update_my_profile(make_user, tenant_a, auth_client):
    user = make_user(email="ann@example.com", tenant=tenant_a, name="Ann")
    client = auth_client(user, tenant_a)
    me = client.get(ME).json()
    assert me == {
        "id": str(user.pk),
        "email": "ann@example.com",
        "name": "Ann",
        "email_verified": True,
        "mfa_enabled": False,
        "date_joined": me["date_joined"],
    }
    updated = client.patch(ME, {"name": "Ann Smith", "email": "evil@example.com"}, format="json")
    assert updated.status_code == 200
    assert updated.json()["name"] == "Ann Smith"
    user.refresh_from_db()
    assert user.name == "Ann Smith" and user.email == "ann@example.com"


def test_update_bad_input_writes_nothing(make_user, tenant_a, auth_client, unchanged):
    user = make_user(tenant=tenant_a, name="Ann")
    client = auth_client(user, tenant_a)
    with unchanged():
        response = client.patch(ME, {"name": "x" * 151}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]
    assert User.objects.get(pk=user.pk).name == "Ann"


def test_token_of_tenant_a_is_refused_on_tenant_b(make_user, tenant_a, tenant_b, auth_client):
    user = make_user(tenant=tenant_a)
    client = auth_client(user, tenant_a)
    client.defaults["HTTP_HOST"] = "beta.localhost"
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_wrong_tenant"
