"""Who may register and sign in on a workspace's host, and what leaving a workspace does."""

import re

import pytest
from django.core import mail

from accounts.models import User
from accounts.services import membership_remove
from tenants.models import Membership


def _login(client, email, password):
    return client.post("/api/v1/auth/login/", {"email": email, "password": password}, format="json")


@pytest.mark.django_db
def test_registering_on_an_open_workspace_makes_a_member_once_the_address_is_confirmed(
    client_a, tenant_a, password, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(
            "/api/v1/auth/register/",
            {"email": "new@shop.test", "password": password, "name": "New"},
            format="json",
        )
    assert response.status_code == 202
    user = User.objects.get(email="new@shop.test")
    assert not Membership.objects.filter(user=user).exists()
    token = re.search(r"\?token=([A-Za-z0-9_\-]+)", mail.outbox[-1].body).group(1)
    verified = client_a.post("/api/v1/auth/verify-email/", {"token": token}, format="json")
    assert verified.status_code == 200
    assert Membership.objects.get(user=user, tenant=tenant_a).role == "member"


@pytest.mark.django_db
def test_a_closed_workspace_refuses_sign_up_and_non_members(
    client_a, tenant_a, make_user, password
):
    tenant_a.allow_self_signup = False
    tenant_a.save(update_fields=["allow_self_signup"])
    outbox = len(mail.outbox)
    response = client_a.post(
        "/api/v1/auth/register/",
        {"email": "new@shop.test", "password": password, "name": "New"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "signup_closed"
    assert not User.objects.filter(email="new@shop.test").exists()
    assert len(mail.outbox) == outbox

    make_user(email="stranger@example.com")  # a verified account, member of nothing
    refused = _login(client_a, "stranger@example.com", password)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_a_member"
    assert "access" not in refused.json()


@pytest.mark.django_db
def test_signing_in_on_an_open_workspace_joins_it(
    client_b, tenant_a, tenant_b, make_user, password
):
    user = make_user(email="roamer@example.com", tenant=tenant_a)
    response = _login(client_b, "roamer@example.com", password)
    assert response.status_code == 200
    assert Membership.objects.get(user=user, tenant=tenant_b).role == "member"


@pytest.mark.django_db
def test_removing_a_membership_ends_the_sessions_on_that_workspace_only(
    tenant_a, tenant_b, make_user, auth_client
):
    user = make_user(tenant=tenant_a)
    Membership.objects.create(user=user, tenant=tenant_b, role="member")
    on_a, on_b = auth_client(user, tenant_a), auth_client(user, tenant_b)
    assert on_a.get("/api/v1/auth/me/").status_code == 200
    assert membership_remove(user=user, tenant=tenant_a) is True
    assert on_a.get("/api/v1/auth/me/").status_code == 401
    assert on_b.get("/api/v1/auth/me/").status_code == 200
    assert membership_remove(user=user, tenant=tenant_a) is False
