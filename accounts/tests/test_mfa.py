"""TOTP multi-factor authentication: enrolment, the second sign-in step, recovery codes."""

import pytest
from rest_framework.test import APIClient

from accounts.models import RecoveryCode, SecurityEvent, Session, TotpDevice
from accounts.services import session_start
from accounts.tests.conftest import totp_code
from accounts.tests.test_sessions import client_for

pytestmark = pytest.mark.django_db

ENROLL = "/api/v1/auth/mfa/totp/enroll/"
CONFIRM = "/api/v1/auth/mfa/totp/confirm/"
LOGIN_MFA = "/api/v1/auth/login/mfa/"


@pytest.fixture
def ann(make_user, tenant_a):
    return make_user(email="ann@example.com", tenant=tenant_a)


@pytest.fixture
def ann_client(ann, tenant_a):
    _session, tokens = session_start(user=ann, tenant=tenant_a)
    return client_for(tokens)


@pytest.fixture
def enrolled(ann_client):
    """(secret, recovery codes) of an account with MFA on."""
    secret = ann_client.post(ENROLL).json()["secret"]
    codes = ann_client.post(CONFIRM, {"code": totp_code(secret)}).json()["recovery_codes"]
    TotpDevice.objects.update(last_used_step=0)  # let tests reuse the current step once more
    return secret, codes


