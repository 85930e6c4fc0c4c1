"""Sign-in on a workspace's host: password, then a TOTP or recovery code when MFA is on."""

import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import authenticate
from django.core import signing
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from accounts import lockout
from accounts.errors import (
    AccountLocked,
    EmailNotVerified,
    InvalidCredentials,
    InvalidMfaCode,
    MfaChallengeInvalid,
    NotAMember,
)
from accounts.models import RecoveryCode, Session, TotpDevice, User
from accounts.selectors import mfa_enabled_for
from accounts.services._common import RequestMeta, secret_hash, totp_accept
from accounts.services.events import Kind, security_event_record
from accounts.services.memberships import membership_admit
from accounts.services.sessions import session_start

MFA_SALT = "accounts.mfa-login"


@dataclass
class LoginResult:
    session: Session | None = None
    tokens: dict = field(default_factory=dict)
    user: User | None = None
    mfa_token: str | None = None


def _member_or_admitted(*, user: User, meta: RequestMeta) -> bool:
    """Sign-in is for members of the host's workspace; open workspaces admit the user. The
    public host (the platform admin) is for platform staff only and admits nobody."""
    if meta.tenant.schema_name == get_public_schema_name():
        if user.is_staff:
            return True
    elif membership_admit(user=user, tenant=meta.tenant) is not None or user.is_superuser:
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
    if mfa_enabled_for(user=user):
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


def _recovery_code_use(*, user: User, code: str) -> bool:
    normalized = (code or "").strip().lower().replace(" ", "").replace("-", "")
    return bool(
        RecoveryCode.objects.filter(
            user=user, code_hash=secret_hash(normalized), used_at__isnull=True
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
        accepted, method = totp_accept(device=device, code=code), "totp"
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
