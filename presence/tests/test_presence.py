"""Presence API, last-seen flush and sweep tasks (Redis state written through presence.state)."""

import asyncio
import time
from datetime import datetime, timedelta

from django.utils import timezone

from presence import selectors, state
from presence.models import PresenceStatus
from presence.tests.factories import PresenceStatusFactory
from tenants.tests.factories import MembershipFactory

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
    MembershipFactory(user=user, tenant=tenant_b)
    _connect("alpha", user)
    assert selectors.is_online(user.pk, schema_name="alpha") is True
    assert selectors.is_online(user.pk, schema_name="beta") is False
    viewer_b = make_user(tenant=tenant_b)
    rows = auth_client(viewer_b, tenant_b).post(
        f"{API}query/", {"user_ids": [str(user.pk)]}, format="json"
    )
    assert rows.json()["results"][0]["online"] is False


def test_bad_input_and_auth(
    auth_client, tenant_a, in_a, make_user, client_a, django_capture_on_commit_callbacks
):
    user = make_user(tenant=tenant_a)
    api = auth_client(user, tenant_a)
    for body in ({}, {"user_ids": []}, {"user_ids": ["nope"]}, {"user_ids": ["0" * 36] * 501}):
        response = api.post(f"{API}query/", body, format="json")
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        bad = api.patch(f"{API}me/", {"hidden": "maybe"}, format="json")
    assert bad.status_code == 400 and not PresenceStatus.objects.exists()
    assert callbacks == []  # nothing queued for Redis either
    assert not state.client().sismember(state.hidden_key("alpha"), str(user.pk))
    assert client_a.post(f"{API}query/", {"user_ids": []}, format="json").status_code == 401
    assert client_a.patch(f"{API}me/", {"hidden": True}, format="json").status_code == 401
    assert not PresenceStatus.objects.exists()


def test_stored_last_seen_and_hiding_apply_while_redis_knows_nothing(
    auth_client, tenant_a, in_a, make_user
):
    seen_at = timezone.now() - timedelta(hours=2)
    away = PresenceStatusFactory(user=MembershipFactory(tenant=tenant_a).user, last_seen_at=seen_at)
    hiding = PresenceStatusFactory(user=MembershipFactory(tenant=tenant_a).user, hidden=True)
    ids = [str(away.user_id), str(hiding.user_id)]

    response = auth_client(make_user(tenant=tenant_a), tenant_a).post(
        f"{API}query/", {"user_ids": ids}, format="json"
    )
    rows = {row["user_id"]: row for row in response.json()["results"]}
    assert rows[ids[0]]["online"] is False
    assert datetime.fromisoformat(rows[ids[0]]["last_seen_at"]) == seen_at
    assert rows[ids[1]] == {"user_id": ids[1], "online": False, "last_seen_at": None}
    # Hiding only applies to others: the user still sees their own last-seen time.
    own = auth_client(hiding.user, tenant_a).post(
        f"{API}query/", {"user_ids": [ids[1]]}, format="json"
    )
    assert own.json()["results"][0]["last_seen_at"] is not None
    assert auth_client(hiding.user, tenant_a).get(f"{API}me/").json()["hidden"] is True


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
