"""Two real uvicorn processes: sign-in, rotation and revocation seen across processes."""

import threading

import httpx
import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import SecurityEvent, User
from tests.live import uvicorn_server

EMAIL = "live-auth@example.com"


def _in_thread(func):
    """Runs func on its own connection, so the rows are committed for the server processes."""

    def run():
        try:
            func()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def _cleanup(schema_name):
    SecurityEvent.objects.filter(email=EMAIL).delete()
    with schema_context(schema_name):  # guardian's tables referencing users live there
        User.objects.filter(email=EMAIL).delete()


@pytest.mark.slow
@pytest.mark.django_db
def test_revocation_on_one_process_is_seen_at_once_by_another(tenant_a, password, argon2):
    _in_thread(
        lambda: User.objects.create_user(
            email=EMAIL, password=password, email_verified_at=timezone.now()
        )
    )
    headers = {"Host": "alpha.localhost"}
    try:
        with uvicorn_server() as port_a, uvicorn_server() as port_b:
            a = httpx.Client(base_url=f"http://127.0.0.1:{port_a}", headers=headers, timeout=30)
            b = httpx.Client(base_url=f"http://127.0.0.1:{port_b}", headers=headers, timeout=30)
            login = a.post("/api/v1/auth/login/", json={"email": EMAIL, "password": password})
            assert login.status_code == 200, login.text
            first = login.json()

            def me(client, access):
                return client.get("/api/v1/auth/me/", headers={"Authorization": f"Bearer {access}"})

            assert me(b, first["access"]).status_code == 200
            rotated = b.post("/api/v1/auth/refresh/", json={"refresh": first["refresh"]})
            assert rotated.status_code == 200
            second = rotated.json()
            stale = a.post("/api/v1/auth/refresh/", json={"refresh": first["refresh"]})
            assert stale.status_code == 401

            logout = a.post(
                "/api/v1/auth/logout/", headers={"Authorization": f"Bearer {second['access']}"}
            )
            assert logout.status_code == 204
            after = me(b, second["access"])
            assert after.status_code == 401
            assert after.json()["error"]["code"] == "session_revoked"
    finally:
        _in_thread(lambda: _cleanup(tenant_a.schema_name))
