"""The admin's sign-in goes through the accounts services: lockout, throttling, unverified
accounts, memberships, MFA, security events; admin sessions end with their accounts Session."""

import re

import pyotp
import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts import services
from accounts.admin_site import SESSION_KEY
from accounts.models import RecoveryCode, SecurityEvent, Session, TotpDevice
from accounts.services._common import RequestMeta, secret_hash
from tenants.models import Membership

pytestmark = pytest.mark.django_db


def _client(host: str) -> Client:
    return Client(HTTP_HOST=host)


def _sign_in(client: Client, email: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password})


def _signed_in(client: Client) -> bool:
    response = client.get("/admin/")
    return response.status_code == 200 and "Log out" in response.content.decode()


@pytest.fixture
def staff(make_user):
    return make_user(email="staff@platform.test", is_staff=True, is_superuser=True)


@pytest.fixture
def owner(make_user, tenant_a):
    return make_user(email="owner@alpha.test", tenant=tenant_a, role="owner")


def _with_totp(user) -> pyotp.TOTP:
    secret = pyotp.random_base32()
    TotpDevice.objects.create(user=user, secret=secret, confirmed_at=timezone.now())
    return pyotp.TOTP(secret)


def test_platform_staff_signs_in_on_the_public_host_with_a_bound_session(staff, password):
    client = _client("localhost")
    response = _sign_in(client, staff.email, password)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    session = Session.objects.get(user=staff)
    assert session.tenant.schema_name == "public" and session.is_active
    assert client.session[SESSION_KEY] == {"public": str(session.pk)}
    assert SecurityEvent.objects.filter(user=staff, kind="login_succeeded").exists()
    assert _signed_in(client)


def test_a_non_staff_account_cannot_use_the_platform_admin(make_user, password):
    user = make_user(email="plain@example.com")
    client = _client("localhost")
    response = _sign_in(client, user.email, password)
    assert response.status_code == 200
    assert "Please enter the correct email address and password" in response.content.decode()
    assert not Session.objects.filter(user=user).exists()
    # The public host admits nobody as a member.
    assert not Membership.objects.filter(user=user).exists()
    assert not _signed_in(client)


def test_totp_is_required_when_mfa_is_on(staff, password):
    totp = _with_totp(staff)
    client = _client("localhost")
    response = _sign_in(client, staff.email, password)
    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()
    assert not Session.objects.filter(user=staff).exists()
    assert not _signed_in(client)

    wrong = client.post("/admin/login/", {"step": "mfa", "code": "000000"})
    assert "The code is incorrect." in wrong.content.decode()
    assert not Session.objects.filter(user=staff).exists()

    right = client.post("/admin/login/", {"step": "mfa", "code": totp.now(), "next": "/admin/"})
    assert right.status_code == 302
    session = Session.objects.get(user=staff)
    assert session.mfa_verified
    assert _signed_in(client)


def test_a_recovery_code_replaces_the_totp_code_once(staff, password):
    _with_totp(staff)
    RecoveryCode.objects.create(user=staff, code_hash=secret_hash("abcdefghjk"))
    client = _client("localhost")
    _sign_in(client, staff.email, password)
    response = client.post("/admin/login/", {"step": "mfa", "recovery_code": "abcde-fghjk"})
    assert response.status_code == 302
    assert RecoveryCode.objects.get(user=staff).used_at is not None
    assert SecurityEvent.objects.filter(user=staff, kind="recovery_code_used").exists()

    again = _client("localhost")
    _sign_in(again, staff.email, password)
    refused = again.post("/admin/login/", {"step": "mfa", "recovery_code": "abcde-fghjk"})
    assert refused.status_code == 200 and not _signed_in(again)


def test_repeated_failures_lock_the_account_like_the_api(staff, password, client_a):
    client = _client("localhost")
    for _ in range(4):
        assert _sign_in(client, staff.email, "wrong-password-1").status_code == 200
    locked = _sign_in(client, staff.email, "wrong-password-1")
    assert locked.status_code == 403
    assert "locked" in locked.content.decode()
    # The right password does not open a locked account, in the admin or through the API.
    assert _sign_in(client, staff.email, password).status_code == 403
    assert not Session.objects.filter(user=staff).exists()
    assert not _signed_in(client)
    api = client_a.post(
        "/api/v1/auth/login/", {"email": staff.email, "password": password}, format="json"
    )
    assert api.status_code == 403 and api.json()["error"]["code"] == "account_locked"
    assert SecurityEvent.objects.filter(email=staff.email, kind="locked_out").count() == 1


def test_an_api_lockout_closes_the_admin_too(staff, password, client_a):
    for _ in range(5):
        client_a.post(
            "/api/v1/auth/login/", {"email": staff.email, "password": "nope-123"}, format="json"
        )
    assert _sign_in(_client("localhost"), staff.email, password).status_code == 403


