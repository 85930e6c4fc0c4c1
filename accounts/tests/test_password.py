"""Forgot/reset password (single use, 1 h, signs out everywhere) and change password."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import OneTimeToken, SecurityEvent, Session
from accounts.services import session_start
from accounts.tests.conftest import link_token
from accounts.tests.test_sessions import client_for

pytestmark = pytest.mark.django_db

FORGOT = "/api/v1/auth/password/forgot/"
RESET = "/api/v1/auth/password/reset/"
CHANGE = "/api/v1/auth/password/change/"
NEW = "Brand-new-pass-77"


@pytest.fixture
def ann(make_user, tenant_a):
    return make_user(email="ann@example.com", tenant=tenant_a)


def forgot(client, capture, email):
    with capture(execute=True):
        return client.post(FORGOT, {"email": email}, format="json")


def test_forgot_password_answers_alike_and_mails_only_real_accounts(
    client_a, ann, django_capture_on_commit_callbacks
):
    real = forgot(client_a, django_capture_on_commit_callbacks, "ann@example.com")
    ghost = forgot(client_a, django_capture_on_commit_callbacks, "ghost@example.com")
    assert real.status_code == ghost.status_code == 202
    assert real.json() == ghost.json()
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert "http://alpha.localhost/reset-password?token=" in mail.outbox[0].body
    token = OneTimeToken.objects.get(purpose="reset_password")
    assert timedelta(minutes=59) < token.expires_at - timezone.now() <= timedelta(hours=1)
    assert token.token_hash != link_token(mail.outbox[0].body)


def test_reset_password_sets_it_signs_out_everywhere_and_is_single_use(
    client_a,
    ann,
    tenant_a,
    tenant_b,
    login,
    password,
    django_capture_on_commit_callbacks,
    unchanged,
):
    _s, tokens_a = session_start(user=ann, tenant=tenant_a)
    _s, tokens_b = session_start(user=ann, tenant=tenant_b)
    forgot(client_a, django_capture_on_commit_callbacks, "ann@example.com")
    raw = link_token(mail.outbox[0].body)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(RESET, {"token": raw, "password": NEW}, format="json")
    assert response.status_code == 200
    assert client_for(tokens_a).get("/api/v1/auth/me/").status_code == 401
    assert client_for(tokens_b, host="beta.localhost").get("/api/v1/auth/me/").status_code == 401
    assert login("ann@example.com", password).status_code == 401
    assert login("ann@example.com", NEW).status_code == 200
    assert "password was just changed" in mail.outbox[-1].body
    assert SecurityEvent.objects.filter(kind="password_reset", user=ann).exists()

    with unchanged():
        again = client_a.post(RESET, {"token": raw, "password": "Another-pass-88"}, format="json")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_token"
    ann.refresh_from_db()
    assert ann.check_password(NEW)


def test_expired_reset_token_is_refused(
    client_a, ann, tenant_a, password, django_capture_on_commit_callbacks, unchanged
):
    session, _tokens = session_start(user=ann, tenant=tenant_a)
    forgot(client_a, django_capture_on_commit_callbacks, "ann@example.com")
    OneTimeToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with unchanged():
        response = client_a.post(
            RESET, {"token": link_token(mail.outbox[0].body), "password": NEW}, format="json"
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_token"
    ann.refresh_from_db()
    assert ann.check_password(password)
    session.refresh_from_db()
    assert session.revoked_at is None


def test_reset_with_a_weak_password_keeps_the_token_usable(
    client_a, ann, password, django_capture_on_commit_callbacks, unchanged
):
    forgot(client_a, django_capture_on_commit_callbacks, "ann@example.com")
    raw = link_token(mail.outbox[0].body)
    with unchanged():
        weak = client_a.post(RESET, {"token": raw, "password": "abc"}, format="json")
    assert weak.status_code == 400
    assert "password" in weak.json()["error"]["fields"]
    ann.refresh_from_db()
    assert ann.check_password(password)
    assert client_a.post(RESET, {"token": raw, "password": NEW}, format="json").status_code == 200


@pytest.mark.parametrize("payload", [{}, {"token": "x"}, {"password": NEW}])
def test_reset_bad_input(client_a, payload, unchanged):
    with unchanged():
        response = client_a.post(RESET, payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]


def test_change_password_requires_the_current_one_and_revokes_other_sessions(
    ann, tenant_a, login, password, django_capture_on_commit_callbacks, unchanged
):
    _current, tokens = session_start(user=ann, tenant=tenant_a)
    _other, other_tokens = session_start(user=ann, tenant=tenant_a)
    client = client_for(tokens)

    with unchanged():
        wrong = client.post(CHANGE, {"current_password": "nope-1234", "new_password": NEW})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "wrong_password"
    assert "current_password" in wrong.json()["error"]["fields"]

    with unchanged():
        weak = client.post(CHANGE, {"current_password": password, "new_password": "ann@example"})
    assert weak.status_code == 400
    assert "new_password" in weak.json()["error"]["fields"]
    assert Session.objects.filter(revoked_at__isnull=True).count() == 2
    ann.refresh_from_db()
    assert ann.check_password(password)

    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(CHANGE, {"current_password": password, "new_password": NEW})
    assert ok.status_code == 204
    assert client.get("/api/v1/auth/me/").status_code == 200  # this session lives on
    assert client_for(other_tokens).get("/api/v1/auth/me/").status_code == 401
    assert login("ann@example.com", NEW).status_code == 200
    assert SecurityEvent.objects.filter(kind="password_changed", user=ann).exists()
    assert len(mail.outbox) == 1


def test_change_password_needs_authentication(client_a, unchanged):
    with unchanged():
        response = client_a.post(CHANGE, {"current_password": "a", "new_password": "b"})
    assert response.status_code == 401
