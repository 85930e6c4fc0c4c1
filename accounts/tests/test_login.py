"""Password sign-in: tokens and session, lockout, unverified accounts, throttling, Argon2."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import lockout
from accounts.models import SecurityEvent, Session, User

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"


def test_login_returns_tokens_the_session_and_the_user(
    client_a, tenant_a, make_user, password, login, bearer
):
    user = make_user(email="ann@example.com", tenant=tenant_a)
    response = login("ANN@example.com", password)
    assert response.status_code == 200
    body = response.json()
    assert body["mfa_required"] is False
    assert body["user"]["email"] == "ann@example.com"
    assert body["session"]["current"] is True
    session = Session.objects.get(pk=body["session"]["id"])
    assert session.user == user and session.tenant == tenant_a
    assert session.ip_address == "127.0.0.1"
    me = bearer(APIClient(HTTP_HOST="alpha.localhost"), body["access"]).get("/api/v1/auth/me/")
    assert me.status_code == 200 and me.json()["email"] == "ann@example.com"
    assert SecurityEvent.objects.filter(user=user, kind="login_succeeded").count() == 1


def test_argon2_is_the_configured_first_hasher_and_login_works_with_it(
    argon2, make_user, password, login
):
    from django.conf import settings

    assert settings.PASSWORD_HASHERS[0] == "accounts.hashers.PlatformArgon2PasswordHasher"
    user = make_user(email="argon@example.com")
    assert user.password.startswith("argon2$argon2id$")
    assert login("argon@example.com", password).status_code == 200


def test_unknown_email_and_wrong_password_get_the_same_answer(make_user, login, unchanged):
    make_user(email="real@example.com")
    # Each refusal is logged as a security event, and nothing else is written.
    with unchanged(events=1):
        wrong = login("real@example.com", "Wrong-password-1")
    with unchanged(events=1):
        unknown = login("ghost@example.com", "Wrong-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    assert SecurityEvent.objects.filter(kind="login_failed").count() == 2


def test_unverified_account_cannot_log_in(make_user, password, login, unchanged):
    user = make_user(email="new@example.com", email_verified_at=None)
    with unchanged(events=1):
        response = login("new@example.com", password)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "email_not_verified"
    assert not Session.objects.exists()
    assert SecurityEvent.objects.get().kind == "login_unverified"
    user.refresh_from_db()
    assert user.last_login is None


def test_inactive_account_cannot_log_in(make_user, password, login, unchanged):
    make_user(email="gone@example.com", is_active=False)
    with unchanged(events=1):
        response = login("gone@example.com", password)
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert SecurityEvent.objects.get().kind == "login_failed"


def test_five_failures_lock_the_account_for_30_minutes(make_user, password, login, monkeypatch):
    user = make_user(email="victim@example.com")
    for _ in range(4):
        assert login("victim@example.com", "Wrong-password-1").status_code == 401
    fifth = login("victim@example.com", "Wrong-password-1")
    assert fifth.status_code == 403
    assert fifth.json()["error"]["code"] == "account_locked"
    assert fifth.json()["error"]["retry_after"] == 1800
    # Even the right password is refused while locked.
    locked = login("victim@example.com", password)
    assert locked.status_code == 403
    assert 1790 < locked.json()["error"]["retry_after"] <= 1801
    event = SecurityEvent.objects.get(kind="locked_out")
    assert event.user == user and event.email == "victim@example.com"
    assert not Session.objects.exists()

    # 30 minutes later the lock is gone and the right password works.
    later = timezone.now() + timedelta(minutes=30, seconds=1)
    monkeypatch.setattr(lockout, "_now", lambda: later)
    assert login("victim@example.com", password).status_code == 200


def test_unknown_emails_lock_exactly_like_real_ones(login, unchanged):
    # Five failures and one lockout are logged; a request refused while locked logs nothing.
    with unchanged(events=6):
        answers = [login("ghost@example.com", "Wrong-password-1").status_code for _ in range(6)]
    assert answers == [401, 401, 401, 401, 403, 403]
    assert not User.objects.filter(email="ghost@example.com").exists()


def test_a_success_resets_the_failure_count(make_user, password, login):
    make_user(email="oops@example.com")
    for _ in range(4):
        login("oops@example.com", "Wrong-password-1")
    assert login("oops@example.com", password).status_code == 200
    for _ in range(4):
        assert login("oops@example.com", "Wrong-password-1").status_code == 401


@pytest.mark.parametrize(
    "payload",
    [{}, {"email": "x@example.com"}, {"email": "nope", "password": "x"}, {"password": "x"}],
)
def test_login_bad_input(client_a, payload, unchanged):
    with unchanged():
        response = client_a.post(LOGIN, payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["fields"]
    assert not SecurityEvent.objects.exists()


def test_auth_endpoints_are_throttled(client_a, settings):
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/min"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [
            client_a.post(LOGIN, {"email": f"t{i}@example.com", "password": "Wrong-1x"}).status_code
            for i in range(4)
        ]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
    assert codes == [401, 401, 401, 429]
    # The throttled attempt never reached the service: three failures logged, not four.
    assert SecurityEvent.objects.filter(kind="login_failed").count() == 3


def test_login_on_one_tenant_gives_a_token_refused_on_another(
    make_user, password, login, bearer, tenant_a
):
    make_user(email="ann@example.com", tenant=tenant_a)
    access = login("ann@example.com", password).json()["access"]
    client_b = bearer(APIClient(HTTP_HOST="beta.localhost"), access)
    response = client_b.get("/api/v1/auth/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_wrong_tenant"
    assert not Session.objects.filter(tenant__slug="beta").exists()


def test_a_forged_x_forwarded_for_neither_dodges_the_throttle_nor_lands_in_events(client_a):
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**original, "auth": "2/min"}
    try:
        codes = [
            client_a.post(
                LOGIN,
                {"email": "t@example.com", "password": "Wrong-1x"},
                HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
            ).status_code
            for i in range(3)
        ]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
    assert codes == [401, 401, 429]
    assert SecurityEvent.objects.count() == 2
    assert set(SecurityEvent.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
