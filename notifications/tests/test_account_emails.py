"""Account and security emails go through the notifications service (recorded, queued on
commit, delivered by the task) from the accounts flows."""

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import TotpDevice
from notifications.models import Message, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_password_reset_flow_records_messages_in_the_tenant(
    client_a, make_user, tenant_a, django_capture_on_commit_callbacks, celery_eager
):
    user = make_user(email="ann@example.com", name="Ann", tenant=tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(
            "/api/v1/auth/password/forgot/", {"email": "ann@example.com"}, format="json"
        )
    assert response.status_code in (200, 202, 204)
    [email] = mail.outbox
    assert email.subject == "Reset your password" and "List-Unsubscribe" not in email.extra_headers
    assert "http://alpha.localhost/reset-password?token=" in email.body
    html = email.alternatives[0][0]
    assert "http://alpha.localhost/reset-password?token=" in html

    connection.set_tenant(tenant_a)
    message = Message.objects.get(template="password_reset")
    assert message.user == user and message.status == "sent"
    assert message.context == {} and message.context_redacted  # the link is not kept
    connection.set_schema_to_public()
    assert not Message.objects.exists()  # nothing in the public schema


def test_password_change_sends_an_alert_by_email_and_in_app(
    make_user, tenant_a, auth_client, password, django_capture_on_commit_callbacks, celery_eager
):
    user = make_user(email="ann@example.com", name="Ann", tenant=tenant_a)
    api = auth_client(user, tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/auth/password/change/",
            {"current_password": password, "new_password": "Another-Pass-77"},
            format="json",
        )
    assert response.status_code in (200, 204), response.content
    assert [m.subject for m in mail.outbox] == ["Your password was changed"]
    connection.set_tenant(tenant_a)
    assert Notification.objects.get(user=user).title == "Your password was changed"


def test_turning_mfa_off_sends_a_security_alert(
    make_user, tenant_a, password, django_capture_on_commit_callbacks, celery_eager
):
    user = make_user(email="ann@example.com", name="Ann", tenant=tenant_a)
    TotpDevice.objects.create(user=user, secret="JBSWY3DPEHPK3PXP", confirmed_at=timezone.now())
    meta = accounts_services.RequestMeta(
        tenant=tenant_a, ip="203.0.113.7", user_agent="Firefox", base_url="http://alpha.localhost"
    )
    connection.set_tenant(tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        accounts_services.mfa_disable(user=user, password=password, meta=meta)
    [email] = mail.outbox
    assert email.subject == "Security alert: Two-factor authentication was turned off"
    assert "Firefox, 203.0.113.7" in email.body
