"""Self-service sign-up emails the new owner a verification link on the new workspace."""

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from notifications.models import Message

pytestmark = pytest.mark.django_db

SIGNUP = {
    "name": "Gamma Labs",
    "slug": "gamma",
    "owner_email": "founder@gamma.test",
    "owner_password": "Sturdy-Pass-2026",
}


def test_a_new_owner_gets_a_verification_link_on_the_new_workspace(
    public_client, settings, django_capture_on_commit_callbacks, celery_eager
):
    settings.LINK_SCHEME, settings.LINK_PORT = "http", "8000"
    with django_capture_on_commit_callbacks(execute=True):
        response = public_client.post("/api/v1/tenants/", SIGNUP, format="json")
    assert response.status_code == 201, response.json()
    [email] = mail.outbox
    assert email.to == ["founder@gamma.test"]
    assert "http://gamma.localhost:8000/verify-email?token=" in email.body
    with schema_context("gamma"):
        assert Message.objects.get().template == "verify_email"


def test_an_already_verified_owner_gets_no_verification_email(
    public_client, make_user, django_capture_on_commit_callbacks, celery_eager
):
    make_user(email="founder@gamma.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = public_client.post(
            "/api/v1/tenants/", {**SIGNUP, "owner_password": "Correct-Horse-42-battery"}
        )
    assert response.status_code == 201, response.json()
    assert mail.outbox == []
