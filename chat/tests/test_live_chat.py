"""Chat over real sockets: two uvicorn processes sharing Redis, real channels-redis groups."""

import asyncio

import pytest

from chat.tests.live import Client, chat_server

pytestmark = pytest.mark.slow
ALPHA = "alpha.localhost"
BETA = "beta.localhost"


def _group_room(world, owner, *members, name="General"):
    from chat import services

    return world.run(
        "alpha",
        lambda: services.room_create(user=owner, name=name, member_ids=[m.pk for m in members]),
    )


def test_message_sent_on_one_process_arrives_on_the_other(world):
    from chat.models import Message

    alice, bob = world.user(role="manager"), world.user()
    room = _group_room(world, alice, bob)
    token_a, token_b = world.token(alice), world.token(bob)

    async def scenario(port_1, port_2):
        a = await Client.open(port_1, ALPHA, token_a)
        b = await Client.open(port_2, ALPHA, token_b, header=True)
        for client in (a, b):
            joined = await client.request({"type": "room.join", "room_id": room.pk}, "room.joined")
            assert joined["type"] == "room.joined"

        ack = await a.request(
            {"type": "message.send", "room_id": room.pk, "body": "hello", "client_id": "c-1"},
            "message.ack",
        )
        assert ack["type"] == "message.ack" and ack["duplicate"] is False
        message_id = ack["message"]["id"]
        got = await b.wait("message")
        assert got["message"]["body"] == "hello"
        assert got["message"]["sender_id"] == str(alice.pk)
        assert got["message"]["id"] == message_id

        # The same client id again (a retry): stored once, not broadcast twice.
        again = await a.request(
            {"type": "message.send", "room_id": room.pk, "body": "hello", "client_id": "c-1"},
            "message.ack",
        )
        assert again["duplicate"] is True and again["message"]["id"] == message_id

        # Typing (ephemeral, with its expiry), throttled while it has not expired.
        await b.send({"type": "typing.start", "room_id": room.pk})
        await b.send({"type": "typing.start", "room_id": room.pk})
        typing = await a.wait("typing", user_id=str(bob.pk))
        assert typing["typing"] is True and typing["expires_in"] == 2
        await b.send({"type": "typing.stop", "room_id": room.pk})
        stop = await a.wait("typing", user_id=str(bob.pk))
        assert stop["typing"] is False  # the second start was throttled away

        # Read receipt.
        await b.send({"type": "read", "room_id": room.pk, "message_id": message_id})
        read = await a.wait("read", user_id=str(bob.pk))
        assert read == {
            "type": "read",
            "room_id": room.pk,
            "user_id": str(bob.pk),
            "message_id": message_id,
        }

        # Edit and delete, seen on the other process.
        edit = await a.request(
            {"type": "message.edit", "message_id": message_id, "body": "hello, edited"},
            "message.edit.ack",
        )
        assert edit["type"] == "message.edit.ack"
        edited = await b.wait("message.edited")
        assert edited["message"]["body"] == "hello, edited" and edited["message"]["edited_at"]
        denied = await b.request(
            {"type": "message.edit", "message_id": message_id, "body": "not mine"}, "error"
        )
        assert denied["code"] == "permission_denied"
        body = await world.arun("alpha", lambda: Message.objects.get(pk=message_id).body)
        assert body == "hello, edited"

        second = await a.request(
            {"type": "message.send", "room_id": room.pk, "body": "second", "client_id": "c-2"},
            "message.ack",
        )
        await b.wait("message", timeout=5)
        await a.request({"type": "message.delete", "message_id": message_id}, "message.delete.ack")
        deleted = await b.wait("message.deleted")
        assert deleted["message_id"] == message_id

        # Reconnect with history catch-up: what happened after the last message seen.
        await b.close()
        third = await a.request(
            {"type": "message.send", "room_id": room.pk, "body": "while away", "client_id": "c-3"},
            "message.ack",
        )
        b2 = await Client.open(port_2, ALPHA, token_b)
        caught = await b2.request(
            {"type": "room.join", "room_id": room.pk, "after": second["message"]["id"]},
            "room.joined",
        )
        assert [m["body"] for m in caught["messages"]] == ["while away"]
        assert caught["messages"][0]["id"] == third["message"]["id"]
        await a.close()
        await b2.close()
        return message_id

    with chat_server() as one, chat_server() as two:
        message_id = asyncio.run(scenario(one.port, two.port))

    def stored():
        message = Message.objects.get(pk=message_id)
        return message.deleted_at is not None, message.body, message.edits.count()

    # Persisted before broadcast; the tombstone keeps no body and no edit history.
    assert world.run("alpha", stored) == (True, "", 0)
    count = world.run(
        "alpha", lambda: Message.objects.filter(room_id=room.pk, client_id="c-1").count()
    )
    assert count == 1


