"""Chat REST API through real URLs, tenant hosts and JWT authentication."""

import pytest

from chat import services
from chat.models import Message, MessageEdit, Room, RoomMember

API = "/api/v1/chat/"


@pytest.fixture
def manager(make_user, tenant_a):
    return make_user(tenant=tenant_a, role="manager")


@pytest.fixture
def member(make_user, tenant_a):
    return make_user(tenant=tenant_a, role="member")


@pytest.fixture
def room(in_a, manager, member):
    return services.room_create(user=manager, name="General", member_ids=[member.pk])


def _error(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    return response.json()["error"]


def test_group_room_lifecycle(auth_client, tenant_a, in_a, manager, member, make_user, chat_state):
    api = auth_client(manager, tenant_a)
    other = make_user(tenant=tenant_a)
    created = api.post(
        f"{API}rooms/", {"name": "Team", "member_ids": [str(member.pk)]}, format="json"
    )
    assert created.status_code == 201, created.content
    room_id = created.json()["id"]
    assert created.json()["my_role"] == "owner" and created.json()["kind"] == "group"

    assert (
        api.patch(f"{API}rooms/{room_id}/", {"name": "Renamed"}, format="json").json()["name"]
        == "Renamed"
    )
    added = api.post(
        f"{API}rooms/{room_id}/members/", {"user_id": str(other.pk), "role": "admin"}, format="json"
    )
    assert added.status_code == 201 and added.json()["role"] == "admin"
    members = api.get(f"{API}rooms/{room_id}/members/").json()["results"]
    assert {m["user_id"] for m in members} == {str(manager.pk), str(member.pk), str(other.pk)}

    # A plain member may not rename or remove others; they may leave.
    member_api = auth_client(member, tenant_a)
    before = chat_state()
    _error(
        member_api.patch(f"{API}rooms/{room_id}/", {"name": "x"}, format="json"),
        403,
        "permission_denied",
    )
    _error(member_api.delete(f"{API}rooms/{room_id}/members/{other.pk}/"), 403, "permission_denied")
    assert chat_state() == before
    assert member_api.post(f"{API}rooms/{room_id}/leave/").status_code == 204
    _error(member_api.get(f"{API}rooms/{room_id}/"), 404, "room_not_found")

    # The admin removes nobody who is owner; the owner cannot leave while others remain.
    admin_api = auth_client(other, tenant_a)
    before = chat_state()
    _error(
        admin_api.delete(f"{API}rooms/{room_id}/members/{manager.pk}/"), 403, "permission_denied"
    )
    _error(api.post(f"{API}rooms/{room_id}/leave/"), 409, "last_owner")
    assert chat_state() == before

    # Archived: no more messages or changes.
    assert api.post(f"{API}rooms/{room_id}/archive/").json()["archived_at"]
    before = chat_state()
    _error(
        api.post(f"{API}rooms/{room_id}/messages/", {"body": "late"}, format="json"),
        409,
        "room_archived",
    )
    assert not Message.objects.filter(room_id=room_id).exists()
    assert chat_state() == before


def test_members_may_not_create_group_rooms_but_may_talk_directly(
    auth_client, tenant_a, in_a, member, manager, make_user, chat_state
):
    api = auth_client(member, tenant_a)
    before = chat_state()
    _error(api.post(f"{API}rooms/", {"name": "Mine"}, format="json"), 403, "permission_denied")
    assert chat_state() == before
    first = api.post(f"{API}rooms/direct/", {"user_id": str(manager.pk)}, format="json")
    assert first.status_code == 201 and first.json()["kind"] == "direct"
    # Unique per pair, whoever asks.
    again = auth_client(manager, tenant_a).post(
        f"{API}rooms/direct/", {"user_id": str(member.pk)}, format="json"
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Room.objects.filter(kind="direct").count() == 1
    stranger = make_user()  # not a member of the tenant
    before = chat_state()
    _error(
        api.post(f"{API}rooms/direct/", {"user_id": str(stranger.pk)}, format="json"),
        400,
        "invalid",
    )
    _error(
        api.post(f"{API}rooms/direct/", {"user_id": str(member.pk)}, format="json"), 400, "invalid"
    )
    assert chat_state() == before


def test_messages_history_edit_delete_and_search(
    auth_client, tenant_a, room, manager, member, chat_state
):
    api = auth_client(manager, tenant_a)
    ids = []
    for n in range(5):
        response = api.post(
            f"{API}rooms/{room.pk}/messages/",
            {"body": f"note {n}", "client_id": f"c{n}"},
            format="json",
        )
        assert response.status_code == 201
        ids.append(response.json()["id"])
    # The same client id again returns the stored message (200), stores nothing.
    dup = api.post(
        f"{API}rooms/{room.pk}/messages/", {"body": "note 0", "client_id": "c0"}, format="json"
    )
    assert dup.status_code == 200 and dup.json()["id"] == ids[0]

    page = api.get(f"{API}rooms/{room.pk}/messages/", {"page_size": 2}).json()
    assert [m["id"] for m in page["results"]] == [ids[4], ids[3]]  # newest first
    second = api.get(page["next"]).json()
    assert [m["id"] for m in second["results"]] == [ids[2], ids[1]]
    before = api.get(f"{API}rooms/{room.pk}/messages/", {"before": ids[2]}).json()
    assert [m["id"] for m in before["results"]] == [ids[1], ids[0]]
    after = api.get(f"{API}rooms/{room.pk}/messages/", {"after": ids[2]}).json()
    assert [m["id"] for m in after["results"]] == [ids[4], ids[3]]
    found = api.get(f"{API}rooms/{room.pk}/messages/", {"search": "NOTE 3"}).json()
    assert [m["id"] for m in found["results"]] == [ids[3]]
    _error(api.get(f"{API}rooms/{room.pk}/messages/", {"before": "x"}), 400, "invalid")

    edited = api.patch(f"{API}messages/{ids[0]}/", {"body": "note zero"}, format="json")
    assert edited.json()["body"] == "note zero" and edited.json()["edited_at"]
    assert api.get(f"{API}messages/{ids[0]}/edits/").json() == [
        {
            "body": "note 0",
            "edited_at": MessageEdit.objects.get().edited_at.isoformat().replace("+00:00", "Z"),
        }
    ]
    member_api = auth_client(member, tenant_a)
    before = chat_state()
    _error(
        member_api.patch(f"{API}messages/{ids[0]}/", {"body": "x"}, format="json"),
        403,
        "permission_denied",
    )
    _error(member_api.delete(f"{API}messages/{ids[0]}/"), 403, "permission_denied")
    assert chat_state() == before
    assert api.delete(f"{API}messages/{ids[0]}/").status_code == 204
    tomb = api.get(f"{API}messages/{ids[0]}/").json()
    assert tomb["deleted"] is True and tomb["body"] == ""
    before = chat_state()
    _error(
        api.patch(f"{API}messages/{ids[0]}/", {"body": "back"}, format="json"),
        409,
        "message_deleted",
    )
    _error(
        api.post(f"{API}rooms/{room.pk}/messages/", {"body": "x" * 4001}, format="json"),
        400,
        "message_too_long",
    )
    assert chat_state() == before


def test_unread_counts_and_read_positions(auth_client, tenant_a, room, manager, member, chat_state):
    for n in range(3):
        services.message_send(user=manager, room_id=room.pk, body=f"m{n}")
    member_api = auth_client(member, tenant_a)
    assert member_api.get(f"{API}unread/").json() == {"rooms": {str(room.pk): 3}, "total": 3}
    assert member_api.get(f"{API}rooms/").json()["results"][0]["unread_count"] == 3
    last = Message.objects.filter(room=room).order_by("-id")[1]
    assert (
        member_api.post(
            f"{API}rooms/{room.pk}/read/", {"message_id": last.pk}, format="json"
        ).status_code
        == 204
    )
    assert member_api.get(f"{API}unread/").json()["total"] == 1
    # Never moves back.
    first = Message.objects.filter(room=room).order_by("id")[0]
    member_api.post(f"{API}rooms/{room.pk}/read/", {"message_id": first.pk}, format="json")
    assert RoomMember.objects.get(room=room, user=member).last_read_message_id == last.pk
    positions = member_api.get(f"{API}rooms/{room.pk}/read/").json()["results"]
    assert {p["user_id"] for p in positions} == {str(manager.pk), str(member.pk)}
    before = chat_state()
    _error(
        member_api.post(f"{API}rooms/{room.pk}/read/", {"message_id": 0}, format="json"),
        400,
        "invalid",
    )
    _error(
        member_api.post(f"{API}rooms/{room.pk}/read/", {"message_id": 999999}, format="json"),
        404,
        "message_not_found",
    )
    assert chat_state() == before


def test_room_list_query_count_is_constant(
    auth_client, tenant_a, in_a, manager, make_user, django_assert_num_queries
):
    api = auth_client(manager, tenant_a)
    api.get(f"{API}rooms/")  # warms the host, user, session and permission caches
    for count in (2, 8):
        while RoomMember.objects.filter(user=manager).count() < count:
            room = services.room_create(
                user=manager, name="r", member_ids=[make_user(tenant=tenant_a).pk]
            )
            services.message_send(user=manager, room_id=room.pk, body="hi")
        # rooms with unread counts after one search_path (host, user, session and the rbac
        # membership are served from caches)
        with django_assert_num_queries(2):
            response = api.get(f"{API}rooms/")
        assert len(response.json()["results"]) == count


def test_message_history_query_count_is_constant(
    auth_client, tenant_a, room, manager, django_assert_num_queries
):
    api = auth_client(manager, tenant_a)
    api.get(f"{API}rooms/{room.pk}/messages/")  # warms the host, user and session caches
    for count in (3, 12):
        while Message.objects.filter(room=room).count() < count:
            services.message_send(user=manager, room_id=room.pk, body="hi")
        # the caller's room membership and the messages after one search_path (host, user,
        # session and the rbac membership are served from caches)
        with django_assert_num_queries(3):
            response = api.get(f"{API}rooms/{room.pk}/messages/")
        assert len(response.json()["results"]) == count


def test_guardian_object_permission_lets_a_member_moderate_one_room(
    auth_client, tenant_a, in_a, manager, member, make_user, chat_state
):
    from guardian.shortcuts import assign_perm

    room = services.room_create(user=manager, name="A", member_ids=[member.pk])
    other_room = services.room_create(user=manager, name="B", member_ids=[member.pk])
    api = auth_client(member, tenant_a)
    before = chat_state()
    _error(
        api.patch(f"{API}rooms/{room.pk}/", {"name": "x"}, format="json"), 403, "permission_denied"
    )
    assert chat_state() == before
    assign_perm("chat.moderate_room", member, room)
    assert api.patch(f"{API}rooms/{room.pk}/", {"name": "x"}, format="json").status_code == 200
    before = chat_state()
    _error(
        api.patch(f"{API}rooms/{other_room.pk}/", {"name": "x"}, format="json"),
        403,
        "permission_denied",
    )
    assert chat_state() == before


def test_tenant_isolation(
    auth_client, tenant_a, tenant_b, in_a, room, manager, make_user, chat_state
):
    outsider = make_user(tenant=tenant_b, role="owner")
    beta = auth_client(outsider, tenant_b)
    outsider_a = auth_client(make_user(tenant=tenant_a), tenant_a)
    before = chat_state()
    _error(beta.get(f"{API}rooms/{room.pk}/"), 404, "room_not_found")
    _error(beta.get(f"{API}rooms/{room.pk}/messages/"), 404, "room_not_found")
    _error(
        beta.post(f"{API}rooms/{room.pk}/messages/", {"body": "hi"}, format="json"),
        404,
        "room_not_found",
    )
    # A workspace member outside the room learns nothing about it.
    _error(outsider_a.get(f"{API}rooms/{room.pk}/messages/"), 404, "room_not_found")
    _error(
        outsider_a.patch(f"{API}rooms/{room.pk}/", {"name": "x"}, format="json"),
        404,
        "room_not_found",
    )
    _error(
        outsider_a.post(
            f"{API}rooms/{room.pk}/members/", {"user_id": str(manager.pk)}, format="json"
        ),
        404,
        "room_not_found",
    )
    # A token of tenant A on B's host.
    from accounts.tokens import tokens_for_user

    token = tokens_for_user(user=manager, tenant=tenant_a)["access"]
    from rest_framework.test import APIClient

    wrong = APIClient(HTTP_HOST="beta.localhost")
    wrong.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert wrong.get(f"{API}rooms/").status_code == 401
    assert wrong.post(f"{API}rooms/", {"name": "x"}, format="json").status_code == 401
    assert not Message.objects.exists()
    assert chat_state() == before


def test_bad_input_writes_nothing(auth_client, tenant_a, room, manager, chat_state):
    api = auth_client(manager, tenant_a)
    before = chat_state()
    error = _error(
        api.post(f"{API}rooms/", {"member_ids": ["nope"]}, format="json"), 400, "invalid"
    )
    assert set(error["fields"]) == {"name", "member_ids"}
    _error(
        api.post(
            f"{API}rooms/{room.pk}/members/",
            {"user_id": str(manager.pk), "role": "king"},
            format="json",
        ),
        400,
        "invalid",
    )
    _error(api.post(f"{API}rooms/{room.pk}/messages/", {}, format="json"), 400, "invalid")
    _error(api.get(f"{API}rooms/999999/"), 404, "room_not_found")
    assert Room.objects.count() == 1 and not Message.objects.exists()
    assert chat_state() == before


def test_a_room_admin_cannot_demote_or_then_remove_the_owner(
    auth_client, tenant_a, in_a, room, manager, make_user, chat_state
):
    admin = make_user(tenant=tenant_a)
    services.room_member_add(user=manager, room_id=room.pk, user_id=admin.pk, role="admin")
    admin_api = auth_client(admin, tenant_a)
    before = chat_state()
    for role in ("member", "admin"):
        _error(
            admin_api.post(
                f"{API}rooms/{room.pk}/members/",
                {"user_id": str(manager.pk), "role": role},
                format="json",
            ),
            403,
            "permission_denied",
        )
    _error(
        admin_api.delete(f"{API}rooms/{room.pk}/members/{manager.pk}/"), 403, "permission_denied"
    )
    assert chat_state() == before
    assert RoomMember.objects.get(room=room, user=manager).role == "owner"


def test_owners_change_owners_and_the_last_owner_stays(
    auth_client, tenant_a, in_a, room, manager, member, chat_state
):
    api = auth_client(manager, tenant_a)
    before = chat_state()
    _error(
        api.post(
            f"{API}rooms/{room.pk}/members/",
            {"user_id": str(manager.pk), "role": "member"},
            format="json",
        ),
        409,
        "last_owner",
    )
    assert chat_state() == before

    promoted = api.post(
        f"{API}rooms/{room.pk}/members/",
        {"user_id": str(member.pk), "role": "owner"},
        format="json",
    )
    assert promoted.status_code in (200, 201), promoted.content
    demoted = api.post(
        f"{API}rooms/{room.pk}/members/",
        {"user_id": str(member.pk), "role": "admin"},
        format="json",
    )
    assert demoted.status_code in (200, 201), demoted.content
    assert RoomMember.objects.get(room=room, user=member).role == "admin"
