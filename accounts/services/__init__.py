"""Every write of the accounts app: registration, sign-in, sessions, passwords, MFA, events."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core import signing
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

from accounts import lockout
from accounts.errors import (
    AccountLocked,
    EmailNotVerified,
    InvalidCredentials,
    InvalidEmailToken,
    InvalidMfaCode,
    InvalidPassword,
    MfaAlreadyEnabled,
    MfaChallengeInvalid,
    MfaNotEnabled,
    MfaNotEnrolled,
    NotAMember,
    RefreshTokenInvalid,
    RefreshTokenReused,
    RefreshTokenRotated,
    SessionEnded,
    SessionNotFound,
    SignupClosed,
    WrongPassword,
    WrongTenantToken,
)
from accounts.models import OneTimeToken, RecoveryCode, SecurityEvent, Session, TotpDevice, User
from accounts.services.memberships import (  # noqa: F401 (public names of accounts.services)
    membership_admit,
    membership_remove,
    membership_set,
)
from accounts.services.workspaces import tenant_create, tenant_signup  # noqa: F401
from accounts.sessions import remember_active, remember_revoked
from accounts.tokens import SESSION_CLAIM, TENANT_CLAIM, SessionRefreshToken, tokens_for_session
from core import realtime
from notifications.services import email_send, notify

Kind = SecurityEvent.Kind
MFA_SALT = "accounts.mfa-login"


@dataclass(frozen=True)
class RequestMeta:
    """Where a request came from: the tenant of the host, the client and the host's base URL."""

    tenant: object
    ip: str | None = None
    user_agent: str = ""
    base_url: str = ""


@dataclass
class LoginResult:
    session: Session | None = None
    tokens: dict = field(default_factory=dict)
    user: User | None = None
    mfa_token: str | None = None


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _meta_tenant(meta: RequestMeta | None):
    tenant = getattr(meta, "tenant", None)
    return tenant if getattr(tenant, "pk", None) else None


def security_event_record(
    *,
    kind: str,
    meta: RequestMeta | None = None,
    user: User | None = None,
    email: str = "",
    session_id=None,
    data: dict | None = None,
) -> SecurityEvent:
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        email=email or (user.email if user else ""),
        tenant=_meta_tenant(meta),
        session_id=session_id,
        ip_address=meta.ip if meta else None,
        user_agent=(meta.user_agent if meta else "")[:512],
        data=data or {},
    )


def _password_validate(password: str, *, user: User | None = None, field_name: str) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvalidPassword(fields={field_name: list(exc.messages)}) from None


# --- Registration and email verification ------------------------------------------------------


def _one_time_token_issue(*, user: User, purpose: str, lifetime: timedelta) -> str:
    raw = secrets.token_urlsafe(32)
    OneTimeToken.objects.create(
        user=user, purpose=purpose, token_hash=_hash(raw), expires_at=timezone.now() + lifetime
    )
    return raw


def _one_time_token_consume(*, raw: str, purpose: str) -> User:
    """Marks the token used (once, even under concurrency) and returns its user."""
    now = timezone.now()
    token = (
        OneTimeToken.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(token_hash=_hash(raw or ""), purpose=purpose)
        .first()
    )
    if token is None or token.used_at is not None or token.expires_at <= now:
        raise InvalidEmailToken()
    token.used_at = now
    token.save(update_fields=["used_at"])
    return token.user


def _link(meta: RequestMeta, path: str, raw: str) -> str:
    return f"{meta.base_url.rstrip('/')}{path}?token={raw}"


def _verification_send(*, user: User, meta: RequestMeta) -> None:
    raw = _one_time_token_issue(
        user=user,
        purpose=OneTimeToken.Purpose.VERIFY_EMAIL,
        lifetime=timedelta(hours=settings.ACCOUNTS["EMAIL_VERIFICATION_HOURS"]),
    )
    link = _link(meta, settings.ACCOUNTS["VERIFY_EMAIL_PATH"], raw)
    email_send(
        to=user.email,
        template="verify_email",
        context={
            "name": user.name,
            "link": link,
            "hours": settings.ACCOUNTS["EMAIL_VERIFICATION_HOURS"],
        },
        user=user,
        base_url=meta.base_url,
    )