def test_authentication_revocation_and_tenant_isolation(world):
    from accounts.models import Session
    from accounts.services import session_revoke
    from chat.models import Message

    alice, bob = world.user(role="manager"), world.user()
    outsider = world.user("beta")
    room = _group_room(world, alice, bob)
    token_a = world.token(alice)
    token_b = world.token(bob)
    token_beta = world.token(outsider, "beta")

    async def scenario(port):
        # No token: events are refused until the client authenticates.
        anon = await Client.open(port, ALPHA)
        await anon.send({"type": "room.join", "room_id": room.pk})
        assert (await anon.wait("error"))["code"] == "not_authenticated"
        await anon.send({"type": "auth", "token": "not-a-token"})
        assert (await anon.wait("error"))["code"] == "token_not_valid"
        assert await anon.closed_code() == 4401

        # A token of tenant alpha on beta's host: refused (first frame and header).
        wrong = await Client.open(port, BETA)
        await wrong.send({"type": "auth", "token": token_a})
        assert (await wrong.wait("error"))["code"] == "token_wrong_tenant"
        assert await wrong.closed_code() == 4401
        import websockets

        with pytest.raises(websockets.InvalidStatus) as refused:
            await Client.open(port, BETA, token_a, header=True)
        assert refused.value.response.status_code == 403

        # A user of beta cannot join alpha's room, even on beta's host with the same id.
        beta_client = await Client.open(port, BETA, token_beta)
        error = await beta_client.request({"type": "room.join", "room_id": room.pk}, "error")
        assert error["code"] == "room_not_found"
        error = await beta_client.request(
            {"type": "message.send", "room_id": room.pk, "body": "hi", "client_id": "x"}, "error"
        )
        assert error["code"] == "room_not_found"
        await beta_client.close()
        for schema in ("alpha", "beta"):
            sent = await world.arun(
                schema, lambda: Message.objects.filter(room_id=room.pk).exists()
            )
            assert not sent

        # Revoking the session closes the connection.
        b = await Client.open(port, ALPHA, token_b)
        await b.request({"type": "room.join", "room_id": room.pk}, "room.joined")

        def revoke():
            session = Session.objects.filter(user=bob, revoked_at__isnull=True).get()
            session_revoke(session=session)

        await world.arun("public", revoke)
        assert await b.closed_code() == 4401
        assert any(e.get("code") == "session_revoked" for e in b.events)

    with chat_server() as server:
        asyncio.run(scenario(server.port))


def test_membership_limits_and_bad_frames_never_break_the_connection(world):
    from chat.models import Message, RoomMember

    alice, bob, carol = world.user(role="manager"), world.user(), world.user()
    room = _group_room(world, alice, bob)
    token_b, token_c = world.token(bob), world.token(carol)

    async def scenario(port):
        carol_ws = await Client.open(port, ALPHA, token_c)
        for event in (
            {"type": "room.join", "room_id": room.pk},
            {"type": "message.send", "room_id": room.pk, "body": "x", "client_id": "1"},
            {"type": "typing.start", "room_id": room.pk},
            {"type": "read", "room_id": room.pk, "message_id": 1},
        ):
            answer = await carol_ws.request(event, "error")
            assert answer["type"] == "error" and answer["code"] in (
                "room_not_found",
                "not_a_member",
            )

        b = await Client.open(port, ALPHA, token_b)
        await b.send("not json")
        assert (await b.wait("error"))["code"] == "invalid_json"
        await b.send("[1, 2]")
        assert (await b.wait("error"))["code"] == "invalid_event"
        await b.send({"type": "no.such.event"})
        assert (await b.wait("error"))["code"] == "invalid_event"
        await b.send({"type": "room.join", "room_id": {"nested": True}})
        assert (await b.wait("error"))["code"] == "invalid_event"
        await b.send("x" * 40_000)
        assert (await b.wait("error"))["code"] == "frame_too_large"
        await b.ws.send(b"\x00\x01")
        assert (await b.wait("error"))["code"] == "binary_not_supported"
        too_long = await b.request(
            {"type": "message.send", "room_id": room.pk, "body": "y" * 4001, "client_id": "2"},
            "error",
        )
        assert too_long["code"] == "message_too_long"
        empty = await b.request(
            {"type": "message.send", "room_id": room.pk, "body": "  ", "client_id": "3"}, "error"
        )
        assert empty["code"] == "invalid"
        # Still alive and answering.
        assert (await b.request({"type": "heartbeat"}, "heartbeat.ack"))["type"] == "heartbeat.ack"
        await b.close()
        await carol_ws.close()

    def written():
        members = RoomMember.objects.filter(room=room)
        return (
            Message.objects.filter(room=room).count(),
            sorted((str(m.user_id), m.last_read_message_id) for m in members),
        )

    async def flood(port):
        b = await Client.open(port, ALPHA, token_b)
        for _ in range(12):
            await b.send({"type": "heartbeat"})
        assert (await b.wait("error"))["code"] == "rate_limited"
        await asyncio.sleep(1.2)
        assert (await b.request({"type": "heartbeat"}, "heartbeat.ack"))["type"] == "heartbeat.ack"
        await b.close()

    before = world.run("alpha", written)
    with chat_server() as server:
        asyncio.run(scenario(server.port))
    assert world.run("alpha", written) == before  # nothing refused was stored
    with chat_server(CHAT_RATE_PER_SECOND="5", CHAT_RATE_BURST="5") as server:
        asyncio.run(flood(server.port))


