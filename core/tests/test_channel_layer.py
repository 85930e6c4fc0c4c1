"""The pub/sub channel layer over the real Redis: one publish per group, per-process fan-out."""

import asyncio
import uuid
from unittest import mock

from asgiref.sync import sync_to_async
from channels_redis.pubsub import RedisSingleShardConnection
from django.conf import settings

from core import realtime
from core.channel_layer import PubSubChannelLayer


def _layer(url: str | None = None, **config) -> PubSubChannelLayer:
    base = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    return PubSubChannelLayer(
        hosts=[url or settings.REDIS_URL], prefix=base["prefix"], **{"capacity": 100, **config}
    )


def _other_database(url: str) -> str:
    base, db = url.rsplit("/", 1)
    return f"{base}/{(int(db or 0) + 1) % 16}"


async def _receive(layer, channel: str, timeout: float = 5.0) -> dict:
    return await asyncio.wait_for(layer.receive(channel), timeout)


async def _nothing(layer, channel: str, wait: float = 0.3) -> bool:
    """True if nothing arrives (the cancelled receive unsubscribes: call it last)."""
    try:
        await asyncio.wait_for(layer.receive(channel), wait)
    except TimeoutError:
        return True
    return False


def test_one_publish_reaches_every_member_in_every_process_decoded_once():
    group = f"alpha.r.{uuid.uuid4().int % 10**9}"

    async def scenario():
        one, two = _layer(), _layer()  # two web processes
        local = [await one.new_channel() for _ in range(3)]
        remote = await two.new_channel()
        for channel in local:
            await one.group_add(group, channel)
        await two.group_add(group, remote)
        outsider = await one.new_channel()
        await asyncio.sleep(0.1)  # subscriptions reach Redis

        publishes = []
        real_publish = RedisSingleShardConnection.publish

        async def counting(shard, name, data):
            publishes.append(name)
            await real_publish(shard, name, data)

        with mock.patch.object(RedisSingleShardConnection, "publish", counting):
            await two.group_send(group, {"type": "chat.event", "event": {"n": 1}})
        got = [await _receive(one, c) for c in local]
        got_remote = await _receive(two, remote)
        quiet = await _nothing(one, outsider)
        await one.flush()
        await two.flush()
        return publishes, got, got_remote, quiet

    publishes, got, got_remote, quiet = asyncio.run(scenario())
    assert len(publishes) == 1  # one publish for the whole group
    assert got[0] == {"type": "chat.event", "event": {"n": 1}} == got_remote
    assert got[0] is got[1] is got[2]  # decoded once in the process, shared by its members
    assert quiet  # a channel outside the group hears nothing


def test_a_full_connection_queue_drops_its_fan_out_and_others_still_receive():
    group = f"alpha.r.{uuid.uuid4().int % 10**9}"

    async def scenario():
        layer = _layer(capacity=2)
        slow, fast = await layer.new_channel(), await layer.new_channel()
        await layer.group_add(group, slow)
        await layer.group_add(group, fast)
        for n in range(4):
            await layer.group_send(group, {"type": "chat.event", "n": n})
            assert (await _receive(layer, fast))["n"] == n
        kept = [(await _receive(layer, slow))["n"] for _ in range(2)]
        drained = await _nothing(layer, slow)
        drops = layer._get_layer().drops
        await layer.flush()
        return kept, drained, drops

    kept, drained, drops = asyncio.run(scenario())
    assert kept == [0, 1]
    assert drained
    assert drops == 2


def test_layers_on_different_redis_databases_never_hear_each_other():
    group = f"alpha.r.{uuid.uuid4().int % 10**9}"

    async def scenario():
        mine, theirs = _layer(), _layer(_other_database(settings.REDIS_URL))
        channel = await mine.new_channel()
        await mine.group_add(group, channel)
        await asyncio.sleep(0.1)
        # Published first: it would arrive first if the databases shared the name.
        await theirs.group_send(group, {"type": "chat.event", "from": "theirs"})
        await mine.group_send(group, {"type": "chat.event", "from": "mine"})
        got = await _receive(mine, channel)
        quiet = await _nothing(mine, channel)
        await mine.flush()
        await theirs.flush()
        return got, quiet

    got, quiet = asyncio.run(scenario())
    assert got["from"] == "mine"
    assert quiet


def test_send_event_from_sync_code_reaches_a_connection_with_its_frame_encoded_once():
    """Services run in a worker thread of the server's loop, tasks in a thread of their own."""
    group = realtime.room_group("alpha", uuid.uuid4().int % 10**9)
    event = {"type": "message", "message": {"id": 7, "body": "hi"}}

    async def scenario():
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        await asyncio.sleep(0.1)
        await sync_to_async(realtime.send_event)(group, event)  # like a service in a consumer
        from_service = await _receive(layer, channel)
        await asyncio.to_thread(realtime.send_event, group, event)  # like a Celery task
        from_task = await _receive(layer, channel)
        await layer.group_discard(group, channel)
        return from_service, from_task

    from_service, from_task = asyncio.run(scenario())
    assert from_service == from_task
    assert from_service["type"] == realtime.CHAT_EVENT
    assert from_service["event"] == event
    assert from_service["frame"] == '{"type": "message", "message": {"id": 7, "body": "hi"}}'
