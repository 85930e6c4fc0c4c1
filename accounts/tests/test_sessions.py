"""Sessions: logout, logout everywhere, listing and revoking devices, the per-request check."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.layers import get_channel_layer
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.authentication import user_for_access_token
from accounts.models import SecurityEvent, Session
from accounts.services import session_start
from accounts.sessions import session_group_name, session_is_active

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
SESSIONS = "/api/v1/auth/sessions/"


@pytest.fixture
def ann(make_user, tenant_a):
    return make_user(email="ann@example.com", tenant=tenant_a)


def client_for(tokens, host="alpha.localhost", user_agent="pytest"):
    client = APIClient(HTTP_HOST=host, HTTP_USER_AGENT=user_agent)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


def test_logout_stops_the_access_and_refresh_tokens_at_once(ann, tenant_a, client_a):
    _session, tokens = session_start(user=ann, tenant=tenant_a)
    client = client_for(tokens)
    assert client.get(ME).status_code == 200
    assert client.post("/api/v1/auth/logout/").status_code == 204

    after = client.get(ME)
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "session_revoked"
    refresh = client_a.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]})
    assert refresh.json()["error"]["code"] == "session_revoked"
    assert SecurityEvent.objects.filter(kind="logout", user=ann).exists()


def test_revocation_holds_even_when_the_cache_is_empty(ann, tenant_a):
    _session, tokens = session_start(user=ann, tenant=tenant_a)
    client = client_for(tokens)
    client.post("/api/v1/auth/logout/")
    caches["auth"].clear()
    assert client.get(ME).status_code == 401


def test_logout_all_signs_out_every_session_on_every_workspace(ann, tenant_a, tenant_b):
    _s1, first = session_start(user=ann, tenant=tenant_a)
    _s2, second = session_start(user=ann, tenant=tenant_a)
    _s3, other = session_start(user=ann, tenant=tenant_b)
    assert client_for(first).post("/api/v1/auth/logout-all/").status_code == 204
    assert client_for(second).get(ME).status_code == 401
    assert client_for(first).get(ME).status_code == 401
    assert client_for(other, host="beta.localhost").get(ME).status_code == 401
    assert not Session.objects.filter(revoked_at__isnull=True).exists()


def test_session_list_shows_my_devices_on_this_workspace_only(
    ann, tenant_a, tenant_b, make_user, django_assert_num_queries
):
    _current, tokens = session_start(user=ann, tenant=tenant_a, user_agent="Firefox", ip="10.0.0.1")
    for _ in range(3):
        session_start(user=ann, tenant=tenant_a, user_agent="Phone")
    session_start(user=ann, tenant=tenant_b)  # another workspace: not listed
    session_start(user=make_user(tenant=tenant_a), tenant=tenant_a)  # someone else
    revoked, _ = session_start(user=ann, tenant=tenant_a)
    revoked.revoked_at = revoked.created_at
    revoked.save()

    client = client_for(tokens)
    # Tenant lookup by host, the user (first request: not cached yet), the page (plus
    # django-tenants' search_path statements).
    with django_assert_num_queries(5):
        response = client.get(SESSIONS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 4
    assert [row["current"] for row in rows].count(True) == 1
    current = next(row for row in rows if row["current"])
    assert current["user_agent"] == "Firefox" and current["ip_address"] == "10.0.0.1"
    assert set(current) >= {"created_at", "last_activity_at", "expires_at"}

    for _ in range(5):
        session_start(user=ann, tenant=tenant_a)
    # More sessions, the same queries; host and user now come from caches: the page alone.
    with django_assert_num_queries(2):
        assert len(client.get(SESSIONS).json()["results"]) == 9


def test_revoke_one_of_my_sessions(ann, tenant_a, unchanged):
    _current, tokens = session_start(user=ann, tenant=tenant_a)
    phone, phone_tokens = session_start(user=ann, tenant=tenant_a)
    client = client_for(tokens)
    assert client.delete(f"{SESSIONS}{phone.pk}/").status_code == 204
    assert client_for(phone_tokens).get(ME).status_code == 401
    assert client.get(ME).status_code == 200
    with unchanged():
        assert client.delete(f"{SESSIONS}{phone.pk}/").status_code == 404
    assert SecurityEvent.objects.filter(kind="session_revoked").count() == 1


def test_cannot_revoke_someone_elses_or_another_workspaces_session(
    ann, tenant_a, tenant_b, make_user, unchanged
):
    _mine, tokens = session_start(user=ann, tenant=tenant_a)
    theirs, _ = session_start(user=make_user(tenant=tenant_a), tenant=tenant_a)
    mine_on_b, _ = session_start(user=ann, tenant=tenant_b)
    client = client_for(tokens)
    with unchanged():
        for target in (theirs, mine_on_b):
            response = client.delete(f"{SESSIONS}{target.pk}/")
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
        assert client.delete(f"{SESSIONS}not-a-uuid/").status_code == 404
    assert Session.objects.filter(revoked_at__isnull=True).count() == 3
    assert session_is_active(theirs.pk) and session_is_active(mine_on_b.pk)


def test_session_endpoints_need_authentication(client_a, unchanged):
    with unchanged():
        for method, path in [("get", SESSIONS), ("post", "/api/v1/auth/logout/"), ("get", ME)]:
            response = getattr(client_a, method)(path)
            assert response.status_code == 401
            assert "code" in response.json()["error"]


def test_authenticated_request_checks_the_session_without_a_query(
    ann, tenant_a, django_assert_num_queries
):
    """The revocation check and the user are cached lookups: the only query is the view's."""
    _session, tokens = session_start(user=ann, tenant=tenant_a)
    client = client_for(tokens)
    client.get(ME)
    # The view's MFA flag (plus the search_path statement); host and user come from caches.
    with django_assert_num_queries(2) as captured:
        assert client.get(ME).status_code == 200
    tables = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SET")]
    assert len(tables) == 1
    assert not any("accounts_session" in sql or "accounts_user" in sql for sql in tables)