@transaction.atomic
def user_register(*, email: str, password: str, name: str, meta: RequestMeta) -> User | None:
    """Creates an unverified user and emails a verification link.

    An address that already has a confirmed account gets a notice by email instead (see below
    for unconfirmed ones), and the caller
    answers exactly as for a new address, so registration never reveals who has an account.
    """
    if not meta.tenant.allow_self_signup:
        raise SignupClosed()
    email = User.objects.normalize_email(email).strip().lower()
    existing = User.objects.filter(email=email).first()
    if existing is not None and existing.email_verified_at is None and existing.is_active:
        # The newest registration of an unconfirmed address wins: its password replaces the
        # earlier one and earlier links die, so whoever squatted the address first cannot
        # own the account once its real owner registers and confirms.
        _password_validate(password, user=existing, field_name="password")
        existing.set_password(password)
        existing.name = name.strip()
        existing.save(update_fields=["password", "name"])
        OneTimeToken.objects.filter(
            user=existing, purpose=OneTimeToken.Purpose.VERIFY_EMAIL, used_at__isnull=True
        ).update(used_at=timezone.now())
        membership_admit(user=existing, tenant=meta.tenant)
        _verification_send(user=existing, meta=meta)
        return None
    if existing is not None:
        email_send(
            to=existing.email,
            template="already_registered",
            context={"name": existing.name, "login_url": meta.base_url},
            user=existing,
            base_url=meta.base_url,
        )
        return None
    _password_validate(password, user=User(email=email, name=name), field_name="password")
    user = User.objects.create_user(email=email, password=password, name=name.strip())
    membership_admit(user=user, tenant=meta.tenant)
    security_event_record(kind=Kind.REGISTERED, meta=meta, user=user)
    _verification_send(user=user, meta=meta)
    return user


@transaction.atomic
def email_verification_resend(*, email: str, meta: RequestMeta) -> None:
    """Sends a new link if the address belongs to an unverified account; silent otherwise."""
    email = email.strip().lower()
    user = User.objects.filter(email=email, is_active=True, email_verified_at__isnull=True).first()
    if user is not None:
        _verification_send(user=user, meta=meta)


@transaction.atomic
def email_verify(*, token: str, meta: RequestMeta) -> User:
    user = _one_time_token_consume(raw=token, purpose=OneTimeToken.Purpose.VERIFY_EMAIL)
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        security_event_record(kind=Kind.EMAIL_VERIFIED, meta=meta, user=user)
    return user


# --- Sessions -----------------------------------------------------------------------------


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


def _notify_revoked(sessions: list[tuple]) -> None:
    for session_id, schema_name in sessions:
        realtime.send_event(
            realtime.session_group(schema_name, session_id),
            handler=realtime.SESSION_REVOKED,
            extra={"session_id": str(session_id)},
        )


def _sessions_revoke(queryset, *, reason: str) -> int:
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


@transaction.atomic
def session_revoke(
    *, session: Session, reason: str = "revoked", meta: RequestMeta | None = None
) -> None:
    if _sessions_revoke(Session.objects.filter(pk=session.pk), reason=reason):
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


@transaction.atomic
def logout(*, user: User, session_id, meta: RequestMeta) -> None:
    _sessions_revoke(Session.objects.filter(pk=session_id, user=user), reason="logout")
    security_event_record(kind=Kind.LOGOUT, meta=meta, user=user, session_id=session_id)


@transaction.atomic
def logout_all(*, user: User, meta: RequestMeta) -> int:
    """Signs the user out everywhere: every session on every workspace."""
    count = _sessions_revoke(Session.objects.filter(user=user), reason="logout_all")
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
        _sessions_revoke(Session.objects.filter(pk=session.pk), reason="token_reuse")
        security_event_record(
            kind=Kind.TOKEN_REUSE, meta=meta, user=session.user, session_id=session.pk
        )
    raise RefreshTokenReused()


# --- Sign-in ------------------------------------------------------------------------------


