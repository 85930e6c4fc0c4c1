"""messages_send: the websocket's group commit keeps message_send's checks, results and order."""

from unittest import mock

import pytest

from chat import services
from chat.errors import InvalidChatData, NotRoomMember, RoomNotFound
from chat.models import Message, Room, RoomMember
from chat.services import MessageSend


@pytest.fixture
def manager(make_user, tenant_a):
    return make_user(tenant=tenant_a, role="manager")


@pytest.fixture
def member(make_user, tenant_a):
    return make_user(tenant=tenant_a, role="member")


@pytest.fixture
def room(in_a, manager, member):
    return services.room_create(user=manager, name="General", member_ids=[member.pk])


@pytest.fixture
def published():
    """The events published to rooms, in order, and the number of publishes."""
    events = PublishedEvents()

    def one(group, event, **kw):
        events.publishes += 1
        events.append(event)

    def many(group, batch):
        events.publishes += 1
        events.extend(batch)

    with (
        mock.patch("core.realtime.send_event", side_effect=one),
        mock.patch("core.realtime.send_events", side_effect=many),
    ):
        yield events


class PublishedEvents(list):
    publishes = 0


def test_a_batch_stores_in_order_and_answers_each_send_like_message_send(
    room, manager, member, make_user, tenant_a, published, django_capture_on_commit_callbacks
):
    outsider = make_user(tenant=tenant_a, role="member")
    earlier, _ = services.message_send(user=member, room_id=room.pk, body="old", client_id="c0")
    published.clear()
    sends = [
        MessageSend(user=manager, room_id=room.pk, body="one", client_id="c1"),
        MessageSend(user=outsider, room_id=room.pk, body="not a member"),
        MessageSend(user=member, room_id=room.pk, body="two", client_id="c2"),
        MessageSend(user=member, room_id=room.pk, body="   "),
        MessageSend(user=member, room_id=room.pk, body="retry", client_id="c0"),
        MessageSend(user=manager, room_id=room.pk, body="one again", client_id="c1"),
        MessageSend(user=manager, room_id=10**9, body="nowhere"),
        MessageSend(user=manager, room_id=room.pk, body="three"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        results = services.messages_send(sends=sends)

    one, refused, two, empty, retry, again, nowhere, three = results
    assert [one[1], two[1], three[1]] == [True, True, True]
    assert one[0].pk < two[0].pk < three[0].pk
    assert isinstance(refused, NotRoomMember)
    assert isinstance(empty, InvalidChatData)
    assert isinstance(nowhere, RoomNotFound)
    assert retry == (earlier, False)  # stored before: the same message, nothing new
    assert again[0] is one[0] and again[1] is False  # a retry within the batch
    stored = list(Message.objects.filter(room=room).order_by("id").values_list("body", flat=True))
    assert stored == ["old", "one", "two", "three"]
    assert [e["message"]["body"] for e in published] == ["one", "two", "three"]
    assert Room.objects.get(pk=room.pk).last_message_at == three[0].created_at
    reads = dict(
        RoomMember.objects.filter(room=room).values_list("user_id", "last_read_message_id")
    )
    assert reads[manager.pk] == three[0].pk
    assert reads[member.pk] == two[0].pk


def test_a_batch_of_refusals_writes_nothing_and_publishes_nothing(
    room, manager, member, published, django_capture_on_commit_callbacks
):
    before = (
        Message.objects.count(),
        Room.objects.get(pk=room.pk).last_message_at,
        list(RoomMember.objects.order_by("id").values_list("last_read_message_id", flat=True)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        results = services.messages_send(
            sends=[
                MessageSend(user=member, room_id=room.pk, body=""),
                MessageSend(user=manager, room_id=10**9, body="x"),
                MessageSend(user=member, room_id=room.pk, body="x" * 10**5),
            ]
        )
    assert [r.code for r in results] == ["invalid", "room_not_found", "message_too_long"]
    after = (
        Message.objects.count(),
        Room.objects.get(pk=room.pk).last_message_at,
        list(RoomMember.objects.order_by("id").values_list("last_read_message_id", flat=True)),
    )
    assert after == before
    assert published == []


def test_a_failed_statement_falls_back_to_one_at_a_time(
    room, manager, published, django_capture_on_commit_callbacks
):
    from django.db import IntegrityError

    real = services._messages_send
    calls = []

    def failing(sends):
        calls.append(len(sends))
        if len(calls) == 1:
            raise IntegrityError("insert or update violates foreign key constraint")
        return real(sends)

    with (
        mock.patch.object(services, "_messages_send", side_effect=failing),
        django_capture_on_commit_callbacks(execute=True),
    ):
        results = services.messages_send(
            sends=[
                MessageSend(user=manager, room_id=room.pk, body="a", client_id="r1"),
                MessageSend(user=manager, room_id=room.pk, body="b", client_id="r2"),
            ]
        )
    assert [r[1] for r in results] == [True, True]
    bodies = Message.objects.filter(room=room).order_by("id").values_list("body", flat=True)
    assert list(bodies) == ["a", "b"]
    assert [e["message"]["body"] for e in published] == ["a", "b"]


def test_refusals_keep_message_sends_order_of_checks(
    room, manager, member, make_user, tenant_a, published, django_capture_on_commit_callbacks
):
    from chat.errors import ChatForbidden, RoomArchived

    viewer = make_user(tenant=tenant_a, role="viewer")
    services.room_member_add(user=manager, room_id=room.pk, user_id=viewer.pk)
    archived = services.room_create(user=manager, name="Old", member_ids=[member.pk])
    services.room_archive(user=manager, room_id=archived.pk)
    with django_capture_on_commit_callbacks(execute=True):
        results = services.messages_send(
            sends=[
                MessageSend(user=member, room_id=archived.pk, body="", client_id="x"),
                MessageSend(user=viewer, room_id=room.pk, body="hello"),
                MessageSend(user=member, room_id=room.pk, body="nul \x00 inside"),
                MessageSend(user=member, room_id=10**30, body="too big an id"),
                MessageSend(user=member, room_id=room.pk, body="fine", client_id="x"),
            ]
        )
    archived_room, forbidden, nul, huge, fine = results
    assert isinstance(archived_room, RoomArchived)  # before the body's own error
    assert isinstance(forbidden, ChatForbidden)
    assert isinstance(nul, InvalidChatData)
    assert isinstance(huge, RoomNotFound)
    assert fine[1] is True and fine[0].body == "fine"
    assert [e["message"]["body"] for e in published] == ["fine"]
    assert Message.objects.filter(room=archived).count() == 0


def test_a_batch_is_one_statement_and_answers_a_stored_message_with_its_fields(
    room, manager, member, published, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    earlier, _ = services.message_send(user=member, room_id=room.pk, body="old", client_id="e1")
    edited = services.message_edit(user=member, message_id=earlier.pk, body="old, edited")
    services.messages_send(sends=[MessageSend(user=manager, room_id=room.pk, body="warm")])
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        results = services.messages_send(
            sends=[
                MessageSend(user=member, room_id=room.pk, body="retry", client_id="e1"),
                MessageSend(user=manager, room_id=room.pk, body="new", client_id="n1"),
            ]
        )
    writes = [q for q in queries.captured_queries if "chat_" in q["sql"]]
    assert len(writes) == 1, [q["sql"][:80] for q in queries.captured_queries]
    (retry, duplicate), (new, created) = results
    assert duplicate is False and created is True
    assert retry.pk == earlier.pk and retry.body == "old, edited"
    assert retry.edited_at == edited.edited_at
    assert services.message_payload(retry) == services.message_payload(
        Message.objects.get(pk=earlier.pk)
    )
    assert services.message_payload(new) == services.message_payload(Message.objects.get(pk=new.pk))


def test_a_batch_publishes_once_per_room_and_costs_the_same_queries_for_any_number_of_senders(
    in_a, manager, make_user, tenant_a, published, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    senders = [make_user(tenant=tenant_a, role="member") for _ in range(6)]
    room = services.room_create(user=manager, name="Busy", member_ids=[u.pk for u in senders])
    other = services.room_create(user=manager, name="Other", member_ids=[senders[0].pk])
    for user in senders:  # warm each sender's permission cache, as a live connection has it
        services.messages_send(sends=[MessageSend(user=user, room_id=room.pk, body="hi")])

    def batch(users, tag):
        published.clear()
        published.publishes = 0
        sends = [
            MessageSend(user=u, room_id=room.pk, body=f"{tag}{i}", client_id=f"{tag}{i}")
            for i, u in enumerate(users)
        ] + [MessageSend(user=senders[0], room_id=other.pk, body=f"{tag}-other")]
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            results = services.messages_send(sends=sends)
        assert all(created for _, created in results)
        return len(queries)

    two = batch(senders[:2], "a")
    assert published.publishes == 2  # one per room, whatever the number of messages
    assert [e["message"]["body"] for e in published] == ["a0", "a1", "a-other"]
    six = batch(senders, "b")
    assert published.publishes == 2
    assert [e["message"]["body"] for e in published] == [f"b{i}" for i in range(6)] + ["b-other"]
    assert six == two
    reads = dict(
        RoomMember.objects.filter(room=room).values_list("user_id", "last_read_message_id")
    )
    stored = dict(
        Message.objects.filter(room=room, body__startswith="b").values_list("sender_id", "pk")
    )
    assert all(reads[u.pk] == stored[u.pk] for u in senders)