def test_cache_miss_reads_the_session_once_then_caches_it(ann, tenant_a, django_assert_num_queries):
    session, _tokens = session_start(user=ann, tenant=tenant_a)
    caches["auth"].clear()
    with CaptureQueriesContext(connection) as miss:
        assert session_is_active(session.pk) is True
    selects = [q["sql"] for q in miss.captured_queries if not q["sql"].startswith("SET")]
    assert len(selects) == 1 and "accounts_session" in selects[0]
    with django_assert_num_queries(0):
        assert session_is_active(session.pk) is True


def test_user_for_access_token_outside_drf(ann, tenant_a):
    session, tokens = session_start(user=ann, tenant=tenant_a)
    user, session_id = user_for_access_token(tokens["access"], schema_name="alpha")
    assert user == ann and session_id == session.pk

    with pytest.raises(AuthenticationFailed) as wrong_tenant:
        user_for_access_token(tokens["access"], schema_name="beta")
    assert wrong_tenant.value.detail["code"] == "token_wrong_tenant"
    with pytest.raises(AuthenticationFailed) as garbage:
        user_for_access_token("nonsense", schema_name="alpha")
    assert garbage.value.detail["code"] == "token_not_valid"

    client_for(tokens).post("/api/v1/auth/logout/")
    assert session_is_active(session.pk) is False
    with pytest.raises(AuthenticationFailed) as revoked:
        user_for_access_token(tokens["access"], schema_name="alpha")
    assert revoked.value.detail["code"] == "session_revoked"


def test_revocation_is_announced_to_the_sessions_channel_group(
    ann, tenant_a, django_capture_on_commit_callbacks
):
    session, tokens = session_start(user=ann, tenant=tenant_a)
    layer = get_channel_layer()
    group = session_group_name(schema_name="alpha", session_id=session.pk)
    subscribed = threading.Event()

    async def listen():  # a web process: its own event loop, subscribed before the logout
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        await asyncio.sleep(0.1)  # the subscription reaches Redis
        subscribed.set()
        try:
            return await asyncio.wait_for(layer.receive(channel), 10)
        finally:
            await layer.group_discard(group, channel)

    with ThreadPoolExecutor(max_workers=1) as pool:
        heard = pool.submit(asyncio.run, listen())
        assert subscribed.wait(10)
        with django_capture_on_commit_callbacks(execute=True):
            client_for(tokens).post("/api/v1/auth/logout/")
        message = heard.result(timeout=15)
    assert message == {"type": "session.revoked", "session_id": str(session.pk)}
