"""Admin pages: messages with status and attempts (and their events), resend, suppression list
in the platform admin only, preferences, branding, in-app notifications."""

import pytest
from django.db import connection
from django.test import Client

from notifications.models import Message, Suppression
from notifications.tests.factories import MessageFactory, NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user, tenant_a):
    user = make_user(email="staff@alpha.test", tenant=tenant_a, is_staff=True)
    user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def admin_client(staff, admin_login):
    client = Client()
    admin_login(client, staff, "alpha.localhost", "localhost")
    return client


def test_message_pages_and_resend(
    admin_client,
    staff,
    tenant_a,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
    notifications_state,
):
    connection.set_tenant(tenant_a)
    messages = MessageFactory.create_batch(5)
    NotificationFactory.create_batch(3, user=staff)
    connection.set_schema_to_public()
    host = {"HTTP_HOST": "alpha.localhost"}

    # No query per row: the page costs the same for 5 or 50 messages.
    with django_assert_max_num_queries(24):
        response = admin_client.get("/admin/notifications/message/", **host)
    assert response.status_code == 200 and messages[0].to_email in response.content.decode()
    detail = admin_client.get(f"/admin/notifications/message/{messages[0].pk}/change/", **host)
    assert detail.status_code == 200
    for page in ("notification", "preference", "branding"):
        assert admin_client.get(f"/admin/notifications/{page}/", **host).status_code == 200
    # The platform-wide suppression list is not shown in a tenant's admin.
    assert admin_client.get("/admin/notifications/suppression/", **host).status_code == 403
    # Messages and their events are records: neither added nor edited here.
    before = notifications_state()
    assert admin_client.get("/admin/notifications/message/add/", **host).status_code == 403
    edit = admin_client.post(
        f"/admin/notifications/message/{messages[0].pk}/change/", {"subject": "x"}, **host
    )
    assert edit.status_code == 403
    assert notifications_state() == before

    with django_capture_on_commit_callbacks():
        response = admin_client.post(
            "/admin/notifications/message/",
            {"action": "resend", "_selected_action": [str(messages[0].pk)]},
            **host,
        )
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    copy = Message.objects.get(resent_from=messages[0])
    assert copy.status == "queued" and copy.to_email == messages[0].to_email


def test_the_platform_admin_manages_the_suppression_list(admin_client, notifications_state):
    response = admin_client.post(
        "/admin/notifications/suppression/add/",
        {"email": "Spam@Example.com", "reason": "manual", "detail": "asked by phone"},
        HTTP_HOST="localhost",
    )
    assert response.status_code == 302
    entry = Suppression.objects.get()
    assert entry.email == "spam@example.com"
    before = notifications_state()
    edit = admin_client.post(
        f"/admin/notifications/suppression/{entry.pk}/change/",
        {"email": "other@example.com", "reason": "manual", "detail": ""},
        HTTP_HOST="localhost",
    )
    assert edit.status_code == 403
    assert Suppression.objects.get().email == "spam@example.com"
    assert notifications_state() == before
    assert (
        admin_client.get("/admin/notifications/suppression/", HTTP_HOST="localhost").status_code
        == 200
    )


def test_demo_seed_is_idempotent(tenant_a, make_user):
    from notifications import demo
    from notifications.models import Branding, Notification

    owner = make_user(email="owner@alpha.test", tenant=tenant_a)
    connection.set_tenant(tenant_a)
    first = demo.seed(tenant=tenant_a, owner=owner)
    second = demo.seed(tenant=tenant_a, owner=owner)
    assert "4 in-app notifications" in first and "already" in second
    assert Notification.objects.filter(user=owner).count() == 4
    assert Branding.objects.count() == 1


def test_branding_is_edited_in_the_tenant_admin_within_the_sender_domains(
    admin_client, tenant_a, settings, notifications_state
):
    from notifications.models import Branding

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SENDER_DOMAINS": ["mail.example.com"]}
    host = {"HTTP_HOST": "alpha.localhost"}
    form = {"name": "Alpha Shop", "primary_color": "#112233", "from_email": "x@gmail.com"}
    before = notifications_state()
    response = admin_client.post("/admin/notifications/branding/add/", form, **host)
    assert response.status_code == 200 and b"mail.example.com" in response.content
    assert notifications_state() == before
    form["from_email"] = "shop@mail.example.com"
    response = admin_client.post("/admin/notifications/branding/add/", form, **host)
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    assert Branding.objects.get().from_email == "shop@mail.example.com"
