"""Pieces several accounts services share: request metadata, one-time tokens, revocation."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import pyotp
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.errors import InvalidEmailToken, InvalidPassword
from accounts.models import OneTimeToken, Session, TotpDevice, User
from accounts.sessions import remember_revoked
from core import realtime


@dataclass(frozen=True)
class RequestMeta:
    """Where a request came from: the tenant of the host, the client and the host's base URL."""

    tenant: object
    ip: str | None = None
    user_agent: str = ""
    base_url: str = ""


def secret_hash(value: str) -> str:
    """What is stored of a token or code: never the secret itself."""
    return hashlib.sha256(value.encode()).hexdigest()


def password_validate(password: str, *, user: User | None = None, field_name: str) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvalidPassword(fields={field_name: list(exc.messages)}) from None


def link_with_token(meta: RequestMeta, path: str, raw: str) -> str:
    return f"{meta.base_url.rstrip('/')}{path}?token={raw}"


# --- One-time tokens (email verification, password reset) ----------------------------------


def one_time_token_issue(*, user: User, purpose: str, lifetime: timedelta) -> str:
    raw = secrets.token_urlsafe(32)
    OneTimeToken.objects.create(
        user=user,
        purpose=purpose,
        token_hash=secret_hash(raw),
        expires_at=timezone.now() + lifetime,
    )
    return raw


def one_time_token_consume(*, raw: str, purpose: str) -> User:
    """Marks the token used (once, even under concurrency) and returns its user."""
    now = timezone.now()
    token = (
        OneTimeToken.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(token_hash=secret_hash(raw or ""), purpose=purpose)
        .first()
    )
    if token is None or token.used_at is not None or token.expires_at <= now:
        raise InvalidEmailToken()
    token.used_at = now
    token.save(update_fields=["used_at"])
    return token.user


# --- Session revocation ------------------------------------------------------------------------


def _notify_revoked(sessions: list[tuple]) -> None:
    for session_id, schema_name in sessions:
        realtime.send_event(
            realtime.session_group(schema_name, session_id),
            handler=realtime.SESSION_REVOKED,
            extra={"session_id": str(session_id)},
        )


def sessions_revoke(queryset: QuerySet[Session], *, reason: str) -> int:
    """Revokes the live sessions of the queryset; their access tokens stop working at once."""
    now = timezone.now()
    live = list(queryset.filter(revoked_at__isnull=True).values_list("id", "tenant__schema_name"))
    if not live:
        return 0
    ids = [session_id for session_id, _ in live]
    Session.objects.filter(id__in=ids, revoked_at__isnull=True).update(
        revoked_at=now, revoke_reason=reason
    )
    remember_revoked(ids)
    transaction.on_commit(partial(_notify_revoked, live))
    return len(ids)


# --- TOTP codes (sign-in and enrolment) --------------------------------------------------------


def totp_accept(*, device: TotpDevice, code: str) -> bool:
    """Accepts a code of the current, previous or next 30 s step, each step only once."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit():
        return False
    totp = pyotp.TOTP(device.secret)
    current = totp.timecode(timezone.now())
    for step in (current - 1, current, current + 1):
        if step > device.last_used_step and secrets.compare_digest(totp.generate_otp(step), code):
            return bool(
                TotpDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(
                    last_used_step=step
                )
            )
    return False
