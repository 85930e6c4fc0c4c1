"""Multi-factor authentication: TOTP enrolment, recovery codes, turning it off."""

import secrets

import pyotp
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.errors import (
    InvalidMfaCode,
    MfaAlreadyEnabled,
    MfaNotEnabled,
    MfaNotEnrolled,
    WrongPassword,
)
from accounts.models import RecoveryCode, TotpDevice, User
from accounts.selectors import mfa_enabled_for
from accounts.services._common import RequestMeta, secret_hash, totp_accept
from accounts.services.events import Kind, security_event_record
from notifications.services import notify


def _security_alert(*, user: User, meta: RequestMeta, event: str) -> None:
    details = ", ".join(part for part in (meta.user_agent[:120], meta.ip or "") if part)
    notify(
        user=user,
        template="security_alert",
        context={"event": event, "details": details},
        base_url=meta.base_url,
    )


def _recovery_codes_replace(*, user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = [
        "".join(secrets.choice(alphabet) for _ in range(10))
        for _ in range(settings.ACCOUNTS["RECOVERY_CODES"])
    ]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=secret_hash(code)) for code in codes]
    )
    return [f"{code[:5]}-{code[5:]}" for code in codes]


@transaction.atomic
def totp_enroll(*, user: User) -> tuple[str, str]:
    """Starts (or restarts) TOTP enrolment; returns the secret and its otpauth:// URI."""
    if mfa_enabled_for(user=user):
        raise MfaAlreadyEnabled()
    secret = pyotp.random_base32()
    TotpDevice.objects.update_or_create(
        user=user, defaults={"secret": secret, "confirmed_at": None, "last_used_step": 0}
    )
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=settings.ACCOUNTS["TOTP_ISSUER"]
    )
    return secret, uri


@transaction.atomic
def totp_confirm(*, user: User, code: str, meta: RequestMeta) -> list[str]:
    """Turns MFA on with a first valid code; returns the recovery codes (shown only now)."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        raise MfaNotEnrolled()
    if device.confirmed_at is not None:
        raise MfaAlreadyEnabled()
    if not totp_accept(device=device, code=code):
        raise InvalidMfaCode(fields={"code": ["The verification code is incorrect."]})
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at"])
    security_event_record(kind=Kind.MFA_ENABLED, meta=meta, user=user)
    return _recovery_codes_replace(user=user)


@transaction.atomic
def recovery_codes_regenerate(*, user: User, password: str, meta: RequestMeta) -> list[str]:
    if not user.check_password(password):
        raise WrongPassword(fields={"password": ["The password is incorrect."]})
    if not mfa_enabled_for(user=user):
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
