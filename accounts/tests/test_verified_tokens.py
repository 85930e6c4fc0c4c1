"""A verified access token is not verified again while it lives (accounts.authentication):
its expiry, its session and its user still are, at every request."""

from datetime import timedelta

import pytest
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.utils import aware_utcnow

from accounts import authentication
from accounts.services import session_start, sessions_revoke_for_tenant

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"


@pytest.fixture
def decodes(monkeypatch):
    """How many times a token's signature was checked."""
    calls: list[int] = []
    original = TokenBackend.decode

    def counting(self, token, verify=True):
        calls.append(1)
        return original(self, token, verify)

    monkeypatch.setattr(TokenBackend, "decode", counting)
    monkeypatch.setattr(authentication, "_verified", {})
    return calls


@pytest.fixture
def signed_in(make_user, tenant_a, client_a):
    user = make_user(email="tok@example.com", tenant=tenant_a, role="member")
    _session, tokens = session_start(user=user, tenant=tenant_a)
    client_a.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    client_a.user = user
    return client_a, tokens["access"]


def test_a_token_is_verified_once_while_it_lives(signed_in, decodes):
    client, _access = signed_in
    for _ in range(3):
        assert client.get(ME).status_code == 200
    assert len(decodes) == 1


def test_a_remembered_token_still_expires(signed_in, decodes, monkeypatch):
    client, _access = signed_in
    assert client.get(ME).status_code == 200
    later = aware_utcnow() + timedelta(days=1)
    monkeypatch.setattr(authentication, "aware_utcnow", lambda: later)
    monkeypatch.setattr("rest_framework_simplejwt.tokens.aware_utcnow", lambda: later)
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_a_remembered_token_whose_session_ends_is_refused(signed_in, decodes, tenant_a):
    client, _access = signed_in
    assert client.get(ME).status_code == 200
    sessions_revoke_for_tenant(user=client.user, tenant=tenant_a, reason="test")
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_revoked"


def test_a_token_altered_after_a_good_one_was_remembered_is_refused(signed_in, decodes):
    client, access = signed_in
    assert client.get(ME).status_code == 200
    head, payload, signature = access.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(authentication, "_verified", {})
    monkeypatch.setattr(authentication, "VERIFIED_TOKENS_MAX", 3)
    for n in range(7):
        authentication._remember_verified(f"t{n}".encode(), object())
        assert len(authentication._verified) <= 3


def test_a_remembered_token_is_still_refused_on_another_workspace(
    signed_in, decodes, client_b, tenant_b
):
    from rest_framework_simplejwt.exceptions import AuthenticationFailed

    from accounts.authentication import user_for_access_token

    client, access = signed_in
    assert client.get(ME).status_code == 200  # remembered now
    client_b.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    response = client_b.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_wrong_tenant"
    # The websocket door reads the same table and applies the same check.
    with pytest.raises(AuthenticationFailed) as refused:
        user_for_access_token(access, schema_name=tenant_b.schema_name)
    assert refused.value.detail["code"] == "token_wrong_tenant"
    assert len(decodes) == 1