def _mfa_enabled(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def _member_or_admitted(*, user: User, meta: RequestMeta) -> bool:
    """Sign-in is for members of the host's workspace; open workspaces admit the user."""
    if membership_admit(user=user, tenant=meta.tenant) is not None or user.is_superuser:
        return True
    security_event_record(kind=Kind.LOGIN_FAILED, meta=meta, user=user, data={"why": "not_member"})
    return False


def _login_finish(*, user: User, meta: RequestMeta, mfa_verified: bool, method: str) -> LoginResult:
    with transaction.atomic():
        session, tokens = session_start(
            user=user,
            tenant=meta.tenant,
            ip=meta.ip,
            user_agent=meta.user_agent,
            mfa_verified=mfa_verified,
        )
        security_event_record(
            kind=Kind.LOGIN_SUCCEEDED,
            meta=meta,
            user=user,
            session_id=session.pk,
            data={"method": method},
        )
    return LoginResult(session=session, tokens=tokens, user=user)


def login(*, email: str, password: str, meta: RequestMeta, request=None) -> LoginResult:
    """Password sign-in. Unknown email and wrong password fail alike (and count alike towards
    the lockout); events are committed even when the sign-in is refused."""
    email = email.strip().lower()
    until = lockout.locked_until(email)
    if until is not None:
        raise AccountLocked(retry_after=int((until - timezone.now()).total_seconds()) + 1)

    # ModelBackend hashes the password even for unknown emails, so timing does not tell them apart.
    user = authenticate(request, username=email, password=password)
    if user is None:
        known = User.objects.filter(email=email).first()
        security_event_record(kind=Kind.LOGIN_FAILED, meta=meta, user=known, email=email)
        until = lockout.failure_record(email)
        if until is not None:
            security_event_record(
                kind=Kind.LOCKED_OUT,
                meta=meta,
                user=known,
                email=email,
                data={"until": until.isoformat()},
            )
            raise AccountLocked(retry_after=settings.ACCOUNTS["LOCKOUT_MINUTES"] * 60)
        raise InvalidCredentials()

    if user.email_verified_at is None:
        security_event_record(kind=Kind.LOGIN_UNVERIFIED, meta=meta, user=user)
        raise EmailNotVerified()
    if not _member_or_admitted(user=user, meta=meta):
        raise NotAMember()
    if _mfa_enabled(user):
        # The failure count is kept until the second step succeeds: a right password must not
        # reset the count of wrong codes.
        return LoginResult(user=user, mfa_token=_mfa_challenge_issue(user=user, meta=meta))
    lockout.failures_clear(email)
    return _login_finish(user=user, meta=meta, mfa_verified=False, method="password")


def _mfa_challenge_issue(*, user: User, meta: RequestMeta) -> str:
    payload = {"u": str(user.pk), "t": meta.tenant.schema_name, "n": secrets.token_hex(16)}
    return signing.dumps(payload, salt=MFA_SALT)


def _mfa_challenge_read(*, mfa_token: str, meta: RequestMeta) -> tuple[User, str]:
    max_age = settings.ACCOUNTS["MFA_LOGIN_MINUTES"] * 60
    try:
        payload = signing.loads(mfa_token, salt=MFA_SALT, max_age=max_age)
    except signing.BadSignature:
        raise MfaChallengeInvalid() from None
    if payload.get("t") != meta.tenant.schema_name:
        raise MfaChallengeInvalid()
    nonce = payload["n"]
    cache = caches["auth"]
    if cache.get(f"mfa:done:{nonce}"):
        raise MfaChallengeInvalid()
    if (cache.get(f"mfa:attempts:{nonce}") or 0) >= settings.ACCOUNTS["MFA_MAX_ATTEMPTS"]:
        raise MfaChallengeInvalid("Too many wrong codes; sign in again.")
    user = User.objects.filter(pk=payload["u"], is_active=True).first()
    if user is None:
        raise MfaChallengeInvalid()
    return user, nonce


def _totp_accept(*, device: TotpDevice, code: str) -> bool:
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


def _recovery_code_use(*, user: User, code: str) -> bool:
    normalized = (code or "").strip().lower().replace(" ", "").replace("-", "")
    return bool(
        RecoveryCode.objects.filter(
            user=user, code_hash=_hash(normalized), used_at__isnull=True
        ).update(used_at=timezone.now())
    )


def login_mfa_complete(
    *, mfa_token: str, code: str = "", recovery_code: str = "", meta: RequestMeta
) -> LoginResult:
    """Second sign-in step: a TOTP code or an unused recovery code."""
    user, nonce = _mfa_challenge_read(mfa_token=mfa_token, meta=meta)
    until = lockout.locked_until(user.email)
    if until is not None:
        raise AccountLocked(retry_after=int((until - timezone.now()).total_seconds()) + 1)
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        raise MfaChallengeInvalid()
    if recovery_code:
        accepted, method = _recovery_code_use(user=user, code=recovery_code), "recovery_code"
    else:
        accepted, method = _totp_accept(device=device, code=code), "totp"
    cache = caches["auth"]
    if not accepted:
        cache.add(f"mfa:attempts:{nonce}", 0, settings.ACCOUNTS["MFA_LOGIN_MINUTES"] * 60)
        cache.incr(f"mfa:attempts:{nonce}")
        security_event_record(kind=Kind.MFA_FAILED, meta=meta, user=user, data={"method": method})
        # Wrong codes count towards the account's lockout too, so fresh challenges do not
        # allow guessing codes without limit.
        until = lockout.failure_record(user.email)
        if until is not None:
            security_event_record(
                kind=Kind.LOCKED_OUT, meta=meta, user=user, data={"until": until.isoformat()}
            )
            raise AccountLocked(retry_after=settings.ACCOUNTS["LOCKOUT_MINUTES"] * 60)
        raise InvalidMfaCode()
    if not cache.add(f"mfa:done:{nonce}", 1, settings.ACCOUNTS["MFA_LOGIN_MINUTES"] * 60):
        raise MfaChallengeInvalid()
    lockout.failures_clear(user.email)
    if method == "recovery_code":
        security_event_record(kind=Kind.RECOVERY_CODE_USED, meta=meta, user=user)
    return _login_finish(user=user, meta=meta, mfa_verified=True, method=method)


# --- Passwords ----------------------------------------------------------------------------


@transaction.atomic
def password_forgot(*, email: str, meta: RequestMeta) -> None:
    """Emails a reset link to an active account; silent for unknown addresses."""
    user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
    if user is None:
        return
    raw = _one_time_token_issue(
        user=user,
        purpose=OneTimeToken.Purpose.RESET_PASSWORD,
        lifetime=timedelta(minutes=settings.ACCOUNTS["PASSWORD_RESET_MINUTES"]),
    )
    security_event_record(kind=Kind.PASSWORD_RESET_REQUESTED, meta=meta, user=user)
    link = _link(meta, settings.ACCOUNTS["RESET_PASSWORD_PATH"], raw)
    email_send(
        to=user.email,
        template="password_reset",
        context={
            "name": user.name,
            "link": link,
            "minutes": settings.ACCOUNTS["PASSWORD_RESET_MINUTES"],
        },
        user=user,
        base_url=meta.base_url,
    )


def _password_changed_notify(*, user: User, meta: RequestMeta) -> None:
    """Security alert, by email and in the app of the tenant where it happened."""
    notify(user=user, template="password_changed", base_url=meta.base_url)


def _security_alert(*, user: User, meta: RequestMeta, event: str) -> None:
    details = ", ".join(part for part in (meta.user_agent[:120], meta.ip or "") if part)
    notify(
        user=user,
        template="security_alert",
        context={"event": event, "details": details},
        base_url=meta.base_url,
    )


@transaction.atomic
def password_reset(*, token: str, password: str, meta: RequestMeta) -> User:
    """Sets a new password from an emailed token and signs the user out everywhere."""
    user = _one_time_token_consume(raw=token, purpose=OneTimeToken.Purpose.RESET_PASSWORD)
    _password_validate(password, user=user, field_name="password")
    user.set_password(password)
    # Following the link proves the mailbox: an unverified account becomes verified.
    user.email_verified_at = user.email_verified_at or timezone.now()
    user.save(update_fields=["password", "email_verified_at"])
    OneTimeToken.objects.filter(
        user=user, purpose=OneTimeToken.Purpose.RESET_PASSWORD, used_at__isnull=True
    ).update(used_at=timezone.now())
    _sessions_revoke(Session.objects.filter(user=user), reason="password_reset")
    lockout.failures_clear(user.email)
    security_event_record(kind=Kind.PASSWORD_RESET, meta=meta, user=user)
    _password_changed_notify(user=user, meta=meta)
    return user


@transaction.atomic
def password_change(
    *, user: User, current_password: str, new_password: str, session_id, meta: RequestMeta
) -> None:
    """Changes the password (the current one is required) and revokes every other session."""
    if not user.check_password(current_password):
        raise WrongPassword(fields={"current_password": ["The password is incorrect."]})
    _password_validate(new_password, user=user, field_name="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    _sessions_revoke(
        Session.objects.filter(user=user).exclude(pk=session_id), reason="password_changed"
    )
    security_event_record(kind=Kind.PASSWORD_CHANGED, meta=meta, user=user, session_id=session_id)
    _password_changed_notify(user=user, meta=meta)


# --- Multi-factor authentication ----------------------------------------------------------


@transaction.atomic
def totp_enroll(*, user: User) -> tuple[str, str]:
    """Starts (or restarts) TOTP enrolment; returns the secret and its otpauth:// URI."""
    if _mfa_enabled(user):
        raise MfaAlreadyEnabled()
    secret = pyotp.random_base32()
    TotpDevice.objects.update_or_create(
        user=user, defaults={"secret": secret, "confirmed_at": None, "last_used_step": 0}
    )
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=settings.ACCOUNTS["TOTP_ISSUER"]
    )
    return secret, uri


