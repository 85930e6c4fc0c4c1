"""The Redis cache backend: Django's, with one connection pool and one client per process.

Django keeps a cache object per thread and per async context, and its Redis backend gives each
cache object its own connection pool and builds a new redis client for every operation. Under
ASGI every request runs in a context of its own, so each request opened fresh TCP connections to
Redis (one per cache alias) and paid for a client's construction on every get. Here the client
for a set of servers and options is made once per process and shared by every cache object that
names them: redis clients are thread-safe, their pool hands each command its own connection, and
the pool reconnects by itself in a forked child.
"""

from __future__ import annotations

import threading

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple, RedisCacheClient] = {}
_lock = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
    """Django's cache client, building each redis client once instead of once per operation."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._redis_clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._redis_clients.get(index)
        if client is None:
            with _lock:
                client = self._redis_clients.get(index)
                if client is None:
                    if index not in self._pools:
                        self._pools[index] = self._pool_class.from_url(
                            self._servers[index], **self._pool_options
                        )
                    client = self._client(connection_pool=self._pools[index])
                    self._redis_clients[index] = client
        return client


class SharedRedisCache(RedisCache):
    """settings.CACHES backend: Django's RedisCache over one process-wide client per server set."""

    @cached_property
    def _cache(self):
        identity = (tuple(self._servers), repr(sorted(self._options.items())))
        client = _clients.get(identity)
        if client is None:
            with _lock:
                client = _clients.get(identity)
                if client is None:
                    client = SharedRedisCacheClient(self._servers, **self._options)
                    _clients[identity] = client
        return client


def get_many_from(reads: dict[str, list[str]]) -> dict[str, dict]:
    """get_many on several cache aliases ({alias: keys} -> {alias: {key: value}}), in one round
    trip when they are SharedRedisCaches on the same servers (each key made by its own cache's
    key function: prefix, version, schema); otherwise one get_many per alias."""
    backends = {alias: caches[alias] for alias in reads}
    shared = {
        id(backend._cache) if isinstance(backend, SharedRedisCache) else None
        for backend in backends.values()
    }
    if len(backends) < 2 or len(shared) != 1 or None in shared:
        return {alias: backends[alias].get_many(keys) for alias, keys in reads.items()}
    wanted = [
        (alias, key, backends[alias].make_and_validate_key(key))
        for alias, keys in reads.items()
        for key in keys
    ]
    client = next(iter(backends.values()))._cache
    found = client.get_many([full for _alias, _key, full in wanted])
    result: dict[str, dict] = {alias: {} for alias in reads}
    for alias, key, full in wanted:
        if full in found:
            result[alias][key] = found[full]
    return result
