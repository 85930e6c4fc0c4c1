"""messages_send against other transactions on committed rows (the writer threads' autocommit)."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

pytestmark = pytest.mark.slow


def _in_thread(fn):
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the test
            box["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def _wait_for_a_lock_wait(seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                " AND query LIKE '%%chat_message%%'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("the batch never waited for the other transaction")


def test_a_client_id_stored_by_another_transaction_meanwhile_answers_that_message(world):
    from django_tenants.utils import schema_context

    from chat import services
    from chat.models import Message
    from chat.services import MessageSend

    alice = world.user(role="manager")
    room = world.run("alpha", lambda: services.room_create(user=alice, name="Race"))
    holding, release = threading.Event(), threading.Event()

    def other_transaction():
        with schema_context("alpha"), transaction.atomic():
            message = Message.objects.create(room=room, sender=alice, client_id="k1", body="one")
            holding.set()
            release.wait(10)
            return message

    def batch():
        with schema_context("alpha"):
            return services.messages_send(
                sends=[
                    MessageSend(user=alice, room_id=room.pk, body="one again", client_id="k1"),
                    MessageSend(user=alice, room_id=room.pk, body="two", client_id="k2"),
                ]
            )

    with world.blocker.unblock():
        other, other_box = _in_thread(other_transaction)
        assert holding.wait(10)
        sender, sender_box = _in_thread(batch)
        try:
            _wait_for_a_lock_wait()  # the batch's INSERT waits on the uncommitted client id
        finally:
            release.set()
            other.join(10)
            sender.join(10)
        connections.close_all()
    assert "error" not in other_box and "error" not in sender_box, (other_box, sender_box)
    first = other_box["result"]
    (again, created_again), (two, created_two) = sender_box["result"]
    assert (again.pk, again.body, created_again) == (first.pk, "one", False)
    assert created_two is True and two.pk > first.pk

    def stored():
        rows = Message.objects.filter(room=room).order_by("id")
        return list(rows.values_list("client_id", "body"))

    assert world.run("alpha", stored) == [("k1", "one"), ("k2", "two")]


def test_concurrent_batches_over_the_same_rooms_in_opposite_orders_all_commit(world):
    from django_tenants.utils import schema_context

    from chat import services
    from chat.models import Message, RoomMember
    from chat.services import MessageSend

    alice, bob = world.user(role="manager"), world.user()

    def room(name):
        return services.room_create(user=alice, name=name, member_ids=[bob.pk])

    rooms = [world.run("alpha", lambda n=n: room(n)) for n in ("A", "B", "C")]

    def sender(order, tag):
        def run():
            with schema_context("alpha"):
                for i in range(30):
                    results = services.messages_send(
                        sends=[
                            MessageSend(user=u, room_id=r.pk, body="x", client_id=f"{tag}{i}")
                            for r in order
                            for u in (alice, bob)
                        ]
                    )
                    assert all(isinstance(r, tuple) and r[1] for r in results), results
            return True

        return run

    with world.blocker.unblock():
        threads = [
            _in_thread(sender(rooms, "f")),
            _in_thread(sender(rooms[::-1], "r")),
        ]
        for thread, _ in threads:
            thread.join(60)
        connections.close_all()
    assert [box for _, box in threads] == [{"result": True}, {"result": True}]

    def state():
        counts = [Message.objects.filter(room=r).count() for r in rooms]
        newest = [Message.objects.filter(room=r, sender=bob).order_by("-id")[0].pk for r in rooms]
        reads = [RoomMember.objects.get(room=r, user=bob).last_read_message_id for r in rooms]
        return counts, newest == reads

    assert world.run("alpha", state) == ([120, 120, 120], True)
