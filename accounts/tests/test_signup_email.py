"""Self-service sign-up by emailed link: the owner of a new address is confirmed by the link; an
existing account that never confirmed its address gets a verification link on the new workspace."""

import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from accounts.models import User
from notifications.models import Message

pytestmark = pytest.mark.django_db

SIGNUP = {
    "name": "Gamma Labs",
    "slug": "gamma",
    "owner_email": "founder@gamma.test",
    "owner_password": "Sturdy-Pass-2026",
}


def _confirm(public_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asked = public_client.post("/api/v1/tenants/", SIGNUP, format="json")
    assert asked.status_code == 202, asked.json()
    token = re.search(r"\?token=([A-Za-z0-9_\-]+)", mail.outbox[-1].body).group(1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = public_client.post("/api/v1/tenants/confirm/", {"token": token}, format="json")
    assert response.status_code == 201, response.json()


def test_an_unconfirmed_owner_gets_a_verification_link_on_the_new_workspace(
    public_client, make_user, settings, django_capture_on_commit_callbacks, celery_eager
):
    settings.LINK_SCHEME, settings.LINK_PORT = "http", "8000"
    make_user(email="founder@gamma.test", email_verified_at=None)
    _confirm(public_client, django_capture_on_commit_callbacks)
    [email] = mail.outbox
    assert email.to == ["founder@gamma.test"]
    assert "http://gamma.localhost:8000/verify-email?token=" in email.body
    with schema_context("gamma"):
        assert Message.objects.get().template == "verify_email"


def test_a_new_owner_is_confirmed_by_the_link_and_gets_no_verification_email(
    public_client, django_capture_on_commit_callbacks, celery_eager
):
    _confirm(public_client, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert User.objects.get(email="founder@gamma.test").email_verified_at is not None
