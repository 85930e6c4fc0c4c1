"""The Redis cache backend shares one client per process across threads and requests."""

import threading

from django.core.cache import caches

from core.cache import SharedRedisCache


def _client_in_new_thread(alias: str):
    found = {}

    def run():
        cache = caches[alias]
        cache.set("shared-client-probe", "from a thread", 30)
        found["cache"] = cache
        found["client"] = cache._cache.get_client(write=True)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return found["cache"], found["client"]


def test_cache_objects_of_other_threads_share_one_redis_client():
    here = caches["default"]
    assert isinstance(here, SharedRedisCache)
    there, client = _client_in_new_thread("default")

    # Django made a cache object per thread; both use the same client and connection pool.
    assert there is not here
    assert client is here._cache.get_client(write=True)
    assert here._cache.get_client() is here._cache.get_client()
    assert here.get("shared-client-probe") == "from a thread"


def test_each_alias_keeps_its_own_key_prefix():
    caches["default"].set("prefix-probe", "default", 30)
    caches["auth"].set("prefix-probe", "auth", 30)

    assert caches["default"].get("prefix-probe") == "default"
    assert caches["auth"].get("prefix-probe") == "auth"


def test_operations_in_new_threads_reuse_the_pooled_connections():
    cache = caches["auth"]
    cache.set("connection-probe", 1, 30)
    pool = cache._cache.get_client().connection_pool
    created = pool._created_connections
    for _ in range(200):
        assert cache.get("connection-probe") == 1
    pools = set()
    for _ in range(5):  # as under ASGI: each request in a thread with its own cache object
        _, client = _client_in_new_thread("auth")
        pools.add(id(client.connection_pool))

    # Django's own backend opens a pool, so a connection, for every new thread.
    assert pools == {id(pool)}
    assert pool._created_connections == created
