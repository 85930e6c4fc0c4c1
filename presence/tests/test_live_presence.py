"""Presence over real sockets: tabs merge, subscribers see changes, silent or killed clients and
processes go offline after the heartbeat timeout."""

import asyncio
import os
import re
import signal

import pytest

from chat.tests.live import FAST_PRESENCE, Client, chat_server

pytestmark = pytest.mark.slow
ALPHA = "alpha.localhost"


ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def test_tabs_merge_and_subscribers_see_online_and_offline(world):
    from chat import services

    alice, bob = world.user(role="manager"), world.user()
    outsider = world.user("beta")
    room = world.run(
        "alpha", lambda: services.room_create(user=alice, name="P", member_ids=[bob.pk])
    )
    token_a, token_a2, token_b = world.token(alice), world.token(alice), world.token(bob)

    async def scenario(port_1, port_2):
        b = await Client.open(port_2, ALPHA, token_b)
        b.start_heartbeats()
        await b.request({"type": "room.join", "room_id": room.pk}, "room.joined")
        snapshot = await b.request(
            {"type": "presence.subscribe", "user_ids": [str(alice.pk), str(outsider.pk)]},
            "presence.snapshot",
        )
        # Users of another tenant are not visible (nor subscribed to).
        assert [row["user_id"] for row in snapshot["users"]] == [str(alice.pk)]
        assert snapshot["users"][0]["online"] is False

        # The hook other apps use (notifications): is the user connected, push them an event.
        from core import realtime
        from presence.selectors import is_online

        assert await world.arun("alpha", lambda: is_online(bob.pk)) is True
        assert await world.arun("beta", lambda: is_online(bob.pk)) is False
        await world.arun(
            "alpha",
            lambda: realtime.send_event(
                realtime.user_group("alpha", bob.pk),
                {"type": "notification", "n": 1},
                handler=realtime.USER_EVENT,
            ),
        )
        assert (await b.wait("notification"))["n"] == 1

        tab_1 = await Client.open(port_1, ALPHA, token_a)
        tab_1.start_heartbeats()
        online = await b.wait("presence", user_id=str(alice.pk))
        assert online["online"] is True
        tab_2 = await Client.open(port_2, ALPHA, token_a2, header=True)
        tab_2.start_heartbeats()
        await tab_1.close()
        # One tab is still open: no offline change.
        assert await b.silent_for(1.5, "presence")
        await tab_2.close()
        offline = await b.wait("presence", user_id=str(alice.pk))
        assert offline["online"] is False and ISO_Z.fullmatch(offline["last_seen_at"])
        again = await b.request(
            {"type": "presence.subscribe", "user_ids": [str(alice.pk)]}, "presence.snapshot"
        )
        assert ISO_Z.fullmatch(again["users"][0]["last_seen_at"]), again
        await b.close()

    with chat_server(**FAST_PRESENCE) as one, chat_server(**FAST_PRESENCE) as two:
        asyncio.run(scenario(one.port, two.port))


def test_silent_client_is_closed_and_a_killed_process_goes_offline(world):
    alice, bob, carol = world.user(), world.user(), world.user()
    token_a, token_b, token_c = world.token(alice), world.token(bob), world.token(carol)

    async def silent(port):
        watcher = await Client.open(port, ALPHA, token_b)
        watcher.start_heartbeats()
        await watcher.request(
            {"type": "presence.subscribe", "user_ids": [str(alice.pk)]}, "presence.snapshot"
        )
        quiet = await Client.open(port, ALPHA, token_a)  # never sends a heartbeat
        assert (await watcher.wait("presence", user_id=str(alice.pk)))["online"] is True
        assert await quiet.closed_code(timeout=6) == 4408
        assert (await watcher.wait("presence", user_id=str(alice.pk)))["online"] is False
        await watcher.close()

    async def killed(doomed, port_2):
        watcher = await Client.open(port_2, ALPHA, token_b)
        watcher.start_heartbeats()
        await watcher.request(
            {"type": "presence.subscribe", "user_ids": [str(carol.pk)]}, "presence.snapshot"
        )
        victim = await Client.open(doomed.port, ALPHA, token_c)
        victim.start_heartbeats()
        assert (await watcher.wait("presence", user_id=str(carol.pk)))["online"] is True
        # The web process dies without closing anything: no disconnect is ever handled.
        os.kill(doomed.pid, signal.SIGKILL)
        victim.beating.cancel()
        offline = await watcher.wait("presence", user_id=str(carol.pk), timeout=8)
        assert offline["online"] is False
        await watcher.close()

    with chat_server(**FAST_PRESENCE) as server:
        asyncio.run(silent(server.port))
    with chat_server(**FAST_PRESENCE) as doomed, chat_server(**FAST_PRESENCE) as survivor:
        asyncio.run(killed(doomed, survivor.port))
