"""Admin pages of chat and presence (tenant host) with rows in them, and the demo data."""

import pytest
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from chat import demo, services
from chat.models import Message, Room
from presence.models import PresenceStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(tenant_a, make_user, admin_login):
    admin = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    client = APIClient(HTTP_HOST="alpha.localhost")
    admin_login(client, admin)
    return client


@pytest.fixture
def rows(tenant_a, make_user):
    with schema_context(tenant_a.schema_name):
        owner = make_user(tenant=tenant_a, role="manager")
        for n in range(3):
            room = services.room_create(
                user=owner, name=f"r{n}", member_ids=[make_user(tenant=tenant_a).pk]
            )
            message, _ = services.message_send(user=owner, room_id=room.pk, body="hi")
            services.message_edit(user=owner, message_id=message.pk, body="hello")
            PresenceStatus.objects.create(user=make_user(tenant=tenant_a))
        return room, message


@pytest.mark.parametrize(
    "page", ["chat/room", "chat/roommember", "chat/message", "presence/presencestatus"]
)
def test_admin_changelists_render_with_few_queries(
    admin_client, rows, page, django_assert_max_num_queries
):
    admin_client.get(f"/admin/{page}/")
    with django_assert_max_num_queries(30):
        response = admin_client.get(f"/admin/{page}/")
    assert response.status_code == 200


def test_admin_change_pages(admin_client, rows):
    room, message = rows
    assert admin_client.get(f"/admin/chat/room/{room.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/chat/message/{message.pk}/change/").status_code == 200


def test_demo_seed_is_idempotent(tenant_a, make_user):
    owner = make_user(tenant=tenant_a, role="owner")
    with schema_context(tenant_a.schema_name):
        first = demo.seed(tenant=tenant_a, owner=owner)
        second = demo.seed(tenant=tenant_a, owner=owner)
        assert first == second
        assert Room.objects.filter(name="General").count() == 1
        assert Message.objects.filter(client_id="demo-welcome").count() == 1
