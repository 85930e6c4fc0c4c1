"""The authenticated user's record, cached platform-wide so a request does not load the user row.

The record holds the user's columns except the password hash and last_login (a user built from
it has those deferred: reading one loads it). Every other write of a user row, through save(),
delete() or a queryset's update()/delete() (accounts.models), replaces the record with a
short-lived "stale" marker, at once and again after the commit; while the marker lives, requests
read the row and do not cache it, so a reader that loaded the old row just before the commit
cannot put it back. Deactivation, a new email or staff flags therefore apply to the very next
request; revocation stays with the sessions (accounts.sessions), which every password change or
reset and every deactivation also revokes.
"""

from collections.abc import Iterable
from datetime import timedelta

from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, transaction

# Records are re-read at most this often, whatever happens.
RECORD_TTL = timedelta(minutes=5)
STALE = "stale"
# Longer than any read-then-cache of one request can take.
STALE_TTL = timedelta(seconds=30)


def _cache():
    return caches["auth"]


def _key(user_id) -> str:
    return f"user:{user_id}"


def _user_model():
    from django.contrib.auth import get_user_model

    return get_user_model()


# Not in the record: the hash stays out of Redis, and the last sign-in changes too often
# (writing only these does not invalidate the record).
UNCACHED_FIELDS = frozenset({"password", "last_login"})


def _record_fields(User) -> list[str]:
    return [f.attname for f in User._meta.concrete_fields if f.attname not in UNCACHED_FIELDS]


def cache_key(user_id) -> str:
    """The record's key in caches["auth"] (to read it along with others in one round trip)."""
    return _key(user_id)


_UNREAD = object()


def user_get_cached(user_id, *, cached=_UNREAD):
    """The active or inactive user with this id (password deferred), or None if there is none.

    One cache read; the database only on a miss or while the record is marked stale.
    `cached`: the value already read from cache_key(user_id) (None when absent).
    """
    User = _user_model()
    key = _key(user_id)
    record = _cache().get(key) if cached is _UNREAD else cached
    if isinstance(record, dict):
        return User.from_db(DEFAULT_DB_ALIAS, list(record), list(record.values()))
    try:
        user = User.objects.filter(pk=user_id).first()
    except (ValueError, ValidationError):
        return None
    if user is not None and record is None:
        fields = _record_fields(User)
        # add, not set: a stale marker written meanwhile must win.
        _cache().add(key, {f: getattr(user, f) for f in fields}, int(RECORD_TTL.total_seconds()))
    return user


def user_cache_invalidate(user_ids: Iterable) -> None:
    """Forgets the cached records of these users, now and once the transaction commits."""
    markers = {_key(user_id): STALE for user_id in user_ids}
    if not markers:
        return
    timeout = int(STALE_TTL.total_seconds())
    _cache().set_many(markers, timeout)
    transaction.on_commit(lambda: _cache().set_many(markers, timeout))