def test_removed_member_stops_receiving_and_rest_message_reaches_sockets(world):
    from chat import services
    from chat.models import Message

    alice, bob = world.user(role="manager"), world.user()
    room = _group_room(world, alice, bob)
    token_a, token_b = world.token(alice), world.token(bob)

    async def scenario(port):
        a = await Client.open(port, ALPHA, token_a)
        b = await Client.open(port, ALPHA, token_b)
        for client in (a, b):
            await client.request({"type": "room.join", "room_id": room.pk}, "room.joined")
        # A message written outside the websocket (REST, service) is broadcast after commit.
        await world.arun(
            "alpha",
            lambda: services.message_send(user=alice, room_id=room.pk, body="from rest"),
        )
        assert (await b.wait("message"))["message"]["body"] == "from rest"
        await world.arun(
            "alpha",
            lambda: services.room_member_remove(user=alice, room_id=room.pk, user_id=bob.pk),
        )
        assert (await b.wait("room.removed"))["room_id"] == room.pk
        await a.request(
            {"type": "message.send", "room_id": room.pk, "body": "secret", "client_id": "s"},
            "message.ack",
        )
        assert await b.silent_for(1.0, "message")
        error = await b.request(
            {"type": "message.send", "room_id": room.pk, "body": "hi", "client_id": "t"}, "error"
        )
        assert error["code"] == "not_a_member"
        refused = await world.arun(
            "alpha", lambda: Message.objects.filter(room=room, client_id="t").exists()
        )
        assert not refused
        await a.close()
        await b.close()

    with chat_server() as server:
        asyncio.run(scenario(server.port))


def test_deep_or_nul_json_frames_get_an_error_and_keep_the_connection(world):
    """Frames that would exhaust the decoder (1,000 levels) or carry U+0000: an error event,
    before and after authentication, on every websocket route; nothing written."""
    from chat.models import Message

    alice, bob = world.user(role="manager"), world.user()
    room = _group_room(world, alice, bob)
    token_b = world.token(bob)
    deep = "[" * 1000 + "]" * 1000
    nul_message = {"type": "message.send", "room_id": room.pk, "body": "a\u0000b", "client_id": "n"}

    async def scenario(port):
        import json

        import websockets

        anon = await Client.open(port, ALPHA)
        await anon.send(deep)
        assert (await anon.wait("error"))["code"] == "invalid_json"
        await anon.send({"type": "auth", "token": token_b, "x": "\u0000"})
        assert (await anon.wait("error"))["code"] == "invalid_json"
        await anon.send({"type": "auth", "token": token_b})  # the same socket still works
        await anon.wait("ready")
        await anon.send(deep)
        assert (await anon.wait("error"))["code"] == "invalid_json"
        await anon.send(nul_message)
        assert (await anon.wait("error"))["code"] == "invalid_json"
        assert (await anon.request({"type": "heartbeat"}, "heartbeat.ack"))["type"]
        await anon.close()

        async with websockets.connect(
            f"ws://{ALPHA}:{port}/ws/health/", host="127.0.0.1", port=port
        ) as health:
            assert json.loads(await health.recv())["type"] == "hello"
            await health.send(deep)
            assert json.loads(await health.recv())["code"] == "invalid_json"
            await health.send(json.dumps({"a": "\u0000"}))
            assert json.loads(await health.recv())["code"] == "invalid_json"
            await health.send(json.dumps({"a": 1}))
            assert json.loads(await health.recv())["type"] == "echo"

    before = world.run("alpha", lambda: Message.objects.filter(room=room).count())
    with chat_server() as server:
        asyncio.run(scenario(server.port))
    assert world.run("alpha", lambda: Message.objects.filter(room=room).count()) == before
