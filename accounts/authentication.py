"""Access-token authentication: a Bearer JWT valid only on its tenant's host and while its
session lives (the session check is one cached lookup, see accounts.sessions; the user is a
cached record, see accounts.user_cache)."""

from uuid import UUID

from django.db import connection
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from accounts import sessions, user_cache
from accounts.tokens import SESSION_CLAIM, TENANT_CLAIM
from core.cache import get_many_from
from rbac import cache as rbac_cache
from rbac.access import REQUEST_SCOPED_USER, hold_prefetched

# Access tokens whose signature was checked, by their bytes. pyjwt spends ~150 us verifying one
# (most of it checking the base64 alphabet in Python), and a client sends the same token with
# every request until it expires. What is remembered never changes for given bytes (signature,
# token type, claims); expiry is checked again at every use, and the session (revocation) and
# the user (deactivation) are still read for every request.
VERIFIED_TOKENS_MAX = 4096
_verified: dict[bytes, AccessToken] = {}


def _verified_token(raw: bytes) -> AccessToken | None:
    token = _verified.get(raw)
    if token is None:
        return None
    try:
        token.check_exp(current_time=aware_utcnow())
    except TokenError:
        _verified.pop(raw, None)
        return None
    return token


def _remember_verified(raw: bytes, token) -> None:
    if len(_verified) >= VERIFIED_TOKENS_MAX:
        _verified.clear()
    _verified[raw] = token


def _cached_state(session_id: UUID, user_id) -> tuple:
    """The session's state and the user's record from the auth cache, and the user's RBAC
    versions and snapshot in this workspace (rbac.cache.versions_and_snapshot, or None), in
    one round trip."""
    keys = [sessions.cache_key(session_id), user_cache.cache_key(user_id)]
    rbac_keys = rbac_cache.snapshot_keys(user_id)
    found = get_many_from({"auth": keys, "default": rbac_keys})
    rbac_read = rbac_cache.versions_and_snapshot_from(user_id, found["default"])
    return found["auth"].get(keys[0]), found["auth"].get(keys[1]), rbac_read


def check_access_token_claims(token, *, schema_name: str, cached_session=None) -> UUID:
    """Raises AuthenticationFailed unless the token belongs to this tenant and a live session.

    `cached_session`: a pair (session_id, cached state) already read from the cache.
    """
    if token.get(TENANT_CLAIM) != schema_name:
        raise AuthenticationFailed(
            "This token was issued for another workspace.", code="token_wrong_tenant"
        )
    try:
        session_id = UUID(str(token.get(SESSION_CLAIM)))
    except ValueError:
        raise AuthenticationFailed("This token has no session.", code="token_not_valid") from None
    if cached_session is not None and cached_session[0] == session_id:
        active = sessions.session_is_active(session_id, cached=cached_session[1])
    else:
        active = sessions.session_is_active(session_id)
    if not active:
        raise AuthenticationFailed("This session has ended; sign in again.", code="session_revoked")
    return session_id


def _active_user(token, **cached):
    """The token's user from the cached record; AuthenticationFailed if gone or inactive."""
    try:
        user = user_cache.user_get_cached(token[api_settings.USER_ID_CLAIM], **cached)
    except KeyError:
        user = None
    if user is None:
        raise AuthenticationFailed("User not found.", code="user_not_found")
    if not user.is_active:
        raise AuthenticationFailed("User is inactive.", code="user_inactive")
    return user


class TenantJWTAuthentication(JWTAuthentication):
    """DRF authentication (one instance per request): the session check and the user record
    both come from the cache, read together; no query per request."""

    _cached_record = None
    _rbac_read = None

    def get_validated_token(self, raw_token):
        token = _verified_token(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)
            if isinstance(token, AccessToken):
                _remember_verified(raw_token, token)
        cached_session = None
        if token.get(TENANT_CLAIM) == connection.schema_name:
            try:
                session_id = UUID(str(token.get(SESSION_CLAIM)))
                user_id = token[api_settings.USER_ID_CLAIM]
            except (ValueError, KeyError):
                pass
            else:
                generation = rbac_cache.local_generation
                state, record, rbac_read = _cached_state(session_id, user_id)
                cached_session = (session_id, state)
                self._cached_record = (user_id, record)
                if rbac_read is not None:
                    self._rbac_read = (user_id, connection.schema_name, generation, rbac_read)
        check_access_token_claims(
            token, schema_name=connection.schema_name, cached_session=cached_session
        )
        return token

    def get_user(self, validated_token):
        cached = {}
        record = self._cached_record
        if record is not None and record[0] == validated_token.get(api_settings.USER_ID_CLAIM):
            cached["cached"] = record[1]
        user = _active_user(validated_token, **cached)
        # This user object lives for this request only: RBAC may keep its snapshot meanwhile,
        # starting from the one read with the session.
        setattr(user, REQUEST_SCOPED_USER, True)
        read = self._rbac_read
        if read is not None and str(read[0]) == str(user.pk):
            hold_prefetched(user, schema_name=read[1], generation=read[2], read=read[3])
        return user


def user_for_access_token(raw: str | bytes, *, schema_name: str):
    """Authenticates a raw access token outside DRF (websocket consumers, workers).

    Returns (user, session_id) or raises rest_framework_simplejwt.exceptions.AuthenticationFailed
    (InvalidToken is a subclass) whose `.detail["code"]` is one of "token_not_valid",
    "token_wrong_tenant", "session_revoked", "user_inactive" or "user_not_found".

    Run it in a thread that may use the database (e.g. through tenants.db.tenant_sync_to_async);
    users are global, so the schema the connection is on does not matter. A long-lived
    connection should check `accounts.sessions.session_is_active(session_id)` again
    periodically, or join the group `accounts.sessions.session_group_name(schema_name=...,
    session_id=...)`, which receives {"type": "session.revoked", "session_id": "..."} when the
    session is revoked (logout, logout-all, refresh-token reuse, password change or reset).
    """
    if isinstance(raw, str):
        raw = raw.encode()
    token = _verified_token(raw)
    if token is None:
        try:
            token = AccessToken(raw)
        except TokenError as exc:
            raise InvalidToken({"detail": str(exc), "code": "token_not_valid"}) from exc
        _remember_verified(raw, token)
    session_id = check_access_token_claims(token, schema_name=schema_name)
    return _active_user(token), session_id
