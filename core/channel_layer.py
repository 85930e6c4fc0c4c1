"""The channel layer: one Redis publish per group message, decoded once per web process.

channels-redis's default layer copies every group message into the queue of each member channel
in Redis (a 500-member room costs 500 writes per message, read back one by one). Its pub/sub
layer publishes once per group; each web process subscribes to the groups its connections
joined and hands the message to them in memory. This subclass adds what the platform relies on:

- the message is deserialised once per process and the same dict goes to every local member
  (consumers read it, never change it);
- ``capacity`` bounds each connection's queue (a slow client loses fan-out beyond it, as with the
  default layer; messages are stored first, so clients catch up with ``room.join {after}``);
- Redis pub/sub ignores the database number, so the channel names carry it: deployments (or test
  runs) that share one Redis on different databases never hear each other.

Delivery is at most once and only to processes subscribed when the publish happens, as with any
channel layer; nothing is kept in Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close, decode_hosts
from redis.connection import parse_url

logger = logging.getLogger(__name__)

DEFAULT_CAPACITY = 100
DROP_LOG_SECONDS = 10.0


def _database_of(host: dict) -> int:
    if "db" in host:
        return int(host["db"])
    address = host.get("address")
    if isinstance(address, str):
        return int(parse_url(address).get("db", 0))
    return 0


class _Shard(RedisSingleShardConnection):
    def _receive_message(self, message) -> None:
        if message is None:
            return
        layer = self.channel_layer
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        if name in layer.channels:
            targets = [layer.channels[name]]
        else:
            targets = [
                layer.channels[channel]
                for channel in layer.groups.get(name, ())
                if channel in layer.channels
            ]
        if not targets:
            return
        decoded = layer.channel_layer.deserialize(message["data"])
        for queue in targets:
            try:
                queue.put_nowait(decoded)
            except asyncio.QueueFull:
                layer.dropped(name)


class _LoopLayer(RedisPubSubLoopLayer):
    """The per-event-loop part: local channel queues and group membership."""

    def __init__(self, hosts=None, prefix: str = "asgi", capacity: int = DEFAULT_CAPACITY, **kw):
        hosts = decode_hosts(hosts)
        # Pub/sub channels are global to a Redis server: scope them like the keys are.
        prefix = f"{prefix}{_database_of(hosts[0])}:"
        kw.pop("expiry", None)  # nothing is stored in Redis, so nothing expires
        super().__init__(hosts=hosts, prefix=prefix, **kw)
        self.capacity = capacity
        self.drops = 0
        self._drop_logged_at = 0.0
        self._shards = [_Shard(host, self) for host in hosts]

    def dropped(self, name: str) -> None:
        self.drops += 1
        now = time.monotonic()
        if now - self._drop_logged_at >= DROP_LOG_SECONDS:
            self._drop_logged_at = now
            logger.warning(
                "channel layer: a connection's queue is full (capacity %s), dropped a message "
                "for %s (%s dropped in this process so far)",
                self.capacity,
                name,
                self.drops,
            )

    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels[channel] = asyncio.Queue(maxsize=self.capacity)
        await self._get_shard(channel).subscribe(channel)

    async def receive(self, channel: str) -> dict:
        """The next message of a local channel, already decoded by the shard."""
        if channel not in self.channels:
            await self._subscribe_to_channel(channel)
        queue = self.channels[channel]
        try:
            return await queue.get()
        except (TimeoutError, asyncio.CancelledError, GeneratorExit):
            # Channels cancels receive() when the consumer ends: the channel is gone.
            if self.channels.pop(channel, None) is not None:
                try:
                    await self._get_shard(channel).unsubscribe(channel)
                except BaseException:
                    logger.exception("channel layer: unsubscribing %s failed", channel)
            raise


class PubSubChannelLayer(RedisPubSubChannelLayer):
    """channels_redis.pubsub with one decode per process, bounded queues and per-database names.

    CONFIG: ``hosts``, ``prefix``, ``capacity`` (messages queued per connection).
    """

    def _get_layer(self) -> _LoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
