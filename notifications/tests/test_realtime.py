"""In-app notifications are pushed to the user's open websocket connections after the commit."""

import pytest
from django_tenants.utils import schema_context

from core import realtime
from notifications import services


@pytest.mark.django_db
def test_a_new_notification_is_pushed_to_the_users_connections_on_commit(
    tenant_a, make_user, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        "core.realtime.send_event",
        lambda group, event=None, **kwargs: sent.append({"group": group, "event": event, **kwargs}),
    )
    user = make_user(tenant=tenant_a)
    with schema_context(tenant_a.schema_name):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            notification = services.notification_create(
                user=user, kind="order_status_changed", title="Your order shipped"
            )
        assert sent == []  # nothing before the commit
        for callback in callbacks:
            callback()
    pushed = [s for s in sent if s["event"]["type"] == "notification"]
    assert len(pushed) == 1
    assert pushed[0]["group"] == realtime.user_group(tenant_a.schema_name, user.pk)
    assert pushed[0]["handler"] == realtime.USER_EVENT
    assert pushed[0]["event"]["notification"]["id"] == str(notification.id)
    assert pushed[0]["event"]["notification"]["title"] == "Your order shipped"
