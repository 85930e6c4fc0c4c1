"""Per-user permission snapshots in Redis, invalidated by version keys.

A snapshot is stored with the two version tokens it was built under: the tenant's rule version
(bumped when resources, permissions, roles or grants change) and the user's version (bumped when
their assignments or membership change). A snapshot is used only while both tokens are still the
current ones, and the three keys are read in one round trip. Bumping a token makes every older
snapshot stale; tokens are random, so an evicted version key never resurrects a stale snapshot.
Keys are schema-prefixed by the cache's key function, so tenants never share entries.
"""

import itertools
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


def _snapshot_key(user_id) -> str:
    return f"rbac:snapshot:{user_id}"


# Counts the bumps made by this process: a snapshot kept for the rest of one request is dropped
# when the request itself changed the rules (see rbac.access.snapshot_for).
_local_bumps = itertools.count()
local_generation = 0


def versions_and_snapshot(user_id) -> tuple[tuple[str, str], dict | None]:
    """The current (rule version, user version), created on first use, and the user's cached
    snapshot if it was built under exactly those versions: one round trip when warm."""
    return versions_and_snapshots([user_id])[user_id]


def versions_and_snapshots(user_ids) -> dict:
    """versions_and_snapshot of several users (user id -> (versions, snapshot or None)), all in
    one round trip when warm."""
    user_ids = list(dict.fromkeys(user_ids))
    keys = [RULES_KEY]
    for user_id in user_ids:
        keys += [_user_key(user_id), _snapshot_key(user_id)]
    found = cache.get_many(keys)
    for key in [RULES_KEY] + [_user_key(user_id) for user_id in user_ids]:
        if found.get(key) is None:
            cache.add(key, _token(), timeout=None)
            found[key] = cache.get(key)
    return {user_id: _interpret(user_id, found) for user_id in user_ids}


def snapshot_keys(user_id) -> list[str]:
    """The default cache's keys versions_and_snapshot reads, for a caller that reads them in
    its own round trip (accounts.authentication, with the session's), then hands the values
    to :func:`versions_and_snapshot_from`."""
    return [RULES_KEY, _user_key(user_id), _snapshot_key(user_id)]


def versions_and_snapshot_from(user_id, found: dict) -> tuple | None:
    """versions_and_snapshot from the values of snapshot_keys(user_id) read by the caller, or
    None when a version key was missing (versions_and_snapshot creates it)."""
    if found.get(RULES_KEY) is None or found.get(_user_key(user_id)) is None:
        return None
    return _interpret(user_id, found)


def _interpret(user_id, found: dict) -> tuple:
    current = (found[RULES_KEY], found[_user_key(user_id)])
    stored = found.get(_snapshot_key(user_id))
    if isinstance(stored, dict) and tuple(stored.get("versions", ())) == current:
        return current, stored["snapshot"]
    return current, None


def set_snapshot(user_id, versions: tuple[str, str], snapshot: dict, timeout: int) -> None:
    cache.set(
        _snapshot_key(user_id),
        {"versions": list(versions), "snapshot": snapshot},
        timeout=max(1, min(SNAPSHOT_TTL, timeout)),
    )


def _bump(key: str) -> None:
    global local_generation
    local_generation = next(_local_bumps) + 1
    cache.set(key, _token(), timeout=None)
    # Bump again after commit: a request that rebuilt a snapshot between the first bump and the
    # commit read the old rows and must not keep serving them.
    schema = connection.schema_name

    def bump_again():
        global local_generation
        local_generation = next(_local_bumps) + 1
        with schema_context(schema):
            cache.set(key, _token(), timeout=None)

    transaction.on_commit(bump_again)


def rules_changed() -> None:
    """Resources, permissions, roles or grants changed: every user's snapshot is stale."""
    _bump(RULES_KEY)


def user_changed(user_id) -> None:
    """One user's assignments or membership changed: only their snapshot is stale."""
    _bump(_user_key(user_id))
