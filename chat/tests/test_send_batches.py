"""The websocket's group commit: batches of the sends that wait, each answered once, in order."""

import asyncio
import threading
from unittest import mock

import pytest

from chat import consumers, services
from chat.services import MessageSend


def _send(n):
    return MessageSend(user=None, room_id=1, body=f"m{n}", client_id=f"c{n}")


def test_sends_that_wait_go_into_one_batch_and_each_gets_its_own_answer_in_order():
    batches = []
    first_started = threading.Event()
    release = threading.Event()

    def write(*, sends):
        batches.append([s.body for s in sends])
        if len(batches) == 1:  # hold the first batch while more sends arrive
            first_started.set()
            release.wait(5)
        return [(s.body, True) for s in sends]

    async def scenario():
        batches_ = consumers._SendBatches()
        first = asyncio.create_task(batches_.send("s", _send(0)))
        await asyncio.to_thread(first_started.wait, 5)
        rest = [asyncio.create_task(batches_.send("s", _send(n))) for n in range(1, 6)]
        await asyncio.sleep(0.05)
        release.set()
        return [await first] + [await task for task in rest]

    with mock.patch.object(services, "messages_send", side_effect=write):
        answers = asyncio.run(scenario())
    assert batches == [["m0"], ["m1", "m2", "m3", "m4", "m5"]]
    assert answers == [(f"m{n}", True) for n in range(6)]


def _two_groups(settings, linger_ms, resend):
    """Three sends held in a first batch while three more wait; the first three send again
    when answered (resend) or not. Returns the batches written."""
    settings.CHAT_BATCH_LINGER_MS = linger_ms
    batches = []
    first_started = threading.Event()
    release = threading.Event()

    def write(*, sends):
        batches.append([s.body for s in sends])
        if len(batches) == 1:
            first_started.set()
            release.wait(5)
        return [(s.body, True) for s in sends]

    async def sender(batches_, n):
        await batches_.send("s", _send(n))
        if resend:
            await batches_.send("s", _send(n + 10))

    async def scenario():
        batches_ = consumers._SendBatches()
        first = [asyncio.create_task(sender(batches_, n)) for n in range(3)]
        await asyncio.to_thread(first_started.wait, 5)
        waiting = [asyncio.create_task(batches_.send("s", _send(n))) for n in range(3, 6)]
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.wait_for(asyncio.gather(*first, *waiting), 5)

    with mock.patch.object(services, "messages_send", side_effect=write):
        asyncio.run(scenario())
    return batches


def test_senders_answered_by_a_batch_join_the_next_one_with_those_already_waiting(settings):
    batches = _two_groups(settings, 1000, resend=True)
    assert batches == [["m0", "m1", "m2"], ["m3", "m4", "m5", "m10", "m11", "m12"]]


def test_without_linger_the_answered_senders_go_into_a_batch_of_their_own(settings):
    batches = _two_groups(settings, 0, resend=True)
    assert batches == [["m0", "m1", "m2"], ["m3", "m4", "m5"], ["m10", "m11", "m12"]]


def test_the_linger_ends_when_the_answered_senders_do_not_send_again(settings):
    # Waits at most CHAT_BATCH_LINGER_MS (50 ms here; the scenario's own limit is 5 s).
    batches = _two_groups(settings, 50, resend=False)
    assert batches == [["m0", "m1", "m2"], ["m3", "m4", "m5"]]


def test_a_lone_sender_never_waits_for_the_linger(settings):
    settings.CHAT_BATCH_LINGER_MS = 60_000
    batches = []

    def write(*, sends):
        batches.append([s.body for s in sends])
        return [(s.body, True) for s in sends]

    async def scenario():
        batches_ = consumers._SendBatches()
        return [await batches_.send("s", _send(n)) for n in range(3)]

    with mock.patch.object(services, "messages_send", side_effect=write):
        answers = asyncio.run(asyncio.wait_for(scenario(), 5))
    assert batches == [["m0"], ["m1"], ["m2"]]
    assert answers == [(f"m{n}", True) for n in range(3)]


def test_a_failed_batch_acknowledges_none_of_its_sends_and_the_next_batch_goes_on():
    calls = []

    def write(*, sends):
        calls.append(len(sends))
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return [(s.body, True) for s in sends]

    async def scenario():
        batches_ = consumers._SendBatches()
        failed = await asyncio.gather(
            *(batches_.send("s", _send(n)) for n in range(3)), return_exceptions=True
        )
        after = await batches_.send("s", _send(9))
        return failed, after

    with (
        mock.patch.object(services, "messages_send", side_effect=write),
        mock.patch.object(consumers, "connection") as connection,
    ):
        connection.connection = None  # nothing held yet
        failed, after = asyncio.run(scenario())
    assert calls[0] == 3
    assert all(isinstance(result, RuntimeError) for result in failed)
    # The writer thread does not reuse the connection of the failed batch (and only that one).
    assert connection.close.call_count == 1
    assert after == ("m9", True)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_writer_threads_are_bounded_by_the_setting(settings, threads):
    settings.CHAT_WRITER_THREADS = threads
    assert consumers._SendBatches()._executor()._max_workers == threads


def test_room_events_are_forwarded_in_order_without_a_thread_hop_per_delivery():
    consumer = consumers.ChatConsumer()
    sent = []

    async def base_send(message):
        sent.append(message)

    consumer.base_send = base_send
    frames = ['{"type": "message", "n": 1}', '{"type": "message", "n": 2}']
    with mock.patch("channels.consumer.aclose_old_connections") as close_old:
        asyncio.run(consumer.dispatch({"type": "chat.events", "frames": frames}))
    assert [m["text"] for m in sent] == frames
    assert all(m["type"] == "websocket.send" for m in sent)
    assert not close_old.called
    with pytest.raises(ValueError):
        asyncio.run(consumer.dispatch({"type": "no.such.handler"}))


def test_the_bare_bench_consumers_are_not_served_unless_asked_for(settings):
    from config import routing

    assert settings.BENCH_BASELINE_VIEWS is False
    assert not [p for p in routing.websocket_urlpatterns if "bench" in str(p.pattern)]


def test_a_writer_thread_drops_a_connection_lost_since_its_previous_batch():
    def write(*, sends):
        return [(s.body, True) for s in sends]

    async def scenario():
        return await consumers._SendBatches().send("s", _send(1))

    with (
        mock.patch.object(services, "messages_send", side_effect=write),
        mock.patch.object(consumers, "connection") as connection,
    ):
        connection.connection.closed = False
        connection.connection.broken = True
        assert asyncio.run(scenario()) == ("m1", True)
    assert connection.close.call_count == 1


def test_a_batchs_room_publishes_are_made_by_the_event_loop_in_batch_order():
    from core import realtime

    published = []

    class Layer:
        async def group_send(self, group, message):
            published.append((group, message["frames"], threading.current_thread().name))

    def write(*, sends):
        realtime.send_events("room", [{"type": "message", "body": s.body} for s in sends])
        return [(s.body, True) for s in sends]

    async def scenario():
        batches_ = consumers._SendBatches()
        for n in range(3):
            await batches_.send("s", _send(n))
        return threading.current_thread().name

    with (
        mock.patch.object(services, "messages_send", side_effect=write),
        mock.patch.object(realtime, "get_channel_layer", return_value=Layer()),
    ):
        loop_thread = asyncio.run(scenario())
    assert [(group, frames) for group, frames, _ in published] == [
        ("room", [f'{{"type": "message", "body": "m{n}"}}']) for n in range(3)
    ]
    assert {thread for _, _, thread in published} == {loop_thread}
