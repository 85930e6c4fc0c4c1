"""Presence API, last-seen flush and sweep tasks (Redis state written through presence.state)."""

import asyncio
import time

from presence import selectors, state
from presence.models import PresenceStatus

API = "/api/v1/presence/"


def _connect(schema, user, conn="c1"):
    return asyncio.run(state.touch(schema, user.pk, conn))


def test_bulk_query_shows_online_offline_and_respects_hidden(
    auth_client, tenant_a, tenant_b, in_a, make_user
):
    viewer, online, offline, hidden = (make_user(tenant=tenant_a) for _ in range(4))
    stranger = make_user(tenant=tenant_b)
    assert _connect("alpha", online) is True
    assert _connect("alpha", online, "c2") is False  # a second tab: no new transition
    _connect("alpha", hidden)
    api = auth_client(viewer, tenant_a)
    assert api.patch(f"{API}me/", {"hidden": True}, format="json").status_code == 200
    auth_client(hidden, tenant_a).patch(f"{API}me/", {"hidden": True}, format="json")
    # on_commit does not run inside the test transaction: mirror the services' Redis write.
    state.set_hidden("alpha", hidden.pk, True)

    ids = [str(u.pk) for u in (online, offline, hidden, stranger)]
    response = api.post(f"{API}query/", {"user_ids": ids}, format="json")
    assert response.status_code == 200
    rows = {row["user_id"]: row for row in response.json()["results"]}
    assert set(rows) == {str(online.pk), str(offline.pk), str(hidden.pk)}  # not the stranger
    assert rows[str(online.pk)]["online"] is True and rows[str(online.pk)]["last_seen_at"]
    assert rows[str(offline.pk)] == {
        "user_id": str(offline.pk),
        "online": False,
        "last_seen_at": None,
    }
    assert rows[str(hidden.pk)]["online"] is False and rows[str(hidden.pk)]["last_seen_at"] is None
    # The notifications hook ignores hiding: it says whether a connection would receive events.
    assert selectors.is_online(hidden.pk) is True
    assert selectors.is_online(offline.pk) is False
    state.set_hidden("alpha", hidden.pk, False)


def test_presence_is_per_tenant(auth_client, tenant_a, tenant_b, in_a, make_user):
    user = make_user(tenant=tenant_a)
    from accounts.services import membership_set

    membership_set(user=user, tenant=tenant_b, role="member")
    _connect("alpha", user)
    assert selectors.is_online(user.pk, schema_name="alpha") is True
    assert selectors.is_online(user.pk, schema_name="beta") is False
    viewer_b = make_user(tenant=tenant_b)
    rows = auth_client(viewer_b, tenant_b).post(
        f"{API}query/", {"user_ids": [str(user.pk)]}, format="json"
    )
    assert rows.json()["results"][0]["online"] is False


def test_bad_input_and_auth(auth_client, tenant_a, in_a, make_user, client_a):
    api = auth_client(make_user(tenant=tenant_a), tenant_a)
    for body in ({}, {"user_ids": []}, {"user_ids": ["nope"]}, {"user_ids": ["0" * 36] * 501}):
        response = api.post(f"{API}query/", body, format="json")
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    bad = api.patch(f"{API}me/", {"hidden": "maybe"}, format="json")
    assert bad.status_code == 400 and not PresenceStatus.objects.exists()
    assert client_a.post(f"{API}query/", {"user_ids": []}, format="json").status_code == 401


def test_flush_writes_last_seen_and_sweep_marks_silent_users_offline(
    in_a, make_user, tenant_a, settings
):
    from presence.tasks import flush_last_seen, sweep

    settings.PRESENCE_TIMEOUT_SECONDS = 0.2
    user = make_user(tenant=tenant_a)
    stranger = make_user()  # seen in Redis but not a member: never written
    _connect("alpha", user)
    _connect("alpha", stranger)
    state.client().delete(state.flushed_key("alpha"))
    assert flush_last_seen() >= 1
    status = PresenceStatus.objects.get(user=user)
    assert abs(status.last_seen_at.timestamp() - time.time()) < 5
    assert not PresenceStatus.objects.filter(user=stranger).exists()

    time.sleep(0.3)
    gone = sweep()
    assert str(user.pk) in gone
    assert str(user.pk) not in sweep()  # announced once
    assert selectors.is_online(user.pk) is False


def test_schedules_are_registered_per_tenant():
    import presence.schedules  # noqa: F401
    from tenants.schedules import PERIODIC_TASKS

    tasks = {entry.task: entry for entry in PERIODIC_TASKS}
    assert tasks["presence.flush_last_seen"].per_tenant
    assert tasks["presence.sweep"].per_tenant
