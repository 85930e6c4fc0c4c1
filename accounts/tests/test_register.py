"""Registration, email verification and resending, through the tenant host."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import OneTimeToken, SecurityEvent, User
from accounts.tests.conftest import link_token

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
VERIFY = "/api/v1/auth/verify-email/"
RESEND = "/api/v1/auth/verify-email/resend/"


def register(client, capture, email="new@example.com", password="Sturdy-Pass-2024", name="New"):
    with capture(execute=True):
        return client.post(
            REGISTER, {"email": email, "password": password, "name": name}, format="json"
        )


def test_register_creates_an_unverified_user_and_emails_a_link_to_the_tenant_host(
    client_a, django_capture_on_commit_callbacks
):
    response = register(client_a, django_capture_on_commit_callbacks, email="New@Example.com")
    assert response.status_code == 202
    user = User.objects.get(email="new@example.com")
    assert user.email_verified_at is None and user.name == "New"
    assert user.password.startswith("md5$") or user.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@example.com"]
    assert "http://alpha.localhost/verify-email?token=" in message.body
    token = OneTimeToken.objects.get(user=user)
    raw = link_token(message.body)
    assert token.token_hash != raw and len(token.token_hash) == 64  # stored hashed
    assert (
        timedelta(hours=23, minutes=59) < token.expires_at - timezone.now() <= timedelta(hours=24)
    )
    assert SecurityEvent.objects.filter(user=user, kind="registered").exists()


def test_verify_email_is_single_use(client_a, django_capture_on_commit_callbacks, login, unchanged):
    register(client_a, django_capture_on_commit_callbacks)
    raw = link_token(mail.outbox[0].body)
    assert login("new@example.com", "Sturdy-Pass-2024").json()["error"]["code"] == (
        "email_not_verified"
    )

    assert client_a.post(VERIFY, {"token": raw}, format="json").status_code == 200
    verified_at = User.objects.get(email="new@example.com").email_verified_at
    assert verified_at is not None
    with unchanged():
        again = client_a.post(VERIFY, {"token": raw}, format="json")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_token"
    assert User.objects.get(email="new@example.com").email_verified_at == verified_at
    assert SecurityEvent.objects.filter(kind="email_verified").count() == 1
    assert login("new@example.com", "Sturdy-Pass-2024").status_code == 200


def test_expired_verification_token_is_refused(
    client_a, django_capture_on_commit_callbacks, unchanged
):
    register(client_a, django_capture_on_commit_callbacks)
    raw = link_token(mail.outbox[0].body)
    OneTimeToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with unchanged():
        response = client_a.post(VERIFY, {"token": raw}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_token"
    assert User.objects.get(email="new@example.com").email_verified_at is None
    assert not OneTimeToken.objects.filter(used_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": "Sturdy-Pass-2024"}, "email"),
        ({"email": "a@example.com", "password": "short1"}, "password"),
        ({"email": "a@example.com", "password": "password123"}, "password"),  # common
        ({"email": "a@example.com", "password": "onlyletterslong"}, "password"),
        ({"email": "a@example.com", "password": "1234567890123"}, "password"),
        ({"email": "a@example.com", "password": "x1" * 65}, "password"),  # > 128 characters
        ({"email": "a@example.com"}, "password"),
        ({"email": "annabelle.smith@example.com", "password": "annabelle.smith1"}, "password"),
    ],
)
def test_register_bad_input_is_400_with_field_errors_and_writes_nothing(
    client_a, unchanged, payload, field
):
    with unchanged():
        response = client_a.post(REGISTER, payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    assert not User.objects.filter(email=payload["email"]).exists()
    assert mail.outbox == []


def test_long_passwords_up_to_128_characters_are_accepted(
    client_a, django_capture_on_commit_callbacks
):
    password = "Long-passphrase-9 " * 7  # 126 characters
    response = register(client_a, django_capture_on_commit_callbacks, password=password[:128])
    assert response.status_code == 202


def test_register_with_a_taken_email_answers_the_same_and_warns_the_owner(
    client_a, make_user, django_capture_on_commit_callbacks
):
    make_user(email="taken@example.com")
    fresh = register(client_a, django_capture_on_commit_callbacks, email="fresh@example.com")
    taken = register(client_a, django_capture_on_commit_callbacks, email="taken@example.com")
    assert taken.status_code == fresh.status_code == 202
    assert taken.json() == fresh.json()
    assert User.objects.filter(email="taken@example.com").count() == 1
    assert "already has one" in mail.outbox[1].body


def test_resend_verification_does_not_reveal_accounts(
    client_a, make_user, django_capture_on_commit_callbacks
):
    register(client_a, django_capture_on_commit_callbacks, email="pending@example.com")
    make_user(email="verified@example.com")
    mail.outbox.clear()
    answers = []
    for email in ("pending@example.com", "verified@example.com", "nobody@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_a.post(RESEND, {"email": email}, format="json")
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 202
    assert [m.to for m in mail.outbox] == [["pending@example.com"]]
    # The new link works.
    assert client_a.post(VERIFY, {"token": link_token(mail.outbox[0].body)}).status_code == 200


def test_resend_bad_input(client_a, unchanged):
    with unchanged():
        response = client_a.post(RESEND, {"email": ""}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]


def test_the_latest_registration_of_an_unconfirmed_address_wins(
    client_a, django_capture_on_commit_callbacks, login, unchanged
):
    """Someone squatting an address cannot keep the account once its owner registers."""
    register(
        client_a, django_capture_on_commit_callbacks, email="v@example.com", password="Squat-pass-1"
    )
    owner = register(
        client_a,
        django_capture_on_commit_callbacks,
        email="v@example.com",
        password="Owner-pass-22",
    )
    assert owner.status_code == 202
    assert [m.to for m in mail.outbox] == [["v@example.com"], ["v@example.com"]]
    first_link, second_link = (link_token(m.body) for m in mail.outbox)
    with unchanged():
        assert client_a.post(VERIFY, {"token": first_link}).status_code == 400
    assert User.objects.get(email="v@example.com").email_verified_at is None
    assert client_a.post(VERIFY, {"token": second_link}).status_code == 200
    assert User.objects.filter(email="v@example.com").count() == 1
    assert login("v@example.com", "Squat-pass-1").status_code == 401
    assert login("v@example.com", "Owner-pass-22").status_code == 200
