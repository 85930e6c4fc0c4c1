"""Celery beat scheduler: django-celery-beat's database schedule behind a Redis leader lock.

Schedules live in the database (editable in the admin). If two beat processes are started by
mistake, only the one holding the lock sends tasks; the other stands by and takes over when the
lock expires (the leader renews it on every tick, far more often than it expires).
"""

import logging
import uuid

import redis
from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

LOCK_KEY = "platform:beat:leader"
LOCK_TTL_MS = 30_000
STANDBY_SLEEP_S = 5.0

# Take the lock if it is free, renew it if we hold it; one atomic step either way.
_ACQUIRE_OR_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
if not holder then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""


class BeatLeaderLock:
    def __init__(self, url: str | None = None, ttl_ms: int = LOCK_TTL_MS):
        self.client = redis.Redis.from_url(url or settings.REDIS_URL)
        self.token = uuid.uuid4().hex
        self.ttl_ms = ttl_ms
        self._script = self.client.register_script(_ACQUIRE_OR_RENEW)

    def hold(self) -> bool:
        return bool(self._script(keys=[LOCK_KEY], args=[self.token, self.ttl_ms]))

    def release(self) -> None:
        if self.client.get(LOCK_KEY) == self.token.encode():
            self.client.delete(LOCK_KEY)


class LeaderDatabaseScheduler(DatabaseScheduler):
    def __init__(self, *args, **kwargs):
        self.leader_lock = BeatLeaderLock()
        self.is_leader = False
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        leader = self.leader_lock.hold()
        if leader != self.is_leader:
            logger.warning("beat %s the schedule lock", "holds" if leader else "lost")
            self.is_leader = leader
        if not leader:
            return STANDBY_SLEEP_S
        return super().tick(*args, **kwargs)

    def close(self):
        try:
            super().close()
        finally:
            self.leader_lock.release()