def _recovery_codes_replace(*, user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = [
        "".join(secrets.choice(alphabet) for _ in range(10))
        for _ in range(settings.ACCOUNTS["RECOVERY_CODES"])
    ]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=_hash(code)) for code in codes]
    )
    return [f"{code[:5]}-{code[5:]}" for code in codes]


@transaction.atomic
def totp_confirm(*, user: User, code: str, meta: RequestMeta) -> list[str]:
    """Turns MFA on with a first valid code; returns the recovery codes (shown only now)."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        raise MfaNotEnrolled()
    if device.confirmed_at is not None:
        raise MfaAlreadyEnabled()
    if not _totp_accept(device=device, code=code):
        raise InvalidMfaCode(fields={"code": ["The verification code is incorrect."]})
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at"])
    security_event_record(kind=Kind.MFA_ENABLED, meta=meta, user=user)
    return _recovery_codes_replace(user=user)


@transaction.atomic
def recovery_codes_regenerate(*, user: User, password: str, meta: RequestMeta) -> list[str]:
    if not user.check_password(password):
        raise WrongPassword(fields={"password": ["The password is incorrect."]})
    if not _mfa_enabled(user):
        raise MfaNotEnabled()
    security_event_record(kind=Kind.RECOVERY_CODES_REGENERATED, meta=meta, user=user)
    _security_alert(user=user, meta=meta, event="New recovery codes were generated")
    return _recovery_codes_replace(user=user)


@transaction.atomic
def mfa_disable(*, user: User, password: str, meta: RequestMeta) -> None:
    if not user.check_password(password):
        raise WrongPassword(fields={"password": ["The password is incorrect."]})
    deleted, _ = TotpDevice.objects.filter(user=user).delete()
    if not deleted:
        raise MfaNotEnabled()
    RecoveryCode.objects.filter(user=user).delete()
    security_event_record(kind=Kind.MFA_DISABLED, meta=meta, user=user)
    _security_alert(user=user, meta=meta, event="Two-factor authentication was turned off")


# --- Profile and housekeeping -------------------------------------------------------------


@transaction.atomic
def user_update(*, user: User, data: dict) -> User:
    """Updates the profile fields a user may change themselves (name)."""
    changed = [name for name in ("name",) if name in data and getattr(user, name) != data[name]]
    for name in changed:
        setattr(user, name, data[name])
    if changed:
        user.save(update_fields=changed)
    return user


@transaction.atomic
def accounts_cleanup(*, now=None) -> dict[str, int]:
    """Deletes expired or long-revoked sessions, used/expired one-time tokens and simplejwt's
    expired outstanding/blacklisted tokens."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ACCOUNTS["SESSION_RETENTION_DAYS"])
    _, sessions = Session.objects.filter(
        Q(expires_at__lte=now) | Q(revoked_at__lte=cutoff)
    ).delete()
    _, tokens = OneTimeToken.objects.filter(
        Q(expires_at__lte=now) | Q(used_at__isnull=False)
    ).delete()
    # Blacklist rows cascade from their outstanding token.
    _, outstanding = OutstandingToken.objects.filter(expires_at__lte=now).delete()
    return {
        "sessions": sessions.get("accounts.Session", 0),
        "one_time_tokens": tokens.get("accounts.OneTimeToken", 0),
        "outstanding_tokens": outstanding.get("token_blacklist.OutstandingToken", 0),
        "blacklisted_tokens": outstanding.get("token_blacklist.BlacklistedToken", 0),
    }


def sessions_revoke_for_tenant(*, user: User, tenant, reason: str) -> int:
    """Ends every live session of the user on one tenant (e.g. their membership was removed)."""
    return _sessions_revoke(Session.objects.filter(user=user, tenant=tenant), reason=reason)


@transaction.atomic
def users_deactivate(*, users) -> int:
    """Deactivated users can no longer log in and every session of theirs is revoked at once;
    their rows in tenant schemas stay intact."""
    active = list(users.filter(is_active=True))
    for user in active:
        _sessions_revoke(Session.objects.filter(user=user), reason="user_deactivated")
    return users.filter(pk__in=[u.pk for u in active]).update(is_active=False)
