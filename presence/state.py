"""Live presence in Redis, per tenant (every key starts with the tenant schema).

- ``{schema}:presence:conns:{user_id}``: sorted set of the user's open connections, scored by the
  time the connection expires (last heartbeat + PRESENCE_TIMEOUT_SECONDS). Tabs and devices merge:
  the user is online while any member's score is in the future.
- ``{schema}:presence:expiry``: sorted set user_id -> latest expiry; the sweep reads the due ones
  to find users whose connections all stopped beating (crashed client or web process).
- ``{schema}:presence:seen``: sorted set user_id -> last heartbeat (last seen), flushed to
  PostgreSQL by the ``presence.flush_last_seen`` task.
- ``{schema}:presence:hidden``: set of users who hide their presence.

Transitions (online, offline) are decided inside Lua scripts, so with many web processes each
change is reported exactly once.
"""

from __future__ import annotations

import asyncio
import time
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

_TOUCH = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('ZADD', KEYS[2], top[2], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4])
return before
"""

_LEAVE = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[3])
  return removed
end
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('ZADD', KEYS[2], top[2], ARGV[3])
return 0
"""

_SWEEP = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1000)
local gone = {}
for _, uid in ipairs(due) do
  local key = ARGV[2] .. uid
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  if redis.call('ZCARD', key) == 0 then
    redis.call('ZREM', KEYS[1], uid)
    table.insert(gone, uid)
  else
    local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
    redis.call('ZADD', KEYS[1], top[2], uid)
  end
end
return gone
"""


def _prefix(schema_name: str) -> str:
    return f"{schema_name}:presence:"


def conns_key(schema_name: str, user_id) -> str:
    return f"{_prefix(schema_name)}conns:{user_id}"


def expiry_key(schema_name: str) -> str:
    return f"{_prefix(schema_name)}expiry"


def seen_key(schema_name: str) -> str:
    return f"{_prefix(schema_name)}seen"


def hidden_key(schema_name: str) -> str:
    return f"{_prefix(schema_name)}hidden"


def flushed_key(schema_name: str) -> str:
    return f"{_prefix(schema_name)}flushed"


def _timeout() -> float:
    return float(settings.PRESENCE_TIMEOUT_SECONDS)


# --- Clients (one sync client per process, one async client per event loop) -----------------

_sync_client: redis.Redis | None = None
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


def client() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    return _sync_client


def aclient() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    found = _async_clients.get(loop)
    if found is None:
        found = aioredis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
        _async_clients[loop] = found
    return found


# --- Writes (async, from consumers) -----------------------------------------------------------


async def touch(schema_name: str, user_id, conn_id: str) -> bool:
    """A connection opened or sent a heartbeat; True when the user just came online."""
    now = time.time()
    ttl_ms = int(_timeout() * 2 * 1000)
    before = await aclient().eval(
        _TOUCH,
        3,
        conns_key(schema_name, user_id),
        expiry_key(schema_name),
        seen_key(schema_name),
        conn_id,
        now,
        now + _timeout(),
        str(user_id),
        ttl_ms,
    )
    return int(before) == 0


async def leave(schema_name: str, user_id, conn_id: str) -> bool:
    """A connection closed; True when it was the user's last one (the user went offline)."""
    removed = await aclient().eval(
        _LEAVE,
        3,
        conns_key(schema_name, user_id),
        expiry_key(schema_name),
        seen_key(schema_name),
        conn_id,
        time.time(),
        str(user_id),
    )
    return int(removed) == 1


async def sweep(schema_name: str) -> list[str]:
    """Users whose every connection missed its heartbeats; each is returned by one caller only."""
    return list(
        await aclient().eval(
            _SWEEP, 1, expiry_key(schema_name), time.time(), f"{_prefix(schema_name)}conns:"
        )
    )


def sweep_sync(schema_name: str) -> list[str]:
    return list(
        client().eval(
            _SWEEP, 1, expiry_key(schema_name), time.time(), f"{_prefix(schema_name)}conns:"
        )
    )


# --- Reads ------------------------------------------------------------------------------------


def states(schema_name: str, user_ids: list[str]) -> dict[str, dict]:
    """{user_id: {"online", "last_seen" (epoch seconds or None), "hidden"}} in one round trip."""
    if not user_ids:
        return {}
    now = time.time()
    pipe = client().pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zcount(conns_key(schema_name, user_id), now, "+inf")
        pipe.zscore(seen_key(schema_name), user_id)
        pipe.sismember(hidden_key(schema_name), user_id)
    raw = pipe.execute()
    result = {}
    for index, user_id in enumerate(user_ids):
        count, seen, hidden = raw[index * 3 : index * 3 + 3]
        result[user_id] = {"online": count > 0, "last_seen": seen, "hidden": bool(hidden)}
    return result


async def astates(schema_name: str, user_ids: list[str]) -> dict[str, dict]:
    if not user_ids:
        return {}
    now = time.time()
    pipe = aclient().pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zcount(conns_key(schema_name, user_id), now, "+inf")
        pipe.zscore(seen_key(schema_name), user_id)
        pipe.sismember(hidden_key(schema_name), user_id)
    raw = await pipe.execute()
    return {
        user_id: {
            "online": raw[i * 3] > 0,
            "last_seen": raw[i * 3 + 1],
            "hidden": bool(raw[i * 3 + 2]),
        }
        for i, user_id in enumerate(user_ids)
    }


async def is_hidden(schema_name: str, user_id) -> bool:
    return bool(await aclient().sismember(hidden_key(schema_name), str(user_id)))


def set_hidden(schema_name: str, user_id, hidden: bool) -> None:
    if hidden:
        client().sadd(hidden_key(schema_name), str(user_id))
    else:
        client().srem(hidden_key(schema_name), str(user_id))


def seen_since(schema_name: str, since: float) -> list[tuple[str, float]]:
    return client().zrangebyscore(seen_key(schema_name), f"({since}", "+inf", withscores=True)
