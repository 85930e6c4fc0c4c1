"""Per-user permission snapshots in Redis, invalidated by version keys.

A snapshot is stored under a key that embeds two version tokens: the tenant's rule version
(bumped when resources, permissions, roles or grants change) and the user's version (bumped when
their assignments or membership change). Bumping a token makes every older snapshot unreachable;
tokens are random, so an evicted version key never resurrects a stale snapshot. Keys are
schema-prefixed by the cache's key function, so tenants never share entries.
"""

import uuid

from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context

SNAPSHOT_TTL = 3600
RULES_KEY = "rbac:v"


def _user_key(user_id) -> str:
    return f"rbac:v:{user_id}"


def _token() -> str:
    return uuid.uuid4().hex[:12]


def versions(user_id) -> tuple[str, str]:
    """The tenant's rule version and the user's version (created on first use): one round trip."""
    keys = [RULES_KEY, _user_key(user_id)]
    found = cache.get_many(keys)
    result = []
    for key in keys:
        value = found.get(key)
        if value is None:
            cache.add(key, _token(), timeout=None)
            value = cache.get(key)
        result.append(value)
    return result[0], result[1]


def versions_many(user_ids) -> dict:
    """versions() of several users (user id -> (rules, user)) in one round trip."""
    user_ids = list(dict.fromkeys(user_ids))
    keys = [RULES_KEY] + [_user_key(user_id) for user_id in user_ids]
    found = cache.get_many(keys)
    for key in keys:
        if found.get(key) is None:
            cache.add(key, _token(), timeout=None)
            found[key] = cache.get(key)
    return {user_id: (found[RULES_KEY], found[_user_key(user_id)]) for user_id in user_ids}


def snapshot_key(user_id, rules_version: str, user_version: str) -> str:
    return f"rbac:snap:{user_id}:{rules_version}:{user_version}"


def get_snapshot(key: str) -> dict | None:
    return cache.get(key)


def set_snapshot(key: str, snapshot: dict, timeout: int) -> None:
    cache.set(key, snapshot, timeout=max(1, min(SNAPSHOT_TTL, timeout)))


def _bump(key: str) -> None:
    cache.set(key, _token(), timeout=None)
    # Bump again after commit: a request that rebuilt a snapshot between the first bump and the
    # commit read the old rows and must not keep serving them.
    schema = connection.schema_name

    def bump_again():
        with schema_context(schema):
            cache.set(key, _token(), timeout=None)

    transaction.on_commit(bump_again)


def rules_changed() -> None:
    """Resources, permissions, roles or grants changed: every user's snapshot is stale."""
    _bump(RULES_KEY)


def user_changed(user_id) -> None:
    """One user's assignments or membership changed: only their snapshot is stale."""
    _bump(_user_key(user_id))
