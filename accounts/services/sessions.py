"""Sessions: starting one, rotating its refresh token, signing out and revoking."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

from accounts.errors import (
    RefreshTokenInvalid,
    RefreshTokenReused,
    RefreshTokenRotated,
    SessionEnded,
    SessionNotFound,
    WrongTenantToken,
)
from accounts.models import Session, User
from accounts.services._common import RequestMeta, sessions_revoke
from accounts.services.events import Kind, security_event_record
from accounts.sessions import remember_active
from accounts.tokens import SESSION_CLAIM, TENANT_CLAIM, SessionRefreshToken, tokens_for_session


def _refresh_lifetime() -> timedelta:
    return api_settings.REFRESH_TOKEN_LIFETIME


@transaction.atomic
def session_start(
    *,
    user: User,
    tenant,
    ip: str | None = None,
    user_agent: str = "",
    mfa_verified: bool = False,
) -> tuple[Session, dict]:
    """A new session on the tenant and its first token pair."""
    now = timezone.now()
    session = Session.objects.create(
        user=user,
        tenant=tenant,
        refresh_jti=uuid.uuid4().hex,
        user_agent=(user_agent or "")[:512],
        ip_address=ip,
        mfa_verified=mfa_verified,
        created_at=now,
        last_activity_at=now,
        expires_at=now + _refresh_lifetime(),
    )
    User.objects.filter(pk=user.pk).update(last_login=now)
    remember_active(session.id)
    return session, tokens_for_session(session, schema_name=tenant.schema_name)


@transaction.atomic
def session_revoke(
    *, session: Session, reason: str = "revoked", meta: RequestMeta | None = None
) -> None:
    if sessions_revoke(Session.objects.filter(pk=session.pk), reason=reason):
        security_event_record(
            kind=Kind.SESSION_REVOKED,
            meta=meta,
            user=session.user,
            session_id=session.pk,
            data={"reason": reason},
        )


@transaction.atomic
def session_revoke_for_user(*, user: User, session_id, meta: RequestMeta) -> None:
    """Revokes one of the user's sessions on this tenant (404 for any other session)."""
    session = Session.objects.filter(
        pk=session_id, user=user, tenant=meta.tenant, revoked_at__isnull=True
    ).first()
    if session is None:
        raise SessionNotFound()
    session_revoke(session=session, reason="revoked_by_user", meta=meta)


def sessions_revoke_for_tenant(*, user: User, tenant, reason: str) -> int:
    """Ends every live session of the user on one tenant (e.g. their membership was removed)."""
    return sessions_revoke(Session.objects.filter(user=user, tenant=tenant), reason=reason)


@transaction.atomic
def logout(*, user: User, session_id, meta: RequestMeta) -> None:
    sessions_revoke(Session.objects.filter(pk=session_id, user=user), reason="logout")
    security_event_record(kind=Kind.LOGOUT, meta=meta, user=user, session_id=session_id)


@transaction.atomic
def logout_all(*, user: User, meta: RequestMeta) -> int:
    """Signs the user out everywhere: every session on every workspace."""
    count = sessions_revoke(Session.objects.filter(user=user), reason="logout_all")
    security_event_record(kind=Kind.LOGOUT_ALL, meta=meta, user=user, data={"sessions": count})
    return count


def session_refresh(*, refresh: str, meta: RequestMeta) -> tuple[Session, dict]:
    """Rotates the session's refresh token: exactly one caller wins for a given token.

    The winner is decided by a conditional UPDATE on (id, refresh_jti). Its WHERE clause must
    name only the session's own columns: PostgreSQL re-checks those against the row a concurrent
    winner just wrote, but not conditions Django turns into a subquery (e.g. a join on the user),
    which would let every racer "win".

    A token that is no longer current is a reuse: the session is revoked (and that revocation
    is committed before the error is raised), except for the token rotated in the last few
    seconds, which is only refused so two tabs refreshing at once do not sign the user out.
    """
    try:
        token = SessionRefreshToken(refresh)
    except TokenError:
        raise RefreshTokenInvalid() from None
    if token.get(TENANT_CLAIM) != meta.tenant.schema_name:
        raise WrongTenantToken()
    session_id, jti = token.get(SESSION_CLAIM), token.get(api_settings.JTI_CLAIM)
    try:
        session_id = uuid.UUID(str(session_id))
    except ValueError:
        raise RefreshTokenInvalid() from None

    now = timezone.now()
    with transaction.atomic():
        rotated = Session.objects.filter(
            pk=session_id,
            tenant=meta.tenant,
            refresh_jti=jti,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).update(
            refresh_jti=uuid.uuid4().hex,
            previous_refresh_jti=jti,
            rotated_at=now,
            rotation_count=F("rotation_count") + 1,
            last_activity_at=now,
            expires_at=now + _refresh_lifetime(),
            ip_address=meta.ip,
            user_agent=(meta.user_agent or "")[:512],
        )
        if rotated:
            session = Session.objects.select_related("user").get(pk=session_id)
            if session.user.is_active:
                return session, tokens_for_session(session, schema_name=meta.tenant.schema_name)
            transaction.set_rollback(True)

    session = Session.objects.select_related("user").filter(pk=session_id).first()
    if session is None or not session.is_active or not session.user.is_active:
        raise SessionEnded()
    grace = timedelta(seconds=settings.ACCOUNTS["REFRESH_REUSE_GRACE_SECONDS"])
    if (
        session.previous_refresh_jti == jti
        and session.rotated_at
        and now - session.rotated_at < grace
    ):
        raise RefreshTokenRotated()
    with transaction.atomic():
        sessions_revoke(Session.objects.filter(pk=session.pk), reason="token_reuse")
        security_event_record(
            kind=Kind.TOKEN_REUSE, meta=meta, user=session.user, session_id=session.pk
        )
    raise RefreshTokenReused()