def test_sign_in_attempts_are_throttled_per_client(staff, password, monkeypatch):
    from accounts.throttles import AuthRateThrottle

    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    client = _client("localhost")
    for _ in range(3):
        assert _sign_in(client, "nobody@example.com", "wrong-password-1").status_code == 200
    throttled = _sign_in(client, staff.email, password)
    assert throttled.status_code == 429
    assert not Session.objects.filter(user=staff).exists()


def test_an_unverified_account_is_refused(make_user, tenant_a, password):
    user = make_user(email="new@alpha.test", tenant=tenant_a, role="owner", email_verified_at=None)
    client = _client("alpha.localhost")
    response = _sign_in(client, user.email, password)
    assert response.status_code == 403
    assert "Confirm your email address" in response.content.decode()
    assert not Session.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    "end",
    [
        lambda user, session, tenant: services.logout_all(
            user=user, meta=RequestMeta(tenant=tenant)
        ),
        lambda user, session, tenant: services.session_revoke(
            session=session, reason="revoked_by_admin"
        ),
        lambda user, session, tenant: services.membership_remove(user=user, tenant=tenant),
        lambda user, session, tenant: services.password_change(
            user=user,
            current_password="Correct-Horse-42-battery",
            new_password="Another-Horse-43-battery",
            meta=RequestMeta(tenant=tenant),
            session_id=None,
        ),
    ],
    ids=["logout_all", "admin_revoke", "membership_removed", "password_changed"],
)
def test_ending_the_accounts_session_signs_the_admin_out_at_once(owner, tenant_a, password, end):
    client = _client("alpha.localhost")
    assert _sign_in(client, owner.email, password).status_code == 302
    assert _signed_in(client)
    session = Session.objects.get(user=owner)
    end(owner, session, tenant_a)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get("/admin/catalog/product/").status_code == 302


def test_admin_logout_ends_the_accounts_session(owner, password):
    client = _client("alpha.localhost")
    _sign_in(client, owner.email, password)
    client.post("/admin/logout/")
    assert not Session.objects.get(user=owner).is_active


def test_the_admin_session_of_one_workspace_does_not_open_another(owner, tenant_b, password):
    membership_owner_b = services.membership_set(user=owner, tenant=tenant_b, role="owner")
    assert membership_owner_b
    client = _client("alpha.localhost")
    _sign_in(client, owner.email, password)
    # Same cookie jar, another workspace's host: no session bound there.
    response = client.get("/admin/", HTTP_HOST="beta.localhost")
    assert response.status_code == 302


def test_the_admin_url_returned_by_signup_works_for_the_new_owner(
    public_client, celery_eager, django_capture_on_commit_callbacks
):
    body = {
        "name": "Gamma",
        "slug": "gamma",
        "owner_email": "founder@gamma.test",
        "owner_password": "Sturdy-Pass-2026",
    }
    with django_capture_on_commit_callbacks(execute=True):
        asked = public_client.post("/api/v1/tenants/", body, format="json")
    assert asked.status_code == 202, asked.json()
    # Following the emailed link creates the workspace; the owner proved the address by it.
    link = next(m for m in mail.outbox if m.to == ["founder@gamma.test"]).body
    token = re.search(r"\?token=([A-Za-z0-9_\-]+)", link).group(1)
    response = public_client.post("/api/v1/tenants/confirm/", {"token": token}, format="json")
    assert response.status_code == 201, response.json()
    admin_url = response.json()["admin"]
    assert admin_url == "http://gamma.localhost/admin/"
    client = _client("gamma.localhost")
    assert _sign_in(client, "founder@gamma.test", "Sturdy-Pass-2026").status_code == 302
    assert _signed_in(client)


def test_the_admin_password_change_is_the_accounts_one(owner, tenant_a, password):
    other, _ = services.session_start(user=owner, tenant=tenant_a)
    client = _client("alpha.localhost")
    _sign_in(client, owner.email, password)
    wrong = client.post(
        "/admin/password_change/",
        {
            "old_password": "nope",
            "new_password1": "New-Pass-2027x",
            "new_password2": "New-Pass-2027x",
        },
    )
    assert wrong.status_code == 200 and "The password is incorrect." in wrong.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(password)
    other.refresh_from_db()
    assert other.is_active

    response = client.post(
        "/admin/password_change/",
        {
            "old_password": password,
            "new_password1": "New-Pass-2027x",
            "new_password2": "New-Pass-2027x",
        },
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("New-Pass-2027x")
    other.refresh_from_db()
    assert not other.is_active  # every other session is signed out
    assert _signed_in(client)  # this one stays
    assert SecurityEvent.objects.filter(user=owner, kind="password_changed").exists()
