"""Fixtures of the accounts tests."""

import re
from contextlib import contextmanager
from datetime import UTC, datetime

import pyotp
import pytest
from django.core import mail


@pytest.fixture(autouse=True)
def _fast_password_hasher(request, settings):
    """Argon2 costs ~0.3 s a hash; tests that do not request `argon2` use a fast hasher."""
    if "argon2" not in request.fixturenames:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _emails_sent_in_process(celery_eager):
    """Account emails go through the notifications task; run it in-process so they reach
    django.core.mail.outbox when the transaction's on_commit callbacks run."""


@pytest.fixture
def argon2():
    """Request this to keep the configured (Argon2) password hashers."""


@pytest.fixture
def login(client_a):
    """login(email, password, client=client_a) -> the response of POST /api/v1/auth/login/."""

    def do(email, password, client=None):
        return (client or client_a).post(
            "/api/v1/auth/login/", {"email": email, "password": password}, format="json"
        )

    return do


@pytest.fixture
def bearer():
    """bearer(client, access) -> the client, sending that access token."""

    def set_token(client, access):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client

    return set_token


def account_rows() -> dict[str, int]:
    """Row counts of every table the accounts services write (memberships included)."""
    from accounts.models import OneTimeToken, RecoveryCode, SecurityEvent, Session, TotpDevice, User
    from tenants.models import Membership

    models = (User, Session, OneTimeToken, TotpDevice, RecoveryCode, SecurityEvent, Membership)
    return {model._meta.label: model.objects.count() for model in models}


@pytest.fixture
def unchanged(django_capture_on_commit_callbacks):
    """`with unchanged(): <a refused request>` asserts it added or deleted no account rows
    (users, sessions, one-time tokens, MFA devices and codes, security events, memberships) and
    sent no email, its on-commit callbacks included. `events=n`: the refusal records n security
    events on purpose (failed sign-ins are logged)."""

    @contextmanager
    def check(*, events: int = 0):
        before, sent = account_rows(), len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            yield
        events_label = "accounts.SecurityEvent"
        assert account_rows() == {**before, events_label: before[events_label] + events}
        assert len(mail.outbox) == sent

    return check


def link_token(body: str) -> str:
    return re.search(r"\?token=([A-Za-z0-9_\-]+)", body).group(1)


def totp_code(secret: str, offset_steps: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(datetime.now(UTC)) + offset_steps)
