"""Platform admin pages of the accounts app, and the periodic cleanup command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import OneTimeToken, SecurityEvent, Session
from accounts.services import session_start
from accounts.sessions import session_is_active
from accounts.tests.factories import SecurityEventFactory, SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(make_user, admin_login):
    root = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    client = APIClient(HTTP_HOST="localhost")
    admin_login(client, root)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/user/",
        "/admin/accounts/session/",
        "/admin/accounts/securityevent/",
        "/admin/accounts/onetimetoken/",
        "/admin/accounts/totpdevice/",
        "/admin/accounts/recoverycode/",
    ],
)
def test_admin_lists_load_with_a_constant_number_of_queries(admin_client, tenant_a, path):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(path).status_code == 200
        return len(captured)

    queries()  # the first request resolves the host; later ones take it from the process memo
    for _ in range(3):
        SecurityEventFactory(user=SessionFactory(tenant=tenant_a).user, tenant=tenant_a)
    queries()  # the first request also resolves the host (memoised per process afterwards)
    few = queries()
    for _ in range(10):
        SecurityEventFactory(user=SessionFactory(tenant=tenant_a).user, tenant=tenant_a)
    assert queries() == few


def test_admin_revoke_action_ends_the_sessions_at_once(admin_client, make_user, tenant_a):
    user = make_user(tenant=tenant_a)
    session, _tokens = session_start(user=user, tenant=tenant_a)
    response = admin_client.post(
        "/admin/accounts/session/",
        {"action": "revoke_sessions", "_selected_action": [str(session.pk)]},
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.revoke_reason == "revoked_by_admin"
    assert session_is_active(session.pk) is False


def test_security_events_are_read_only(admin_client, tenant_a):
    event = SecurityEventFactory(tenant=tenant_a)
    assert admin_client.get("/admin/accounts/securityevent/add/").status_code == 403
    added = admin_client.post("/admin/accounts/securityevent/add/", {"kind": "logout"})
    assert added.status_code == 403
    change = f"/admin/accounts/securityevent/{event.pk}/change/"
    assert admin_client.get(change).status_code == 200  # view only
    admin_client.post(change, {"kind": "logout", "email": "x@example.com"})
    event.refresh_from_db()
    assert event.kind == "login_failed"
    assert admin_client.post(f"/admin/accounts/securityevent/{event.pk}/delete/").status_code == 403
    assert list(SecurityEvent.objects.values_list("pk", flat=True)) == [event.pk]


def test_accounts_admin_is_not_served_on_tenant_hosts(make_user, tenant_a, admin_login):
    root = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    session = SessionFactory(tenant=tenant_a)
    client = APIClient(HTTP_HOST="alpha.localhost")
    admin_login(client, root)
    assert client.get("/admin/accounts/session/").status_code == 403
    refused = client.post(
        "/admin/accounts/session/",
        {"action": "revoke_sessions", "_selected_action": [str(session.pk)]},
    )
    assert refused.status_code == 403
    session.refresh_from_db()
    assert session.revoked_at is None and session_is_active(session.pk)


def test_cleanup_deletes_expired_and_long_revoked_sessions_and_spent_tokens(tenant_a):
    now = timezone.now()
    live = SessionFactory(tenant=tenant_a)
    expired = SessionFactory(tenant=tenant_a, expires_at=now - timedelta(seconds=1))
    recently_revoked = SessionFactory(tenant=tenant_a, revoked_at=now - timedelta(days=1))
    old_revoked = SessionFactory(tenant=tenant_a, revoked_at=now - timedelta(days=31))
    user = live.user
    spent = OneTimeToken.objects.create(
        user=user, purpose="verify_email", token_hash="a" * 64, expires_at=now, used_at=now
    )
    fresh = OneTimeToken.objects.create(
        user=user, purpose="verify_email", token_hash="b" * 64, expires_at=now + timedelta(hours=1)
    )
    out = StringIO()
    call_command("accounts_cleanup", stdout=out)
    assert out.getvalue().strip() == "sessions: 2, one_time_tokens: 1, unverified_accounts: 0"
    remaining = set(Session.objects.values_list("pk", flat=True))
    assert remaining == {live.pk, recently_revoked.pk}
    assert expired.pk not in remaining and old_revoked.pk not in remaining
    assert list(OneTimeToken.objects.all()) == [fresh]
    assert spent.pk is not None
    assert SecurityEvent.objects.count() == 0  # events are never cleaned up here


def test_admin_session_page_shows_no_token_secrets(admin_client, tenant_a):
    session = SessionFactory(tenant=tenant_a)
    page = admin_client.get(f"/admin/accounts/session/{session.pk}/change/")
    assert page.status_code == 200
    assert session.refresh_jti.encode() not in page.content
