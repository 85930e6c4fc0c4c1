"""Session state for per-request checks: one cached lookup, the database only on a cache miss.

Revocation writes a "revoked" marker to the cache at once (before the transaction commits, so an
access token stops working immediately; a rolled-back revocation errs on the safe side and only
costs a new sign-in). Markers outlive every access token of the session. Real-time consumers may
also listen on `session_group_name(...)` for a {"type": "session.revoked"} message.
"""

from datetime import timedelta
from uuid import UUID

from django.core.cache import caches
from rest_framework_simplejwt.settings import api_settings

from core import realtime

ACTIVE = "a"
REVOKED = "r"
# Active sessions are re-read from the database at most this often per session.
ACTIVE_TTL = timedelta(minutes=5)


def _cache():
    return caches["auth"]


def _key(session_id) -> str:
    return f"session:{session_id}"


def _revoked_ttl() -> int:
    return int((api_settings.ACCESS_TOKEN_LIFETIME + timedelta(minutes=1)).total_seconds())


def session_group_name(*, schema_name: str, session_id: UUID | str) -> str:
    """The channel-layer group that hears about this session's revocation."""
    return realtime.session_group(schema_name, session_id)


def remember_active(session_id) -> None:
    # add, not set: a revocation marker written meanwhile must win.
    _cache().add(_key(session_id), ACTIVE, int(ACTIVE_TTL.total_seconds()))


def remember_revoked(session_ids) -> None:
    if session_ids:
        _cache().set_many({_key(sid): REVOKED for sid in session_ids}, _revoked_ttl())


def cache_key(session_id) -> str:
    """The session's key in caches["auth"] (to read it along with others in one round trip)."""
    return _key(session_id)


_UNREAD = object()


def session_is_active(session_id, *, cached=_UNREAD) -> bool:
    """True while the session may be used. One cache read; a miss reads the row once.

    `cached`: the value already read from cache_key(session_id) (None when absent).
    """
    state = _cache().get(_key(session_id)) if cached is _UNREAD else cached
    if state is None:
        from accounts.models import Session

        try:
            session = Session.objects.only("revoked_at", "expires_at").get(id=session_id)
        except (Session.DoesNotExist, ValueError):
            return False
        if session.is_active:
            remember_active(session_id)
            return True
        remember_revoked([session_id])
        return False
    return state == ACTIVE
