"""Refresh-token rotation, reuse detection and exactly-one-success under concurrency."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from accounts.models import SecurityEvent, Session, User

pytestmark = pytest.mark.django_db

REFRESH = "/api/v1/auth/refresh/"


@pytest.fixture
def signed_in(make_user, tenant_a, password, login):
    make_user(email="ann@example.com", tenant=tenant_a)
    return login("ann@example.com", password).json()


def refresh(client, token):
    return client.post(REFRESH, {"refresh": token}, format="json")


def test_refresh_rotates_the_pair_and_keeps_the_session(client_a, signed_in, bearer):
    response = refresh(client_a, signed_in["refresh"])
    assert response.status_code == 200
    body = response.json()
    assert body["refresh"] != signed_in["refresh"] and body["access"] != signed_in["access"]
    assert body["session"]["id"] == signed_in["session"]["id"]
    session = Session.objects.get(pk=body["session"]["id"])
    assert session.rotation_count == 1
    me = bearer(APIClient(HTTP_HOST="alpha.localhost"), body["access"]).get("/api/v1/auth/me/")
    assert me.status_code == 200
    # And again with the new one.
    assert refresh(client_a, body["refresh"]).status_code == 200


def test_reusing_an_old_refresh_token_revokes_the_whole_session(
    client_a, signed_in, bearer, settings
):
    settings.ACCOUNTS = {**settings.ACCOUNTS, "REFRESH_REUSE_GRACE_SECONDS": 0}
    stolen = signed_in["refresh"]
    legit = refresh(client_a, stolen).json()  # the legitimate client rotates first

    reuse = refresh(client_a, stolen)  # the thief presents the old token
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "refresh_token_reused"
    session = Session.objects.get(pk=signed_in["session"]["id"])
    assert session.revoked_at is not None and session.revoke_reason == "token_reuse"
    assert SecurityEvent.objects.filter(kind="token_reuse", session_id=session.pk).exists()

    # Both parties are out: the newest refresh token and the access token stop working at once.
    assert refresh(client_a, legit["refresh"]).json()["error"]["code"] == "session_revoked"
    me = bearer(APIClient(HTTP_HOST="alpha.localhost"), legit["access"]).get("/api/v1/auth/me/")
    assert me.status_code == 401
    assert me.json()["error"]["code"] == "session_revoked"


def test_thief_refreshing_first_locks_out_both(client_a, signed_in, settings):
    settings.ACCOUNTS = {**settings.ACCOUNTS, "REFRESH_REUSE_GRACE_SECONDS": 0}
    thief = refresh(client_a, signed_in["refresh"]).json()
    assert refresh(client_a, signed_in["refresh"]).status_code == 401  # the victim, later
    assert refresh(client_a, thief["refresh"]).status_code == 401


def test_token_rotated_seconds_ago_is_refused_without_revoking(client_a, signed_in, unchanged):
    new = refresh(client_a, signed_in["refresh"]).json()
    with unchanged():
        again = refresh(client_a, signed_in["refresh"])
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "refresh_token_rotated"
    session = Session.objects.get(pk=signed_in["session"]["id"])
    assert session.revoked_at is None and session.rotation_count == 1
    assert refresh(client_a, new["refresh"]).status_code == 200


def test_reuse_after_the_grace_period_revokes(client_a, signed_in):
    refresh(client_a, signed_in["refresh"])
    Session.objects.update(rotated_at=timezone.now() - timedelta(seconds=11))
    assert refresh(client_a, signed_in["refresh"]).json()["error"]["code"] == (
        "refresh_token_reused"
    )


def test_expired_session_cannot_refresh(client_a, signed_in, unchanged):
    Session.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with unchanged():
        response = refresh(client_a, signed_in["refresh"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_revoked"
    assert Session.objects.get(pk=signed_in["session"]["id"]).rotation_count == 0


def test_access_token_is_not_a_refresh_token(client_a, signed_in, unchanged):
    with unchanged():
        response = refresh(client_a, signed_in["access"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
    assert Session.objects.get(pk=signed_in["session"]["id"]).rotation_count == 0


@pytest.mark.parametrize("payload", [{}, {"refresh": ""}, {"refresh": "garbage"}])
def test_refresh_bad_input(client_a, payload, unchanged):
    with unchanged():
        response = client_a.post(REFRESH, payload, format="json")
    assert response.status_code in (400, 401)
    assert response.json()["error"]["code"] in ("invalid", "token_not_valid")


def test_refresh_token_of_one_tenant_is_refused_on_another(client_b, signed_in, unchanged):
    with unchanged():
        response = refresh(client_b, signed_in["refresh"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_wrong_tenant"
    assert Session.objects.get(pk=signed_in["session"]["id"]).rotation_count == 0


def _in_thread(func):
    """Runs func on its own database connection (autocommit, outside the test transaction)."""
    result = {}

    def run():
        try:
            result["value"] = func()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result.get("value")


def _user_delete(email, schema_name):
    # From a tenant schema, where guardian's tables (which reference users) exist too.
    with schema_context(schema_name):
        User.objects.filter(email=email).delete()


@pytest.mark.parametrize("grace", [10, 0])
def test_concurrent_refreshes_of_one_token_yield_exactly_one_success(
    tenant_a, password, settings, grace
):
    """Eight threads, each with its own database connection, refresh the same token at once."""
    from accounts.services import session_start

    settings.ACCOUNTS = {**settings.ACCOUNTS, "REFRESH_REUSE_GRACE_SECONDS": grace}
    email = f"race{grace}@example.com"

    def setup():
        user = User.objects.create_user(email=email, password=password)
        return session_start(user=user, tenant=tenant_a)

    session, tokens = _in_thread(setup)  # committed, so every connection sees it
    try:
        barrier = threading.Barrier(8)
        results = []

        def worker():
            try:
                barrier.wait()
                response = refresh(APIClient(HTTP_HOST="alpha.localhost"), tokens["refresh"])
                results.append((response.status_code, response.json()))
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        statuses = sorted(status for status, _ in results)
        assert statuses == [200] + [401] * 7
        winner = next(body for status, body in results if status == 200)
        refreshed = _in_thread(lambda: Session.objects.get(pk=session.pk))
        assert refreshed.rotation_count == 1
        if grace:
            # Losers of the race are refused, but the winner's session lives on.
            assert {b["error"]["code"] for s, b in results if s == 401} <= {"refresh_token_rotated"}
            assert refreshed.revoked_at is None
            again = _in_thread(
                lambda: refresh(APIClient(HTTP_HOST="alpha.localhost"), winner["refresh"])
            )
            assert again.status_code == 200
        else:
            # Without a grace period any second presentation is a reuse: the session is revoked.
            assert refreshed.revoked_at is not None
    finally:
        _in_thread(lambda: SecurityEvent.objects.filter(email=email).delete())
        _in_thread(lambda: _user_delete(email, tenant_a.schema_name))


def test_refresh_records_activity_and_the_client(client_a, signed_in):
    Session.objects.update(last_activity_at=timezone.now() - timedelta(hours=1))
    client_a.post(
        REFRESH, {"refresh": signed_in["refresh"]}, format="json", HTTP_USER_AGENT="Phone/2.0"
    )
    session = Session.objects.get(pk=signed_in["session"]["id"])
    assert timezone.now() - session.last_activity_at < timedelta(seconds=5)
    assert session.user_agent == "Phone/2.0"


def test_deactivated_user_can_neither_refresh_nor_use_the_access_token(
    client_a, signed_in, bearer, unchanged
):
    User.objects.filter(email="ann@example.com").update(is_active=False)
    with unchanged():
        response = refresh(client_a, signed_in["refresh"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_revoked"
    assert Session.objects.get(pk=signed_in["session"]["id"]).rotation_count == 0
    me = bearer(APIClient(HTTP_HOST="alpha.localhost"), signed_in["access"]).get("/api/v1/auth/me/")
    assert me.status_code == 401