def test_enroll_and_confirm_turn_mfa_on_with_hashed_recovery_codes(ann, ann_client, unchanged):
    enroll = ann_client.post(ENROLL)
    assert enroll.status_code == 200
    secret = enroll.json()["secret"]
    assert enroll.json()["otpauth_uri"].startswith("otpauth://totp/Platform:ann%40example.com?")
    assert ann_client.get("/api/v1/auth/me/").json()["mfa_enabled"] is False

    with unchanged():
        wrong = ann_client.post(CONFIRM, {"code": "000000"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "invalid_mfa_code"
    assert TotpDevice.objects.get(user=ann).confirmed_at is None

    confirm = ann_client.post(CONFIRM, {"code": totp_code(secret)})
    assert confirm.status_code == 200
    codes = confirm.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(RecoveryCode.objects.filter(user=ann).values_list("code_hash", flat=True))
    assert not stored & set(codes) and all(len(h) == 64 for h in stored)
    assert ann_client.get("/api/v1/auth/me/").json()["mfa_enabled"] is True
    assert SecurityEvent.objects.filter(kind="mfa_enabled", user=ann).exists()
    device = TotpDevice.objects.get(user=ann)
    with unchanged():
        assert ann_client.post(ENROLL).status_code == 409
    assert TotpDevice.objects.get(user=ann).secret == device.secret


def test_confirm_without_enrolment_is_a_conflict(ann_client, unchanged):
    with unchanged():
        response = ann_client.post(CONFIRM, {"code": "123456"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "mfa_not_enrolled"


def test_login_with_mfa_needs_a_second_step(enrolled, login, password, client_a, unchanged):
    secret, _codes = enrolled
    first = login("ann@example.com", password)
    assert first.status_code == 200
    body = first.json()
    assert body["mfa_required"] is True and "access" not in body
    sessions_before = Session.objects.count()

    with unchanged(events=1):  # mfa_failed
        wrong = client_a.post(LOGIN_MFA, {"mfa_token": body["mfa_token"], "code": "000000"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "invalid_mfa_code"
    assert Session.objects.count() == sessions_before

    ok = client_a.post(LOGIN_MFA, {"mfa_token": body["mfa_token"], "code": totp_code(secret)})
    assert ok.status_code == 200
    assert ok.json()["session"]["mfa_verified"] is True
    assert ok.json()["user"]["mfa_enabled"] is True
    # The challenge and the code are single use.
    with unchanged():
        again = client_a.post(
            LOGIN_MFA, {"mfa_token": body["mfa_token"], "code": totp_code(secret)}
        )
    assert again.status_code in (400, 401)


def test_a_totp_code_is_accepted_only_once(enrolled, login, password, client_a, unchanged):
    secret, _codes = enrolled
    code = totp_code(secret)
    first = login("ann@example.com", password).json()["mfa_token"]
    assert client_a.post(LOGIN_MFA, {"mfa_token": first, "code": code}).status_code == 200
    second = login("ann@example.com", password).json()["mfa_token"]
    with unchanged(events=1):  # mfa_failed
        replay = client_a.post(LOGIN_MFA, {"mfa_token": second, "code": code})
    assert replay.status_code == 400


def test_recovery_codes_work_once_each(enrolled, login, password, client_a, unchanged):
    _secret, codes = enrolled
    challenge = login("ann@example.com", password).json()["mfa_token"]
    used = client_a.post(LOGIN_MFA, {"mfa_token": challenge, "recovery_code": codes[0].upper()})
    assert used.status_code == 200
    challenge = login("ann@example.com", password).json()["mfa_token"]
    with unchanged(events=1):  # mfa_failed
        reuse = client_a.post(LOGIN_MFA, {"mfa_token": challenge, "recovery_code": codes[0]})
    assert reuse.status_code == 400
    assert RecoveryCode.objects.filter(used_at__isnull=False).count() == 1
    assert SecurityEvent.objects.filter(kind="recovery_code_used").count() == 1


def test_too_many_wrong_codes_burn_the_challenge_and_lock_the_account(
    enrolled, login, password, client_a
):
    secret, _codes = enrolled
    challenge = login("ann@example.com", password).json()["mfa_token"]
    answers = [
        client_a.post(LOGIN_MFA, {"mfa_token": challenge, "code": "000000"}).status_code
        for _ in range(5)
    ]
    assert answers == [400, 400, 400, 400, 403]
    response = client_a.post(LOGIN_MFA, {"mfa_token": challenge, "code": totp_code(secret)})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "mfa_token_invalid"
    assert SecurityEvent.objects.filter(kind="mfa_failed").count() == 5
    assert SecurityEvent.objects.filter(kind="locked_out").count() == 1
    # A fresh challenge does not help: the account is locked.
    assert login("ann@example.com", password).json()["error"]["code"] == "account_locked"


def test_a_good_code_resets_the_failure_count(enrolled, login, password, client_a):
    secret, _codes = enrolled
    for _ in range(3):
        challenge = login("ann@example.com", password).json()["mfa_token"]
        client_a.post(LOGIN_MFA, {"mfa_token": challenge, "code": "000000"})
    challenge = login("ann@example.com", password).json()["mfa_token"]
    assert (
        client_a.post(LOGIN_MFA, {"mfa_token": challenge, "code": totp_code(secret)}).status_code
        == 200
    )
    challenge = login("ann@example.com", password).json()["mfa_token"]
    for _ in range(4):
        response = client_a.post(LOGIN_MFA, {"mfa_token": challenge, "code": "000000"})
        assert response.status_code == 400


def test_mfa_challenge_is_bound_to_its_tenant(enrolled, login, password, unchanged):
    secret, _codes = enrolled
    challenge = login("ann@example.com", password).json()["mfa_token"]
    with unchanged():
        other = APIClient(HTTP_HOST="beta.localhost").post(
            LOGIN_MFA, {"mfa_token": challenge, "code": totp_code(secret)}
        )
    assert other.status_code == 401
    assert TotpDevice.objects.get().last_used_step == 0  # the code was not spent


@pytest.mark.parametrize(
    "payload",
    [{}, {"mfa_token": "x"}, {"mfa_token": "x", "code": "1", "recovery_code": "2"}],
)
def test_login_mfa_bad_input(client_a, payload, unchanged):
    with unchanged():
        response = client_a.post(LOGIN_MFA, payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]


def test_forged_challenge_is_refused(client_a, unchanged):
    with unchanged():
        response = client_a.post(LOGIN_MFA, {"mfa_token": "forged", "code": "123456"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "mfa_token_invalid"


def test_regenerate_recovery_codes_needs_the_password(enrolled, ann_client, password, unchanged):
    _secret, old_codes = enrolled
    stored = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    with unchanged():
        wrong = ann_client.post("/api/v1/auth/mfa/recovery-codes/", {"password": "nope-123"})
    assert wrong.status_code == 400
    assert set(RecoveryCode.objects.values_list("code_hash", flat=True)) == stored
    new = ann_client.post("/api/v1/auth/mfa/recovery-codes/", {"password": password})
    assert new.status_code == 200
    assert set(new.json()["recovery_codes"]).isdisjoint(old_codes)
    assert RecoveryCode.objects.count() == 10


def test_disable_mfa_with_password(ann, enrolled, ann_client, password, login, unchanged):
    with unchanged():
        wrong = ann_client.post("/api/v1/auth/mfa/disable/", {"password": "nope-123"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "wrong_password"
    assert TotpDevice.objects.filter(user=ann).exists()

    assert ann_client.post("/api/v1/auth/mfa/disable/", {"password": password}).status_code == 204
    assert not TotpDevice.objects.exists() and not RecoveryCode.objects.exists()
    assert SecurityEvent.objects.filter(kind="mfa_disabled", user=ann).exists()
    assert login("ann@example.com", password).json()["mfa_required"] is False
    with unchanged():
        again = ann_client.post("/api/v1/auth/mfa/disable/", {"password": password})
    assert again.status_code == 409


def test_mfa_endpoints_need_authentication(client_a, unchanged):
    with unchanged():
        for path in (ENROLL, CONFIRM, "/api/v1/auth/mfa/disable/"):
            assert client_a.post(path).status_code == 401


def test_fresh_challenges_do_not_reset_the_count_of_wrong_codes(
    enrolled, login, password, client_a
):
    answers = []
    for _ in range(5):
        challenge = login("ann@example.com", password).json()["mfa_token"]
        response = client_a.post(LOGIN_MFA, {"mfa_token": challenge, "code": "000000"})
        answers.append(response.status_code)
    assert answers == [400, 400, 400, 400, 403]
